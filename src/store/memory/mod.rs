//! [`MemoryStore`]: sessions in process memory.
//!
//! The default store and the plainest reading of the store contract,
//! checked by the conformance suite like every backend.
//!
//! - 16 shards by the first byte of the (random) id, each on its own cache
//!   lines. Two threads refreshing two sessions in a tight loop were
//!   2.5-4x slower per call on one global mutex than one thread alone (the
//!   lock's cache line bounces between cores), and as fast as one thread
//!   when sharded.
//! - A shard's mutex covers its sessions and its slice of the subject index
//!   (live sessions only: what `sessions` and `revoke_subject` read), so
//!   both change together and no call holds two locks. Calls by subject and
//!   `purge_expired` visit the shards in turn, so they see no single
//!   snapshot; each record still changes atomically, and any session created
//!   before such a call began is seen (like a SQL store at read-committed).
//! - Sessions are kept packed (`packed.rs`) in a slab found through two
//!   tables of slot numbers (`shard.rs`): about 300 bytes per idle session
//!   in all, where plain `HashMap`s of `SessionRecord`s took 1,100.
//! - No method awaits, so no lock is held across `.await`. Nothing under a
//!   lock panics short of an allocation failure (an abort), so a poisoned
//!   shard is still consistent and is used as is.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use time::OffsetDateTime;

use super::feed::{CatchUp, Cursor, RevocationFeed, RevocationSubscription, Revoked};
use super::{ExpectedGeneration, RefreshStore, Replay, ReplayKey, ReplaySet, RotationUpdate};
use crate::error::StoreError;
use crate::session::{Revocation, SessionId, SessionRecord};

mod feed;
mod packed;
mod shard;
mod slab;

use feed::Feed;
use shard::Shard;

const SHARDS: usize = 16;

/// The most DPoP proofs remembered at once: 10,000 a second over the
/// default 65-second window. The set grows as it fills.
const REPLAY_CAPACITY: usize = 655_360;

/// Sessions kept in process memory: the default store.
///
/// Lost on restart and not shared between processes; use a database-backed
/// store for either. Share one by wrapping it in an `Arc`. Instants come
/// back in UTC, whatever offset they were stored with (they compare equal).
///
/// ```
/// use std::sync::Arc;
/// use jwt_rotate::MemoryStore;
/// use jwt_rotate::store::RefreshStore;
///
/// let store: Arc<dyn RefreshStore> = Arc::new(MemoryStore::new());
/// ```
///
/// It is also a [`RevocationFeed`]: its last 4,096 revocations (see
/// [`with_feed_capacity`](Self::with_feed_capacity)), for a
/// [`Verifier`](crate::Verifier) in the same process.
///
/// It remembers DPoP proofs ([`RefreshStore::insert_dpop_jti`]) in a set
/// of its own of at most 655,360 unexpired ones; past that it fails the
/// call (retryable) rather than forget one early.
pub struct MemoryStore {
    shards: [Padded; SHARDS],
    feed: Arc<Feed>,
    proofs: ReplaySet,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_feed_capacity(feed::DEFAULT_CAPACITY)
    }
}

/// A shard's lock alone on its cache lines (two of them: x86 fetches
/// lines in pairs), so that threads busy with neighbouring shards do not
/// slow each other down.
#[derive(Default)]
#[repr(align(128))]
struct Padded(Mutex<Shard>);

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose [`RevocationFeed`] keeps the last `events`
    /// revocations (at least one) for [`since`](RevocationFeed::since);
    /// a follower that falls further behind must resync. The default
    /// keeps 4,096.
    pub fn with_feed_capacity(events: usize) -> Self {
        Self {
            shards: Default::default(),
            feed: Arc::new(Feed::new(events)),
            proofs: ReplaySet::new(REPLAY_CAPACITY),
        }
    }

    fn shard(&self, id: &SessionId) -> MutexGuard<'_, Shard> {
        lock(&self.shards[usize::from(id.as_bytes()[0]) % SHARDS])
    }

    fn each_shard(&self) -> impl Iterator<Item = MutexGuard<'_, Shard>> {
        self.shards.iter().map(lock)
    }
}

