//! Rotation: grace replay (same successor, no write), the window's
//! boundary, older generations, strict mode, and reuse revoking the family.

mod common;

use common::hooks::recorded;
use jwt_rotate::{Error, RevocationReason};
use time::Duration;

#[tokio::test]
async fn rotation_spends_the_token_and_advances_the_generation() {
    let (service, clock, recorder) = recorded();
    let login = common::login(&service, "alice").await;
    let sid = login.session_id;
    clock.advance(Duration::minutes(20));
    let second = service.refresh(&login.refresh_token).await.unwrap();
    assert_eq!(second.session_id, sid);
    assert_ne!(second.refresh_token, login.refresh_token);
    assert_ne!(second.access_token, login.access_token);

    let record = common::record(&service, &sid).await;
    assert_eq!(record.generation, 1);
    let previous = record.previous.as_ref().unwrap();
    assert_eq!(previous.generation, 0);
    assert_eq!(previous.rotated_at, common::start() + Duration::minutes(20));

    let third = service.refresh(&second.refresh_token).await.unwrap();
    let record = common::record(&service, &sid).await;
    assert_eq!(record.generation, 2);
    assert_eq!(record.previous.as_ref().unwrap().generation, 1);
    service.verify_live(&third.access_token).await.unwrap();

    assert_eq!(
        recorder.events(),
        [
            format!("issued alice {sid}"),
            format!("refreshed alice {sid} 1"),
            format!("refreshed alice {sid} 2"),
        ]
    );
}

#[tokio::test]
async fn grace_replay_returns_the_same_refresh_token_and_writes_nothing() {
    let (service, clock, recorder) = recorded();
    let login = common::login(&service, "alice").await;
    let sid = login.session_id;
    clock.advance(Duration::minutes(20));
    let second = service.refresh(&login.refresh_token).await.unwrap();
    let before = common::record(&service, &sid).await;

    // The response was lost; the client retries 5 s later.
    clock.advance(Duration::seconds(5));
    let replay = service.refresh(&login.refresh_token).await.unwrap();
    assert_eq!(replay.refresh_token, second.refresh_token, "same successor");
    assert_eq!(replay.refresh_expires_at, second.refresh_expires_at);
    assert_eq!(replay.session_id, sid);
    // A fresh access token, valid now.
    assert_ne!(replay.access_token, second.access_token);
    let claims = service.verify_live(&replay.access_token).await.unwrap();
    assert_eq!(claims.sid, sid);
    assert_eq!(
        claims.iat,
        common::start() + Duration::minutes(20) + Duration::seconds(5)
    );
    assert_eq!(replay.access_expires_at, claims.iat + Duration::minutes(15));

    // No write: the record is exactly as the rotation left it.
    let after = common::record(&service, &sid).await;
    assert_eq!(after.generation, 1);
    assert_eq!(after, before);

    // The successor is the live token: it rotates as usual.
    let third = service.refresh(&replay.refresh_token).await.unwrap();
    assert_eq!(common::record(&service, &sid).await.generation, 2);
    service.verify_live(&third.access_token).await.unwrap();

    assert_eq!(
        recorder.events(),
        [
            format!("issued alice {sid}"),
            format!("refreshed alice {sid} 1"),
            format!("grace_replay alice {sid} 1"),
            format!("refreshed alice {sid} 2"),
        ]
    );
}

#[tokio::test]
async fn grace_replay_may_repeat_inside_the_window() {
    let (service, clock) = common::service();
    let login = common::login(&service, "alice").await;
    let second = service.refresh(&login.refresh_token).await.unwrap();
    for _ in 0..3 {
        clock.advance(Duration::seconds(3));
        let replay = service.refresh(&login.refresh_token).await.unwrap();
        assert_eq!(replay.refresh_token, second.refresh_token);
    }
    let record = common::record(&service, &login.session_id).await;
    assert_eq!(record.generation, 1);
    assert!(record.revoked.is_none());
}

#[tokio::test]
async fn grace_window_boundary_is_exclusive() {
    // reuse_grace = 10 s: 9 s after the rotation is a replay, 10 s is reuse.
    for (offset, replay) in [
        (0, true),
        (1, true),
        (9, true),
        (10, false),
        (11, false),
        (3600, false),
    ] {
        let (service, clock) = common::service();
        let login = common::login(&service, "alice").await;
        let second = service.refresh(&login.refresh_token).await.unwrap();
        clock.advance(Duration::seconds(offset));
        let result = service.refresh(&login.refresh_token).await;
        let record = common::record(&service, &login.session_id).await;
        if replay {
            let pair = result.unwrap_or_else(|e| panic!("+{offset}s: {e}"));
            assert_eq!(pair.refresh_token, second.refresh_token, "+{offset}s");
            assert!(record.revoked.is_none(), "+{offset}s");
        } else {
            assert!(
                matches!(result, Err(Error::ReuseDetected)),
                "+{offset}s: {result:?}"
            );
            let revoked = record.revoked.expect("revoked");
            assert_eq!(revoked.reason, RevocationReason::ReuseDetected);
        }
        assert_eq!(record.generation, 1, "+{offset}s");
    }
}

