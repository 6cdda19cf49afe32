//! Where sessions live: what a store implementer needs.
//!
//! The [`RefreshStore`] contract, the records it keeps ([`SessionRecord`],
//! [`GraceData`], the secret hashes), the arguments of its compare-and-swap
//! ([`ExpectedGeneration`], [`RotationUpdate`]), its error type, and the
//! backends this crate ships, each behind a feature but [`MemoryStore`].
//!
//! A store knows records, never tokens, keys or policy: the rotation logic
//! lives once, in [`TokenService`](crate::TokenService). To write a store
//! for another database, implement [`RefreshStore`] and run the
//! conformance suite in `jwt_rotate::testing` (feature `testing`) on it.

use async_trait::async_trait;
use time::OffsetDateTime;

pub use crate::error::{StoreError, StoreErrorKind};
use crate::session::SessionId;
pub use crate::session::{
    AuthContext, GraceData, LastSeen, ParseReasonError, Revocation, RevocationReason, SecretHash,
    SessionRecord, WrappedSecret,
};

mod delegate;
mod feed;
mod memory;
mod op;
#[cfg(feature = "redis")]
mod redis;
mod replay;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod sql;

#[cfg(feature = "redis")]
pub use self::redis::{
    ClusterFeedUnsupported, RedisStore, RedisStoreBuilder, ReplicationShortfall,
};
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use self::sql::{Dialect, SqlStore, SqlStoreBuilder};
#[cfg(feature = "mysql")]
pub use self::sql::{MySql, MySqlStore, MySqlStoreBuilder};
#[cfg(feature = "postgres")]
pub use self::sql::{Postgres, PostgresStore, PostgresStoreBuilder};
#[cfg(feature = "sqlite")]
pub use self::sql::{Sqlite, SqliteStore, SqliteStoreBuilder};
pub use feed::{
    CatchUp, Cursor, FeedMessage, RevocationEvent, RevocationFeed, RevocationSubscription, Revoked,
};
pub use memory::MemoryStore;
pub use op::StoreOp;
pub(crate) use replay::ReplaySet;
pub use replay::{Replay, ReplayKey};

/// What [`RefreshStore::rotate`] expects to find: the generation the
/// presented refresh token belongs to, and its secret hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedGeneration {
    /// The generation the presented refresh token belongs to.
    pub generation: u64,
    /// SHA-256 of the presented token's secret.
    pub secret_hash: SecretHash,
}

/// The update [`RefreshStore::rotate`] applies when the compare succeeds:
/// the next generation and what goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationUpdate {
    /// The new generation (`expected.generation + 1`).
    pub generation: u64,
    /// SHA-256 of the new secret.
    pub secret_hash: SecretHash,
    /// The consumed generation, kept for grace replay. Replaces any older
    /// grace data.
    pub previous: GraceData,
    /// The rotation instant: becomes `refreshed_at`. A session whose idle or
    /// absolute expiry is not after this instant must not rotate.
    pub refreshed_at: OffsetDateTime,
    /// The new idle expiry.
    pub idle_expires_at: OffsetDateTime,
    /// New application claims (a JSON object) when a hook replaced them;
    /// `None` keeps the stored ones.
    pub claims_json: Option<String>,
    /// The client of this refresh, when the caller said who it was;
    /// `None` keeps the stored [`SessionRecord::last_seen`].
    pub last_seen: Option<LastSeen>,
    /// A new authentication context (a step-up); `None` keeps the stored
    /// [`SessionRecord::auth`].
    pub auth: Option<AuthContext>,
}

