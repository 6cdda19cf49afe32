//! `testing::FaultyStore` itself: which calls each `Calls` selects,
//! what each `Fault` does to the store behind it, delays on a paused clock,
//! gathered calls, and transparency when no fault is injected (it passes
//! the conformance suite).

use std::error::Error as _;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use jwt_rotate::store::{RefreshStore, Revocation, SessionRecord, StoreError, StoreErrorKind};
use jwt_rotate::testing::{self, Calls, Fault, FaultyStore, StoreOp};
use jwt_rotate::{MemoryStore, RevocationReason, SessionId, SessionInfo};
use time::OffsetDateTime;

fn record(subject: &str) -> SessionRecord {
    let t = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
    SessionRecord {
        id: SessionId::random(),
        subject: subject.to_owned(),
        generation: 0,
        secret_hash: jwt_rotate::store::SecretHash::from_bytes([9; 32]),
        jkt: None,
        previous: None,
        created_at: t,
        refreshed_at: t,
        idle_expires_at: t + time::Duration::days(7),
        absolute_expires_at: t + time::Duration::days(30),
        revoked: None,
        claims_json: "{}".to_owned(),
        info: SessionInfo::default(),
        auth: None,
        last_seen: Default::default(),
        status_index: None,
    }
}

const WHY: Revocation = Revocation {
    reason: RevocationReason::Logout,
    at: OffsetDateTime::UNIX_EPOCH,
};

/// Whether one `get` of `id` succeeds.
async fn get_ok(store: &FaultyStore<MemoryStore>, id: &SessionId) -> bool {
    store.get(id).await.is_ok()
}

#[track_caller]
fn assert_injected(err: &StoreError, kind: StoreErrorKind, cause: io::ErrorKind) {
    assert_eq!(err.kind(), kind);
    let source = err.source().expect("the cause is kept");
    assert_eq!(source.downcast_ref::<io::Error>().unwrap().kind(), cause);
}

#[tokio::test]
async fn nth_counts_every_call_from_the_injection_and_fires_once() {
    let store = FaultyStore::new(MemoryStore::new());
    let r = record("ann");
    store.create(&r).await.unwrap();
    store.get(&r.id).await.unwrap();
    store.inject(Calls::Nth(3), Fault::Fail);
    let got: Vec<bool> = [
        get_ok(&store, &r.id).await,
        store.sessions("ann").await.is_ok(),
        get_ok(&store, &r.id).await,
        get_ok(&store, &r.id).await,
    ]
    .into();
    assert_eq!(got, [true, true, false, true]);
    assert_eq!(store.faults_injected(), 1);
    use StoreOp::*;
    assert_eq!(store.take_calls(), [Create, Get, Get, Sessions, Get, Get]);
    assert!(store.take_calls().is_empty());
}

#[tokio::test]
async fn nth_of_counts_only_its_operation() {
    let store = FaultyStore::new(MemoryStore::new());
    let r = record("ann");
    store.create(&r).await.unwrap();
    store.inject(Calls::NthOf(StoreOp::Get, 2), Fault::Fail);
    assert!(get_ok(&store, &r.id).await);
    assert!(store.sessions("ann").await.is_ok());
    assert!(!get_ok(&store, &r.id).await, "the second get");
    assert!(get_ok(&store, &r.id).await);
}

#[tokio::test]
async fn only_all_and_from_fail_until_healed() {
    let store = FaultyStore::new(MemoryStore::new());
    let r = record("ann");
    store.create(&r).await.unwrap();

    store.inject(Calls::Only(StoreOp::Get), Fault::Fail);
    assert!(!get_ok(&store, &r.id).await && !get_ok(&store, &r.id).await);
    assert!(store.sessions("ann").await.is_ok());
    store.heal();
    assert!(get_ok(&store, &r.id).await);

    store.inject(Calls::All, Fault::Fail);
    assert!(store.sessions("ann").await.is_err());
    assert!(
        store
            .purge_expired(OffsetDateTime::UNIX_EPOCH)
            .await
            .is_err()
    );
    store.heal();

    store.inject(Calls::From(2), Fault::Fail);
    assert!(get_ok(&store, &r.id).await);
    for _ in 0..3 {
        assert!(!get_ok(&store, &r.id).await);
    }
    store.heal();
    assert!(get_ok(&store, &r.id).await);
    assert_eq!(store.faults_injected(), 2 + 2 + 3);
}

#[tokio::test]
async fn fail_changes_nothing_and_is_retryable() {
    let store = FaultyStore::new(MemoryStore::new());
    let r = record("ann");
    store.inject(Calls::All, Fault::Fail);
    let err = store.create(&r).await.unwrap_err();
    assert_injected(
        &err,
        StoreErrorKind::Unavailable,
        io::ErrorKind::ConnectionRefused,
    );
    assert!(err.is_retryable());
    assert_eq!(store.inner().get(&r.id).await.unwrap(), None);
}