// Printing every session would be slow and useless in logs.
impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

fn lock(shard: &Padded) -> MutexGuard<'_, Shard> {
    shard.0.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl RefreshStore for MemoryStore {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.shard(&session.id).create(session)
    }

    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.shard(id).get(id)
    }

    async fn rotate(
        &self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> Result<Option<SessionRecord>, StoreError> {
        // Allocated before locking so the critical section stays short.
        let claims = next.claims_json.as_deref().map(Box::from);
        self.shard(id).rotate(id, expected, next, claims)
    }

    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
        let mut shard = self.shard(id);
        let revoked = shard.revoke(id, why);
        if revoked {
            self.feed.publish(Revoked::Session(*id), why.at);
        }
        drop(shard);
        Ok(revoked)
    }

    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        let each = self.each_shard();
        let revoked = each
            .map(|mut s| s.revoke_subject(subject, except, why))
            .sum();
        // After every shard, so the event never runs ahead of the
        // revocation; published even when no session was live, since a
        // purged session's access tokens may still be out there.
        let except = except.copied();
        let subject = subject.to_owned();
        self.feed
            .publish(Revoked::Subject { subject, except }, why.at);
        Ok(revoked)
    }

    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
        let mut found = Vec::new();
        for shard in self.each_shard() {
            shard.sessions(subject, &mut found)?;
        }
        Ok(found)
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.proofs.purge(now.unix_timestamp());
        Ok(self.each_shard().map(|mut s| s.purge_expired(now)).sum())
    }

    async fn insert_dpop_jti(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, StoreError> {
        let (expires_at, now) = (expires_at.unix_timestamp(), now.unix_timestamp());
        self.proofs.insert(key, expires_at, now).map_err(|_| {
            StoreError::unavailable("MemoryStore: too many unexpired DPoP proofs to remember")
        })
    }
}

#[async_trait]
impl RevocationFeed for MemoryStore {
    async fn since(&self, cursor: Cursor) -> Result<CatchUp, StoreError> {
        Ok(self.feed.since(cursor))
    }

    async fn subscribe(&self) -> Result<Box<dyn RevocationSubscription>, StoreError> {
        Ok(Box::new(self.feed.subscribe()))
    }
}

// Only what the conformance suite cannot see from outside: poisoning, and
// (in shard.rs and packed.rs) the index and the packing.
// tests/conformance.rs runs the suite on this store.
#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::session::SecretHash;
    use crate::session::{RevocationReason, SessionInfo};

    fn record(id: SessionId, subject: &str) -> SessionRecord {
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("valid");
        SessionRecord {
            id,
            subject: subject.into(),
            generation: 0,
            secret_hash: SecretHash::from_bytes([id.as_bytes()[1]; 32]),
            jkt: None,
            previous: None,
            created_at: t,
            refreshed_at: t,
            idle_expires_at: t + Duration::hours(1),
            absolute_expires_at: t + Duration::days(1),
            revoked: None,
            claims_json: "{}".into(),
            info: SessionInfo::default(),
            auth: None,
            last_seen: Default::default(),
        }
    }

    const WHY: Revocation = Revocation {
        reason: RevocationReason::Logout,
        at: OffsetDateTime::UNIX_EPOCH,
    };

    #[test]
    fn each_shard_has_its_own_cache_lines() {
        assert_eq!(std::mem::align_of::<Padded>(), 128);
    }

    #[tokio::test]
    async fn a_poisoned_shard_keeps_serving() {
        let store = MemoryStore::new();
        let poisoned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = store.shards[0].0.lock();
            panic!("poisoning the shard on purpose");
        }));
        assert!(poisoned.is_err() && store.shards[0].0.is_poisoned());
        let id = SessionId::from_bytes([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let r = record(id, "bo");
        store.create(&r).await.unwrap();
        assert_eq!(store.get(&r.id).await.unwrap(), Some(r.clone()));
        assert_eq!(store.sessions("bo").await.unwrap(), vec![r.clone()]);
        assert!(store.revoke(&r.id, &WHY).await.unwrap());
    }
}
