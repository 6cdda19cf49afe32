//! [`TokenServiceBuilder`]: every setting, its default, and `build()`.

use std::any::type_name;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use time::Duration;

use super::hooks::{Hooks, NoHooks};
use super::limit::SessionLimitMode;
use super::settings::Settings;
use super::signals::Signals;
use super::{Inner, TokenService};
use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, Error};
use crate::store::{MemoryStore, RefreshStore};
use crate::token::{ACCESS_TYP, AppClaims, Dpop, Key, KeyRing, NoClaims, REFRESH_TYP};

/// Builds a [`TokenService`]; see each setter for its default. Nothing is
/// checked until [`build`](Self::build).
///
/// `C` is the type of the application's own access-token claims
/// ([`NoClaims`] by default; pick another with
/// [`with_claims`](Self::with_claims)), `H` the type of its
/// [`hooks`](Self::hooks). The two may be set in either order: `build`
/// requires `H: Hooks<C>`, so hooks written for other claims do not
/// compile, and none are dropped on the way.
///
/// `Debug` shows the settings and the keys' ids, never key material.
#[must_use]
pub struct TokenServiceBuilder<C = NoClaims, H = NoHooks> {
    settings: Settings,
    access_key: Option<Key>,
    accepted_access_keys: Vec<Key>,
    refresh_key: Option<Key>,
    accepted_refresh_keys: Vec<Key>,
    clock: Arc<dyn Clock>,
    dpop: Option<Dpop>,
    hooks: H,
    claims: PhantomData<fn() -> C>,
}

impl TokenService<MemoryStore> {
    /// A builder with every default (see [`TokenServiceBuilder`]). The store
    /// is chosen at [`build`](TokenServiceBuilder::build), the claims type
    /// with [`with_claims`](TokenServiceBuilder::with_claims).
    pub fn builder() -> TokenServiceBuilder {
        TokenServiceBuilder::new()
    }
}

impl<C: AppClaims> Default for TokenServiceBuilder<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: AppClaims> TokenServiceBuilder<C> {
    /// A builder with every default; issuer, audience and both keys must
    /// still be set. `TokenServiceBuilder::new()` is
    /// [`TokenService::builder`]; `TokenServiceBuilder::<MyClaims>::new()`
    /// chooses the claims type up front.
    pub fn new() -> Self {
        Self {
            settings: Settings::default(),
            access_key: None,
            accepted_access_keys: Vec::new(),
            refresh_key: None,
            accepted_refresh_keys: Vec::new(),
            clock: Arc::new(SystemClock),
            dpop: None,
            hooks: NoHooks,
            claims: PhantomData,
        }
    }
}

impl<C: AppClaims, H> TokenServiceBuilder<C, H> {
    /// Sets the type of the application's claims to `C2`. Everything set so
    /// far is kept, hooks included. Default: [`NoClaims`].
    pub fn with_claims<C2: AppClaims>(self) -> TokenServiceBuilder<C2, H> {
        self.retype(|hooks| hooks)
    }

    /// The application's hooks, a [`Hooks<C>`] for the claims type the
    /// service ends up with. Default: [`NoHooks`].
    pub fn hooks<H2>(self, hooks: H2) -> TokenServiceBuilder<C, H2> {
        self.retype(|_| hooks)
    }

    /// The same builder with another claims type and hooks.
    fn retype<C2, H2>(self, hooks: impl FnOnce(H) -> H2) -> TokenServiceBuilder<C2, H2> {
        TokenServiceBuilder {
            settings: self.settings,
            access_key: self.access_key,
            accepted_access_keys: self.accepted_access_keys,
            refresh_key: self.refresh_key,
            accepted_refresh_keys: self.accepted_refresh_keys,
            clock: self.clock,
            dpop: self.dpop,
            hooks: hooks(self.hooks),
            claims: PhantomData,
        }
    }

