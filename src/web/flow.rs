//! [`AuthFlow`]: the session routes, free of any framework: each takes the
//! request's headers (and body) and returns the [`Reply`] to send.

use std::net::IpAddr;
use std::sync::Arc;

use super::body::{ClientKind, LoginRequest, TokenBody};
use super::client::{TrustedProxies, session_info};
use super::credentials::{Credentials, Login};
use super::dpop::{bound_to, is_proof_error, with_fresh_nonce};
use super::error::{HttpError, bearer_token};
use super::reply::Reply;
use super::throttle::LoginThrottle;
use super::verification::Verification;
use crate::cookie::{CookieError, RefreshCookie, RequestHeaders};
use crate::error::Error;
use crate::secret::RefreshToken;
use crate::service::TokenService;
use crate::store::RefreshStore;
use crate::token::{AccessClaims, AppClaims, TokenPair};

/// Usernames longer than this are refused (400) before any work: they
/// would only fill the throttle's tables.
pub const MAX_USERNAME_BYTES: usize = 256;

/// The largest request body a login (or an OAuth route) reads; larger
/// ones are 413 (400 `invalid_request` on the OAuth routes). Framework glue
/// enforces it before reading the body.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The session routes of a web app (login, refresh, logout, log out the
/// other devices, the device list, the JWKS), framework-neutral: framework
/// crates such as `jwt-rotate-axum` turn a request into [`RequestHeaders`]
/// and a body, call the route's method, and copy the [`Reply`] (or
/// [`HttpError::reply`]) into their response. Cheap to clone.
///
/// Built by [`AuthFlow::builder`]; see the crate's README for the routes'
/// contract.
pub struct AuthFlow<S, C = crate::token::NoClaims> {
    pub(super) inner: Arc<Inner<S, C>>,
}

pub(super) struct Inner<S, C> {
    pub(super) service: TokenService<S, C>,
    pub(super) cookie: RefreshCookie,
    pub(super) credentials: Arc<dyn Credentials<C>>,
    pub(super) throttle: LoginThrottle,
    pub(super) proxies: TrustedProxies,
    pub(super) verification: Verification,
    /// Who may call `POST /oauth/introspect`; none: the route is disabled.
    #[cfg(feature = "oauth")]
    pub(super) introspection: Option<crate::oauth::IntrospectionClient>,
}

impl<S, C> Clone for AuthFlow<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S, C> std::fmt::Debug for AuthFlow<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthFlow")
            .field("cookie", &self.inner.cookie)
            .field("proxies", &self.inner.proxies)
            .field("verification", &self.inner.verification)
            .finish_non_exhaustive()
    }
}

impl<S: RefreshStore, C: AppClaims> AuthFlow<S, C> {
    /// The token service.
    pub fn service(&self) -> &TokenService<S, C> {
        &self.inner.service
    }

    /// The refresh cookie's settings.
    pub fn cookie(&self) -> &RefreshCookie {
        &self.inner.cookie
    }

    /// The login throttle, for the app's other password checks (e.g. a
    /// password change) to count guesses in the same buckets.
    pub fn throttle(&self) -> &LoginThrottle {
        &self.inner.throttle
    }

    /// How protected routes check access tokens: framework glue that
    /// reads the `Authorization` header itself can verify without a
    /// future when no store read is needed.
    pub fn verification(&self) -> Verification {
        self.inner.verification
    }

    /// The client of a request from `peer`: the peer, or behind a trusted
    /// proxy the address it forwarded.
    pub fn client_address(
        &self,
        headers: &RequestHeaders<'_>,
        peer: Option<IpAddr>,
    ) -> Option<IpAddr> {
        let forwarded = headers.forwarded_for().iter().copied();
        self.inner.proxies.client_address(peer, forwarded)
    }

    /// The caller of a protected route, from its `Authorization: Bearer`
    /// access token, or `Authorization: DPoP` with the `DPoP` proof of the
    /// request (its `ath` included; needs
    /// [`RequestHeaders::with_target`]), checked as configured
    /// ([`Verification`]). A DPoP-bound token sent as Bearer is refused.
    ///
    /// # Errors
    /// 401 (no or bad token, revoked session, refused proof), 503 if the
    /// store fails.
    pub async fn authenticate(
        &self,
        headers: &RequestHeaders<'_>,
    ) -> Result<AccessClaims<C>, HttpError> {
        if let Some(token) = self.dpop_authorization(headers) {
            return self.authenticate_dpop(token, headers).await;
        }
        self.authenticate_bearer(headers.authorization()).await
    }

