//! A store that fails on command: a store failure is `Error::Store`
//! ("try later"), never an invalid token, never a revocation; the cause is
//! kept as the error's source; once the store is back, the tokens the
//! failed calls were given work as before.

use std::error::Error as _;
use std::io;

use jwt_rotate::store::{RefreshStore, StoreError};
use jwt_rotate::testing::StoreOp::*;
use jwt_rotate::testing::{Calls, Fault};
use jwt_rotate::{Error, RevocationReason};
use time::Duration;

use super::{assert_outage, common, login, login_error, record, service};

#[tokio::test]
async fn issue_during_an_outage_fails_with_try_later_and_creates_nothing() {
    let (service, _clock) = service(None);
    service.store().inject(Calls::Only(Create), Fault::Fail);
    let err = login_error(&service, "alice").await;
    assert_outage(&err);
    assert!(
        service
            .store()
            .inner()
            .sessions("alice")
            .await
            .unwrap()
            .is_empty()
    );

    service.store().heal();
    let pair = common::login(&service, "alice").await;
    service.verify_live(&pair.access_token).await.unwrap();
}

#[tokio::test]
async fn the_cause_is_kept_as_the_source_chain() {
    let (service, _clock) = service(None);
    service.store().inject(Calls::Only(Create), Fault::Fail);
    let err = login_error(&service, "alice").await;
    let store = err
        .source()
        .expect("the store error is the source")
        .downcast_ref::<StoreError>()
        .expect("a StoreError");
    assert_eq!(store.to_string(), "injected fault before the store");
    let cause = store.source().expect("the driver error is kept");
    let io = cause.downcast_ref::<io::Error>().expect("an io::Error");
    assert_eq!(io.kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(io.to_string(), "injected by FaultyStore");
    assert!(cause.source().is_none());
}

#[tokio::test]
async fn refresh_during_an_outage_revokes_nothing_and_the_token_works_later() {
    let (service, clock) = service(None);
    let pair = login(&service, "alice").await;
    let before = record(&service, &pair.session_id).await;
    clock.advance(Duration::minutes(20));

    service.store().inject(Calls::Only(Rotate), Fault::Fail);
    for _ in 0..3 {
        let err = service.refresh(&pair.refresh_token).await.unwrap_err();
        assert_outage(&err);
    }
    assert_eq!(record(&service, &pair.session_id).await, before);

    // Still failing 10 minutes later: no grace window is involved.
    clock.advance(Duration::minutes(10));
    assert_outage(&service.refresh(&pair.refresh_token).await.unwrap_err());

    service.store().heal();
    let next = service.refresh(&pair.refresh_token).await.unwrap();
    service.verify_live(&next.access_token).await.unwrap();
    assert_eq!(record(&service, &pair.session_id).await.generation, 1);
}

#[tokio::test]
async fn a_lost_rotate_response_is_recovered_by_the_grace_replay() {
    let (service, clock) = service(None);
    let pair = login(&service, "alice").await;
    // The rotation commits, but its answer never arrives.
    service
        .store()
        .inject(Calls::Only(Rotate), Fault::FailAfter);
    assert_outage(&service.refresh(&pair.refresh_token).await.unwrap_err());
    assert_eq!(record(&service, &pair.session_id).await.generation, 1);

    // The client retries with the same token a few seconds later.
    service.store().heal();
    clock.advance(Duration::seconds(3));
    let retried = service.refresh(&pair.refresh_token).await.unwrap();
    service.verify_live(&retried.access_token).await.unwrap();
    let third = service.refresh(&retried.refresh_token).await.unwrap();
    service.verify_live(&third.access_token).await.unwrap();
}

#[tokio::test]
async fn failing_get_after_a_refused_rotate_is_a_store_error_not_reuse() {
    let (service, clock) = service(None);
    let g0 = login(&service, "alice").await;
    let g1 = service.refresh(&g0.refresh_token).await.unwrap();
    clock.advance(Duration::minutes(1));

    // g0 is reuse now, but the store cannot tell us.
    service.store().inject(Calls::Only(Get), Fault::Fail);
    service.store().take_calls();
    let err = service.refresh(&g0.refresh_token).await.unwrap_err();
    assert_outage(&err);
    assert_eq!(service.store().take_calls(), [Rotate, Get]);
    assert!(record(&service, &g0.session_id).await.revoked.is_none());

    service.store().heal();
    service.refresh(&g1.refresh_token).await.unwrap();
    // Once the store is back, the reuse is seen and acted upon.
    assert!(matches!(
        service.refresh(&g0.refresh_token).await,
        Err(Error::ReuseDetected)
    ));
}

#[tokio::test]
async fn failing_revoke_on_reuse_reports_a_store_error() {
    let (service, clock) = service(None);
    let g0 = login(&service, "alice").await;
    service.refresh(&g0.refresh_token).await.unwrap();
    clock.advance(Duration::minutes(1));
    service.store().inject(Calls::Only(Revoke), Fault::Fail);
    service.store().take_calls();
    let err = service.refresh(&g0.refresh_token).await.unwrap_err();
    assert_outage(&err);
    assert_eq!(service.store().take_calls(), [Rotate, Get, Revoke]);
    // Not claimed as revoked, because it is not.
    assert!(record(&service, &g0.session_id).await.revoked.is_none());
    service.store().heal();
    assert!(matches!(
        service.refresh(&g0.refresh_token).await,
        Err(Error::ReuseDetected)
    ));
    assert_eq!(
        record(&service, &g0.session_id)
            .await
            .revoked
            .map(|r| r.reason),
        Some(RevocationReason::ReuseDetected)
    );
}

#[tokio::test]
async fn every_other_operation_reports_the_outage() {
    let (service, clock) = service(None);
    let a = login(&service, "alice").await;
    let b = login(&service, "alice").await;
    clock.advance(Duration::days(8));
    let fresh = login(&service, "alice").await;

    service.store().inject(Calls::All, Fault::Fail);
    assert_outage(&service.revoke(&a.refresh_token).await.unwrap_err());
    assert_outage(&service.revoke_session(&a.session_id).await.unwrap_err());
    assert_outage(
        &service
            .revoke_subject("alice", Some(&fresh.session_id))
            .await
            .unwrap_err(),
    );
    assert_outage(&service.revoke_subject("alice", None).await.unwrap_err());
    assert_outage(&service.sessions("alice").await.unwrap_err());
    assert_outage(&service.purge_expired().await.unwrap_err());
    assert_outage(&service.verify_live(&fresh.access_token).await.unwrap_err());
    assert_outage(&service.refresh(&fresh.refresh_token).await.unwrap_err());
    // Verifying an access token needs no store at all.
    service.verify(&fresh.access_token).unwrap();

    // Nothing changed behind the errors.
    service.store().heal();
    for pair in [&a, &b, &fresh] {
        assert!(record(&service, &pair.session_id).await.revoked.is_none());
    }
    assert_eq!(service.sessions("alice").await.unwrap().len(), 1);
    assert_eq!(service.purge_expired().await.unwrap(), 2);
}

#[tokio::test]
async fn session_limit_during_an_outage_revokes_nothing() {
    let (service, clock) = service(Some(1));
    let first = login(&service, "alice").await;
    clock.advance(Duration::seconds(1));
    service.store().inject(Calls::Only(Sessions), Fault::Fail);
    let err = login_error(&service, "alice").await;
    assert_outage(&err);
    assert!(record(&service, &first.session_id).await.revoked.is_none());
    service.store().heal();
    service.refresh(&first.refresh_token).await.unwrap();
}

/// A client that sends a `rotate` again after its connection dropped (the
/// cluster client does) finds its own rotation done and is refused: the
/// service sees its own new secret stored and answers the rotation, even in
/// strict mode, where any other refusal of this token would be reuse.
#[tokio::test]
async fn a_rotation_sent_twice_by_the_client_is_still_one_rotation() {
    let clock = jwt_rotate::ManualClock::new(common::start());
    let service = common::builder(&clock)
        .reuse_grace(Duration::ZERO)
        .build(jwt_rotate::testing::FaultyStore::new(
            jwt_rotate::MemoryStore::new(),
        ))
        .unwrap();
    let pair = common::login(&service, "alice").await;
    service.store().inject(Calls::Only(Rotate), Fault::Resend);
    let next = service.refresh(&pair.refresh_token).await.unwrap();
    service.store().heal();
    assert_eq!(service.store().faults_injected(), 1);

    let stored = service
        .store()
        .inner()
        .get(&pair.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.generation, 1);
    assert!(stored.revoked.is_none());
    service.verify_live(&next.access_token).await.unwrap();
    // The pair handed out is the one stored: it rotates on.
    let third = service.refresh(&next.refresh_token).await.unwrap();
    service.verify_live(&third.access_token).await.unwrap();
    // And the spent token is still reuse.
    let spent = service.refresh(&pair.refresh_token).await.unwrap_err();
    assert!(matches!(spent, Error::ReuseDetected), "{spent:?}");
    let revoked = service
        .store()
        .inner()
        .get(&pair.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        revoked.revoked.unwrap().reason,
        RevocationReason::ReuseDetected
    );
}
