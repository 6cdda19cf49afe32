//! Revocation: logout by refresh token, by session id, by subject (with
//! and without the caller's own session), and the per-subject limit.

mod common;

use common::hooks::{Recorder, recorded};
use common::login;
use jwt_rotate::{Error, ManualClock, MemoryStore, RevocationReason, TokenPair, TokenService};
use time::Duration;

/// Why the pair's session was revoked, if it was.
async fn reason(service: &TokenService<MemoryStore>, pair: &TokenPair) -> Option<RevocationReason> {
    common::record(service, &pair.session_id)
        .await
        .revoked
        .map(|r| r.reason)
}

#[tokio::test]
async fn logout_with_the_refresh_token_returns_true_then_false() {
    let (service, clock, recorder) = recorded();
    let pair = login(&service, "alice").await;
    clock.advance(Duration::minutes(1));
    assert!(service.revoke(&pair.refresh_token).await.unwrap());
    assert!(!service.revoke(&pair.refresh_token).await.unwrap());

    let record = common::record(&service, &pair.session_id).await;
    let revoked = record.revoked.unwrap();
    assert_eq!(revoked.reason, RevocationReason::Logout);
    assert_eq!(revoked.at, common::start() + Duration::minutes(1));
    assert_eq!(
        recorder.revocations(),
        [format!("revoked {} logout", pair.session_id)],
        "one event, for the call that revoked"
    );

    common::assert_revoked(&service, &pair).await;
    assert!(service.sessions("alice").await.unwrap().is_empty());
}

#[tokio::test]
async fn logout_works_with_an_expired_or_old_but_genuine_refresh_token() {
    let (service, clock) = common::service();
    let t0 = common::start();
    let g0 = login(&service, "alice").await;
    clock.set(t0 + Duration::days(6));
    let g1 = service.refresh(&g0.refresh_token).await.unwrap();

    // Day 8: g0 expired at day 7 (and is an old generation), the session
    // lives until day 13.
    clock.set(t0 + Duration::days(8));
    assert!(matches!(
        service.refresh(&g0.refresh_token).await,
        Err(Error::Expired)
    ));
    assert!(service.revoke(&g0.refresh_token).await.unwrap());
    assert_eq!(reason(&service, &g1).await, Some(RevocationReason::Logout));
    assert!(matches!(
        service.refresh(&g1.refresh_token).await,
        Err(Error::SessionRevoked)
    ));
}

#[tokio::test]
async fn logout_of_an_expired_session_still_marks_it_revoked() {
    let (service, clock) = common::service();
    let pair = login(&service, "alice").await;
    clock.advance(Duration::days(10));
    assert!(matches!(
        service.refresh(&pair.refresh_token).await,
        Err(Error::Expired)
    ));
    service.revoke(&pair.refresh_token).await.unwrap();
    let record = common::record(&service, &pair.session_id).await;
    assert_eq!(record.revoked.unwrap().reason, RevocationReason::Logout);
    // Repeating it changes nothing.
    assert!(!service.revoke(&pair.refresh_token).await.unwrap());
}

#[tokio::test]
async fn logout_with_a_forged_token_revokes_nothing() {
    let (service, _clock) = common::service();
    let pair = login(&service, "alice").await;
    let mut forged = pair.refresh_token.expose_secret().to_owned();
    let sig_start = forged.rfind('.').unwrap() + 1;
    forged.replace_range(sig_start..sig_start + 4, "AAAA");
    assert!(service.revoke(forged.as_str()).await.is_err());
    assert!(service.revoke(pair.access_token.as_str()).await.is_err());
    assert_eq!(reason(&service, &pair).await, None);
}

#[tokio::test]
async fn revoke_session_by_id() {
    let (service, _clock, recorder) = recorded();
    let a = login(&service, "alice").await;
    let b = login(&service, "alice").await;
    assert!(service.revoke_session(&a.session_id).await.unwrap());
    assert!(!service.revoke_session(&a.session_id).await.unwrap());
    // An id that never existed.
    assert!(
        !service
            .revoke_session(&jwt_rotate::SessionId::random())
            .await
            .unwrap()
    );
    assert_eq!(reason(&service, &a).await, Some(RevocationReason::Revoked));
    assert_eq!(
        recorder.revocations(),
        [format!("revoked {} revoked", a.session_id)]
    );
    assert!(matches!(
        service.refresh(&a.refresh_token).await,
        Err(Error::SessionRevoked)
    ));
    service.refresh(&b.refresh_token).await.unwrap();
}

