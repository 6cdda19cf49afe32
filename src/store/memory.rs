//! [`MemoryStore`]: sessions in process memory.
//!
//! Small and in its own file, like tower-sessions' `MemoryStore`: the
//! default store and the plainest reading of the store contract, checked by
//! the conformance suite like every backend.
//!
//! - 16 shards by the first byte of the (random) id. Two threads refreshing
//!   two sessions in a tight loop were 2.5-4x slower per call on one global
//!   mutex than one thread alone (the lock's cache line bounces between
//!   cores), and as fast as one thread when sharded. With a refresh's real
//!   signing work in between the gap was noise: shards are headroom for
//!   many-core hosts and honest benchmarks, at little cost in code.
//! - A shard's mutex covers its records and its slice of the subject index
//!   (non-revoked ids only: what `sessions` and `revoke_subject` read), so
//!   both change together and no call holds two locks. Calls by subject and
//!   `purge_expired` visit the shards in turn, so they see no single
//!   snapshot; each record still changes atomically, and any session created
//!   before such a call began is seen (like a SQL store at read-committed).
//! - No method awaits, so no lock is held across `.await`. Nothing under a
//!   lock panics short of an allocation failure (an abort), so a poisoned
//!   shard is still consistent and is used as is.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Expected, RefreshStore, Rotation};
use crate::error::{StoreError, StoreErrorKind};
use crate::session::{Revocation, SessionId, SessionRecord};

const SHARDS: usize = 16;

/// Sessions kept in process memory: the default store.
///
/// Lost on restart and not shared between processes; use a database-backed
/// store for either. Share one by wrapping it in an `Arc`.
///
/// ```
/// use std::sync::Arc;
/// use jwt_rotate::{MemoryStore, RefreshStore};
///
/// let store: Arc<dyn RefreshStore> = Arc::new(MemoryStore::new());
/// ```
#[derive(Default)]
pub struct MemoryStore {
    shards: [Mutex<Shard>; SHARDS],
}

#[derive(Default)]
struct Shard {
    records: HashMap<SessionId, SessionRecord>,
    /// The ids of the non-revoked records in `records`, by subject.
    live: HashMap<String, HashSet<SessionId>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
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

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unindex(index: &mut HashMap<String, HashSet<SessionId>>, subject: &str, id: &SessionId) {
    if let Some(ids) = index.get_mut(subject) {
        ids.remove(id);
        if ids.is_empty() {
            index.remove(subject);
        }
    }
}

#[async_trait]
impl RefreshStore for MemoryStore {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let record = session.clone();
        let mut shard = self.shard(&session.id);
        let Shard { records, live } = &mut *shard;
        let Entry::Vacant(slot) = records.entry(session.id) else {
            return Err(StoreError::new(
                StoreErrorKind::AlreadyExists,
                "session id already exists",
            ));
        };
        if record.revoked.is_none() {
            let ids = live.entry(record.subject.clone()).or_default();
            ids.insert(record.id);
        }
        slot.insert(record);
        Ok(())
    }

    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.shard(id).records.get(id).cloned())
    }

    async fn rotate(
        &self,
        id: &SessionId,
        expected: &Expected,
        next: &Rotation,
    ) -> Result<Option<SessionRecord>, StoreError> {
        // Allocated before locking so the critical section stays short.
        let claims = next.claims_json.clone();
        let mut shard = self.shard(id);
        let Some(record) = shard.records.get_mut(id) else {
            return Ok(None);
        };
        let applies = record.generation == expected.generation
            && record.secret_hash == expected.secret_hash
            && record.revoked.is_none()
            && record.idle_expires_at > next.refreshed_at
            && record.absolute_expires_at > next.refreshed_at;
        if !applies {
            return Ok(None);
        }
        record.generation = next.generation;
        record.secret_hash = next.secret_hash;
        record.previous = Some(next.previous.clone());
        record.refreshed_at = next.refreshed_at;
        record.idle_expires_at = next.idle_expires_at;
        if let Some(claims) = claims {
            record.claims_json = claims;
        }
        Ok(Some(record.clone()))
    }

    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
        let mut shard = self.shard(id);
        let Shard { records, live } = &mut *shard;
        match records.get_mut(id) {
            Some(record) if record.revoked.is_none() => {
                record.revoked = Some(*why);
                unindex(live, &record.subject, id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        let mut revoked = 0;
        for mut shard in self.each_shard() {
            let Shard { records, live } = &mut *shard;
            let Some(ids) = live.get_mut(subject) else {
                continue;
            };
            ids.retain(|id| {
                if except == Some(id) {
                    return true;
                }
                if let Some(record) = records.get_mut(id).filter(|r| r.revoked.is_none()) {
                    record.revoked = Some(*why);
                    revoked += 1;
                }
                false
            });
            if ids.is_empty() {
                live.remove(subject);
            }
        }
        Ok(revoked)
    }

    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
        let mut found = Vec::new();
        for shard in self.each_shard() {
            if let Some(ids) = shard.live.get(subject) {
                found.extend(ids.iter().filter_map(|id| shard.records.get(id)).cloned());
            }
        }
        Ok(found)
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut purged = 0;
        for mut shard in self.each_shard() {
            let Shard { records, live } = &mut *shard;
            records.retain(|id, record| {
                let expired = record.idle_expires_at <= now || record.absolute_expires_at <= now;
                if expired {
                    unindex(live, &record.subject, id);
                    purged += 1;
                }
                !expired
            });
        }
        Ok(purged)
    }
}