    /// [`authenticate`](Self::authenticate) from the `Authorization` header
    /// value alone (`None` if absent or sent twice), for extractors that
    /// need no other header.
    ///
    /// # Errors
    /// As `authenticate`.
    pub async fn authenticate_bearer(
        &self,
        authorization: Option<&[u8]>,
    ) -> Result<AccessClaims<C>, HttpError> {
        let token = bearer_token(authorization)?;
        let claims = match self.inner.verification {
            Verification::Live => self.inner.service.verify_live(token).await?,
            Verification::Signature => self.inner.service.verify(token)?,
        };
        Ok(claims)
    }

    /// `POST /auth/login` from `peer`, JSON `{"username", "password"[,
    /// "client": "native"]}`: CSRF check, throttle, the app's
    /// [`Credentials`], then a session, bound to the key of the request's
    /// `DPoP` proof if it has one. The sessions of the refresh cookies the
    /// browser still sends are ended first, so none lingers.
    ///
    /// # Errors
    /// 403 cross-site, 400 bad body or too many cookies, 401 wrong
    /// credentials or refused proof, 429 throttled, 503 busy or store
    /// down, 500.
    pub async fn login(
        &self,
        headers: &RequestHeaders<'_>,
        peer: Option<IpAddr>,
        body: &[u8],
    ) -> Result<Reply, HttpError> {
        let inner = &*self.inner;
        inner.cookie.check_same_origin(headers)?;
        if body.len() > MAX_BODY_BYTES {
            return Err(HttpError::payload_too_large());
        }
        let request: LoginRequest =
            serde_json::from_slice(body).map_err(|_| HttpError::bad_request())?;
        if request.username.len() > MAX_USERNAME_BYTES {
            return Err(HttpError::bad_request());
        }
        let proof = self.login_proof(headers).await?;
        // Junk cookies end no session and need not stop a login.
        let previous = match self.candidates(headers) {
            Ok(tokens) => tokens.unwrap_or_default(),
            Err(err) if err.status() == 401 => Vec::new(),
            Err(err) => return Err(err),
        };
        let client = self.client_address(headers, peer);
        let ticket = inner.throttle.try_take(&request.username, client)?;
        let checked = inner
            .credentials
            .check(&request.username, &request.password)
            .await;
        let login = match checked {
            Ok(Some(login)) => login,
            // A wrong guess: the ticket keeps its charge.
            Ok(None) => return Err(HttpError::invalid_credentials()),
            Err(err) => {
                ticket.refund();
                return Err(err.into());
            }
        };
        ticket.refund();
        self.end_sessions(&previous).await?;
        let info = session_info(headers.user_agent(), client);
        let Login {
            subject,
            claims,
            stamp,
        } = login;
        let pair = inner
            .service
            .issue_with(&subject, claims, bound_to(info, proof))
            .await?;
        if let Some(stamp) = stamp {
            let current = inner.credentials.stamp_is_current(&subject, &stamp).await;
            if !matches!(current, Ok(true)) {
                inner.service.revoke(&pair.refresh_token).await?;
                return Err(match current {
                    Err(err) => err.into(),
                    Ok(_) => HttpError::invalid_credentials(),
                });
            }
        }
        let reply = self.tokens(&pair, request.client)?;
        Ok(with_fresh_nonce(&inner.service, headers, reply))
    }

    /// `POST /auth/refresh`: CSRF check, then rotates the cookie's token,
    /// with the request's `DPoP` proof if any (a bound session needs one).
    /// A 401 deletes the cookie, except for a refused proof; a 503 keeps
    /// it, or, when the rotation is in doubt, replaces it with the token to
    /// retry with.
    ///
    /// Strict about the cookie: with two of the name (one may have been
    /// planted by a sibling domain) the refresh is refused (401
    /// `invalid_token`) and the cookie kept; the next login or logout ends
    /// the session of each (they revoke every candidate).
    ///
    /// # Errors
    /// 403, 401 (missing, duplicated, invalid, reused, revoked, expired),
    /// 503, 500.
    pub async fn refresh(&self, headers: &RequestHeaders<'_>) -> Result<Reply, HttpError> {
        let inner = &*self.inner;
        let clear = || inner.cookie.clear_cookie();
        let token = inner
            .cookie
            .read_token_same_origin(headers)
            .map_err(|err| match err {
                CookieError::Duplicate | CookieError::CrossSite => HttpError::from(err),
                err => HttpError::from(err).clearing_cookie(clear()),
            })?;
        match self.rotate(&token, headers).await {
            Ok(pair) => {
                let reply = self.tokens(&pair, ClientKind::Browser)?;
                Ok(with_fresh_nonce(&inner.service, headers, reply))
            }
            // The rotation may have happened: the browser retries with the
            // token handed back, which gets the successor if it did.
            Err(Error::RotationInDoubt {
                source,
                retry_with,
                expires_at,
            }) => {
                let cookie = inner
                    .cookie
                    .set_cookie(&retry_with, expires_at, inner.service.now());
                let error = HttpError::from(Error::Store(source));
                Err(match cookie {
                    Ok(cookie) => error.replacing_cookie(cookie),
                    Err(_) => error,
                })
            }
            Err(err) if is_proof_error(&err) => Err(err.into()),
            Err(err) => Err(HttpError::from(err).clearing_cookie(clear())),
        }
    }

