//! Revocation against refresh and login: a revoke landing before or after
//! a rotation (forced, and free-running), `revoke_subject` racing refresh
//! loops and logins, and concurrent logins over the session limit. No
//! token a revocation should have ended stays live.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[cfg(feature = "testing")]
use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp};
use jwt_rotate::{Error, RevocationReason, SessionId};
#[cfg(feature = "testing")]
use jwt_rotate::{ManualClock, MemoryStore, NoClaims, SessionInfo};
#[cfg(feature = "testing")]
use time::Duration;
use tokio::sync::{Barrier, Mutex};

use super::common;
#[cfg(feature = "testing")]
use super::forced;

#[cfg(feature = "testing")]
#[tokio::test(start_paused = true)]
async fn a_revoke_landing_between_verify_and_rotate_wins() {
    let (service, _clock) = forced::service();
    let g0 = common::login(&service, "alice").await;
    forced::hold_next(&service, StoreOp::Rotate);
    let refresh = forced::start_refresh(&service, &g0).await;
    assert!(service.revoke(&g0.refresh_token).await.unwrap());
    let refreshed = refresh.await.unwrap();
    assert!(
        matches!(refreshed, Err(Error::SessionRevoked)),
        "{refreshed:?}"
    );
    assert_eq!(common::record(&service, &g0.session_id).await.generation, 0);
    common::assert_revoked(&service, &g0).await;
}

