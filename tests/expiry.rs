//! Lifetimes: access expiry, idle expiry and its extension on rotation,
//! absolute expiry, and purging. All on a manual clock: no sleeping.

mod common;

use common::tokens::exp_claim;
use jwt_rotate::store::RefreshStore;
use jwt_rotate::{Clock, Error};
use time::Duration;

#[tokio::test]
async fn access_token_expires_after_access_ttl_plus_leeway() {
    let (service, clock) = common::service();
    let t0 = common::start();
    let pair = common::login(&service, "alice").await;
    assert_eq!(pair.access_expires_at, t0 + Duration::minutes(15));
    assert_eq!(
        exp_claim(pair.access_token.expose_secret()),
        pair.access_expires_at
    );

    clock.set(t0 + Duration::minutes(15) - Duration::seconds(1));
    service.verify(&pair.access_token).unwrap();
    // The default leeway is 5 s, not jsonwebtoken's 60 s.
    clock.set(t0 + Duration::minutes(15) + Duration::seconds(4));
    service.verify(&pair.access_token).unwrap();
    clock.set(t0 + Duration::minutes(15) + Duration::seconds(5));
    assert!(matches!(
        service.verify(&pair.access_token),
        Err(Error::Expired)
    ));
    assert!(matches!(
        service.verify_live(&pair.access_token).await,
        Err(Error::Expired)
    ));

    // The session itself lives on: a refresh gives a fresh access token.
    let next = service.refresh(&pair.refresh_token).await.unwrap();
    let claims = service.verify(&next.access_token).unwrap();
    assert_eq!(claims.iat, clock.now());
    assert_eq!(claims.exp, clock.now() + Duration::minutes(15));
}

#[tokio::test]
async fn access_token_never_outlives_the_session() {
    let (service, clock) = common::service();
    let t0 = common::start();
    let end = t0 + Duration::days(30);
    let mut pair = common::login(&service, "alice").await;
    // Keep the session alive (idle 7 d) up to 5 minutes before its
    // absolute end.
    for day in [6, 12, 18, 24] {
        clock.set(t0 + Duration::days(day));
        pair = service.refresh(&pair.refresh_token).await.unwrap();
    }
    clock.set(end - Duration::minutes(5));
    pair = service.refresh(&pair.refresh_token).await.unwrap();

    assert_eq!(pair.refresh_expires_at, end);
    assert_eq!(pair.access_expires_at, end, "cut to the session's end");
    let claims = service.verify(&pair.access_token).unwrap();
    assert_eq!(claims.exp, end);
    assert_eq!(claims.iat, end - Duration::minutes(5));

    // One second before the end: a 1-second access token, still valid.
    clock.set(end - Duration::seconds(1));
    let last = service.refresh(&pair.refresh_token).await.unwrap();
    assert_eq!(last.access_expires_at, end);
    service.verify_live(&last.access_token).await.unwrap();

    clock.set(end);
    assert!(matches!(
        service.verify_live(&last.access_token).await,
        Err(Error::SessionExpired)
    ));
}

#[tokio::test]
async fn idle_session_expires_after_refresh_ttl_without_refresh() {
    let (service, clock) = common::service();
    let t0 = common::start();
    let pair = common::login(&service, "alice").await;
    assert_eq!(pair.refresh_expires_at, t0 + Duration::days(7));
    assert_eq!(
        exp_claim(pair.refresh_token.expose_secret()),
        t0 + Duration::days(7)
    );

    // Exactly 7 days idle: the token is within its leeway, the session is
    // dead.
    clock.set(t0 + Duration::days(7));
    assert!(matches!(
        service.refresh(&pair.refresh_token).await,
        Err(Error::SessionExpired)
    ));
    assert!(service.sessions("alice").await.unwrap().is_empty());
    // Nothing was revoked or rotated: it simply expired.
    let record = common::record(&service, &pair.session_id).await;
    assert_eq!(record.generation, 0);
    assert!(record.revoked.is_none());

    // Well past it, the refresh token's own `exp` refuses it first, before
    // any store access: a token error, not a session error.
    clock.set(t0 + Duration::days(8));
    assert!(matches!(
        service.refresh(&pair.refresh_token).await,
        Err(Error::Expired)
    ));
}

#[tokio::test]
async fn idle_session_one_second_before_expiry_still_refreshes() {
    let (service, clock) = common::service();
    let t0 = common::start();
    let pair = common::login(&service, "alice").await;
    clock.set(t0 + Duration::days(7) - Duration::seconds(1));
    let next = service.refresh(&pair.refresh_token).await.unwrap();
    assert_eq!(
        next.refresh_expires_at,
        t0 + Duration::days(14) - Duration::seconds(1)
    );
}