    /// `POST /auth/logout`: CSRF check, then revokes the session of every
    /// refresh cookie that verifies (a planted cookie cannot cancel the
    /// logout) and deletes the cookie: 204. No cookie at all is a 204 too.
    ///
    /// # Errors
    /// 403; 401 when there are refresh cookies and none verifies (the
    /// cookie is deleted); 400 for too many cookies; 503 (the cookie stays,
    /// so the logout can be retried).
    pub async fn logout(&self, headers: &RequestHeaders<'_>) -> Result<Reply, HttpError> {
        let clear = self.inner.cookie.clear_cookie();
        let done = Reply::empty(204).with_header("set-cookie", clear.clone());
        let tokens = match self.candidates(headers) {
            Ok(None) => return Ok(done),
            Ok(Some(tokens)) => tokens,
            Err(err) if err.status() == 401 => return Err(err.clearing_cookie(clear)),
            Err(err) => return Err(err),
        };
        match self.end_sessions(&tokens).await? {
            (0, Some(refused)) => Err(HttpError::from(refused).clearing_cookie(clear)),
            (0, None) => Err(HttpError::from(CookieError::InvalidValue).clearing_cookie(clear)),
            _ => Ok(done),
        }
    }

    /// `GET /.well-known/jwks.json`: the public access keys, `Cache-Control:
    /// public, max-age=300`. A verifier fetches a new `kid` at once, so the
    /// age only bounds how long a withdrawn (retired, compromised) key still
    /// verifies where it is cached: a third of the default access lifetime.
    pub fn jwks(&self) -> Reply {
        Reply::json(200, self.inner.service.jwks())
            .with_header("cache-control", "public, max-age=300")
    }

    /// A token response for `pair`: the JSON body, and for a browser the
    /// refresh cookie; never cached (RFC 6749 section 5.1).
    fn tokens(&self, pair: &TokenPair, client: ClientKind) -> Result<Reply, HttpError> {
        let service = &self.inner.service;
        let reply = Reply::json(200, &TokenBody::new(pair, service.now(), client))
            .with_header("cache-control", "no-store");
        match client {
            ClientKind::Native => Ok(reply),
            _ => {
                let cookie = self
                    .inner
                    .cookie
                    .set_cookie_for(pair, service)
                    .map_err(|_| {
                        HttpError::internal("the refresh token does not fit in a cookie")
                    })?;
                Ok(reply.with_header("set-cookie", cookie.expose_secret()))
            }
        }
    }

    /// Every refresh cookie of a same-origin request: `None` without any.
    ///
    /// # Errors
    /// 403 cross-site; 400 `too_many_cookies` (a crafted request, refused
    /// before any work rather than cut to a subset it chose); 401 when
    /// there are cookies of the name and none has a token's characters.
    fn candidates(
        &self,
        headers: &RequestHeaders<'_>,
    ) -> Result<Option<Vec<RefreshToken>>, HttpError> {
        match self.inner.cookie.read_candidates_same_origin(headers) {
            Ok(tokens) => Ok(Some(tokens)),
            Err(CookieError::Missing) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Revokes the session of every token that verifies; returns how many
    /// verified, and the first refusal, to answer with when none did.
    async fn end_sessions(
        &self,
        tokens: &[RefreshToken],
    ) -> Result<(usize, Option<Error>), HttpError> {
        let mut verified = 0;
        let mut refused = None;
        for token in tokens {
            match self.inner.service.revoke(token).await {
                Ok(_) => verified += 1,
                Err(err) if err.is_unauthorized() => {
                    refused.get_or_insert(err);
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok((verified, refused))
    }
}