#[tokio::test]
async fn a_clock_stepped_back_past_the_leeway_closes_the_grace_window() {
    let (service, clock, _) = recorded();
    let login = common::login(&service, "alice").await;
    clock.advance(Duration::minutes(20));
    let second = service.refresh(&login.refresh_token).await.unwrap();
    // 4 s behind the rotation, within the 5 s leeway (another node's clock):
    // still the same successor.
    clock.advance(Duration::seconds(-4));
    let replay = service.refresh(&login.refresh_token).await.unwrap();
    assert_eq!(replay.refresh_token, second.refresh_token);
    // Ten minutes behind it: time going backwards does not widen the
    // window, so the spent token is reuse.
    clock.advance(Duration::minutes(-10));
    let err = service.refresh(&login.refresh_token).await.unwrap_err();
    assert!(matches!(err, Error::ReuseDetected), "{err:?}");
    let record = common::record(&service, &login.session_id).await;
    let revoked = record.revoked.expect("the session is revoked");
    assert_eq!(revoked.reason, RevocationReason::ReuseDetected);
}

#[tokio::test]
async fn generation_n_minus_2_inside_the_window_is_reuse() {
    let (service, clock, recorder) = recorded();
    let g0 = common::login(&service, "alice").await;
    let sid = g0.session_id;
    let g1 = service.refresh(&g0.refresh_token).await.unwrap();
    clock.advance(Duration::seconds(1));
    let g2 = service.refresh(&g1.refresh_token).await.unwrap();
    clock.advance(Duration::seconds(1));

    // g1 is n-1 and within its window: fine. g0 is n-2: reuse, although
    // only 2 s have passed.
    assert_eq!(
        service
            .refresh(&g1.refresh_token)
            .await
            .unwrap()
            .refresh_token,
        g2.refresh_token
    );
    assert!(matches!(
        service.refresh(&g0.refresh_token).await,
        Err(Error::ReuseDetected)
    ));
    assert!(matches!(
        service.refresh(&g2.refresh_token).await,
        Err(Error::SessionRevoked)
    ));
    assert!(
        recorder
            .events()
            .contains(&format!("reuse_detected alice {sid} 0 2"))
    );
}

#[tokio::test]
async fn strict_mode_any_second_use_is_reuse() {
    let (service, _clock) = common::strict();
    let login = common::login(&service, "alice").await;
    let second = service.refresh(&login.refresh_token).await.unwrap();
    // Same instant, no grace at all.
    assert!(matches!(
        service.refresh(&login.refresh_token).await,
        Err(Error::ReuseDetected)
    ));
    common::assert_revoked(&service, &second).await;
}

#[tokio::test]
async fn reuse_revokes_the_session_and_tells_the_hooks() {
    let (service, clock, recorder) = recorded();
    let login = common::login(&service, "alice").await;
    let sid = login.session_id;
    // An unrelated session of the same user must survive.
    let other = common::login(&service, "alice").await;
    clock.advance(Duration::minutes(20));
    let victim = service.refresh(&login.refresh_token).await.unwrap();

    // A minute later a thief replays the stolen, spent token.
    clock.advance(Duration::minutes(1));
    let err = service.refresh(&login.refresh_token).await.unwrap_err();
    assert!(matches!(err, Error::ReuseDetected));
    assert!(err.is_unauthorized());

    let events = recorder.events();
    assert_eq!(
        events.last().unwrap(),
        &format!("reuse_detected alice {sid} 0 1")
    );

    let record = common::record(&service, &sid).await;
    let revoked = record.revoked.expect("revoked");
    assert_eq!(revoked.reason, RevocationReason::ReuseDetected);
    assert_eq!(revoked.at, common::start() + Duration::minutes(21));

    // The victim's current tokens are dead too: the whole family.
    common::assert_revoked(&service, &victim).await;
    // `verify` is stateless: the access token lives until it expires.
    assert!(service.verify(&victim.access_token).is_ok());
    // Presenting the stolen token again is no new detection.
    assert!(matches!(
        service.refresh(&login.refresh_token).await,
        Err(Error::SessionRevoked)
    ));
    assert_eq!(
        recorder
            .events()
            .iter()
            .filter(|e| e.starts_with("reuse_detected"))
            .count(),
        1
    );

    let ids = common::session_ids(&service, "alice").await;
    assert_eq!(ids, [other.session_id]);
    service.refresh(&other.refresh_token).await.unwrap();
}

#[tokio::test]
async fn reuse_after_the_thief_rotated_first_revokes_too() {
    // The thief refreshes first; the victim's (now old) token is the reuse.
    let (service, clock) = common::service();
    let login = common::login(&service, "alice").await;
    let thief = service.refresh(&login.refresh_token).await.unwrap();
    clock.advance(Duration::minutes(15));
    assert!(matches!(
        service.refresh(&login.refresh_token).await,
        Err(Error::ReuseDetected)
    ));
    common::assert_revoked(&service, &thief).await;
}
