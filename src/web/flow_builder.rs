//! [`AuthFlowBuilder`]: the settings of an [`AuthFlow`], checked in
//! `build()`.

use std::sync::Arc;

use super::client::TrustedProxies;
use super::credentials::Credentials;
use super::flow::{AuthFlow, Inner};
use super::throttle::{LoginThrottle, ThrottleLimits};
use super::verification::Verification;
use crate::cookie::RefreshCookie;
use crate::error::{ConfigError, Error};
use crate::service::TokenService;
use crate::store::RefreshStore;
use crate::token::AppClaims;

/// Builds an [`AuthFlow`] over a [`TokenService`].
///
/// ```
/// use jwt_rotate::web::{AuthFlow, CredentialsError, Login};
/// use jwt_rotate::{Key, MemoryStore, NoClaims, TokenService};
///
/// let service = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .access_key(Key::hs256([1u8; 32])?)
///     .refresh_key(Key::hs256([2u8; 32])?)
///     .build(MemoryStore::new())?;
/// let flow = AuthFlow::builder(service)
///     .credentials(|username: String, password: String| async move {
///         let right = username == "alice" && password == "correct horse";
///         Ok::<_, CredentialsError>(right.then(|| Login::new(username, NoClaims {})))
///     })
///     .build()?;
/// # let _ = flow;
/// # Ok::<(), jwt_rotate::Error>(())
/// ```
#[must_use]
pub struct AuthFlowBuilder<S, C> {
    service: TokenService<S, C>,
    cookie: RefreshCookie,
    credentials: Option<Arc<dyn Credentials<C>>>,
    limits: ThrottleLimits,
    proxies: TrustedProxies,
    verification: Verification,
    #[cfg(feature = "oauth")]
    introspection: Option<crate::oauth::IntrospectionClient>,
}

impl<S, C> std::fmt::Debug for AuthFlowBuilder<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthFlowBuilder")
            .field("cookie", &self.cookie)
            .field("limits", &self.limits)
            .field("verification", &self.verification)
            .finish_non_exhaustive()
    }
}

impl<S: RefreshStore, C: AppClaims> AuthFlow<S, C> {
    /// A builder over `service`, with the defaults of each setter.
    pub fn builder(service: TokenService<S, C>) -> AuthFlowBuilder<S, C> {
        AuthFlowBuilder {
            service,
            cookie: RefreshCookie::default(),
            credentials: None,
            limits: ThrottleLimits::default(),
            proxies: TrustedProxies::default(),
            verification: Verification::default(),
            #[cfg(feature = "oauth")]
            introspection: None,
        }
    }
}

impl<S: RefreshStore, C: AppClaims> AuthFlowBuilder<S, C> {
    /// The app's password check, called by the login route. Required: no
    /// default.
    pub fn credentials(mut self, credentials: impl Credentials<C>) -> Self {
        self.credentials = Some(Arc::new(credentials));
        self
    }

    /// The refresh cookie. Default: [`RefreshCookie::default`] (`Path=/auth`,
    /// `Secure`, `SameSite=Strict`, host-only). Its path must cover the
    /// refresh and logout routes where they are mounted.
    pub fn cookie(mut self, cookie: RefreshCookie) -> Self {
        self.cookie = cookie;
        self
    }

    /// The login throttle's buckets. Default: [`ThrottleLimits::default`]
    /// (per user 10 then 1 a minute, per address 30 then 1 every 10 s).
    pub fn throttle(mut self, limits: ThrottleLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The proxies whose `X-Forwarded-For` is believed. Default: none, the
    /// peer address is the client.
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// How protected routes check access tokens. Default:
    /// [`Verification::Live`].
    pub fn verification(mut self, verification: Verification) -> Self {
        self.verification = verification;
        self
    }

    /// The one client allowed to call `POST /oauth/introspect`
    /// ([`AuthFlow::oauth_introspect`]), by HTTP Basic. Default: none, and
    /// the introspection route answers 404.
    #[cfg(feature = "oauth")]
    pub fn introspection_client(mut self, client: crate::oauth::IntrospectionClient) -> Self {
        self.introspection = Some(client);
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::Config`] without [`credentials`](Self::credentials), or with
    /// unusable throttle limits ([`ThrottleLimits::is_valid`]).
    pub fn build(self) -> Result<AuthFlow<S, C>, Error> {
        let credentials = self
            .credentials
            .ok_or_else(|| ConfigError::new("AuthFlow needs credentials: the password check"))?;
        let throttle = LoginThrottle::new(self.limits, self.service.clock())?;
        Ok(AuthFlow {
            inner: Arc::new(Inner {
                service: self.service,
                cookie: self.cookie,
                credentials,
                throttle,
                proxies: self.proxies,
                verification: self.verification,
                #[cfg(feature = "oauth")]
                introspection: self.introspection,
            }),
        })
    }
}
