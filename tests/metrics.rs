//! The `metrics` feature: every refresh outcome, login, revocation and
//! store call, recorded into a test recorder (metrics-util's
//! `DebuggingRecorder`, installed for this thread only).
#![cfg(all(feature = "metrics", feature = "testing"))]

mod common;

use std::collections::HashMap;

use async_trait::async_trait;
use jwt_rotate::store::StoreErrorKind;
use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp};
use jwt_rotate::{
    Denied, Error, Hooks, ManualClock, MemoryStore, NoClaims, RefreshContext, SessionInfo,
};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use time::Duration;

/// Refuses every refresh of `mallory`.
struct DenyMallory;

#[async_trait]
impl Hooks<NoClaims> for DenyMallory {
    async fn before_refresh(&self, ctx: &RefreshContext<'_>) -> Result<Option<NoClaims>, Denied> {
        if ctx.subject == "mallory" {
            return Err(Denied::new("user disabled"));
        }
        Ok(None)
    }
}

/// The recorded metrics, by `name{label=value,...}`: counters as their
/// count, histograms as their number of samples.
fn recorded(snapshotter: &Snapshotter) -> HashMap<String, u64> {
    let mut found = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let labels: Vec<_> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        let value = match value {
            DebugValue::Counter(n) => n,
            DebugValue::Histogram(samples) => samples.len() as u64,
            DebugValue::Gauge(_) => continue,
        };
        found.insert(name, value);
    }
    found
}

#[test]
fn every_refresh_outcome_login_revocation_and_store_call_is_recorded() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || runtime.block_on(scenario()));

    let got = recorded(&snapshotter);
    let expected = [
        ("jwt_rotate_sessions_issued_total{}", 6),
        ("jwt_rotate_refreshes_total{outcome=rotated}", 2),
        ("jwt_rotate_refreshes_total{outcome=grace}", 1),
        ("jwt_rotate_refreshes_total{outcome=reuse}", 1),
        ("jwt_rotate_refreshes_total{outcome=revoked}", 1),
        ("jwt_rotate_refreshes_total{outcome=expired}", 1),
        ("jwt_rotate_refreshes_total{outcome=denied}", 1),
        ("jwt_rotate_refreshes_total{outcome=invalid}", 1),
        ("jwt_rotate_refreshes_total{outcome=in_doubt}", 1),
        ("jwt_rotate_refreshes_total{outcome=store_error}", 1),
        (
            "jwt_rotate_sessions_revoked_total{reason=reuse_detected}",
            1,
        ),
        ("jwt_rotate_sessions_revoked_total{reason=logout}", 1),
        (
            "jwt_rotate_sessions_revoked_total{reason=subject_revoked}",
            2,
        ),
        ("jwt_rotate_store_call_duration_seconds{op=create}", 6),
        // Two rotations; the refused ones of the grace replay, the reuse
        // and the revoked session; the two failed ones.
        ("jwt_rotate_store_call_duration_seconds{op=rotate}", 7),
        // The reads after the three refused rotations.
        ("jwt_rotate_store_call_duration_seconds{op=get}", 3),
        // The reuse's revocation, and the logout.
        ("jwt_rotate_store_call_duration_seconds{op=revoke}", 2),
        (
            "jwt_rotate_store_call_duration_seconds{op=revoke_subject}",
            1,
        ),
        ("jwt_rotate_store_errors_total{op=rotate}", 2),
    ];
    for (name, count) in expected {
        assert_eq!(got.get(name), Some(&count), "{name} in {got:#?}");
    }
    // Every metric is registered when the service is built; nothing
    // the scenario did not do was recorded.
    for (name, count) in &got {
        if !expected.iter().any(|(e, _)| e == name) {
            assert_eq!(*count, 0, "{name} in {got:#?}");
        }
    }
    let registered = |prefix: &str| got.keys().filter(|k| k.starts_with(prefix)).count();
    assert_eq!(registered("jwt_rotate_refreshes_total{"), 10);
    assert_eq!(registered("jwt_rotate_sessions_revoked_total{"), 6);
    assert_eq!(registered("jwt_rotate_store_call_duration_seconds{"), 8);
}

async fn scenario() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock)
        .hooks(DenyMallory)
        .build(FaultyStore::new(MemoryStore::new()))
        .unwrap();
    let info = SessionInfo::default;

    // Rotated, then the spent token again: grace, then reuse.
    let first = service
        .issue("alice", NoClaims::default(), info())
        .await
        .unwrap();
    let second = service.refresh(&first.refresh_token).await.unwrap();
    service.refresh(&first.refresh_token).await.unwrap();
    clock.advance(Duration::minutes(1));
    let reuse = service.refresh(&first.refresh_token).await.unwrap_err();
    assert!(matches!(reuse, Error::ReuseDetected), "{reuse:?}");
    // The session the reuse revoked.
    let revoked = service.refresh(&second.refresh_token).await.unwrap_err();
    assert!(matches!(revoked, Error::SessionRevoked), "{revoked:?}");

    // Not ours.
    let invalid = service.refresh("not.a.token").await.unwrap_err();
    assert!(!matches!(invalid, Error::Store(_)), "{invalid:?}");

    // Refused by the hook, before the store.
    let mallory = service
        .issue("mallory", NoClaims::default(), info())
        .await
        .unwrap();
    let denied = service.refresh(&mallory.refresh_token).await.unwrap_err();
    assert!(matches!(denied, Error::Denied(_)), "{denied:?}");

    // The store fails the rotation: retryably (in doubt), then for good.
    let bob = service
        .issue("bob", NoClaims::default(), info())
        .await
        .unwrap();
    let store = service.store();
    store.inject(Calls::Only(StoreOp::Rotate), Fault::Fail);
    let in_doubt = service.refresh(&bob.refresh_token).await.unwrap_err();
    assert!(
        matches!(in_doubt, Error::RotationInDoubt { .. }),
        "{in_doubt:?}"
    );
    store.heal();
    store.inject(
        Calls::Only(StoreOp::Rotate),
        Fault::FailWith(StoreErrorKind::Corrupt),
    );
    let failed = service.refresh(&bob.refresh_token).await.unwrap_err();
    assert!(matches!(failed, Error::Store(_)), "{failed:?}");
    store.heal();
    assert!(service.revoke(&bob.refresh_token).await.unwrap());

    // Two logins, one rotation, then "log out everywhere".
    let carol = service
        .issue("carol", NoClaims::default(), info())
        .await
        .unwrap();
    service
        .issue("carol", NoClaims::default(), info())
        .await
        .unwrap();
    service.refresh(&carol.refresh_token).await.unwrap();
    assert_eq!(service.revoke_subject("carol", None).await.unwrap(), 2);

    // Expired: the idle lifetime passed.
    let dave = service
        .issue("dave", NoClaims::default(), info())
        .await
        .unwrap();
    clock.advance(Duration::days(8));
    let expired = service.refresh(&dave.refresh_token).await.unwrap_err();
    assert!(matches!(expired, Error::Expired), "{expired:?}");
}
