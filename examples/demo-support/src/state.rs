//! [`AppState`]: the demo application behind the routes, free of any
//! framework. The session routes are the framework crates' (over
//! [`AppState::flow`]); what is left here is the demo's own: its accounts,
//! the password change, `/me`.

use std::net::IpAddr;
use std::sync::Arc;

use jwt_rotate::store::RefreshStore;
use jwt_rotate::web::{AuthFlow, HttpError, TrustedProxies};
use jwt_rotate::{
    AccessClaims, Clock, Dpop, DpopNonces, Key, RefreshCookie, SessionId, TokenService,
};
use time::{Duration, OffsetDateTime};

use crate::config::{Config, Signing};
use crate::credentials::DemoCredentials;
use crate::hashing::HashGate;
use crate::http::{MeBody, RevokedBody};
use crate::users::{self, Users};

/// The session store, chosen at start-up (any [`RefreshStore`]).
pub type Store = Arc<dyn RefreshStore>;

/// The authenticated caller, from a verified Bearer access token whose
/// session is still live.
#[derive(Debug, Clone)]
pub struct User {
    /// The user name (`sub`).
    pub subject: String,
    /// The session the token belongs to (`sid`).
    pub session_id: SessionId,
    /// When the access token expires.
    pub expires_at: OffsetDateTime,
}

impl<C> From<AccessClaims<C>> for User {
    fn from(claims: AccessClaims<C>) -> Self {
        Self {
            subject: claims.sub,
            session_id: claims.sid,
            expires_at: claims.exp,
        }
    }
}

/// The application: token service, accounts, cookie settings. Cheap to
/// clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// The session routes: the service, the cookie, the login throttle
    /// and the password check ([`DemoCredentials`]).
    pub(crate) flow: AuthFlow<Store>,
    pub(crate) users: Arc<Users>,
    pub(crate) trusted_proxies: TrustedProxies,
    pub(crate) hash_gate: HashGate,
}

impl AppState {
    /// Builds the service over `config`'s store and keys, and hashes the
    /// demo passwords.
    ///
    /// # Errors
    /// An invalid `config` (e.g. a grace window not below the access
    /// lifetime, a throttle bucket that never refills), or hashing failed.
    pub fn new(config: Config) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let (access, refresh) = match config.signing {
            Signing::Random => (random_secret().to_vec(), random_secret().to_vec()),
            Signing::Secrets { access, refresh } => (access, refresh),
        };
        let service = TokenService::builder()
            .issuer("jwt-rotate-demo")
            .audience("jwt-rotate-demo")
            .access_ttl(config.access_ttl)
            .reuse_grace(config.reuse_grace)
            .leeway(config.leeway)
            .access_key(Key::hs256(access)?)
            .refresh_key(Key::hs256(refresh)?)
            .max_sessions_per_subject(config.max_sessions_per_user)
            .clock(Arc::clone(&config.clock))
            .dpop(dpop(&config.clock, config.dpop_nonces)?)
            .build(config.store)?;
        let mut cookie = RefreshCookie::builder().security(config.cookie_security);
        if let Some(origin) = config.public_origin {
            cookie = cookie.public_origin(origin);
        }
        let users = Arc::new(Users::demo()?);
        let hash_gate = HashGate::new(config.hashing);
        let credentials = DemoCredentials {
            users: Arc::clone(&users),
            gate: hash_gate.clone(),
        };
        let mut flow = AuthFlow::builder(service)
            .credentials(credentials)
            .cookie(cookie.build()?)
            .throttle(config.throttle)
            .trusted_proxies(config.trusted_proxies.clone());
        if let Some(client) = config.introspection {
            flow = flow.introspection_client(client);
        }
        let flow = flow.build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                flow,
                users,
                hash_gate,
                trusted_proxies: config.trusted_proxies,
            }),
        })
    }

    /// The session routes (login, refresh, logout, devices, JWKS), for a
    /// framework crate to serve; their throttle also counts the password
    /// checks of `POST /auth/password`.
    pub fn flow(&self) -> &AuthFlow<Store> {
        &self.inner.flow
    }

    /// The token service (tests look at the store through it).
    pub fn service(&self) -> &TokenService<Store> {
        self.inner.flow.service()
    }

    /// The argon2 work so far (tests check the bound on hashes at once).
    pub fn hash_stats(&self) -> users::HashStats {
        self.inner.users.stats()
    }

    /// The gate password hashes go through (tests hold its slots).
    pub fn hash_gate(&self) -> &HashGate {
        &self.inner.hash_gate
    }

    /// The client a request comes from: the peer address, or behind a
    /// trusted proxy the address it forwarded (see `client.rs`).
    pub fn client_address<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl IntoIterator<Item = &'a [u8]>,
    ) -> Option<IpAddr> {
        self.inner
            .trusted_proxies
            .client_address(peer, forwarded_for)
    }

    /// `GET /me`.
    pub fn me(&self, user: &User) -> MeBody {
        MeBody {
            sub: user.subject.clone(),
            sid: user.session_id.to_string(),
            exp: user.expires_at.unix_timestamp(),
        }
    }

    /// Revokes every session of the caller but this one (what a password
    /// change does; `POST /auth/logout-others` is the flow's).
    ///
    /// # Errors
    /// 503 if the store fails.
    pub(crate) async fn revoke_others(&self, user: &User) -> Result<RevokedBody, HttpError> {
        let revoked = self
            .inner
            .flow
            .service()
            .revoke_subject(&user.subject, Some(&user.session_id))
            .await?;
        Ok(RevokedBody { revoked })
    }
}

/// DPoP on: a login with a `DPoP` header binds its session to the key;
/// requests without one stay Bearer. Nonces when the config asks.
fn dpop(clock: &Arc<dyn Clock>, nonces: Option<Duration>) -> Result<Dpop, jwt_rotate::Error> {
    let mut dpop = Dpop::builder().clock(Arc::clone(clock));
    if let Some(lifetime) = nonces {
        dpop = dpop.nonces(DpopNonces::new(lifetime)?);
    }
    dpop.build()
}

fn random_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    secret
}
