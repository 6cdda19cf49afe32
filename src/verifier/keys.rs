//! A [`Verifier`](super::Verifier)'s keys: given once, or fetched from a
//! [`JwksSource`] and kept for as long as the source says (HTTP
//! `Cache-Control: max-age`) within `min_refetch` and `max_age`, fetched
//! again early for an unknown `kid`, at most once per `min_refetch`.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use jsonwebtoken::jwk::JwkSet;
use time::{Duration, OffsetDateTime};

use crate::error::Error;
use crate::token::{ACCESS_TYP, Key, KeyRing, check_kid, jws};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where a [`Verifier`](super::Verifier) gets its public keys: an
/// authorization server's JSON Web Key Set. `HttpJwks` (feature
/// `jwks-fetch`) fetches one from a URL; implement this for any other way.
#[async_trait]
pub trait JwksSource: Send + Sync + 'static {
    /// The current key set.
    ///
    /// # Errors
    /// Any failure to get it; the verifier keeps the keys it has and
    /// answers [`Error::KeysUnavailable`] for a token whose key it lacks.
    async fn fetch(&self) -> Result<JwkSet, BoxError>;

    /// The current key set and how long it may be kept, as the source
    /// says (`HttpJwks`: the answer's `Cache-Control: max-age` less its
    /// `Age`). The verifier calls this one. Default: [`fetch`](Self::fetch)
    /// with no lifetime, so the verifier's `jwks_max_age` applies.
    ///
    /// # Errors
    /// As [`fetch`](Self::fetch).
    async fn fetch_with_max_age(&self) -> Result<JwksResponse, BoxError> {
        Ok(JwksResponse::new(self.fetch().await?))
    }
}

/// A key set as a [`JwksSource`] delivered it, with how long it may be
/// kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksResponse {
    /// The keys.
    pub set: JwkSet,
    /// How long the source says the set may be used before it is fetched
    /// again; `None` when it says nothing. A verifier keeps it within its
    /// `jwks_min_refetch` and `jwks_max_age`.
    pub max_age: Option<Duration>,
}

impl JwksResponse {
    /// `set`, with no lifetime of its own.
    pub fn new(set: JwkSet) -> Self {
        Self { set, max_age: None }
    }

    /// Says how long the set may be kept (zero: fetch again as soon as
    /// allowed).
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }
}

/// The verifying keys of a JWKS: keys whose `use`, `alg` or material do
/// not fit (and symmetric keys, which are never published) are skipped, as
/// is a second key with the same `kid`.
pub(super) fn ring_from_jwks(set: &JwkSet) -> KeyRing {
    let mut keys: Vec<Key> = Vec::with_capacity(set.keys.len());
    for jwk in &set.keys {
        let Ok(key) = Key::from_public_jwk(jwk) else {
            continue;
        };
        if check_kid(key.kid()).is_ok() && !keys.iter().any(|k| k.kid() == key.kid()) {
            keys.push(key);
        }
    }
    // Every kid was checked and they are distinct, so this holds them all.
    KeyRing::verify_only(ACCESS_TYP, keys).unwrap_or_else(|_| KeyRing::empty(ACCESS_TYP))
}

/// The keys a verifier checks signatures with.
pub(super) enum Keys {
    /// Given at build time; never change.
    Fixed(KeyRing),
    /// From a source, cached.
    Fetched(Fetched),
}

pub(super) struct Fetched {
    source: Box<dyn JwksSource>,
    ring: RwLock<Arc<KeyRing>>,
    state: Mutex<FetchState>,
    max_age: Duration,
    min_refetch: Duration,
}

#[derive(Default)]
struct FetchState {
    /// Until when the keys in the ring may be used without a fetch.
    fresh_until: Option<OffsetDateTime>,
    /// When the last fetch started, successful or not.
    attempted_at: Option<OffsetDateTime>,
    in_flight: bool,
    /// Whether the last fetch failed.
    failing: bool,
}

/// Why a fetch is wanted: the cache is old, or a token names a key we lack
/// (then an answer "not found" depends on whether the fetch went well).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Fresh,
    UnknownKid,
}

