//! The basic lifecycle: login, verify, rotate, grace replay, reuse.

mod common;

use jwt_rotate::Error;
use time::Duration;

#[tokio::test]
async fn login_refresh_grace_then_reuse_revokes_the_family() {
    let (service, clock) = common::service();
    let login = common::login(&service, "alice").await;
    let claims = service.verify(&login.access_token).unwrap();
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.sid, login.session_id);

    clock.advance(Duration::minutes(16));
    assert!(matches!(
        service.verify(&login.access_token),
        Err(Error::Expired)
    ));

    let second = service.refresh(&login.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, login.refresh_token);
    assert_eq!(service.verify(&second.access_token).unwrap().sub, "alice");

    // Inside the grace window the spent token gets the very same successor.
    clock.advance(Duration::seconds(5));
    let replay = service.refresh(&login.refresh_token).await.unwrap();
    assert_eq!(replay.refresh_token, second.refresh_token);

    // Outside it, the same token is reuse: the whole family dies.
    clock.advance(Duration::seconds(6));
    assert!(matches!(
        service.refresh(&login.refresh_token).await,
        Err(Error::ReuseDetected)
    ));
    common::assert_revoked(&service, &second).await;
    assert!(service.sessions("alice").await.unwrap().is_empty());
}
