//! [`TokenServiceBuilder`]: every setting, its default, and the checks
//! `build()` makes.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::Duration;

use crate::access::{ACCESS_TYP, NoClaims};
use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, Error};
use crate::hooks::{Hooks, NoHooks};
use crate::keys::{Key, KeyRing};
use crate::refresh::REFRESH_TYP;
use crate::service::{Inner, TokenService};
use crate::store::RefreshStore;

/// The validated settings a service runs with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) access_ttl: Duration,
    pub(crate) refresh_ttl: Duration,
    pub(crate) session_ttl: Duration,
    pub(crate) reuse_grace: Duration,
    pub(crate) leeway: Duration,
    pub(crate) max_token_bytes: usize,
    pub(crate) max_sessions_per_subject: Option<usize>,
}

/// Builds a [`TokenService`]; see each setter for its default. Nothing is
/// checked until [`build`](Self::build).
///
/// `C` is the type of the application's own access-token claims
/// ([`NoClaims`] by default; pick another with
/// [`with_claims`](Self::with_claims)).
#[must_use]
pub struct TokenServiceBuilder<C = NoClaims> {
    issuer: Option<String>,
    audience: Option<String>,
    access_ttl: Duration,
    refresh_ttl: Duration,
    session_ttl: Duration,
    reuse_grace: Duration,
    leeway: Duration,
    max_token_bytes: usize,
    max_sessions_per_subject: Option<usize>,
    access_key: Option<Key>,
    accepted_access_keys: Vec<Key>,
    refresh_key: Option<Key>,
    accepted_refresh_keys: Vec<Key>,
    clock: Arc<dyn Clock>,
    hooks: Arc<dyn Hooks<C>>,
    claims: PhantomData<fn() -> C>,
}

impl<C: Serialize + DeserializeOwned + Send + Sync + 'static> Default for TokenServiceBuilder<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Serialize + DeserializeOwned + Send + Sync + 'static> TokenServiceBuilder<C> {
    /// A builder with every default; issuer, audience and both keys must
    /// still be set.
    pub fn new() -> Self {
        Self {
            issuer: None,
            audience: None,
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(7),
            session_ttl: Duration::days(30),
            reuse_grace: Duration::seconds(10),
            leeway: Duration::seconds(5),
            max_token_bytes: 8 * 1024,
            max_sessions_per_subject: None,
            access_key: None,
            accepted_access_keys: Vec::new(),
            refresh_key: None,
            accepted_refresh_keys: Vec::new(),
            clock: Arc::new(SystemClock),
            hooks: Arc::new(NoHooks),
            claims: PhantomData,
        }
    }