    /// The `iss` of every token, and the only one accepted. Required.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.settings.rules.issuer = issuer.into();
        self
    }

    /// The `aud` of every token, and the only one accepted. Required.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.settings.rules.audience = audience.into();
        self
    }

    /// Access-token lifetime. Default: 15 minutes. Also the longest
    /// `exp - iat` accepted, so a token minted elsewhere with the same key
    /// cannot live longer.
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.settings.rules.access_ttl = ttl;
        self
    }

    /// Idle lifetime: a session not refreshed for this long is dead; each
    /// rotation extends it. Default: 7 days. Must exceed `access_ttl`.
    pub fn refresh_ttl(mut self, ttl: Duration) -> Self {
        self.settings.refresh_ttl = ttl;
        self
    }

    /// Absolute lifetime from login, never extended. Default: 30 days. Must
    /// be at least `refresh_ttl`.
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.settings.session_ttl = ttl;
        self
    }

    /// How long after a rotation the previous refresh token still gets the
    /// current tokens back (lost response, two tabs). Default: 10 seconds.
    /// Zero is strict: any second use is reuse. Must be below `access_ttl`.
    pub fn reuse_grace(mut self, grace: Duration) -> Self {
        self.settings.reuse_grace = grace;
        self
    }

    /// How long after a rotation in doubt (the store failed after the
    /// rotation may have been written: [`Error::RotationInDoubt`]) the
    /// client may still get its successor by retrying with the token that
    /// error carries. Default: 5 minutes; at least `reuse_grace`, at most
    /// `refresh_ttl`.
    ///
    /// This is the outage a client following `Retry-After` rides out
    /// without being logged out. It does not widen reuse detection: only
    /// the holder of the token handed out with the failure (evidence that
    /// it made that very attempt) gets past `reuse_grace`; a thief
    /// replaying the plain old token is still caught.
    pub fn outage_tolerance(mut self, tolerance: Duration) -> Self {
        self.settings.outage_tolerance = tolerance;
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat`. Default: 5 seconds
    /// (jsonwebtoken's own default is 60). At most 5 minutes.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.settings.rules.leeway = leeway;
        self
    }

    /// Tokens longer than this are refused before any decoding. Default:
    /// 8 KiB. At least 512 bytes.
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.settings.rules.max_token_bytes = bytes;
        self
    }

    /// At most this many live sessions per subject: a login beyond it
    /// revokes the oldest, or is refused, as
    /// [`session_limit_mode`](Self::session_limit_mode) says. Default: no
    /// limit.
    pub fn max_sessions_per_subject(mut self, sessions: usize) -> Self {
        self.settings.max_sessions_per_subject = Some(sessions);
        self
    }

    /// What a login does about the subject's other sessions. Default:
    /// [`SessionLimitMode::RevokeOldest`]. `RefuseNew` needs
    /// `max_sessions_per_subject`; `SingleSession` needs no limit.
    pub fn session_limit_mode(mut self, mode: SessionLimitMode) -> Self {
        self.settings.session_limit_mode = mode;
        self
    }

    /// The longest idle lifetime a login may ask for with
    /// [`IssueOptions::idle_ttl`](crate::IssueOptions::idle_ttl) ("remember
    /// me"). Default: `refresh_ttl` (a login may only shorten it). At least
    /// `refresh_ttl`, at most 100 years, whole seconds.
    pub fn max_refresh_ttl(mut self, ttl: Duration) -> Self {
        self.settings.max_refresh_ttl = Some(ttl);
        self
    }

    /// The longest absolute lifetime a login may ask for with
    /// [`IssueOptions::session_ttl`](crate::IssueOptions::session_ttl).
    /// Default: `session_ttl`. At least `session_ttl`, at most 100 years,
    /// whole seconds.
    pub fn max_session_ttl(mut self, ttl: Duration) -> Self {
        self.settings.max_session_ttl = Some(ttl);
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

    /// The DPoP proof checker (RFC 9449) for sessions bound to a client's
    /// key: [`refresh_dpop`](TokenService::refresh_dpop) and
    /// [`verify_dpop`](TokenService::verify_dpop) check proofs with it, by
    /// the service's clock. Default: none, and then no session can be
    /// bound ([`IssueOptions::bound_to`](crate::IssueOptions::bound_to)
    /// is refused).
    pub fn dpop(mut self, dpop: Dpop) -> Self {
        self.dpop = Some(dpop);
        self
    }

    /// Publish token status lists (draft-ietf-oauth-status-list) under
    /// `base_uri` (e.g. `https://auth.example.com/statuslists`): every
    /// session gets a status index from its store at login, its access
    /// tokens carry `"status": {"status_list": {"idx": .., "uri":
    /// "{base_uri}/{list id}"}}`, and [`TokenService::status_list`] builds
    /// the signed list to serve at that URI. Default: off, and access tokens
    /// carry no `status`. `build()` refuses a base URI that is not
    /// `http(s)://host[/path]` without a trailing slash, query or fragment.
    /// A store that allocates no index (see
    /// [`RefreshStore::create_indexed`]) gives tokens without `status`.
    #[cfg(feature = "status-list")]
    pub fn status_list(mut self, base_uri: impl Into<String>) -> Self {
        let ttl = self
            .settings
            .status_list
            .as_ref()
            .map_or(super::status_list::StatusListSettings::DEFAULT_TTL, |s| {
                s.ttl
            });
        self.settings.status_list = Some(super::status_list::StatusListSettings {
            base_uri: base_uri.into(),
            ttl,
        });
        self
    }

    /// How long a resource server may cache a status list (its `ttl`, and
    /// the `max-age` to serve it with): how late, at most, a revocation
    /// reaches it through the list. The list's `exp` is two `ttl`s after it
    /// was built. Default: 5 minutes; whole seconds from 1 second to 1 day.
    /// Only with [`status_list`](Self::status_list), set before or after.
    #[cfg(feature = "status-list")]
    pub fn status_list_ttl(mut self, ttl: Duration) -> Self {
        let settings = self.settings.status_list.get_or_insert_with(|| {
            super::status_list::StatusListSettings {
                base_uri: String::new(),
                ttl,
            }
        });
        settings.ttl = ttl;
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
    /// `reuse_grace` is negative or not below `access_ttl`;
    /// `outage_tolerance` is below `reuse_grace` or above `refresh_ttl`;
    /// `leeway` is
    /// negative or over 5 minutes; `max_token_bytes < 512`;
    /// `max_sessions_per_subject` is 0; `max_refresh_ttl < refresh_ttl`;
    /// `max_session_ttl < session_ttl`; `session_limit_mode` is `RefuseNew`
    /// without `max_sessions_per_subject`; a duration is not whole seconds or
    /// is longer than 100 years (36,525 days, the largest allowed: every
    /// instant the service computes, a clock reading plus a setting, must
    /// be representable).
    pub fn build<S: RefreshStore>(self, store: S) -> Result<TokenService<S, C>, Error>
    where
        H: Hooks<C>,
    {
        self.settings.check()?;
        let access_key = self
            .access_key
            .ok_or_else(|| ConfigError::new("access_key is required"))?;
        let refresh_key = self
            .refresh_key
            .ok_or_else(|| ConfigError::new("refresh_key is required"))?;
        let access = KeyRing::new(ACCESS_TYP, access_key, self.accepted_access_keys)?;
        let refresh = KeyRing::new(REFRESH_TYP, refresh_key, self.accepted_refresh_keys)?;
        for a in access.keys() {
            for r in refresh.keys() {
                if a.fingerprint() == r.fingerprint() || a.kid() == r.kid() {
                    return Err(
                        ConfigError::new("access and refresh keys must be distinct keys").into(),
                    );
                }
            }
        }
        Ok(TokenService::from_inner(Inner {
            store,
            settings: self.settings,
            jwks: access.jwks(),
            access,
            refresh,
            clock: self.clock,
            dpop: self.dpop,
            hooks: Arc::new(self.hooks),
            signals: Signals::register(),
        }))
    }
}

impl<C, H> fmt::Debug for TokenServiceBuilder<C, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids = |keys: &[Key]| keys.iter().map(|k| k.kid().to_owned()).collect::<Vec<_>>();
        f.debug_struct("TokenServiceBuilder")
            .field("settings", &self.settings)
            .field("access_key", &self.access_key)
            .field("accepted_access_keys", &kids(&self.accepted_access_keys))
            .field("refresh_key", &self.refresh_key)
            .field("accepted_refresh_keys", &kids(&self.accepted_refresh_keys))
            .field("dpop", &self.dpop)
            .field("claims", &type_name::<C>())
            .field("hooks", &type_name::<H>())
            .finish_non_exhaustive()
    }
}
