//! What the axum and the actix-web servers share: the application behind
//! the routes, free of any framework. Each server includes this file with
//! `#[path]` and only adds its routes, extractors and responses.

mod config;
mod credentials;
pub mod hashing;
pub mod http;
mod logout;
mod passwords;
pub mod users;

use std::net::IpAddr;
use std::sync::Arc;

use jwt_rotate::web::{AuthFlow, TrustedProxies};
use jwt_rotate::{
    Clock, CookieError, Key, RefreshCookie, RequestHeaders, SessionId, SetCookie, TokenPair,
    TokenService,
};

use jwt_rotate::store::RefreshStore;
use time::OffsetDateTime;

pub use self::config::{Config, EnvError, Signing, sqlite_store};
pub use self::credentials::DemoCredentials;
use self::hashing::HashGate;
use self::http::{ApiError, MeBody, RevokedBody, SessionBody, TokenBody};
use self::users::Users;

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

/// A login or refresh: the JSON body and the refresh cookie to set.
pub struct Issued {
    /// `{"access_token", "token_type", "expires_in"}`.
    pub body: TokenBody,
    /// The `Set-Cookie` value with the new refresh token.
    pub set_cookie: SetCookie,
}

/// The application: token service, accounts, cookie settings. Cheap to
/// clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// The session routes: the service, the cookie, the login throttle
    /// and the password check ([`DemoCredentials`]).
    flow: AuthFlow<Store>,
    users: Arc<Users>,
    clock: Arc<dyn Clock>,
    trusted_proxies: TrustedProxies,
    hash_gate: HashGate,
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
        let flow = AuthFlow::builder(service)
            .credentials(credentials)
            .cookie(cookie.build()?)
            .throttle(config.throttle)
            .trusted_proxies(config.trusted_proxies.clone())
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                flow,
                users,
                hash_gate,
                clock: config.clock,
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

    /// The CSRF check of the cookie routes (the library's
    /// [`RefreshCookie::check_same_origin`]).
    ///
    /// # Errors
    /// 403 `cross_site_request`.
    pub fn check_same_origin(&self, headers: &RequestHeaders<'_>) -> Result<(), ApiError> {
        Ok(self.inner.flow.cookie().check_same_origin(headers)?)
    }

    /// `POST /auth/refresh`: rotates the cookie's token (`cookies`: the
    /// request's `Cookie` header values). A 401 deletes the cookie when its
    /// token is dead; a 503 keeps it.
    ///
    /// Strict about the cookie: with two of the name (one may have been
    /// planted by a sibling domain), which one is the user's is unknown,
    /// and rotating a planted one would log the user into the planter's
    /// session, so the refresh is refused (401 `invalid_token`) and the
    /// cookie kept: it is not known to be dead, and the next login or
    /// logout ends its session (they revoke every candidate).
    ///
    /// # Errors
    /// 401 (missing, duplicated, invalid, reused, revoked or expired), 503.
    pub async fn refresh(&self, cookies: &[&[u8]]) -> Result<Issued, ApiError> {
        let clear = || self.inner.flow.cookie().clear_cookie();
        let token = self
            .inner
            .flow
            .cookie()
            .read_token(cookies)
            .map_err(|err| match err {
                CookieError::Duplicate => ApiError::from(err),
                err => ApiError::from(err).clearing_cookie(clear()),
            })?;
        let pair = match self.service().refresh(&token).await {
            Ok(pair) => pair,
            // The rotation may have happened: the browser retries with the
            // token handed back, which gets the successor if it did.
            Err(jwt_rotate::Error::RotationInDoubt {
                source,
                retry_with,
                expires_at,
            }) => {
                let now = self.inner.clock.now();
                let cookie = self
                    .inner
                    .flow
                    .cookie()
                    .set_cookie(&retry_with, expires_at, now);
                let error = ApiError::from(jwt_rotate::Error::Store(source));
                return Err(match cookie {
                    Ok(cookie) => error.replacing_cookie(cookie),
                    Err(_) => error,
                });
            }
            Err(e) => return Err(ApiError::from(e).clearing_cookie(clear())),
        };
        self.issued(&pair)
    }

    /// The caller behind an `Authorization` header: the access token is
    /// verified and its session must still be live, so a logout or a
    /// revoked device takes effect at once rather than when the token
    /// expires (one store read per request).
    ///
    /// # Errors
    /// 401 (no or bad token, revoked session), 503 if the store fails.
    pub async fn authenticate(&self, authorization: Option<&[u8]>) -> Result<User, ApiError> {
        let token = http::bearer_token(authorization)?;
        let claims = self.service().verify_live(token).await?;
        Ok(User {
            subject: claims.sub,
            session_id: claims.sid,
            expires_at: claims.exp,
        })
    }

    /// `GET /me`.
    pub fn me(&self, user: &User) -> MeBody {
        MeBody {
            sub: user.subject.clone(),
            sid: user.session_id.to_string(),
            exp: user.expires_at.unix_timestamp(),
        }
    }

    /// `GET /sessions`: the caller's live sessions, newest first.
    ///
    /// # Errors
    /// 503 if the store fails.
    pub async fn sessions(&self, user: &User) -> Result<Vec<SessionBody>, ApiError> {
        let sessions = self.service().sessions(&user.subject).await?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionBody::new(&s, &user.session_id))
            .collect())
    }

    /// `DELETE /sessions/{id}`: revokes one of the caller's sessions.
    ///
    /// # Errors
    /// 404 if `id` is not one of the caller's live sessions; 503.
    pub async fn revoke_session(&self, user: &User, id: &str) -> Result<(), ApiError> {
        let id: SessionId = id.parse().map_err(|_| ApiError::not_found())?;
        let sessions = self.service().sessions(&user.subject).await?;
        if !sessions.iter().any(|s| s.id == id) {
            return Err(ApiError::not_found());
        }
        self.service().revoke_session(&id).await?;
        Ok(())
    }

    /// `POST /auth/logout-others`: revokes every session of the caller but
    /// this one.
    ///
    /// # Errors
    /// 503 if the store fails.
    pub async fn logout_others(&self, user: &User) -> Result<RevokedBody, ApiError> {
        let revoked = self
            .inner
            .flow
            .service()
            .revoke_subject(&user.subject, Some(&user.session_id))
            .await?;
        Ok(RevokedBody { revoked })
    }

    fn issued(&self, pair: &TokenPair) -> Result<Issued, ApiError> {
        let now = self.inner.clock.now();
        let set_cookie = self
            .inner
            .flow
            .cookie()
            .set_cookie(&pair.refresh_token, pair.refresh_expires_at, now)
            .map_err(|_| ApiError::internal("the refresh token does not fit in a cookie"))?;
        Ok(Issued {
            body: TokenBody::new(pair, now, jwt_rotate::web::ClientKind::Browser),
            set_cookie,
        })
    }
}

pub use jwt_rotate::web::session_info;

fn random_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    secret
}