    /// Switches the application claims type to `C2` (hooks reset to none).
    pub fn with_claims<C2: Serialize + DeserializeOwned + Send + Sync + 'static>(
        self,
    ) -> TokenServiceBuilder<C2> {
        TokenServiceBuilder {
            issuer: self.issuer,
            audience: self.audience,
            access_ttl: self.access_ttl,
            refresh_ttl: self.refresh_ttl,
            session_ttl: self.session_ttl,
            reuse_grace: self.reuse_grace,
            leeway: self.leeway,
            max_token_bytes: self.max_token_bytes,
            max_sessions_per_subject: self.max_sessions_per_subject,
            access_key: self.access_key,
            accepted_access_keys: self.accepted_access_keys,
            refresh_key: self.refresh_key,
            accepted_refresh_keys: self.accepted_refresh_keys,
            clock: self.clock,
            hooks: Arc::new(NoHooks),
            claims: PhantomData,
        }
    }

    /// The `iss` of every token, and the only one accepted. Required.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The `aud` of every token, and the only one accepted. Required.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Access-token lifetime. Default: 15 minutes. Also the longest
    /// `exp - iat` accepted, so a token minted elsewhere with the same key
    /// cannot live longer.
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// Idle lifetime: a session not refreshed for this long is dead; each
    /// rotation extends it. Default: 7 days. Must exceed `access_ttl`.
    pub fn refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// Absolute lifetime from login, never extended. Default: 30 days. Must
    /// be at least `refresh_ttl`.
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// How long after a rotation the previous refresh token still gets the
    /// current tokens back (lost response, two tabs). Default: 10 seconds.
    /// Zero is strict: any second use is reuse. Must be below `access_ttl`.
    pub fn reuse_grace(mut self, grace: Duration) -> Self {
        self.reuse_grace = grace;
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat`. Default: 5 seconds
    /// (jsonwebtoken's own default is 60). At most 5 minutes.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Tokens longer than this are refused before any decoding. Default:
    /// 8 KiB. At least 512 bytes.
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }

    /// At most this many live sessions per subject: a login beyond it
    /// revokes the oldest. Default: no limit.
    pub fn max_sessions_per_subject(mut self, sessions: usize) -> Self {
        self.max_sessions_per_subject = Some(sessions);
        self
    }

    /// The key that signs access tokens. Required.
    pub fn access_key(mut self, key: Key) -> Self {
        self.access_key = Some(key);
        self
    }

    /// Also accept access tokens signed by `key` (a retired key, kept until
    /// its last tokens expire). May be called repeatedly. Default: none.
    pub fn accept_access_key(mut self, key: Key) -> Self {
        self.accepted_access_keys.push(key);
        self
    }

    /// The key that signs refresh tokens: must differ from every access
    /// key. Required.
    pub fn refresh_key(mut self, key: Key) -> Self {
        self.refresh_key = Some(key);
        self
    }

    /// Also accept refresh tokens signed by `key`, so the refresh key can
    /// rotate without logging anyone out. Default: none.
    pub fn accept_refresh_key(mut self, key: Key) -> Self {
        self.accepted_refresh_keys.push(key);
        self
    }

    /// The time source. Default: [`SystemClock`]; tests use
    /// [`ManualClock`](crate::ManualClock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The application's hooks. Default: [`NoHooks`].
    pub fn hooks(mut self, hooks: impl Hooks<C>) -> Self {
        self.hooks = Arc::new(hooks);
        self
    }

    /// Checks every setting and builds the service over `store`.
    ///
    /// ```
    /// use jwt_rotate::{Key, MemoryStore, TokenService};
    ///
    /// let service = TokenService::builder()
    ///     .issuer("https://auth.example.com")
    ///     .audience("api.example.com")
    ///     .access_key(Key::hs256([1u8; 32])?)
    ///     .refresh_key(Key::hs256([2u8; 32])?)
    ///     .build(MemoryStore::new())?;
    /// # let _ = service;
    /// # Ok::<(), jwt_rotate::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] when: issuer or audience is missing or empty; a key
    /// is missing; an access key and a refresh key are the same key or share
    /// a `kid`; a `kid` is malformed or repeated; `access_ttl` is not
    /// positive; `refresh_ttl <= access_ttl`; `session_ttl < refresh_ttl`;
    /// `reuse_grace` is negative or not below `access_ttl`; `leeway` is
    /// negative or over 5 minutes; `max_token_bytes < 512`;
    /// `max_sessions_per_subject` is 0; a duration is not whole seconds.
    pub fn build<S: RefreshStore>(self, store: S) -> Result<TokenService<S, C>, Error> {
        let settings = self.settings()?;
        let access_key = self
            .access_key
            .ok_or_else(|| fail("access_key is required"))?;
        let refresh_key = self
            .refresh_key
            .ok_or_else(|| fail("refresh_key is required"))?;
        let access = KeyRing::new(ACCESS_TYP, access_key, self.accepted_access_keys)?;
        let refresh = KeyRing::new(REFRESH_TYP, refresh_key, self.accepted_refresh_keys)?;
        for a in access.keys() {
            for r in refresh.keys() {
                if a.fingerprint() == r.fingerprint() || a.kid() == r.kid() {
                    return Err(fail("access and refresh keys must be distinct keys").into());
                }
            }
        }
        Ok(TokenService::from_inner(Inner {
            store,
            settings,
            jwks: access.jwks(),
            access,
            refresh,
            clock: self.clock,
            hooks: self.hooks,
        }))
    }

    fn settings(&self) -> Result<Settings, ConfigError> {
        let issuer = non_empty("issuer", &self.issuer)?;
        let audience = non_empty("audience", &self.audience)?;
        let durations = [
            ("access_ttl", self.access_ttl),
            ("refresh_ttl", self.refresh_ttl),
            ("session_ttl", self.session_ttl),
            ("reuse_grace", self.reuse_grace),
            ("leeway", self.leeway),
        ];
        if let Some((name, _)) = durations.iter().find(|(_, d)| d.subsec_nanoseconds() != 0) {
            return Err(fail(format!("{name} must be whole seconds (JWT time)")));
        }
        let checks = [
            (
                self.access_ttl > Duration::ZERO,
                "access_ttl must be positive",
            ),
            (
                self.refresh_ttl > self.access_ttl,
                "refresh_ttl must exceed access_ttl",
            ),
            (
                self.session_ttl >= self.refresh_ttl,
                "session_ttl must be at least refresh_ttl",
            ),
            (
                !self.reuse_grace.is_negative(),
                "reuse_grace must not be negative",
            ),
            (
                self.reuse_grace < self.access_ttl,
                "reuse_grace must be below access_ttl",
            ),
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
                self.max_sessions_per_subject != Some(0),
                "max_sessions_per_subject must be at least 1",
            ),
        ];
        if let Some((_, message)) = checks.iter().find(|(ok, _)| !ok) {
            return Err(fail(*message));
        }
        Ok(Settings {
            issuer,
            audience,
            access_ttl: self.access_ttl,
            refresh_ttl: self.refresh_ttl,
            session_ttl: self.session_ttl,
            reuse_grace: self.reuse_grace,
            leeway: self.leeway,
            max_token_bytes: self.max_token_bytes,
            max_sessions_per_subject: self.max_sessions_per_subject,
        })
    }
}

fn fail(message: impl Into<std::borrow::Cow<'static, str>>) -> ConfigError {
    ConfigError::new(message)
}

fn non_empty(name: &'static str, value: &Option<String>) -> Result<String, ConfigError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v.clone()),
        _ => Err(fail(format!("{name} is required"))),
    }
}
