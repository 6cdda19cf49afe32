//! What the axum and the actix-web servers share: the application behind
//! the routes, free of any framework. Each server includes this file with
//! `#[path]` and only adds its routes, extractors and responses.

mod config;
pub mod http;
pub mod users;

use std::net::IpAddr;
use std::sync::Arc;

use jwt_rotate::{
    Clock, CookieError, Key, NoClaims, RefreshCookie, RefreshToken, SessionId, SessionInfo,
    SetCookie, TokenPair, TokenService,
};

use jwt_rotate::store::RefreshStore;
use time::OffsetDateTime;

pub use self::config::{Config, EnvError, Signing, sqlite_store};
use self::http::{
    ApiError, LoginRequest, MeBody, PasswordRequest, RevokedBody, SessionBody, TokenBody,
};
use self::users::{PasswordChangeError, Users};

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
    service: TokenService<Store>,
    users: Users,
    cookie: RefreshCookie,
    clock: Arc<dyn Clock>,
}

impl AppState {
    /// Builds the service over `config`'s store and keys, and hashes the
    /// demo passwords.
    ///
    /// # Errors
    /// An invalid `config` (e.g. a grace window not below the access
    /// lifetime), or hashing failed.
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
            .clock(Arc::clone(&config.clock))
            .build(config.store)?;
        let cookie = RefreshCookie::builder()
            .security(config.cookie_security)
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                service,
                users: Users::demo()?,
                cookie,
                clock: config.clock,
            }),
        })
    }

    /// The token service (tests look at the store through it).
    pub fn service(&self) -> &TokenService<Store> {
        &self.inner.service
    }

    /// The refresh cookie's settings, to read it from requests.
    pub fn cookie(&self) -> &RefreshCookie {
        &self.inner.cookie
    }

    /// `POST /auth/login`: checks the password (off the async runtime) and
    /// starts a session. A refresh cookie the browser still holds is logged
    /// out first, so it does not linger as an orphan session.
    ///
    /// # Errors
    /// 400 for a bad body, 401 for wrong credentials, 503 if the store fails.
    pub async fn login(
        &self,
        body: &[u8],
        info: SessionInfo,
        previous: Result<RefreshToken, CookieError>,
    ) -> Result<Issued, ApiError> {
        let request: LoginRequest =
            serde_json::from_slice(body).map_err(|_| ApiError::bad_request())?;
        let state = self.clone();
        let username = request.username.clone();
        let valid = tokio::task::spawn_blocking(move || {
            state.inner.users.verify(&username, &request.password)
        })
        .await
        .map_err(|_| ApiError::internal("password check panicked"))?;
        if !valid {
            return Err(ApiError::invalid_credentials());
        }
        if let Ok(previous) = previous {
            match self.inner.service.revoke(&previous).await {
                Err(err) if !err.is_unauthorized() => return Err(err.into()),
                _ => {}
            }
        }
        let pair = self
            .inner
            .service
            .issue(&request.username, NoClaims {}, info)
            .await?;
        self.issued(&pair)
    }

    /// `POST /auth/refresh`: rotates the cookie's token. A 401 also deletes
    /// the cookie; a 503 keeps it.
    ///
    /// # Errors
    /// 401 (missing, invalid, reused, revoked or expired), 503.
    pub async fn refresh(
        &self,
        cookie: Result<RefreshToken, CookieError>,
    ) -> Result<Issued, ApiError> {
        let clear = || self.inner.cookie.clear_cookie();
        let token = cookie.map_err(|e| ApiError::from(e).clearing_cookie(clear()))?;
        let pair = self
            .inner
            .service
            .refresh(&token)
            .await
            .map_err(|e| ApiError::from(e).clearing_cookie(clear()))?;
        self.issued(&pair)
    }

    /// `POST /auth/logout`: revokes the cookie's session and returns the
    /// `Set-Cookie` value that deletes it. No cookie, or a token that is
    /// not ours: nothing to revoke, the cookie goes all the same.
    ///
    /// # Errors
    /// 503 if the store fails (the cookie stays, so the logout can be
    /// retried).
    pub async fn logout(
        &self,
        cookie: Result<RefreshToken, CookieError>,
    ) -> Result<String, ApiError> {
        if let Ok(token) = cookie {
            match self.inner.service.revoke(&token).await {
                Err(err) if !err.is_unauthorized() => return Err(err.into()),
                _ => {}
            }
        }
        Ok(self.inner.cookie.clear_cookie())
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
        let claims = self.inner.service.verify_live(token).await?;
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
        let sessions = self.inner.service.sessions(&user.subject).await?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionBody {
                id: s.id.to_string(),
                current: s.id == user.session_id,
                user_agent: s.info.user_agent.clone(),
                ip: s.info.ip.map(|ip| ip.to_string()),
                created_at: s.created_at.unix_timestamp(),
                refreshed_at: s.refreshed_at.unix_timestamp(),
                expires_at: s
                    .idle_expires_at
                    .min(s.absolute_expires_at)
                    .unix_timestamp(),
            })
            .collect())
    }

    /// `DELETE /sessions/{id}`: revokes one of the caller's sessions.
    ///
    /// # Errors
    /// 404 if `id` is not one of the caller's live sessions; 503.
    pub async fn revoke_session(&self, user: &User, id: &str) -> Result<(), ApiError> {
        let id: SessionId = id.parse().map_err(|_| ApiError::not_found())?;
        let sessions = self.inner.service.sessions(&user.subject).await?;
        if !sessions.iter().any(|s| s.id == id) {
            return Err(ApiError::not_found());
        }
        self.inner.service.revoke_session(&id).await?;
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
            .service
            .revoke_subject(&user.subject, Some(&user.session_id))
            .await?;
        Ok(RevokedBody { revoked })
    }

    /// `POST /auth/password`: changes the password and revokes every other
    /// session (whoever else knew the old password is logged out).
    ///
    /// # Errors
    /// 400 for a bad body or a weak password, 403 for a wrong current
    /// password, 503.
    pub async fn change_password(&self, user: &User, body: &[u8]) -> Result<RevokedBody, ApiError> {
        let request: PasswordRequest =
            serde_json::from_slice(body).map_err(|_| ApiError::bad_request())?;
        let state = self.clone();
        let subject = user.subject.clone();
        let changed = tokio::task::spawn_blocking(move || {
            state.inner.users.change_password(
                &subject,
                &request.current_password,
                &request.new_password,
            )
        })
        .await
        .map_err(|_| ApiError::internal("password change panicked"))?;
        match changed {
            Ok(()) => {}
            Err(PasswordChangeError::WrongPassword) => return Err(ApiError::wrong_password()),
            Err(PasswordChangeError::Weak) => return Err(ApiError::weak_password()),
            Err(PasswordChangeError::Hashing) => return Err(ApiError::internal("hashing failed")),
        }
        self.logout_others(user).await
    }

    fn issued(&self, pair: &TokenPair) -> Result<Issued, ApiError> {
        let now = self.inner.clock.now();
        let set_cookie = self
            .inner
            .cookie
            .set_cookie(&pair.refresh_token, pair.refresh_expires_at, now)
            .map_err(|_| ApiError::internal("the refresh token does not fit in a cookie"))?;
        Ok(Issued {
            body: TokenBody {
                access_token: pair.access_token.expose_secret().to_owned(),
                token_type: "Bearer",
                // Rounded down, so the client renews early rather than late.
                expires_in: (pair.access_expires_at - now).whole_seconds().max(0),
            },
            set_cookie,
        })
    }
}

/// What a login records about the device: its `User-Agent` (cut to 200
/// characters) and address.
pub fn session_info(user_agent: Option<&[u8]>, ip: Option<IpAddr>) -> SessionInfo {
    let mut info = SessionInfo::default();
    if let Some(agent) = user_agent {
        let agent: String = String::from_utf8_lossy(agent).chars().take(200).collect();
        info = info.with_user_agent(agent);
    }
    if let Some(ip) = ip {
        info = info.with_ip(ip);
    }
    info
}

fn random_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    secret
}
