//! Races on a multi-threaded runtime: tabs refreshing one token at once,
//! strict mode, distinct sessions, revocation racing refresh and issue.
//!
//! In strict mode (`reuse_grace(Duration::ZERO)`) two tabs racing with the
//! same refresh token kill their own session: one rotates, the other is
//! reuse. That is why the default grace window is 10 s: with it, every tab
//! gets the same successor and the session lives on.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::store::FailingStore;
use jwt_rotate::store::RefreshStore;
use jwt_rotate::{
    Error, ManualClock, MemoryStore, RevocationReason, SessionId, TokenPair, TokenService,
};
use tokio::sync::{Barrier, Mutex};

const TABS: usize = 32;

/// `TABS` tasks present the same refresh token at once.
async fn race_refresh<S: RefreshStore>(
    service: &TokenService<S>,
    pair: &TokenPair,
) -> Vec<Result<TokenPair, Error>> {
    let barrier = Arc::new(Barrier::new(TABS));
    let tasks: Vec<_> = (0..TABS)
        .map(|_| {
            let service = service.clone();
            let token = pair.refresh_token.clone();
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                service.refresh(&token).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(TABS);
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tabs_with_a_grace_window_all_get_the_same_successor() {
    for round in 0..50 {
        let (service, _clock) = common::service();
        let login = common::login(&service, "alice").await;
        let results = race_refresh(&service, &login).await;
        let pairs: Vec<TokenPair> = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("round {round}: {e}")))
            .collect();
        let first = &pairs[0].refresh_token;
        assert!(
            pairs.iter().all(|p| p.refresh_token == *first),
            "round {round}: tabs got different refresh tokens"
        );
        let record = common::record(&service, &login.session_id).await;
        assert_eq!(record.generation, 1, "round {round}: one rotation only");
        assert!(record.revoked.is_none(), "round {round}");
        for pair in &pairs {
            service.verify_live(&pair.access_token).await.unwrap();
        }
        // The shared successor rotates as usual.
        service.refresh(first).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tabs_in_strict_mode_kill_the_session() {
    for round in 0..20 {
        let (service, _clock) = common::strict();
        let login = common::login(&service, "alice").await;
        let results = race_refresh(&service, &login).await;

        let winners: Vec<&TokenPair> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one rotation");
        let mut reuse = 0;
        for result in &results {
            match result {
                Ok(_) => {}
                Err(Error::ReuseDetected) => reuse += 1,
                // A loser that reads the session after another loser
                // revoked it is told so.
                Err(Error::SessionRevoked) => {}
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert!(reuse >= 1, "round {round}: reuse must be reported");

        let record = common::record(&service, &login.session_id).await;
        assert_eq!(record.generation, 1, "round {round}");
        assert_eq!(
            record.revoked.map(|r| r.reason),
            Some(RevocationReason::ReuseDetected),
            "round {round}"
        );
        // Even the winner's tokens are dead.
        let winner = winners[0];
        common::assert_revoked(&service, winner).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_of_distinct_sessions_all_succeed() {
    const SESSIONS: usize = 64;
    const ROUNDS: u64 = 5;
    let (service, _clock) = common::service();
    let mut logins = Vec::new();
    for i in 0..SESSIONS {
        let subject = format!("user-{}", i % 4);
        logins.push(common::login(&service, &subject).await);
    }
    let barrier = Arc::new(Barrier::new(SESSIONS));
    let tasks: Vec<_> = logins
        .iter()
        .map(|login| {
            let service = service.clone();
            let mut token = login.refresh_token.clone();
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let mut last = None;
                for _ in 0..ROUNDS {
                    let pair = service.refresh(&token).await.unwrap();
                    token = pair.refresh_token.clone();
                    last = Some(pair);
                }
                last.unwrap()
            })
        })
        .collect();
    for (login, task) in logins.iter().zip(tasks) {
        let last = task.await.unwrap();
        assert_eq!(last.session_id, login.session_id);
        let record = common::record(&service, &login.session_id).await;
        assert_eq!(record.generation, ROUNDS);
        assert!(record.revoked.is_none());
        service.verify_live(&last.access_token).await.unwrap();
    }
    for i in 0..4 {
        let live = service.sessions(&format!("user-{i}")).await.unwrap();
        assert_eq!(live.len(), SESSIONS / 4);
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_logins_over_the_session_limit_keep_the_newest() {
    for max in [1usize, 2] {
        let logins = max + 1;
        let clock = ManualClock::new(common::start());
        let service = common::builder(&clock)
            .max_sessions_per_subject(max)
            .build(FailingStore::new(MemoryStore::new()).gate_creates(logins))
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