/// Storage for sessions. The rotation logic lives in the service; a store
/// keeps records and makes `rotate` and the revocations atomic.
///
/// # Contract
///
/// - `create` inserts a new record and fails with
///   [`StoreErrorKind::AlreadyExists`]
///   if the id is taken.
/// - `get` returns the record as stored, revoked or expired ones included,
///   until `purge_expired` removes them.
/// - `rotate` is a compare-and-swap: it applies `next` only if the record
///   exists, is at `expected.generation` with `expected.secret_hash`, is not
///   revoked, and both its expiries are after `next.refreshed_at`. It then
///   returns the updated record; otherwise it returns `Ok(None)` and changes
///   nothing. Of any number of concurrent calls with the same `expected`,
///   exactly one succeeds. One round trip on a networked store: the happy
///   path of a refresh is this one call.
/// - `revoke` marks one live record revoked (keeping the first revocation
///   if already revoked) and returns whether it changed anything.
///   `revoke_subject` does the same for every non-revoked record of a
///   subject except `except`, returning how many it revoked. A revoked
///   record never rotates again.
/// - `sessions` returns every non-revoked record of the subject, in any
///   order, expired ones included: filtering by time is the service's job.
///   It reads an index by subject, never a scan of all sessions.
/// - `purge_expired` deletes records whose idle or absolute expiry is at or
///   before `now`, revoked or not, and returns how many.
/// - A store may also drop a record on its own (a TTL), but only once
///   both its expiry and its last write lie at least five minutes (the
///   service's largest leeway) in the past; until then `get` and `sessions`
///   see it as above. The conformance suite allows for this: it reads every
///   record within seconds of writing it.
/// - `insert_dpop_jti` remembers a DPoP proof's [`ReplayKey`] until its
///   expiry unless a live entry with that key is there: atomically, so of
///   any number of concurrent calls with one key exactly one gets
///   [`Replay::Fresh`]. An entry whose expiry is at or before `now` counts
///   as absent (a store may judge expiry by its own clock instead, as
///   Redis's key expiry does). `purge_expired` also deletes expired
///   entries. A store that does not implement it fails every call (the
///   default), so that no replay is ever accepted unnoticed.
/// - Errors keep their cause as the source, and say whether a retry may
///   succeed. A store never reports a missing record as an error.
///
/// A store written for another database can prove itself against this
/// contract with the suite in `jwt_rotate::testing` (feature `testing`).
///
/// # The methods, as you write them
///
/// The trait is usable as `dyn RefreshStore` (`Arc<dyn RefreshStore>` and
/// `Box<dyn RefreshStore>` are stores too), so its methods go through
/// [`async_trait`](https://docs.rs/async-trait), and the signatures below
/// render with lifetimes and boxed futures. Implement them with
/// `#[async_trait]` on your `impl` block, as these plain async functions:
///
/// ```text
/// async fn create(&self, session: &SessionRecord) -> Result<(), StoreError>;
/// async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError>;
/// async fn rotate(&self, id: &SessionId, expected: &ExpectedGeneration, next: &RotationUpdate)
///     -> Result<Option<SessionRecord>, StoreError>;
/// async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError>;
/// async fn revoke_subject(&self, subject: &str, except: Option<&SessionId>, why: &Revocation)
///     -> Result<u64, StoreError>;
/// async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError>;
/// async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
/// // Optional (the default refuses every proof):
/// async fn insert_dpop_jti(&self, key: &ReplayKey, now: OffsetDateTime, expires_at: OffsetDateTime)
///     -> Result<Replay, StoreError>;
/// ```
///
/// `examples/custom_store.rs` is a whole store in this shape.
#[async_trait]
pub trait RefreshStore: Send + Sync + 'static {
    /// Inserts a new session.
    ///
    /// # Errors
    /// `AlreadyExists` if the id is taken; any failure of the backend.
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError>;

    /// Reads a session, revoked and expired ones included.
    ///
    /// # Errors
    /// Any failure of the backend; a missing session is `Ok(None)`.
    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError>;

    /// Compare-and-swap rotation; see the trait's contract.
    ///
    /// # Errors
    /// Any failure of the backend; a failed compare is `Ok(None)`.
    async fn rotate(
        &self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// Revokes one session; `Ok(false)` if missing or already revoked.
    ///
    /// # Errors
    /// Any failure of the backend.
    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError>;

    /// Revokes every non-revoked session of `subject` but `except`.
    ///
    /// # Errors
    /// Any failure of the backend.
    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError>;

    /// The subject's non-revoked sessions, in any order.
    ///
    /// # Errors
    /// Any failure of the backend.
    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError>;

    /// Deletes sessions whose idle or absolute expiry is at or before `now`.
    ///
    /// # Errors
    /// Any failure of the backend.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// Remembers a DPoP proof (RFC 9449, section 11.1) by `key` until
    /// `expires_at`, unless an entry with `key` that has not expired by
    /// `now` is there already: [`Replay::Fresh`] if it was inserted,
    /// [`Replay::Seen`] if not. Atomic: of concurrent calls with one key,
    /// exactly one gets `Fresh`. What
    /// [`StoreReplayCache`](crate::StoreReplayCache) calls, so that every
    /// server sharing the store shares one replay cache.
    ///
    /// The default fails closed: it remembers nothing and returns an
    /// error of kind [`StoreErrorKind::Unsupported`], so a store written
    /// before this method existed refuses every proof rather than accept
    /// replays.
    ///
    /// # Errors
    /// Any failure of the backend; `Unsupported` from the default.
    async fn insert_dpop_jti(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, StoreError> {
        let _ = (key, now, expires_at);
        Err(StoreError::new(
            StoreErrorKind::Unsupported,
            "this store does not implement RefreshStore::insert_dpop_jti: \
             it cannot remember DPoP proofs (use MemoryReplayCache, or implement it)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store with nothing but the required methods.
    struct Bare;

    #[async_trait]
    impl RefreshStore for Bare {
        async fn create(&self, _: &SessionRecord) -> Result<(), StoreError> {
            Ok(())
        }
        async fn get(&self, _: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
            Ok(None)
        }
        async fn rotate(
            &self,
            _: &SessionId,
            _: &ExpectedGeneration,
            _: &RotationUpdate,
        ) -> Result<Option<SessionRecord>, StoreError> {
            Ok(None)
        }
        async fn revoke(&self, _: &SessionId, _: &Revocation) -> Result<bool, StoreError> {
            Ok(false)
        }
        async fn revoke_subject(
            &self,
            _: &str,
            _: Option<&SessionId>,
            _: &Revocation,
        ) -> Result<u64, StoreError> {
            Ok(0)
        }
        async fn sessions(&self, _: &str) -> Result<Vec<SessionRecord>, StoreError> {
            Ok(Vec::new())
        }
        async fn purge_expired(&self, _: OffsetDateTime) -> Result<u64, StoreError> {
            Ok(0)
        }
    }

    #[tokio::test]
    async fn the_default_replay_cache_refuses_every_proof() {
        let key = ReplayKey::from_bytes([7; 32]);
        let now = OffsetDateTime::UNIX_EPOCH;
        let later = now + time::Duration::MINUTE;
        for _ in 0..2 {
            let refused = Bare.insert_dpop_jti(&key, now, later).await.unwrap_err();
            assert_eq!(refused.kind(), StoreErrorKind::Unsupported);
            assert!(!refused.is_retryable());
            assert!(refused.to_string().contains("insert_dpop_jti"));
        }
    }
}