#[tokio::test]
async fn each_rotation_extends_the_idle_lifetime() {
    let (service, clock) = common::service();
    let t0 = common::start();
    let mut pair = common::login(&service, "alice").await;
    // 4 refreshes 6 days apart: 24 days, far beyond one idle lifetime.
    for day in [6, 12, 18] {
        let now = t0 + Duration::days(day);
        clock.set(now);
        pair = service.refresh(&pair.refresh_token).await.unwrap();
        assert_eq!(pair.refresh_expires_at, now + Duration::days(7));
        assert_eq!(
            exp_claim(pair.refresh_token.expose_secret()),
            now + Duration::days(7)
        );
        let record = common::record(&service, &pair.session_id).await;
        assert_eq!(record.refreshed_at, now);
        assert_eq!(record.idle_expires_at, now + Duration::days(7));
        assert_eq!(record.absolute_expires_at, t0 + Duration::days(30));
        service.verify_live(&pair.access_token).await.unwrap();
    }
    // 25 days after login, alive until 7 idle days after the last refresh,
    // and dead from then on although the absolute end (day 30) is later.
    clock.set(t0 + Duration::days(25) - Duration::seconds(1));
    assert_eq!(service.sessions("alice").await.unwrap().len(), 1);
    clock.set(t0 + Duration::days(25));
    assert!(service.sessions("alice").await.unwrap().is_empty());
    assert!(matches!(
        service.refresh(&pair.refresh_token).await,
        Err(Error::SessionExpired)
    ));
}

#[tokio::test]
async fn absolute_lifetime_caps_the_refresh_token_and_the_session() {
    let (service, clock) = common::service();
    let t0 = common::start();
    let end = t0 + Duration::days(30);
    let mut pair = common::login(&service, "alice").await;
    // exp = min(now + refresh_ttl, login + session_ttl).
    for (day, expected) in [
        (6, t0 + Duration::days(13)),
        (12, t0 + Duration::days(19)),
        (18, t0 + Duration::days(25)),
        (24, end),
        (29, end),
    ] {
        clock.set(t0 + Duration::days(day));
        pair = service.refresh(&pair.refresh_token).await.unwrap();
        assert_eq!(pair.refresh_expires_at, expected, "day {day}");
        assert_eq!(
            exp_claim(pair.refresh_token.expose_secret()),
            expected,
            "day {day}"
        );
    }
    let record = common::record(&service, &pair.session_id).await;
    assert_eq!(record.generation, 5);
    assert_eq!(record.absolute_expires_at, end, "never extended");

    clock.set(end - Duration::seconds(1));
    pair = service.refresh(&pair.refresh_token).await.unwrap();
    assert_eq!(pair.refresh_expires_at, end);

    // At the absolute end, however recently refreshed.
    clock.set(end);
    assert!(matches!(
        service.refresh(&pair.refresh_token).await,
        Err(Error::SessionExpired)
    ));
    assert!(matches!(
        service.verify_live(&pair.access_token).await,
        Err(Error::SessionExpired)
    ));
    assert!(service.sessions("alice").await.unwrap().is_empty());
}

#[tokio::test]
async fn purge_expired_removes_expired_sessions_and_keeps_live_ones() {
    let (service, clock) = common::service();
    let t0 = common::start();
    let old = common::login(&service, "alice").await;
    let old_revoked = common::login(&service, "alice").await;
    service
        .revoke_session(&old_revoked.session_id)
        .await
        .unwrap();
    clock.set(t0 + Duration::days(5));
    let live = common::login(&service, "alice").await;
    let live_revoked = common::login(&service, "bob").await;
    service
        .revoke_session(&live_revoked.session_id)
        .await
        .unwrap();

    // Nothing expired yet.
    assert_eq!(service.purge_expired().await.unwrap(), 0);

    // The first two expired at day 7, but within the leeway they stay.
    clock.set(t0 + Duration::days(7) + Duration::seconds(4));
    assert_eq!(service.purge_expired().await.unwrap(), 0);
    assert!(
        service
            .store()
            .get(&old.session_id)
            .await
            .unwrap()
            .is_some()
    );

    clock.set(t0 + Duration::days(7) + Duration::seconds(5));
    assert_eq!(service.purge_expired().await.unwrap(), 2);
    let store = service.store();
    assert!(store.get(&old.session_id).await.unwrap().is_none());
    assert!(store.get(&old_revoked.session_id).await.unwrap().is_none());
    // A live session and a revoked but unexpired one are kept (the latter
    // so that its tokens keep failing as revoked).
    assert!(store.get(&live.session_id).await.unwrap().is_some());
    let kept = store.get(&live_revoked.session_id).await.unwrap().unwrap();
    assert!(kept.revoked.is_some());
    service.refresh(&live.refresh_token).await.unwrap();

    // A second purge finds nothing more.
    assert_eq!(service.purge_expired().await.unwrap(), 0);
    let ids = common::session_ids(&service, "alice").await;
    assert_eq!(ids, [live.session_id]);
}
