//! The replay cache: every accepted proof's `jti` (with its key) is
//! remembered until the proof would be refused as stale anyway, so that no
//! proof is accepted twice (RFC 9449, section 11.1).

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::{ConfigError, Error};
use crate::session::Jkt;

/// What a proof is remembered by: SHA-256 of its key's thumbprint and its
/// `jti`, so that an entry has a fixed size whatever the client sent, and
/// two clients choosing the same `jti` do not collide.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplayKey([u8; 32]);

impl ReplayKey {
    /// The key of a proof with `jti` signed by the key `jkt`.
    pub fn new(jkt: &Jkt, jti: &str) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"jwt-rotate/dpop-jti/v1\0");
        hash.update(jkt.as_str());
        hash.update(jti);
        Self(hash.finalize().into())
    }

    /// The 32 bytes, for a cache that stores them.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for ReplayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReplayKey(..)")
    }
}

/// Whether a proof was new to the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Not seen before: now remembered, the proof may be accepted.
    Fresh,
    /// Already remembered and not expired: a replay.
    Seen,
}

/// Remembers the proofs accepted, for as long as they could be presented
/// again.
///
/// The contract: [`insert_if_absent`](Self::insert_if_absent) is atomic
/// (two concurrent calls with one key never both see
/// [`Replay::Fresh`]), keeps the key at least until `expires_at`, and
/// fails closed: when it cannot remember (full, or its backend failed) it
/// returns an error, never `Fresh`. [`MemoryReplayCache`] serves one
/// process; several instances behind one load balancer need a shared one
/// (a store's, in a later release), or a proof taken to one instance can
/// be replayed at another.
#[async_trait]
pub trait DpopReplayCache: Send + Sync + 'static {
    /// Remembers `key` until `expires_at` unless it is already remembered;
    /// `now` is the caller's clock reading, by which entries expire.
    ///
    /// # Errors
    /// [`Error::DpopReplayCacheFull`] when the cache cannot take the key;
    /// [`Error::Store`] when a backend failed.
    async fn insert_if_absent(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, Error>;
}

#[async_trait]
impl<T: DpopReplayCache + ?Sized> DpopReplayCache for std::sync::Arc<T> {
    async fn insert_if_absent(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, Error> {
        (**self).insert_if_absent(key, now, expires_at).await
    }
}

/// Independent locks, so that concurrent requests rarely wait for each
/// other.
const SHARDS: usize = 16;

/// An in-memory [`DpopReplayCache`] holding at most a fixed number of
/// proofs: when it is full of unexpired ones it refuses
/// ([`Error::DpopReplayCacheFull`]) rather than forget one early.
///
/// An entry keeps the first 16 bytes of its [`ReplayKey`] (a collision
/// would need 2^64 proofs, and would only refuse one) in a hash set and
/// once more in a queue by expiry: about 112 bytes each at a steady rate
/// (the tables' slack included), 68 MB at 10,000 proofs a second over the
/// default window, measured in `tests/dpop_replay_memory.rs`.
pub struct MemoryReplayCache {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
}

#[derive(Default)]
struct Shard {
    seen: HashSet<[u8; 16]>,
    /// In insertion order; expired entries are dropped from the front.
    /// Expiries are nearly monotonic (a proof's `iat` plus a constant):
    /// an entry behind a later one lives a little longer, never shorter.
    by_expiry: VecDeque<(i64, [u8; 16])>,
}

impl fmt::Debug for MemoryReplayCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReplayCache")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

impl MemoryReplayCache {
    /// A cache for up to `capacity` unexpired proofs (rounded up to a
    /// multiple of 16). Size it for your peak rate of proofs times the
    /// proofs' `max_age` plus `future_leeway`: 10,000 proofs/s over 65 s is
    /// 650,000 entries.
    ///
    /// # Errors
    /// [`Error::Config`] if `capacity` is 0.
    pub fn new(capacity: usize) -> Result<Self, Error> {
        if capacity == 0 {
            return Err(ConfigError::new("the replay cache needs a capacity of at least 1").into());
        }
        let per_shard = capacity.div_ceil(SHARDS);
        let shards = (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect();
        Ok(Self { shards, per_shard })
    }

    /// How many proofs it can hold.
    pub fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    /// How many proofs it holds now, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| lock(shard).by_expiry.len())
            .sum()
    }

