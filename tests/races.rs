//! Revocation racing refresh and login, with the interleaving forced: a
//! `FaultyStore` delay holds one call on tokio's paused clock while the
//! other lands first, so each order runs every time (tests/concurrency.rs
//! has the free-running races). Plus revoke_subject racing many refresh
//! loops on a multi-threaded runtime.
//!
//! The guarantees these show are written in the rustdoc of
//! `TokenService::revoke`, `revoke_session` and `revoke_subject`.
#![cfg(feature = "testing")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration as StdDuration;

use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp};
use jwt_rotate::{
    Error, ManualClock, MemoryStore, NoClaims, RevocationReason, SessionInfo, TokenPair,
    TokenService,
};
use time::Duration;
use tokio::task::JoinHandle;

type Service = TokenService<FaultyStore<MemoryStore>>;

fn service() -> (Service, ManualClock) {
    let clock = ManualClock::new(common::start());
    let store = FaultyStore::new(MemoryStore::new());
    (common::builder(&clock).build(store).unwrap(), clock)
}

/// Holds the next call of `op` for a second of (paused) tokio time.
fn hold_next(service: &Service, op: StoreOp) {
    let second = Fault::Delay(StdDuration::from_secs(1));
    service.store().inject(Calls::NthOf(op, 1), second);
}

/// Starts `refresh(token)` and lets it run up to its first store call.
async fn start_refresh(
    service: &Service,
    token: &TokenPair,
) -> JoinHandle<Result<TokenPair, Error>> {
    let (service, token) = (service.clone(), token.refresh_token.clone());
    let task = tokio::spawn(async move { service.refresh(&token).await });
    tokio::task::yield_now().await;
    task
}

#[tokio::test(start_paused = true)]
async fn a_revoke_landing_between_verify_and_rotate_wins() {
    let (service, _clock) = service();
    let g0 = common::login(&service, "alice").await;
    hold_next(&service, StoreOp::Rotate);
    let refresh = start_refresh(&service, &g0).await;
    assert!(service.revoke(&g0.refresh_token).await.unwrap());
    let refreshed = refresh.await.unwrap();
    assert!(
        matches!(refreshed, Err(Error::SessionRevoked)),
        "{refreshed:?}"
    );
    assert_eq!(common::record(&service, &g0.session_id).await.generation, 0);
    common::assert_revoked(&service, &g0).await;
}

#[tokio::test(start_paused = true)]
async fn a_revoke_landing_after_the_rotation_kills_the_new_tokens() {
    let (service, _clock) = service();
    let g0 = common::login(&service, "alice").await;
    hold_next(&service, StoreOp::Revoke);
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

#[tokio::test(start_paused = true)]
async fn a_thief_and_the_user_racing_leave_no_live_token_in_either_order() {
    for thief_first in [true, false] {
        let (service, clock) = service();
        let g0 = common::login(&service, "alice").await;
        let g1 = service.refresh(&g0.refresh_token).await.unwrap();
        clock.advance(Duration::minutes(1));
        // Whoever is held lands second.
        hold_next(&service, StoreOp::Rotate);
        let (first, second) = if thief_first { (&g1, &g0) } else { (&g0, &g1) };
        let held = start_refresh(&service, first).await;
        let landed = service.refresh(&second.refresh_token).await;
        let late = held.await.unwrap();
        let (thief, user) = if thief_first {
            (landed, late)
        } else {
            (late, landed)
        };
        assert!(matches!(thief, Err(Error::ReuseDetected)), "{thief:?}");
        let record = common::record(&service, &g0.session_id).await;
        let reason = record.revoked.map(|r| r.reason);
        assert_eq!(reason, Some(RevocationReason::ReuseDetected));
        if thief_first {
            assert!(matches!(user, Err(Error::SessionRevoked)), "{user:?}");
        } else {
            // The user rotated first: that pair died with the session.
            common::assert_revoked(&service, &user.unwrap()).await;
        }
        common::assert_revoked(&service, &g1).await;
    }
}

#[tokio::test(start_paused = true)]
async fn revoke_subject_revokes_what_was_issued_before_it_and_may_miss_a_login_in_flight() {
    let (service, clock) = service();
    let before = common::login(&service, "alice").await;
    clock.advance(Duration::seconds(1));
    // A login whose `create` is held until after the revocation.
    hold_next(&service, StoreOp::Create);
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