#[tokio::test]
async fn fail_with_gives_the_kind_asked_for() {
    let store = FaultyStore::new(MemoryStore::new());
    store.inject(Calls::All, Fault::FailWith(StoreErrorKind::Corrupt));
    let err = store.get(&SessionId::random()).await.unwrap_err();
    assert_injected(
        &err,
        StoreErrorKind::Corrupt,
        io::ErrorKind::ConnectionRefused,
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn fail_after_makes_the_change_and_loses_the_answer() {
    let store = FaultyStore::new(MemoryStore::new());
    let r = record("ann");
    store.inject(Calls::All, Fault::FailAfter);
    let err = store.create(&r).await.unwrap_err();
    assert_injected(&err, StoreErrorKind::Unavailable, io::ErrorKind::TimedOut);
    assert_eq!(store.inner().get(&r.id).await.unwrap(), Some(r.clone()));
    assert!(store.revoke(&r.id, &WHY).await.is_err());
    let stored = store.inner().get(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.revoked, Some(WHY), "the revocation happened");
}

#[tokio::test(start_paused = true)]
async fn delays_add_up_on_tokio_time_and_then_go_through() {
    let store = FaultyStore::new(MemoryStore::new());
    let r = record("ann");
    store.create(&r).await.unwrap();
    store.inject(
        Calls::Only(StoreOp::Get),
        Fault::Delay(Duration::from_secs(30)),
    );
    store.inject(Calls::All, Fault::Delay(Duration::from_secs(5)));

    let started = tokio::time::Instant::now();
    assert_eq!(store.get(&r.id).await.unwrap(), Some(r.clone()));
    assert_eq!(started.elapsed(), Duration::from_secs(35));
    let started = tokio::time::Instant::now();
    store.sessions("ann").await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    assert_eq!(store.faults_injected(), 0, "delays are not failures");
}

#[tokio::test(start_paused = true)]
async fn a_delay_lets_another_call_overtake() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let r = record("ann");
    store.create(&r).await.unwrap();
    store.inject(
        Calls::NthOf(StoreOp::Get, 1),
        Fault::Delay(Duration::from_secs(1)),
    );
    let slow = tokio::spawn({
        let (store, id) = (Arc::clone(&store), r.id);
        async move { store.get(&id).await.unwrap() }
    });
    tokio::task::yield_now().await;
    assert!(store.revoke(&r.id, &WHY).await.unwrap());
    let seen = slow.await.unwrap().unwrap();
    assert_eq!(
        seen.revoked,
        Some(WHY),
        "the delayed read ran after the revoke"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_faults_it_is_transparent() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    testing::run_all(&store).await;
    assert_eq!(store.faults_injected(), 0);
    let calls = store.take_calls();
    for op in StoreOp::ALL {
        assert!(calls.contains(&op), "the suite never called {}", op.name());
    }
}

#[tokio::test(start_paused = true)]
async fn gather_holds_answered_calls_until_the_group_is_full() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    store.inject(Calls::Only(StoreOp::Create), Fault::Gather(3));
    let (a, b, c) = (record("ann"), record("ann"), record("ann"));
    let create = |r: &SessionRecord| {
        let (store, r) = (Arc::clone(&store), r.clone());
        tokio::spawn(async move { store.create(&r).await })
    };
    let (first, second) = (create(&a), create(&b));
    // Long enough on the paused clock for both to get as far as they can.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(!first.is_finished() && !second.is_finished(), "held for 3");
    // Held once the store answered: both records are in.
    assert!(store.inner().get(&a.id).await.unwrap().is_some());
    assert!(store.inner().get(&b.id).await.unwrap().is_some());

    // The third fills the group, though another fault fails it.
    store.inject(Calls::NthOf(StoreOp::Create, 1), Fault::Fail);
    assert!(store.create(&c).await.is_err());
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    assert_eq!(store.inner().get(&c.id).await.unwrap(), None);
    assert_eq!(store.faults_injected(), 1, "gathering is not a failure");

    // The next calls form the next group: one alone stays held.
    let bo = record("bo");
    let alone = store.create(&bo);
    let timed_out = tokio::time::timeout(Duration::from_secs(60), alone).await;
    assert!(timed_out.is_err(), "held until two more creates come");
}

#[tokio::test]
async fn gather_of_zero_or_one_holds_nothing() {
    let store = FaultyStore::new(MemoryStore::new());
    store.inject(Calls::All, Fault::Gather(0));
    store.inject(Calls::All, Fault::Gather(1));
    let r = record("ann");
    store.create(&r).await.unwrap();
    assert_eq!(store.get(&r.id).await.unwrap(), Some(r));
    assert_eq!(store.faults_injected(), 0);
}