    /// Whether it holds no proof.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The synchronous body of `insert_if_absent`, at `now`.
    fn insert(&self, key: &ReplayKey, expires_at: i64, now: i64) -> Result<Replay, Error> {
        let (head, _) = key.0.split_at(16);
        let mut short = [0u8; 16];
        short.copy_from_slice(head);
        let shard = &self.shards[usize::from(short[0]) % SHARDS];
        let mut shard = lock(shard);
        while let Some(&(expiry, old)) = shard.by_expiry.front() {
            if expiry > now {
                break;
            }
            shard.by_expiry.pop_front();
            shard.seen.remove(&old);
        }
        if shard.seen.contains(&short) {
            return Ok(Replay::Seen);
        }
        if shard.by_expiry.len() >= self.per_shard {
            return Err(Error::DpopReplayCacheFull);
        }
        shard.seen.insert(short);
        shard.by_expiry.push_back((expires_at, short));
        Ok(Replay::Fresh)
    }
}

/// A shard whose holder panicked is still consistent: each operation
/// leaves the set and the queue agreeing before anything can panic.
fn lock(shard: &Mutex<Shard>) -> std::sync::MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl DpopReplayCache for MemoryReplayCache {
    async fn insert_if_absent(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, Error> {
        self.insert(key, expires_at.unix_timestamp(), now.unix_timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> ReplayKey {
        let jkt = Jkt::of_canonical_jwk(b"{}");
        ReplayKey::new(&jkt, &i.to_string())
    }

    #[test]
    fn remembers_until_expiry_then_forgets() {
        let cache = MemoryReplayCache::new(1000).unwrap();
        assert_eq!(cache.insert(&key(1), 160, 100).unwrap(), Replay::Fresh);
        assert_eq!(cache.insert(&key(1), 170, 110).unwrap(), Replay::Seen);
        assert_eq!(cache.insert(&key(1), 219, 159).unwrap(), Replay::Seen);
        assert_eq!(cache.len(), 1);
        // At its expiry it is dropped: the proof is stale by then anyway.
        assert_eq!(cache.insert(&key(1), 220, 160).unwrap(), Replay::Fresh);
        assert_eq!(cache.insert(&key(2), 220, 160).unwrap(), Replay::Fresh);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn a_full_cache_refuses_instead_of_forgetting() {
        let cache = MemoryReplayCache::new(SHARDS).unwrap();
        assert_eq!(cache.capacity(), SHARDS);
        // Fill one shard (one entry each) until a key lands in a full one.
        let mut refused = None;
        for i in 0..10_000 {
            match cache.insert(&key(i), 1_000, 0) {
                Ok(Replay::Fresh) => {}
                Err(Error::DpopReplayCacheFull) => {
                    refused = Some(i);
                    break;
                }
                other => panic!("{i}: {other:?}"),
            }
        }
        let refused = refused.expect("never full");
        assert!(cache.len() <= SHARDS);
        // The remembered ones are still remembered, the refused one is not.
        assert_eq!(cache.insert(&key(0), 1_000, 0).unwrap(), Replay::Seen);
        assert!(matches!(
            cache.insert(&key(refused), 1_000, 0),
            Err(Error::DpopReplayCacheFull)
        ));
        // Once they expire there is room again.
        assert_eq!(
            cache.insert(&key(refused), 2_000, 1_000).unwrap(),
            Replay::Fresh
        );
        assert!(MemoryReplayCache::new(0).is_err());
    }

    #[test]
    fn keys_differ_by_key_and_jti() {
        let (a, b) = (Jkt::of_canonical_jwk(b"a"), Jkt::of_canonical_jwk(b"b"));
        assert_ne!(ReplayKey::new(&a, "1"), ReplayKey::new(&b, "1"));
        assert_ne!(ReplayKey::new(&a, "1"), ReplayKey::new(&a, "2"));
        assert_eq!(ReplayKey::new(&a, "1"), ReplayKey::new(&a, "1"));
        assert_eq!(format!("{:?}", ReplayKey::new(&a, "1")), "ReplayKey(..)");
    }
}