// Only what the conformance suite cannot see from outside: the index and
// poisoning. tests/conformance.rs runs the suite on this store.
#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::refresh::SecretHash;
    use crate::session::{RevocationReason, SessionInfo};

    fn id(shard: u8, n: u8) -> SessionId {
        SessionId::from_bytes([shard, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    fn record(id: SessionId, subject: &str) -> SessionRecord {
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("valid");
        SessionRecord {
            id,
            subject: subject.into(),
            generation: 0,
            secret_hash: SecretHash::from_bytes([id.as_bytes()[1]; 32]),
            previous: None,
            created_at: t,
            refreshed_at: t,
            idle_expires_at: t + Duration::hours(1),
            absolute_expires_at: t + Duration::days(1),
            revoked: None,
            claims_json: "{}".into(),
            info: SessionInfo::default(),
        }
    }

    const WHY: Revocation = Revocation {
        reason: RevocationReason::Logout,
        at: OffsetDateTime::UNIX_EPOCH,
    };

    fn index_len(store: &MemoryStore, subject: &str) -> usize {
        let len = |s: MutexGuard<'_, Shard>| s.live.get(subject).map_or(0, HashSet::len);
        store.each_shard().map(len).sum()
    }

    #[tokio::test]
    async fn the_index_holds_exactly_the_live_sessions() {
        let store = MemoryStore::new();
        // Two sessions in each of three shards.
        for n in 0..6 {
            store.create(&record(id(n % 3, n), "ann")).await.unwrap();
        }
        assert_eq!(index_len(&store, "ann"), 6);
        assert!(store.revoke(&id(0, 0), &WHY).await.unwrap());
        assert_eq!(index_len(&store, "ann"), 5);
        let revoked = store.revoke_subject("ann", Some(&id(1, 1)), &WHY).await;
        assert_eq!(revoked.unwrap(), 4);
        assert_eq!(index_len(&store, "ann"), 1);
        let far = OffsetDateTime::UNIX_EPOCH + Duration::days(365 * 100);
        assert_eq!(store.purge_expired(far).await.unwrap(), 6);
        let empty = |s: MutexGuard<'_, Shard>| s.live.is_empty() && s.records.is_empty();
        assert!(store.each_shard().all(empty));
    }

    #[tokio::test]
    async fn a_poisoned_shard_keeps_serving() {
        let store = MemoryStore::new();
        let poisoned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = store.shards[0].lock();
            panic!("poisoning the shard on purpose");
        }));
        assert!(poisoned.is_err() && store.shards[0].is_poisoned());
        let r = record(id(0, 1), "bo");
        store.create(&r).await.unwrap();
        assert_eq!(store.get(&r.id).await.unwrap(), Some(r.clone()));
        assert_eq!(store.sessions("bo").await.unwrap(), vec![r.clone()]);
        assert!(store.revoke(&r.id, &WHY).await.unwrap());
    }
}
