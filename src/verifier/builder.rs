//! [`VerifierBuilder`]: a [`Verifier`]'s settings, checked in `build()`.

use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

use jsonwebtoken::jwk::JwkSet;
use time::Duration;

use super::keys::{Fetched, JwksSource, Keys, ring_from_jwks};
use super::revocations::Revocations;
use super::{Inner, RevocationSource, Verifier};
use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, Error};
use crate::store::RevocationFeed;
use crate::token::{ACCESS_TYP, Key, KeyRing, NoClaims, TokenRules};

/// Builds a [`Verifier`]; every setting says its default, and `build()`
/// checks them all.
pub struct VerifierBuilder<C = NoClaims> {
    issuer: String,
    audience: String,
    access_ttl: Duration,
    leeway: Duration,
    max_token_bytes: usize,
    keys: Vec<Key>,
    jwks_given: bool,
    source: Option<Box<dyn JwksSource>>,
    #[cfg(feature = "jwks-fetch")]
    url: Option<String>,
    jwks_max_age: Duration,
    min_refetch: Duration,
    feed: Option<Arc<dyn RevocationFeed>>,
    max_staleness: Duration,
    clock: Arc<dyn Clock>,
    claims: PhantomData<fn() -> C>,
}

impl std::fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Default for VerifierBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl VerifierBuilder {
    /// A builder with the defaults each setting names.
    pub fn new() -> Self {
        Self {
            issuer: String::new(),
            audience: String::new(),
            access_ttl: Duration::minutes(15),
            leeway: Duration::seconds(5),
            max_token_bytes: 8 * 1024,
            keys: Vec::new(),
            jwks_given: false,
            source: None,
            #[cfg(feature = "jwks-fetch")]
            url: None,
            jwks_max_age: Duration::minutes(5),
            min_refetch: Duration::seconds(30),
            feed: None,
            max_staleness: Duration::seconds(30),
            clock: Arc::new(SystemClock),
            claims: PhantomData,
        }
    }
}

