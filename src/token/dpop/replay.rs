//! The replay cache: every accepted proof's `jti` (with its key) is
//! remembered until the proof would be refused as stale anyway, so that no
//! proof is accepted twice (RFC 9449, section 11.1).

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::{ConfigError, Error};
use crate::store::{RefreshStore, ReplaySet};
pub use crate::store::{Replay, ReplayKey};

/// Remembers the proofs accepted, for as long as they could be presented
/// again.
///
/// The contract: [`insert_if_absent`](Self::insert_if_absent) is atomic
/// (two concurrent calls with one key never both see
/// [`Replay::Fresh`]), keeps the key at least until `expires_at`, and
/// fails closed: when it cannot remember (full, or its backend failed) it
/// returns an error, never `Fresh`. [`MemoryReplayCache`] serves one
/// process; several instances behind one load balancer need a shared one,
/// [`StoreReplayCache`] over their shared store, or a proof taken to one
/// instance can be replayed at another.
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

/// An in-memory [`DpopReplayCache`] holding at most a fixed number of
/// proofs: when it is full of unexpired ones it refuses
/// ([`Error::DpopReplayCacheFull`]) rather than forget one early.
///
/// An entry keeps the first 16 bytes of its [`ReplayKey`] (a collision
/// would need 2^64 proofs, and would only refuse one) in a hash set and
/// once more in a heap by expiry: about 112 bytes each at a steady rate
/// (the tables' slack included), 68 MB at 10,000 proofs a second over the
/// default window, measured in `tests/dpop_replay_memory.rs`.
///
/// One process's view: behind a load balancer, use [`StoreReplayCache`].
pub struct MemoryReplayCache {
    set: ReplaySet,
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
        Ok(Self {
            set: ReplaySet::new(capacity),
        })
    }

    /// How many proofs it can hold.
    pub fn capacity(&self) -> usize {
        self.set.capacity()
    }

    /// How many proofs it holds now, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether it holds no proof.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl DpopReplayCache for MemoryReplayCache {
    async fn insert_if_absent(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, Error> {
        let (expires_at, now) = (expires_at.unix_timestamp(), now.unix_timestamp());
        self.set
            .insert(key, expires_at, now)
            .map_err(|_| Error::DpopReplayCacheFull)
    }
}

/// A [`DpopReplayCache`] in a session store, through
/// [`RefreshStore::insert_dpop_jti`]: every auth server sharing the store
/// shares one view of the proofs accepted, so a proof replayed at another
/// instance behind the load balancer is refused too.
///
/// One more store call per proof (one round trip on a networked store).
/// A store that does not implement `insert_dpop_jti` fails every proof
/// with [`Error::Store`] (kind
/// [`Unsupported`](crate::store::StoreErrorKind::Unsupported)): it never
/// lets a replay through. Share the store with the service through an
/// `Arc`:
///
/// ```
/// use std::sync::Arc;
/// use jwt_rotate::{Dpop, Key, MemoryStore, StoreReplayCache, TokenService};
///
/// let store = Arc::new(MemoryStore::new());
/// let dpop = Dpop::builder()
///     .replay_cache(StoreReplayCache::new(Arc::clone(&store)))
///     .build()?;
/// let service = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .access_key(Key::hs256([1u8; 32])?)
///     .refresh_key(Key::hs256([2u8; 32])?)
///     .dpop(dpop)
///     .build(store)?;
/// # let _ = service;
/// # Ok::<(), jwt_rotate::Error>(())
/// ```
pub struct StoreReplayCache<S> {
    store: S,
}

impl<S> fmt::Debug for StoreReplayCache<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreReplayCache").finish_non_exhaustive()
    }
}

impl<S: RefreshStore> StoreReplayCache<S> {
    /// Proofs remembered in `store` (an `Arc` of the service's store, or
    /// another store all instances share).
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }
}

#[async_trait]
impl<S: RefreshStore> DpopReplayCache for StoreReplayCache<S> {
    async fn insert_if_absent(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, Error> {
        Ok(self.store.insert_dpop_jti(key, now, expires_at).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Jkt;

    #[tokio::test]
    async fn the_memory_cache_is_bounded_and_says_when_full() {
        assert!(MemoryReplayCache::new(0).is_err());
        let cache = MemoryReplayCache::new(1).unwrap();
        assert_eq!(cache.capacity(), 16);
        assert!(cache.is_empty());
        let t = OffsetDateTime::UNIX_EPOCH;
        let later = t + time::Duration::MINUTE;
        let jkt = Jkt::of_canonical_jwk(b"{}");
        let mut full = false;
        for i in 0..1000 {
            match cache
                .insert_if_absent(&ReplayKey::new(&jkt, &i.to_string()), t, later)
                .await
            {
                Ok(Replay::Fresh) => {}
                Err(Error::DpopReplayCacheFull) => full = true,
                other => panic!("{i}: {other:?}"),
            }
        }
        assert!(full && cache.len() == 16);
    }
}
