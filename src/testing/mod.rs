//! The testing API (feature `testing`): the conformance suite for
//! [`RefreshStore`] implementations, [`FaultyStore`], and [`DpopClient`]
//! to drive a server with DPoP proofs.
//!
//! For tests only: nothing here belongs in a production build. The feature
//! was called `conformance` (and this module `jwt_rotate::conformance`);
//! both old names still work, deprecated, until the next release.
//!
//! Every store in this crate runs it, and a store written for another
//! database proves itself against the [contract](RefreshStore#contract) the
//! same way. [`run_all`] runs every check; each check is also a function of
//! its own, to run one at a time while a backend is being written. A check
//! panics with a message naming the rule the store broke; a store error
//! fails it with the error and its sources.
//!
//! For testing what a service does when its store fails, [`FaultyStore`]
//! wraps any store and fails, or delays, the calls it is told to.
//!
//! # Running it
//!
//! In the store's crate, add `jwt-rotate` with feature `testing` and
//! `tokio` with features `rt-multi-thread` and `macros` to the
//! dev-dependencies, then write a test such as (with your store in place of
//! `MemoryStore`):
//!
//! ```
//! # use std::sync::Arc;
//! # use jwt_rotate::{MemoryStore, testing};
//! #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
//! async fn my_store_conforms() {
//!     let store = Arc::new(MemoryStore::new());
//!     testing::run_all(&store).await;
//! }
//! # fn main() {}
//! ```
//!
//! Without the test macro, build a runtime by hand:
//!
//! ```
//! use std::sync::Arc;
//! use jwt_rotate::MemoryStore;
//! use jwt_rotate::store::RefreshStore;
//! use jwt_rotate::testing;
//!
//! let runtime = tokio::runtime::Builder::new_multi_thread()
//!     .worker_threads(2)
//!     .build()?;
//! // `Arc<dyn RefreshStore>` works as well as the concrete type.
//! let store: Arc<dyn RefreshStore> = Arc::new(MemoryStore::new());
//! runtime.block_on(testing::run_all(&store));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # What the suite assumes
//!
//! - It runs inside a tokio runtime: the concurrency checks spawn tasks.
//!   Only a multi-thread runtime makes their races real.
//! - The store may hold other data, and other runs may use it at the same
//!   time (parallel tests on one database): each check makes its own
//!   sessions with random ids and subjects, and never counts on anything
//!   else being there or not. Only purges are global: purge checks in one
//!   process take turns, and one that another process's purge disturbs
//!   tries again.
//! - Timestamps are whole seconds, as SQL and Redis keep them. Sessions
//!   live around the current time, except in the purge check, which asks
//!   to purge at 1990-01-01 so that it can never delete a session another
//!   check (or an application) made. So a store must keep expired sessions
//!   readable until `purge_expired` deletes them, as the contract says:
//!   several checks create sessions that expired long ago. (A store that
//!   drops expired records by TTL passes if it keeps each for a few
//!   minutes after writing it, as the contract allows.)
//! - `claims_json` is compared as JSON, so a store may keep it as `jsonb`.
//! - The suite leaves its sessions behind, all expired within a day, for
//!   `purge_expired` to collect, and its DPoP replay entries, expired
//!   within a minute.
//! - The store implements
//!   [`insert_dpop_jti`](RefreshStore::insert_dpop_jti): its default
//!   refuses every call, and the replay checks fail on it.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use tokio::task::JoinHandle;

use crate::session::{
    AuthContext, GraceData, LastSeen, SecretHash, SessionInfo, SessionRecord, WrappedSecret,
};
use crate::store::{ExpectedGeneration, RefreshStore, RotationUpdate, StoreError};

mod concurrent;
mod dpop;
mod faulty;
mod feed;
mod follow;
mod replay;
mod single;
mod subject;

