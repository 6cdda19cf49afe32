//! Where sessions live: the [`RefreshStore`] trait and its backends.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::refresh::SecretHash;
use crate::session::{GraceData, Revocation, SessionId, SessionRecord};

#[cfg(feature = "conformance")]
pub mod conformance;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use self::postgres::{PostgresStore, PostgresStoreBuilder};
#[cfg(feature = "redis")]
pub use self::redis::{RedisStore, RedisStoreBuilder};
#[cfg(feature = "sqlite")]
pub use self::sqlite::{SqliteStore, SqliteStoreBuilder};
pub use memory::MemoryStore;

/// What `rotate` expects to find: the generation being consumed and its
/// secret hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The generation the presented refresh token belongs to.
    pub generation: u64,
    /// SHA-256 of the presented token's secret.
    pub secret_hash: SecretHash,
}

/// The change `rotate` applies when the compare succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
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
}

/// Storage for sessions. The rotation logic lives in the service; a store
/// keeps records and makes `rotate` and the revocations atomic.
///
/// # Contract
///
/// - `create` inserts a new record and fails with
///   [`StoreErrorKind::AlreadyExists`](crate::StoreErrorKind::AlreadyExists)
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
/// - Errors keep their cause as the source, and say whether a retry may
///   succeed. A store never reports a missing record as an error.
///
/// A store written for another database can prove itself against this
/// contract with the suite in `conformance` (feature `conformance`).
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
        expected: &Expected,
        next: &Rotation,
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
}

macro_rules! delegate_store {
    ($($wrapper:ident),*) => {$(
        #[async_trait]
        impl<T: RefreshStore + ?Sized> RefreshStore for $wrapper<T> {
            async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
                (**self).create(session).await
            }
            async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
                (**self).get(id).await
            }
            async fn rotate(
                &self,
                id: &SessionId,
                expected: &Expected,
                next: &Rotation,
            ) -> Result<Option<SessionRecord>, StoreError> {
                (**self).rotate(id, expected, next).await
            }
            async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
                (**self).revoke(id, why).await
            }
            async fn revoke_subject(
                &self,
                subject: &str,
                except: Option<&SessionId>,
                why: &Revocation,
            ) -> Result<u64, StoreError> {
                (**self).revoke_subject(subject, except, why).await
            }
            async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
                (**self).sessions(subject).await
            }
            async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
                (**self).purge_expired(now).await
            }
        }
    )*};
}

delegate_store!(Arc, Box);