#[cfg(feature = "testing")]
#[tokio::test(start_paused = true)]
async fn a_revoke_landing_after_the_rotation_kills_the_new_tokens() {
    let (service, _clock) = forced::service();
    let g0 = common::login(&service, "alice").await;
    forced::hold_next(&service, StoreOp::Revoke);
    let revoke = {
        let (service, sid) = (service.clone(), g0.session_id);
        tokio::spawn(async move { service.revoke_session(&sid).await })
    };
    tokio::task::yield_now().await;
    let g1 = service.refresh(&g0.refresh_token).await.unwrap();
    assert!(revoke.await.unwrap().unwrap());
    common::assert_revoked(&service, &g1).await;
    // Not even the grace replay of the spent token brings them back.
    let replay = service.refresh(&g0.refresh_token).await;
    assert!(matches!(replay, Err(Error::SessionRevoked)), "{replay:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoke_racing_refresh_never_leaves_a_live_token() {
    let (service, _clock) = common::service();
    for round in 0..200 {
        let login = common::login(&service, "alice").await;
        let barrier = Arc::new(Barrier::new(2));
        let refresh = {
            let service = service.clone();
            let token = login.refresh_token.clone();
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                service.refresh(&token).await
            })
        };
        let revoke = {
            let service = service.clone();
            let token = login.refresh_token.clone();
            let sid = login.session_id;
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                if round % 2 == 0 {
                    service.revoke(&token).await
                } else {
                    service.revoke_session(&sid).await
                }
            })
        };
        let refreshed = refresh.await.unwrap();
        assert!(revoke.await.unwrap().unwrap(), "round {round}: revoked");

        let record = common::record(&service, &login.session_id).await;
        assert!(record.revoked.is_some(), "round {round}");
        match refreshed {
            Ok(pair) => {
                assert!(
                    matches!(
                        service.verify_live(&pair.access_token).await,
                        Err(Error::SessionRevoked)
                    ),
                    "round {round}"
                );
                assert!(
                    matches!(
                        service.refresh(&pair.refresh_token).await,
                        Err(Error::SessionRevoked)
                    ),
                    "round {round}"
                );
            }
            Err(Error::SessionRevoked) => {}
            Err(other) => panic!("round {round}: unexpected {other:?}"),
        }
        assert!(matches!(
            service.refresh(&login.refresh_token).await,
            Err(Error::SessionRevoked)
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_refresh_succeeds_after_revoke_subject_returned() {
    const SESSIONS: usize = 16;
    for round in 0..20 {
        let (service, _clock) = common::service();
        let mut logins = Vec::new();
        for _ in 0..SESSIONS {
            logins.push(common::login(&service, "alice").await);
        }
        let done = Arc::new(AtomicBool::new(false));
        let loops: Vec<_> = logins
            .iter()
            .map(|login| {
                let (service, done) = (service.clone(), Arc::clone(&done));
                let mut pair = login.clone();
                tokio::spawn(async move {
                    loop {
                        let after = done.load(Ordering::SeqCst);
                        match service.refresh(&pair.refresh_token).await {
                            Ok(next) => {
                                assert!(!after, "round {round}: a refresh began after it");
                                pair = next;
                            }
                            Err(Error::SessionRevoked) => return pair,
                            Err(e) => panic!("round {round}: {e:?}"),
                        }
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        tokio::task::yield_now().await;
        let count = service.revoke_subject("alice", None).await.unwrap();
        done.store(true, Ordering::SeqCst);
        assert_eq!(count, SESSIONS as u64, "round {round}");
        for task in loops {
            let last = task.await.unwrap();
            common::assert_revoked(&service, &last).await;
        }
        assert!(service.sessions("alice").await.unwrap().is_empty());
    }
}

#[cfg(feature = "testing")]
#[tokio::test(start_paused = true)]
async fn revoke_subject_revokes_what_was_issued_before_it_and_may_miss_a_login_in_flight() {
    let (service, clock) = forced::service();
    let before = common::login(&service, "alice").await;
    clock.advance(Duration::seconds(1));
    // A login whose `create` is held until after the revocation.
    forced::hold_next(&service, StoreOp::Create);
    let in_flight = {
        let service = service.clone();
        tokio::spawn(async move {
            let info = SessionInfo::default();
            service.issue("alice", NoClaims {}, info).await
        })
    };
    tokio::task::yield_now().await;
    assert_eq!(service.revoke_subject("alice", None).await.unwrap(), 1);
    let late = in_flight.await.unwrap().unwrap();

    common::assert_revoked(&service, &before).await;
    // The documented boundary: its session did not exist yet.
    service.verify_live(&late.access_token).await.unwrap();
    assert_eq!(
        common::session_ids(&service, "alice").await,
        [late.session_id]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoke_subject_racing_issue_revokes_every_session_created_before_it() {
    const ISSUERS: usize = 8;
    const PER_ISSUER: usize = 25;
    for round in 0..10 {
        let (service, _clock) = common::service();
        // A global order of events: each issuer takes a ticket after its
        // issue returned; the revoker takes one just before calling.
        let tickets = Arc::new(AtomicU64::new(0));
        let created = Arc::new(Mutex::new(Vec::<(u64, SessionId)>::new()));
        let issuers: Vec<_> = (0..ISSUERS)
            .map(|_| {
                let service = service.clone();
                let tickets = Arc::clone(&tickets);
                let created = Arc::clone(&created);
                tokio::spawn(async move {
                    for _ in 0..PER_ISSUER {
                        let pair = common::login(&service, "alice").await;
                        let ticket = tickets.fetch_add(1, Ordering::SeqCst);
                        created.lock().await.push((ticket, pair.session_id));
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let revoker = {
            let service = service.clone();
            let tickets = Arc::clone(&tickets);
            tokio::spawn(async move {
                while tickets.load(Ordering::SeqCst) < (ISSUERS * PER_ISSUER / 3) as u64 {
                    tokio::task::yield_now().await;
                }
                let mark = tickets.fetch_add(1, Ordering::SeqCst);
                let count = service.revoke_subject("alice", None).await.unwrap();
                (mark, count)
            })
        };
        for issuer in issuers {
            issuer.await.unwrap();
        }
        let (mark, count) = revoker.await.unwrap();

        let created = created.lock().await.clone();
        let before: Vec<_> = created.iter().filter(|(t, _)| *t < mark).collect();
        assert!(!before.is_empty(), "round {round}");
        for (ticket, sid) in &before {
            let record = common::record(&service, sid).await;
            assert_eq!(
                record.revoked.map(|r| r.reason),
                Some(RevocationReason::SubjectRevoked),
                "round {round}: session #{ticket} created before the revoke (#{mark}) survived"
            );
        }
        assert!(count >= before.len() as u64, "round {round}");
        let mut revoked = 0;
        for (_, sid) in &created {
            let record = common::record(&service, sid).await;
            revoked += u64::from(record.revoked.is_some());
        }
        assert_eq!(revoked, count, "round {round}: the count is exact");
        let live = service.sessions("alice").await.unwrap().len() as u64;
        assert_eq!(live + count, (ISSUERS * PER_ISSUER) as u64, "round {round}");
    }
}

#[cfg(feature = "testing")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_logins_over_the_session_limit_keep_the_newest() {
    for max in [1usize, 2] {
        let logins = max + 1;
        let clock = ManualClock::new(common::start());
        let store = FaultyStore::new(MemoryStore::new());
        // Every login's record exists before any of them enforces the limit.
        store.inject(Calls::Only(StoreOp::Create), Fault::Gather(logins));
        let service = common::builder(&clock)
            .max_sessions_per_subject(max)
            .build(store)
            .unwrap();
        let tasks: Vec<_> = (0..logins)
            .map(|_| {
                let service = service.clone();
                tokio::spawn(async move { common::login(&service, "alice").await })
            })
            .collect();
        let mut pairs = Vec::new();
        for task in tasks {
            pairs.push(task.await.unwrap());
        }
        // The limit asks for `max` live sessions, not fewer: a user who
        // just logged in must not find every new session revoked.
        let live = service.sessions("alice").await.unwrap();
        assert_eq!(
            live.len(),
            max,
            "max_sessions_per_subject({max}): {} of {logins} concurrent logins left live",
            live.len()
        );
    }
}