pub use self::concurrent::{
    concurrent_create_has_one_winner, concurrent_revoke_has_one_winner,
    concurrent_rotate_has_one_winner, rotate_racing_revoke_never_wins_after_it,
};
pub use self::dpop::{DpopClient, ath};
pub use self::faulty::{Calls, Fault, FaultyStore};
pub use self::feed::{
    feed_catches_up_after_a_disconnect, feed_publishes_each_revocation_once_in_order,
    feed_publishes_one_event_per_winning_revoke,
    feed_refuses_a_token_in_flight_once_the_follower_saw_it, feed_says_too_old_once_trimmed,
    run_feed,
};
pub use self::follow::Following;
pub use self::replay::{
    insert_dpop_jti_concurrent_has_one_winner, insert_dpop_jti_first_insert_wins,
    insert_dpop_jti_forgets_expired,
};
pub use self::single::{
    create_refuses_a_taken_id, create_then_get_round_trips, revoke_keeps_the_first_revocation,
    rotate_is_compare_and_swap, rotate_refuses_expired, rotate_refuses_revoked,
    unknown_ids_are_not_errors,
};
pub use self::subject::{
    purge_expired_deletes_only_expired, revoke_subject_spares_except_and_others,
    sessions_lists_live_records_of_one_subject,
};
pub use crate::store::StoreOp;

/// Runs every check, one after another, against `store`.
///
/// Takes an `Arc` because the concurrency checks share the store with the
/// tasks they spawn; `S` may be unsized, so `&Arc<dyn RefreshStore>` works.
///
/// # Panics
/// On the first contract violation or store error, with a message saying
/// which rule was broken.
pub async fn run_all<S: RefreshStore + ?Sized>(store: &Arc<S>) {
    let one: &S = store;
    create_then_get_round_trips(one).await;
    create_refuses_a_taken_id(one).await;
    unknown_ids_are_not_errors(one).await;
    rotate_is_compare_and_swap(one).await;
    rotate_refuses_revoked(one).await;
    rotate_refuses_expired(one).await;
    revoke_keeps_the_first_revocation(one).await;
    revoke_subject_spares_except_and_others(one).await;
    sessions_lists_live_records_of_one_subject(one).await;
    purge_expired_deletes_only_expired(one).await;
    concurrent_create_has_one_winner(store).await;
    concurrent_rotate_has_one_winner(store).await;
    concurrent_revoke_has_one_winner(store).await;
    rotate_racing_revoke_never_wins_after_it(store).await;
    insert_dpop_jti_first_insert_wins(one).await;
    insert_dpop_jti_forgets_expired(one).await;
    insert_dpop_jti_concurrent_has_one_winner(store).await;
}

/// A fresh live session of `subject` that has never rotated: random id and
/// secret hash, created now (whole seconds), idle expiry in an hour,
/// absolute expiry in a day, claims `{"role":"member"}`, kind
/// `"conformance"`, authenticated a minute before with `amr` `pwd` and
/// `otp` and `acr` `urn:example:mfa`, nothing seen yet.
pub fn sample_record(subject: &str) -> SessionRecord {
    let now = at(OffsetDateTime::now_utc().unix_timestamp());
    SessionRecord {
        id: crate::session::SessionId::random(),
        subject: subject.to_owned(),
        generation: 0,
        secret_hash: random_secret_hash(),
        jkt: None,
        previous: None,
        created_at: now,
        refreshed_at: now,
        idle_expires_at: now + Duration::hours(1),
        absolute_expires_at: now + Duration::days(1),
        revoked: None,
        claims_json: r#"{"role":"member"}"#.to_owned(),
        info: SessionInfo::default()
            .with_user_agent("jwt-rotate conformance")
            .with_kind("conformance"),
        auth: Some(AuthContext::new(
            now - Duration::minutes(1),
            vec!["pwd".into(), "otp".into()],
            Some("urn:example:mfa".into()),
        )),
        last_seen: LastSeen::default(),
    }
}