#[tokio::test]
async fn revoke_subject_except_the_callers_session() {
    let (service, clock, recorder) = recorded();
    let a1 = login(&service, "alice").await;
    clock.advance(Duration::seconds(1));
    let a2 = login(&service, "alice").await;
    clock.advance(Duration::seconds(1));
    let a3 = login(&service, "alice").await;
    let already = login(&service, "alice").await;
    service.revoke_session(&already.session_id).await.unwrap();
    let bob = login(&service, "bob").await;

    // "Log out other devices" from a2.
    assert_eq!(
        service
            .revoke_subject("alice", Some(&a2.session_id))
            .await
            .unwrap(),
        2
    );
    for pair in [&a1, &a3] {
        assert_eq!(
            reason(&service, pair).await,
            Some(RevocationReason::SubjectRevoked)
        );
        common::assert_revoked(&service, pair).await;
    }
    // The first revocation is kept.
    assert_eq!(
        reason(&service, &already).await,
        Some(RevocationReason::Revoked)
    );
    let ids = common::session_ids(&service, "alice").await;
    assert_eq!(ids, [a2.session_id]);
    let a2 = service.refresh(&a2.refresh_token).await.unwrap();
    service.verify_live(&a2.access_token).await.unwrap();
    service.refresh(&bob.refresh_token).await.unwrap();

    // Password reset: everything, the caller's session too.
    assert_eq!(service.revoke_subject("alice", None).await.unwrap(), 1);
    assert!(matches!(
        service.refresh(&a2.refresh_token).await,
        Err(Error::SessionRevoked)
    ));
    assert!(service.sessions("alice").await.unwrap().is_empty());
    assert_eq!(service.revoke_subject("alice", None).await.unwrap(), 0);
    assert_eq!(service.revoke_subject("nobody", None).await.unwrap(), 0);
    assert_eq!(service.sessions("bob").await.unwrap().len(), 1);

    let events = recorder.revocations();
    assert!(events.contains(&"subject_revoked alice 2 subject_revoked".to_owned()));
    assert!(events.contains(&"subject_revoked alice 1 subject_revoked".to_owned()));
}

#[tokio::test]
async fn session_limit_revokes_the_oldest_not_the_new_one() {
    let clock = ManualClock::new(common::start());
    let recorder = Recorder::default();
    let service = common::builder(&clock)
        .max_sessions_per_subject(2)
        .hooks(recorder.clone())
        .build(MemoryStore::new())
        .unwrap();
    let first = login(&service, "alice").await;
    clock.advance(Duration::minutes(1));
    let second = login(&service, "alice").await;
    let bob = login(&service, "bob").await;
    clock.advance(Duration::minutes(1));
    // Refreshing the first does not make it younger: the limit goes by login.
    let first = service.refresh(&first.refresh_token).await.unwrap();
    assert!(recorder.revocations().is_empty());

    let third = login(&service, "alice").await;
    assert_eq!(
        reason(&service, &first).await,
        Some(RevocationReason::SessionLimit)
    );
    assert_eq!(
        recorder.revocations(),
        [format!("revoked {} session_limit", first.session_id)]
    );
    assert!(matches!(
        service.refresh(&first.refresh_token).await,
        Err(Error::SessionRevoked)
    ));
    let ids = common::session_ids(&service, "alice").await;
    assert_eq!(ids, [third.session_id, second.session_id]);
    service.verify_live(&third.access_token).await.unwrap();
    service.refresh(&second.refresh_token).await.unwrap();
    service.refresh(&bob.refresh_token).await.unwrap();

    // One more: now the second goes.
    clock.advance(Duration::minutes(1));
    let fourth = login(&service, "alice").await;
    assert_eq!(
        reason(&service, &second).await,
        Some(RevocationReason::SessionLimit)
    );
    let ids = common::session_ids(&service, "alice").await;
    assert_eq!(ids, [fourth.session_id, third.session_id]);
}

#[tokio::test]
async fn session_limit_never_revokes_the_new_session_even_in_the_same_second() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock)
        .max_sessions_per_subject(2)
        .build(MemoryStore::new())
        .unwrap();
    // All within one second: creation times keep microseconds, so the
    // newest always survives and the limit holds.
    for _ in 0..10 {
        clock.advance(Duration::milliseconds(50));
        let new = login(&service, "alice").await;
        assert_eq!(reason(&service, &new).await, None);
        let live = service.sessions("alice").await.unwrap();
        assert!(live.len() <= 2);
        assert!(live.iter().any(|v| v.id == new.session_id));
    }
    assert_eq!(service.sessions("alice").await.unwrap().len(), 2);
}

#[tokio::test]
async fn session_limit_of_one_keeps_only_the_latest_login() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock)
        .max_sessions_per_subject(1)
        .build(MemoryStore::new())
        .unwrap();
    let a = login(&service, "alice").await;
    clock.advance(Duration::seconds(1));
    let b = login(&service, "alice").await;
    assert_eq!(
        reason(&service, &a).await,
        Some(RevocationReason::SessionLimit)
    );
    let ids = common::session_ids(&service, "alice").await;
    assert_eq!(ids, [b.session_id]);
}
