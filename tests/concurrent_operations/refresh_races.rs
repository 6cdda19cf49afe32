//! Refresh against refresh: tabs presenting one token at once, with a
//! grace window (all get the same successor) and in strict mode (the
//! session dies); many sessions refreshing in parallel; a thief and the
//! user presenting two generations of one session, in either order.

use std::sync::Arc;

#[cfg(feature = "testing")]
use jwt_rotate::testing::StoreOp;
use jwt_rotate::{Error, RevocationReason, TokenPair};
#[cfg(feature = "testing")]
use time::Duration;
use tokio::sync::Barrier;

#[cfg(feature = "testing")]
use super::forced;
use super::{common, race_refresh};

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

#[cfg(feature = "testing")]
#[tokio::test(start_paused = true)]
async fn a_thief_and_the_user_racing_leave_no_live_token_in_either_order() {
    for thief_first in [true, false] {
        let (service, clock) = forced::service();
        let g0 = common::login(&service, "alice").await;
        let g1 = service.refresh(&g0.refresh_token).await.unwrap();
        clock.advance(Duration::minutes(1));
        // Whoever is held lands second.
        forced::hold_next(&service, StoreOp::Rotate);
        let (first, second) = if thief_first { (&g1, &g0) } else { (&g0, &g1) };
        let held = forced::start_refresh(&service, first).await;
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
