//! What a store needs to remember DPoP proofs (RFC 9449, section 11.1):
//! the key a proof is remembered by ([`ReplayKey`]), the answer
//! ([`Replay`]), and the bounded in-memory set ([`ReplaySet`]) that both
//! [`MemoryStore`](super::MemoryStore) and the token layer's
//! `MemoryReplayCache` keep them in.
//!
//! In the store layer because a store shared by several auth servers is
//! where they share one view of the proofs already accepted
//! ([`RefreshStore::insert_dpop_jti`](super::RefreshStore::insert_dpop_jti)).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use sha2::{Digest, Sha256};

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

    /// A key from its 32 bytes, as a store reads them back.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
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

/// Independent locks, so that concurrent requests rarely wait for each
/// other.
pub(crate) const SHARDS: usize = 16;

/// The set is full of unexpired keys: it refuses rather than forget one
/// early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

/// A bounded set of [`ReplayKey`]s with expiries, sharded.
///
/// An entry keeps the first 16 bytes of its key (a collision would need
/// 2^64 proofs, and would only refuse one) in a hash set and once more in
/// a heap by expiry: about 112 bytes each at a steady rate, the tables'
/// slack included (`tests/dpop_replay_memory.rs`). An entry is forgotten
/// exactly when its expiry is reached, whatever the order keys came in.
pub(crate) struct ReplaySet {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
}

#[derive(Default)]
struct Shard {
    seen: HashSet<[u8; 16]>,
    /// The earliest expiry on top: expired entries are dropped from it.
    by_expiry: BinaryHeap<Reverse<(i64, [u8; 16])>>,
}

impl Shard {
    /// Drops the entries whose expiry is at or before `now`.
    fn shed(&mut self, now: i64) {
        while let Some(&Reverse((expiry, old))) = self.by_expiry.peek() {
            if expiry > now {
                break;
            }
            self.by_expiry.pop();
            self.seen.remove(&old);
        }
    }
}

impl ReplaySet {
    /// A set for `capacity` keys at least (rounded up to a multiple of
    /// [`SHARDS`]); `capacity` is not 0.
    pub(crate) fn new(capacity: usize) -> Self {
        let per_shard = capacity.max(1).div_ceil(SHARDS);
        let shards = (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect();
        Self { shards, per_shard }
    }

    /// How many keys it can hold.
    pub(crate) fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    /// How many keys it holds, expired ones not yet dropped included.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).by_expiry.len()).sum()
    }

    /// Remembers `key` until `expires_at` (Unix seconds) unless it is
    /// remembered already; entries expire by `now`.
    ///
    /// # Errors
    /// [`Full`] when the key's shard is full of unexpired keys.
    pub(crate) fn insert(
        &self,
        key: &ReplayKey,
        expires_at: i64,
        now: i64,
    ) -> Result<Replay, Full> {
        let mut short = [0u8; 16];
        short.copy_from_slice(&key.0[..16]);
        let mut shard = lock(&self.shards[usize::from(short[0]) % SHARDS]);
        shard.shed(now);
        if shard.seen.contains(&short) {
            return Ok(Replay::Seen);
        }
        if expires_at <= now {
            // Already expired: nothing to remember.
            return Ok(Replay::Fresh);
        }
        if shard.by_expiry.len() >= self.per_shard {
            return Err(Full);
        }
        shard.seen.insert(short);
        shard.by_expiry.push(Reverse((expires_at, short)));
        Ok(Replay::Fresh)
    }

    /// Drops every entry expired by `now` (Unix seconds).
    pub(crate) fn purge(&self, now: i64) {
        for shard in self.shards.iter() {
            lock(shard).shed(now);
        }
    }
}

/// A shard whose holder panicked is still consistent: each operation
/// leaves the set and the heap agreeing before anything can panic.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
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
        let set = ReplaySet::new(1000);
        assert_eq!(set.insert(&key(1), 160, 100), Ok(Replay::Fresh));
        assert_eq!(set.insert(&key(1), 170, 110), Ok(Replay::Seen));
        assert_eq!(set.insert(&key(1), 219, 159), Ok(Replay::Seen));
        assert_eq!(set.len(), 1);
        // At its expiry it is dropped: the proof is stale by then anyway.
        assert_eq!(set.insert(&key(1), 220, 160), Ok(Replay::Fresh));
        assert_eq!(set.insert(&key(2), 220, 160), Ok(Replay::Fresh));
        assert_eq!(set.len(), 2);
        // A key that expired before it came takes no room.
        assert_eq!(set.insert(&key(3), 100, 160), Ok(Replay::Fresh));
        assert_eq!(set.len(), 2);
        // One inserted after a later one still expires on time.
        assert_eq!(set.insert(&key(4), 180, 170), Ok(Replay::Fresh));
        assert_eq!(set.insert(&key(4), 240, 180), Ok(Replay::Fresh));
        set.purge(240);
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn a_full_set_refuses_instead_of_forgetting() {
        let set = ReplaySet::new(SHARDS);
        assert_eq!(set.capacity(), SHARDS);
        // Fill one shard (one entry each) until a key lands in a full one.
        let refused = (0..10_000)
            .find(|&i| match set.insert(&key(i), 1_000, 0) {
                Ok(Replay::Fresh) => false,
                Err(Full) => true,
                Ok(Replay::Seen) => panic!("{i} seen"),
            })
            .expect("never full");
        assert!(set.len() <= SHARDS);
        // The remembered ones are still remembered, the refused one is not.
        assert_eq!(set.insert(&key(0), 1_000, 0), Ok(Replay::Seen));
        assert_eq!(set.insert(&key(refused), 1_000, 0), Err(Full));
        // Once they expire there is room again.
        assert_eq!(set.insert(&key(refused), 2_000, 1_000), Ok(Replay::Fresh));
    }

    #[test]
    fn keys_differ_by_key_and_jti() {
        let (a, b) = (Jkt::of_canonical_jwk(b"a"), Jkt::of_canonical_jwk(b"b"));
        assert_ne!(ReplayKey::new(&a, "1"), ReplayKey::new(&b, "1"));
        assert_ne!(ReplayKey::new(&a, "1"), ReplayKey::new(&a, "2"));
        assert_eq!(ReplayKey::new(&a, "1"), ReplayKey::new(&a, "1"));
        let bytes = *ReplayKey::new(&a, "1").as_bytes();
        assert_eq!(ReplayKey::from_bytes(bytes), ReplayKey::new(&a, "1"));
        assert_eq!(format!("{:?}", ReplayKey::new(&a, "1")), "ReplayKey(..)");
    }
}