impl<C> VerifierBuilder<C> {
    /// The only `iss` accepted. Required.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// The only `aud` accepted. Required.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// The longest access-token lifetime (`exp - iat`) accepted: the
    /// issuing service's `access_ttl`. Also how long a revocation is kept
    /// (with the leeway). Default: 15 minutes, as the service's.
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat`. Default: 5 seconds;
    /// at most 5 minutes.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Tokens longer than this are refused before any decoding. Default:
    /// 8 KiB; at least 512.
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }

    /// Verifies with the usable keys of this JWKS (the issuing service's
    /// [`jwks`](crate::TokenService::jwks)): keys whose `use`, `alg` or
    /// material do not fit, symmetric keys, and a repeated `kid` are
    /// skipped. May be combined with [`key`](Self::key). Default: none.
    pub fn jwks(mut self, set: &JwkSet) -> Self {
        self.jwks_given = true;
        self.keys.extend(ring_from_jwks(set).into_keys());
        self
    }

    /// Verifies with this key too: a public key ([`Key::from_public_jwk`]) or a
    /// shared HMAC key. Default: none.
    pub fn key(mut self, key: Key) -> Self {
        self.keys.push(key);
        self
    }

    /// Gets the keys from `source`, kept as long as the source says
    /// ([`JwksSource::fetch_with_max_age`]) within
    /// [`jwks_min_refetch`](Self::jwks_min_refetch) and
    /// [`jwks_max_age`](Self::jwks_max_age), and fetched again early for
    /// an unknown `kid`. Not with [`jwks`](Self::jwks) or
    /// [`key`](Self::key). Default: none.
    pub fn jwks_source(mut self, source: impl JwksSource) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Gets the keys from this URL (an auth server's
    /// `/.well-known/jwks.json`) with [`HttpJwks`](super::HttpJwks), as
    /// [`jwks_source`](Self::jwks_source) does. Default: none.
    #[cfg(feature = "jwks-fetch")]
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The longest fetched keys are used before they are fetched again:
    /// the source's own lifetime (HTTP `Cache-Control: max-age`) is cut to
    /// this, and applies as it is when the source says none. It bounds how
    /// long a key the auth server withdrew (retired or compromised) still
    /// verifies here. Default: 5 minutes.
    pub fn jwks_max_age(mut self, age: Duration) -> Self {
        self.jwks_max_age = age;
        self
    }

    /// The least time between two fetches of the key set, whatever the
    /// tokens ask for: a flood of tokens with random `kid`s costs at most
    /// one fetch per this. Also the shortest time fetched keys are kept,
    /// whatever the source's `Cache-Control` says (`no-cache`,
    /// `max-age=0`). Default: 30 seconds.
    pub fn jwks_min_refetch(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }

    /// Refuses the tokens of sessions this feed reports revoked (e.g. the
    /// issuing service's store). Default: none, revoked sessions' tokens
    /// are accepted until they expire.
    pub fn revocation_feed(mut self, feed: impl RevocationFeed) -> Self {
        self.feed = Some(Arc::new(feed));
        self
    }

    /// With a feed: past this age of the revocation view, tokens are
    /// refused with [`Error::RevocationsStale`]. Default: 30 seconds.
    pub fn max_staleness(mut self, staleness: Duration) -> Self {
        self.max_staleness = staleness;
        self
    }

    /// The clock. Default: the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The application's claims type. Default: [`NoClaims`].
    pub fn claims<D>(self) -> VerifierBuilder<D> {
        VerifierBuilder {
            issuer: self.issuer,
            audience: self.audience,
            access_ttl: self.access_ttl,
            leeway: self.leeway,
            max_token_bytes: self.max_token_bytes,
            keys: self.keys,
            jwks_given: self.jwks_given,
            source: self.source,
            #[cfg(feature = "jwks-fetch")]
            url: self.url,
            jwks_max_age: self.jwks_max_age,
            min_refetch: self.min_refetch,
            feed: self.feed,
            max_staleness: self.max_staleness,
            clock: self.clock,
            claims: PhantomData,
        }
    }

    /// The verifier.
    ///
    /// # Errors
    /// [`Error::Config`] when the issuer or audience is empty; `access_ttl`,
    /// `max_staleness` or `jwks_max_age` is not positive; `leeway` is
    /// negative or over 5 minutes; `jwks_min_refetch` is negative;
    /// `max_token_bytes < 512`; there is no key and no key source, or
    /// both; two keys share a `kid`; or a URL is not a valid `http(s)` URL.
    pub fn build(self) -> Result<Verifier<C>, Error> {
        let checks = [
            (!self.issuer.is_empty(), "issuer is required"),
            (!self.audience.is_empty(), "audience is required"),
            (self.access_ttl.is_positive(), "access_ttl must be positive"),
            (!self.leeway.is_negative(), "leeway must not be negative"),
            (
                self.leeway <= Duration::minutes(5),
                "leeway must be at most 5 minutes",
            ),
            (
                self.max_token_bytes >= 512,
                "max_token_bytes must be at least 512",
            ),
            (
                self.max_staleness.is_positive(),
                "max_staleness must be positive",
            ),
            (
                self.jwks_max_age.is_positive(),
                "jwks_max_age must be positive",
            ),
            (
                !self.min_refetch.is_negative(),
                "jwks_min_refetch must not be negative",
            ),
            (
                self.access_ttl <= Duration::days(366),
                "access_ttl must be at most a year",
            ),
        ];
        if let Some((_, problem)) = checks.iter().find(|(ok, _)| !ok) {
            return Err(ConfigError::new(*problem).into());
        }
        #[cfg(feature = "jwks-fetch")]
        let source = with_url(self.source, self.url)?;
        #[cfg(not(feature = "jwks-fetch"))]
        let source = self.source;
        let fixed = !self.keys.is_empty() || self.jwks_given;
        let keys = match (source, fixed) {
            (Some(_), true) => {
                return Err(ConfigError::new("fetched keys exclude given keys").into());
            }
            (Some(source), false) => {
                Keys::Fetched(Fetched::new(source, self.jwks_max_age, self.min_refetch))
            }
            (None, _) if self.keys.is_empty() => {
                return Err(ConfigError::new("no usable verifying key").into());
            }
            (None, _) => Keys::Fixed(KeyRing::verify_only(ACCESS_TYP, self.keys)?),
        };
        let keep = self.access_ttl + self.leeway;
        let revocations = self.feed.map(|feed| RevocationSource {
            feed,
            view: RwLock::new(Revocations::new(keep, self.max_staleness)),
            max_staleness: self.max_staleness,
        });
        let rules = TokenRules {
            issuer: self.issuer,
            audience: self.audience,
            access_ttl: self.access_ttl,
            leeway: self.leeway,
            max_token_bytes: self.max_token_bytes,
        };
        Ok(Verifier {
            inner: Arc::new(Inner {
                rules,
                keys,
                revocations,
                clock: self.clock,
            }),
            claims: PhantomData,
        })
    }
}

/// The source, or the URL's, but not both.
#[cfg(feature = "jwks-fetch")]
fn with_url(
    source: Option<Box<dyn JwksSource>>,
    url: Option<String>,
) -> Result<Option<Box<dyn JwksSource>>, Error> {
    match (source, url) {
        (Some(_), Some(_)) => {
            Err(ConfigError::new("give jwks_url or jwks_source, not both").into())
        }
        (None, Some(url)) => Ok(Some(Box::new(super::HttpJwks::new(&url)?))),
        (source, None) => Ok(source),
    }
}
