//! Which store calls each operation makes, as `FaultyStore` records them:
//! the happy path of a refresh is exactly one (`rotate`), a grace replay
//! reads and never writes, reuse adds one read and one revocation, and
//! `verify` and every refused token never reach the store. These are the
//! calls `every_call` fails one by one.

use jwt_rotate::Error;
use jwt_rotate::testing::StoreOp::*;
use time::Duration;

use super::{common, login, service};

#[tokio::test]
async fn store_calls_per_operation() {
    let (service, clock) = service(None);
    let store = service.store();
    let g0 = common::login(&service, "alice").await;
    assert_eq!(store.take_calls(), [Create]);

    service.verify(&g0.access_token).unwrap();
    assert!(
        store.take_calls().is_empty(),
        "verify never reads the store"
    );
    service.verify_live(&g0.access_token).await.unwrap();
    assert_eq!(store.take_calls(), [Get]);

    // The happy path of a refresh: exactly one store call.
    let g1 = service.refresh(&g0.refresh_token).await.unwrap();
    assert_eq!(store.take_calls(), [Rotate]);

    // A grace replay reads, never writes.
    service.refresh(&g0.refresh_token).await.unwrap();
    assert_eq!(store.take_calls(), [Rotate, Get]);

    // Forged, expired or mistyped tokens never reach the store.
    let mut forged = g1.refresh_token.expose_secret().to_owned();
    forged.truncate(forged.len() - 3);
    assert!(service.refresh(forged.as_str()).await.is_err());
    assert!(service.refresh(g1.access_token.as_str()).await.is_err());
    clock.advance(Duration::days(8));
    assert!(matches!(
        service.refresh(&g1.refresh_token).await,
        Err(Error::Expired)
    ));
    assert!(store.take_calls().is_empty());

    // Reuse: the failed rotate, one read, one revocation.
    let (service, clock) = super::service(None);
    let store = service.store();
    let g0 = login(&service, "alice").await;
    service.refresh(&g0.refresh_token).await.unwrap();
    clock.advance(Duration::minutes(1));
    store.take_calls();
    assert!(matches!(
        service.refresh(&g0.refresh_token).await,
        Err(Error::ReuseDetected)
    ));
    assert_eq!(store.take_calls(), [Rotate, Get, Revoke]);
}
