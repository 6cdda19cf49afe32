//! Store failures: what the service does when its store fails, and
//! `testing::FaultyStore`, the wrapper that makes a store fail.
//!
//! - `outages`: a failing store is `Error::Store` ("try later"), never an
//!   invalid token, never a revocation; the cause is kept as the error's
//!   source; once the store is back, the same tokens work.
//! - `every_call`: every store call of `issue`, `refresh` (rotation, grace
//!   replay, reuse, revoked session), `revoke`, `revoke_session` and
//!   `revoke_subject` fails in turn, before reaching the store and after it
//!   (a lost answer). Each time: a typed, retryable store error; before the
//!   store, no change at all; after it, no change but the one the call
//!   itself was making; never a session revoked by the failure; and once
//!   the store is back, the same refresh token does what it did before.
//! - `store_calls`: which store calls each operation makes (the happy path
//!   of a refresh is exactly one), so which calls there are to fail.
//! - `faulty_store`: `FaultyStore` itself: which calls each `Calls`
//!   selects, what each `Fault` does to the store behind it, delays on a
//!   paused clock, gathered calls, and transparency when no fault is
//!   injected (it passes the conformance suite).
//!
//! `--nocapture` prints each operation's store calls and its case count.
#![cfg(feature = "testing")]

mod common;
#[path = "store_failures/every_call.rs"]
mod every_call;
#[path = "store_failures/faulty_store.rs"]
mod faulty_store;
#[path = "store_failures/outages.rs"]
mod outages;
#[path = "store_failures/store_calls.rs"]
mod store_calls;

use jwt_rotate::store::{RefreshStore, SessionRecord, StoreErrorKind};
use jwt_rotate::testing::FaultyStore;
use jwt_rotate::{
    Error, ErrorClass, ManualClock, MemoryStore, NoClaims, SessionId, SessionInfo, TokenPair,
    TokenService,
};

type Service = TokenService<FaultyStore<MemoryStore>>;

/// A service over a healthy `FaultyStore`, with the common settings and,
/// if given, a limit of sessions per subject.
fn service(max_sessions: Option<usize>) -> (Service, ManualClock) {
    let clock = ManualClock::new(common::start());
    let mut builder = common::builder(&clock);
    if let Some(max) = max_sessions {
        builder = builder.max_sessions_per_subject(max);
    }
    (
        builder.build(FaultyStore::new(MemoryStore::new())).unwrap(),
        clock,
    )
}

/// A login, its store calls forgotten.
async fn login(service: &Service, subject: &str) -> TokenPair {
    let pair = common::login(service, subject).await;
    service.store().take_calls();
    pair
}

/// The error of a login that must fail.
async fn login_error(service: &Service, subject: &str) -> Error {
    service
        .issue(subject, NoClaims {}, SessionInfo::default())
        .await
        .unwrap_err()
}

/// The record as the healthy inner store has it; it must exist.
async fn record(service: &Service, sid: &SessionId) -> SessionRecord {
    service.store().inner().get(sid).await.unwrap().unwrap()
}

/// The records behind `ids`, read past the faults.
async fn snapshot(service: &Service, ids: &[SessionId]) -> Vec<Option<SessionRecord>> {
    let mut records = Vec::new();
    for id in ids {
        records.push(service.store().inner().get(id).await.unwrap());
    }
    records
}

/// An outage: `Error::Store`, retryable, "try later", cause kept.
#[track_caller]
fn assert_outage(err: &Error) {
    let Some(store) = err.store_error() else {
        panic!("expected Error::Store, got {err:?}");
    };
    assert_eq!(store.kind(), StoreErrorKind::Unavailable, "{err:?}");
    assert!(store.is_retryable(), "{err:?}");
    assert_eq!(err.class(), ErrorClass::TryLater, "{err:?}");
    assert!(!err.is_unauthorized(), "{err:?}");
    assert_eq!(err.code(), "store_unavailable", "{err:?}");
}