impl Fetched {
    pub(super) fn new(
        source: Box<dyn JwksSource>,
        max_age: Duration,
        min_refetch: Duration,
    ) -> Self {
        Self {
            source,
            ring: RwLock::new(Arc::new(KeyRing::empty(ACCESS_TYP))),
            state: Mutex::new(FetchState::default()),
            max_age,
            min_refetch,
        }
    }

    fn current(&self) -> Arc<KeyRing> {
        Arc::clone(&self.ring.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The ring to verify `token` with: the cached one, fetched again first
    /// when it is past its lifetime or lacks the token's `kid` (each at
    /// most once per `min_refetch`, one fetch at a time).
    pub(super) async fn ring_for(
        &self,
        token: &str,
        max_len: usize,
        now: OffsetDateTime,
    ) -> Result<Arc<KeyRing>, Error> {
        let ring = self.current();
        let known = jws::knows_key(&ring, token, max_len);
        let old = self.state().fresh_until.is_none_or(|until| now >= until);
        if known && !old {
            return Ok(ring);
        }
        let need = if known { Need::Fresh } else { Need::UnknownKid };
        match self.refetch(now).await {
            Attempt::Fetched(Ok(())) => Ok(self.current()),
            Attempt::Fetched(Err(e)) if need == Need::UnknownKid => Err(Error::KeysUnavailable(e)),
            // A failed refresh of keys we still hold: keep using them.
            Attempt::Fetched(Err(_)) => Ok(ring),
            // The fetch another request started may bring the key: the
            // token is not known to be bad, so "try later", not 401.
            Attempt::Running if need == Need::UnknownKid => Err(Error::KeysUnavailable(
                "the key set is being fetched".into(),
            )),
            Attempt::TooSoon if need == Need::UnknownKid && self.state().failing => Err(
                Error::KeysUnavailable("the last fetch of the key set failed".into()),
            ),
            Attempt::Running | Attempt::TooSoon => Ok(ring),
        }
    }

    /// How long a fetched set is used: what the source said, but no less
    /// than `min_refetch` (a source saying `no-cache` cannot make every
    /// request fetch) and no more than `max_age` (a withdrawn key stops
    /// verifying within it, whatever the source's caching says); `max_age`
    /// when the source said nothing.
    fn lifetime(&self, said: Option<Duration>) -> Duration {
        said.map_or(self.max_age, |age| {
            age.max(self.min_refetch).min(self.max_age)
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FetchState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fetches now, if no fetch is running and none started within
    /// `min_refetch`.
    async fn refetch(&self, now: OffsetDateTime) -> Attempt {
        {
            let mut state = self.state();
            if state.in_flight {
                return Attempt::Running;
            }
            if state
                .attempted_at
                .is_some_and(|at| now - at < self.min_refetch)
            {
                return Attempt::TooSoon;
            }
            state.in_flight = true;
            state.attempted_at = Some(now);
        }
        // Reset even if this future is dropped mid-fetch.
        let guard = InFlight(self);
        let fetched = self.source.fetch_with_max_age().await;
        let mut state = self.state();
        state.failing = fetched.is_err();
        let result = fetched.map(|response| {
            *self.ring.write().unwrap_or_else(PoisonError::into_inner) =
                Arc::new(ring_from_jwks(&response.set));
            state.fresh_until = Some(now + self.lifetime(response.max_age));
        });
        drop(state);
        drop(guard);
        Attempt::Fetched(result)
    }
}

/// What [`Fetched::refetch`] did.
enum Attempt {
    /// Fetched, or failed to.
    Fetched(Result<(), BoxError>),
    /// Left it to the fetch already running.
    Running,
    /// Nothing: the last fetch started less than `min_refetch` ago.
    TooSoon,
}

struct InFlight<'a>(&'a Fetched);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.state().in_flight = false;
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Keys::Fixed(ring) => f.debug_tuple("Fixed").field(&ring.keys().count()).finish(),
            Keys::Fetched(fetched) => f
                .debug_struct("Fetched")
                .field("keys", &fetched.current().keys().count())
                .field("max_age", &fetched.max_age)
                .finish_non_exhaustive(),
        }
    }
}
