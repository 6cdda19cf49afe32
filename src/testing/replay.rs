//! The DPoP replay checks: [`RefreshStore::insert_dpop_jti`] remembers a
//! proof's key once, atomically, until its expiry.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

use super::{at, join_all, ok, random_bytes};
use crate::store::{RefreshStore, Replay, ReplayKey};

/// Tasks per race.
const TASKS: usize = 32;
/// Races per check.
const ROUNDS: usize = 20;

fn random_key() -> ReplayKey {
    ReplayKey::from_bytes(random_bytes())
}

fn now() -> OffsetDateTime {
    at(OffsetDateTime::now_utc().unix_timestamp())
}

/// The first `insert_dpop_jti` of a key gets `Fresh`, every later one
/// before its expiry `Seen` (a later expiry changes nothing); another key
/// is `Fresh`.
pub async fn insert_dpop_jti_first_insert_wins<S: RefreshStore + ?Sized>(store: &S) {
    let (key, other) = (random_key(), random_key());
    let (t, expiry) = (now(), now() + Duration::seconds(61));
    let insert = |key, now, expires_at| store.insert_dpop_jti(key, now, expires_at);
    let first = ok(insert(&key, t, expiry).await, "insert_dpop_jti");
    assert_eq!(
        first,
        Replay::Fresh,
        "the first insert of a key must be Fresh"
    );
    for (now, expires_at) in [
        (t, expiry),
        (t + Duration::seconds(30), expiry + Duration::seconds(30)),
        (t - Duration::seconds(5), expiry),
    ] {
        let again = ok(insert(&key, now, expires_at).await, "insert_dpop_jti");
        assert_eq!(
            again,
            Replay::Seen,
            "a key inserted before and not expired must be Seen (now {now})"
        );
    }
    let fresh = ok(insert(&other, t, expiry).await, "insert_dpop_jti");
    assert_eq!(fresh, Replay::Fresh, "another key must be Fresh");
}

/// Of 32 concurrent `insert_dpop_jti`s of one key, exactly one gets
/// `Fresh`; the others `Seen` (or a retryable error: a store may fail a
/// loser, never let it through).
pub async fn insert_dpop_jti_concurrent_has_one_winner<S: RefreshStore + ?Sized>(store: &Arc<S>) {
    for round in 0..ROUNDS {
        let start = Arc::new(Barrier::new(TASKS));
        let key = random_key();
        let (t, expiry) = (now(), now() + Duration::seconds(61));
        let tasks = (0..TASKS)
            .map(|_| {
                let (store, start) = (Arc::clone(store), Arc::clone(&start));
                tokio::spawn(async move {
                    start.wait().await;
                    store.insert_dpop_jti(&key, t, expiry).await
                })
            })
            .collect();
        let mut fresh = 0;
        for result in join_all(tasks).await {
            match result {
                Ok(Replay::Fresh) => fresh += 1,
                Ok(Replay::Seen) => {}
                Err(e) if e.is_retryable() => {}
                Err(e) => panic!("round {round}: insert_dpop_jti racing others failed with {e:?}"),
            }
        }
        assert_eq!(
            fresh, 1,
            "round {round}: {fresh} of {TASKS} concurrent insert_dpop_jti of one key were Fresh; exactly one must be"
        );
    }
}

/// An entry counts only until its expiry: one whose expiry was past when
/// it came is not kept, and a key whose entry expired is `Fresh` again
/// (then `Seen`). Every instant is in the past of the wall clock or the
/// caller's `now`, so a store may judge expiry by either (Redis's key
/// expiry, a SQL `WHERE expires_at <= $now`).
pub async fn insert_dpop_jti_forgets_expired<S: RefreshStore + ?Sized>(store: &S) {
    let t = now();
    let insert = |key, now, expires_at| store.insert_dpop_jti(key, now, expires_at);
    // Expired on arrival.
    let key = random_key();
    let gone = ok(
        insert(&key, t, t - Duration::seconds(1)).await,
        "insert_dpop_jti",
    );
    assert_eq!(
        gone,
        Replay::Fresh,
        "a key expired on arrival is still Fresh"
    );
    let again = ok(
        insert(&key, t, t + Duration::seconds(61)).await,
        "insert_dpop_jti",
    );
    assert_eq!(
        again,
        Replay::Fresh,
        "an entry expired on arrival must not be kept"
    );
    // Inserted at an earlier `now`, expired since.
    let key = random_key();
    let (then, expired) = (t - Duration::seconds(120), t - Duration::seconds(59));
    let old = ok(insert(&key, then, expired).await, "insert_dpop_jti");
    assert_eq!(
        old,
        Replay::Fresh,
        "the first insert of a key must be Fresh"
    );
    let after = ok(
        insert(&key, t, t + Duration::seconds(61)).await,
        "insert_dpop_jti",
    );
    assert_eq!(
        after,
        Replay::Fresh,
        "a key whose entry expired must be Fresh again"
    );
    let seen = ok(
        insert(&key, t, t + Duration::seconds(61)).await,
        "insert_dpop_jti",
    );
    assert_eq!(
        seen,
        Replay::Seen,
        "the key inserted again must be remembered"
    );
    // `purge_expired` runs with them around, and forgets nothing live.
    ok(store.purge_expired(at(631_152_000)).await, "purge_expired");
    let kept = ok(
        insert(&key, t, t + Duration::seconds(61)).await,
        "insert_dpop_jti",
    );
    assert_eq!(
        kept,
        Replay::Seen,
        "purge_expired must keep unexpired entries"
    );
}