/// What the service would pass to `rotate` to move `record` on by one
/// generation at `at`: a random new secret hash, the idle expiry an hour
/// after `at` (capped at the absolute one), claims, last seen and
/// authentication context kept.
pub fn next_rotation(
    record: &SessionRecord,
    at: OffsetDateTime,
) -> (ExpectedGeneration, RotationUpdate) {
    let expected = ExpectedGeneration {
        generation: record.generation,
        secret_hash: record.secret_hash,
    };
    let rotation = RotationUpdate {
        generation: record.generation + 1,
        secret_hash: random_secret_hash(),
        previous: GraceData {
            generation: record.generation,
            secret_hash: record.secret_hash,
            rotated_at: at,
            wrapped_secret: WrappedSecret::from_bytes(random_bytes()),
        },
        refreshed_at: at,
        idle_expires_at: (at + Duration::hours(1)).min(record.absolute_expires_at),
        claims_json: None,
        last_seen: None,
        auth: None,
    };
    (expected, rotation)
}

/// A subject no other run uses: `prefix`, a dash and 16 random hex digits.
pub fn unique_subject(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    rand::fill(&mut bytes);
    format!("{prefix}-{:016x}", u64::from_le_bytes(bytes))
}

/// A random secret hash.
pub fn random_secret_hash() -> SecretHash {
    SecretHash::from_bytes(random_bytes())
}

/// Panics unless `actual` equals `expected` field by field, naming the
/// fields that differ (`Debug` hides the hashes, so it alone would not
/// tell). `claims_json` is compared as JSON when both sides parse.
#[track_caller]
pub fn assert_records_match(actual: &SessionRecord, expected: &SessionRecord, context: &str) {
    let fields = [
        ("id", actual.id == expected.id),
        ("subject", actual.subject == expected.subject),
        ("generation", actual.generation == expected.generation),
        ("secret_hash", actual.secret_hash == expected.secret_hash),
        ("jkt", actual.jkt == expected.jkt),
        ("previous", actual.previous == expected.previous),
        ("created_at", actual.created_at == expected.created_at),
        ("refreshed_at", actual.refreshed_at == expected.refreshed_at),
        (
            "idle_expires_at",
            actual.idle_expires_at == expected.idle_expires_at,
        ),
        (
            "absolute_expires_at",
            actual.absolute_expires_at == expected.absolute_expires_at,
        ),
        ("revoked", actual.revoked == expected.revoked),
        (
            "claims_json",
            same_json(&actual.claims_json, &expected.claims_json),
        ),
        ("info", actual.info == expected.info),
    ];
    let differ: Vec<&str> = fields.iter().filter(|f| !f.1).map(|f| f.0).collect();
    assert!(
        differ.is_empty(),
        "{context}: the record differs in {differ:?}\n  got:      {actual:?}\n  expected: {expected:?}"
    );
}

fn same_json(a: &str, b: &str) -> bool {
    use serde_json::Value;
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    bytes
}

/// The instant `unix` seconds after the epoch.
fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("a timestamp in time's range")
}

/// The result of a store call, or a panic naming the call and the error.
#[track_caller]
fn ok<T>(result: Result<T, StoreError>, call: &str) -> T {
    result.unwrap_or_else(|e| panic!("{call} failed: {e} ({e:?})"))
}

/// Reads `expected.id` and panics unless it is stored exactly as `expected`.
async fn assert_stored<S: RefreshStore + ?Sized>(
    store: &S,
    expected: &SessionRecord,
    context: &str,
) {
    match ok(store.get(&expected.id).await, "get") {
        Some(stored) => assert_records_match(&stored, expected, context),
        None => panic!("{context}: get returned None for a session that must be stored"),
    }
}

/// What `rotate` must make of `record` when `next` applies.
fn rotated(record: &SessionRecord, next: &RotationUpdate) -> SessionRecord {
    let mut record = record.clone();
    record.generation = next.generation;
    record.secret_hash = next.secret_hash;
    record.previous = Some(next.previous.clone());
    record.refreshed_at = next.refreshed_at;
    record.idle_expires_at = next.idle_expires_at;
    if let Some(claims) = &next.claims_json {
        record.claims_json.clone_from(claims);
    }
    if let Some(seen) = &next.last_seen {
        record.last_seen.clone_from(seen);
    }
    if let Some(auth) = &next.auth {
        record.auth = Some(auth.clone());
    }
    record
}

/// Awaits every task, passing a task's panic on as it was.
async fn join_all<T>(tasks: Vec<JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(result) => results.push(result),
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("a conformance task did not finish: {e}"),
            },
        }
    }
    results
}
