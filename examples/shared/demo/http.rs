//! The HTTP side both servers share, free of any framework: error answers,
//! the Bearer header, the JSON bodies and the static page. The CSRF check
//! is in `csrf.rs`.

use std::error::Error as _;
use std::fmt;

use jwt_rotate::{CookieError, ErrorClass, SetCookie};
use serde::{Deserialize, Serialize};

/// The page, served at `/`.
pub const INDEX_HTML: &str = include_str!("../../web/index.html");
/// The page's script, served at `/app.js`.
pub const APP_JS: &str = include_str!("../../web/app.js");
/// The page's policy: scripts from this origin only, so an injected inline
/// script cannot read the access token held in the page's memory.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     connect-src 'self'; style-src 'unsafe-inline'; form-action 'none'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The largest request body read (login, password change): theirs are well
/// under a kilobyte, and both servers must refuse the same bodies, with
/// the same 413 answer, before parsing any.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// `POST /auth/login` body.
#[derive(Deserialize)]
pub struct LoginRequest {
    /// The account name.
    pub username: String,
    /// Its password.
    pub password: String,
}

/// `POST /auth/password` body.
#[derive(Deserialize)]
pub struct PasswordRequest {
    /// The password now.
    pub current_password: String,
    /// The password to set.
    pub new_password: String,
}

/// A token response, with OAuth 2's field names (RFC 6749 §5.1).
#[derive(Serialize)]
pub struct TokenBody {
    /// The access token, for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// `GET /me`.
#[derive(Serialize)]
pub struct MeBody {
    /// The user.
    pub sub: String,
    /// The session (device) the access token belongs to.
    pub sid: String,
    /// When the access token expires, in Unix seconds.
    pub exp: i64,
}

/// One row of `GET /sessions`.
#[derive(Serialize)]
pub struct SessionBody {
    /// The session id, for `DELETE /sessions/{id}`.
    pub id: String,
    /// Whether it is the session making this request.
    pub current: bool,
    /// The `User-Agent` seen at login.
    pub user_agent: Option<String>,
    /// The client address seen at login.
    pub ip: Option<String>,
    /// Login time, Unix seconds.
    pub created_at: i64,
    /// Last rotation, Unix seconds.
    pub refreshed_at: i64,
    /// When the session ends if not refreshed (or at its absolute end).
    pub expires_at: i64,
}

/// How many sessions an operation revoked.
#[derive(Serialize)]
pub struct RevokedBody {
    /// The count.
    pub revoked: u64,
}

/// An error answer: `{"error": code}` with its status.
#[derive(Serialize)]
pub struct ErrorBody {
    /// A short stable code; never says why a token failed beyond it.
    pub error: &'static str,
}

/// Everything a request can fail with, mapped to one answer in
/// [`ApiError::status`] and [`ApiError::headers`].
#[derive(Debug)]
pub struct ApiError {
    problem: Problem,
    cookie: Option<CookieChange>,
}

/// What an error answer does to the refresh cookie.
#[derive(Debug)]
enum CookieChange {
    /// Deletes it (this `Set-Cookie` value): its token is dead.
    Clear(String),
    /// Replaces it: the rotation is in doubt, and the client must retry
    /// with the token the library handed back.
    Replace(SetCookie),
}

#[derive(Debug)]
enum Problem {
    Token(jwt_rotate::Error),
    Cookie(CookieError),
    MissingBearer,
    InvalidCredentials,
    WrongPassword,
    WeakPassword,
    CrossSite,
    TooManyAttempts { retry_after_secs: i64 },
    Busy,
    PayloadTooLarge,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    Internal(&'static str),
}

impl ApiError {
    /// No `Authorization: Bearer` header.
    pub fn missing_bearer() -> Self {
        Problem::MissingBearer.into()
    }
    /// Unknown user or wrong password at login.
    pub fn invalid_credentials() -> Self {
        Problem::InvalidCredentials.into()
    }
    /// The current password given to a password change is wrong.
    pub fn wrong_password() -> Self {
        Problem::WrongPassword.into()
    }
    /// The new password is too short or too long.
    pub fn weak_password() -> Self {
        Problem::WeakPassword.into()
    }
    /// The request came from another site (CSRF check).
    pub fn cross_site() -> Self {
        Problem::CrossSite.into()
    }
    /// Too many wrong passwords for this user or from this address: retry
    /// after `retry_after` (rounded up to whole seconds, at least one).
    pub fn too_many_attempts(retry_after: time::Duration) -> Self {
        let whole = retry_after.whole_seconds();
        let up = if retry_after > time::Duration::seconds(whole) {
            whole.saturating_add(1)
        } else {
            whole
        };
        Problem::TooManyAttempts {
            retry_after_secs: up.max(1),
        }
        .into()
    }
    /// Every password-hashing slot and queue place is taken.
    pub fn busy() -> Self {
        Problem::Busy.into()
    }
    /// The body is over [`MAX_BODY_BYTES`].
    pub fn payload_too_large() -> Self {
        Problem::PayloadTooLarge.into()
    }
    /// The body is not the JSON expected.
    pub fn bad_request() -> Self {
        Problem::BadRequest.into()
    }
    /// No such resource for this user.
    pub fn not_found() -> Self {
        Problem::NotFound.into()
    }
    /// The path exists, not with this method.
    pub fn method_not_allowed() -> Self {
        Problem::MethodNotAllowed.into()
    }
    /// A server-side failure that is not the token store's.
    pub fn internal(what: &'static str) -> Self {
        Problem::Internal(what).into()
    }

    /// Also deletes the refresh cookie, if the answer is 401: the cookie's
    /// token is dead. A 503 keeps it, so the client can retry.
    pub fn clearing_cookie(mut self, clear_cookie: String) -> Self {
        if self.status() == 401 {
            self.cookie = Some(CookieChange::Clear(clear_cookie));
        }
        self
    }

    /// Also replaces the refresh cookie with `retry_with`: the token a
    /// rotation in doubt hands back (`Error::RotationInDoubt`), which the
    /// browser then sends when it retries after the 503.
    pub fn replacing_cookie(mut self, retry_with: SetCookie) -> Self {
        self.cookie = Some(CookieChange::Replace(retry_with));
        self
    }

    /// The HTTP status: the crate's [`ErrorClass`] decides between 401
    /// (log in again), 503 (keep the tokens, try later) and 500 (our
    /// fault: retrying will not help).
    pub fn status(&self) -> u16 {
        match &self.problem {
            Problem::Token(err) => match err.class() {
                ErrorClass::Unauthorized => 401,
                ErrorClass::TryLater => 503,
                _ => 500,
            },
            // A crafted request, refused as a whole: not a dead cookie.
            Problem::Cookie(CookieError::TooMany) => 400,
            Problem::Cookie(_) | Problem::MissingBearer | Problem::InvalidCredentials => 401,
            Problem::WrongPassword | Problem::CrossSite => 403,
            Problem::BadRequest | Problem::WeakPassword => 400,
            Problem::NotFound => 404,
            Problem::MethodNotAllowed => 405,
            Problem::PayloadTooLarge => 413,
            Problem::TooManyAttempts { .. } => 429,
            Problem::Internal(_) => 500,
            Problem::Busy => 503,
        }
    }

    /// The short code of the JSON body.
    pub fn code(&self) -> &'static str {
        match &self.problem {
            Problem::Token(err) => err.code(),
            Problem::Cookie(CookieError::TooMany) => "too_many_cookies",
            Problem::Cookie(err) => err.code(),
            Problem::MissingBearer => "missing_token",
            Problem::InvalidCredentials | Problem::WrongPassword => "invalid_credentials",
            Problem::WeakPassword => "weak_password",
            Problem::CrossSite => "cross_site_request",
            Problem::TooManyAttempts { .. } => "too_many_attempts",
            Problem::Busy => "server_busy",
            Problem::PayloadTooLarge => "payload_too_large",
            Problem::BadRequest => "invalid_request",
            Problem::NotFound => "not_found",
            Problem::MethodNotAllowed => "method_not_allowed",
            Problem::Internal(_) => "server_error",
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: self.code() }
    }

    /// The headers to send with it; logs server-side failures with their
    /// causes (the client only gets the code).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![("cache-control", "no-store".to_owned())];
        match &self.problem {
            Problem::MissingBearer => headers.push(("www-authenticate", "Bearer".to_owned())),
            Problem::Token(err) if self.status() == 401 => headers.push((
                "www-authenticate",
                format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    err.code()
                ),
            )),
            _ => {}
        }
        match &self.problem {
            Problem::TooManyAttempts { retry_after_secs } => {
                headers.push(("retry-after", retry_after_secs.to_string()));
            }
            // Load, not a fault: a hash slot frees in milliseconds.
            Problem::Busy => {
                headers.push(("retry-after", "1".to_owned()));
                tracing::warn!("password hashing is at its bound; login refused");
            }
            _ if self.status() >= 500 => {
                headers.push(("retry-after", "5".to_owned()));
                tracing::error!(code = self.code(), cause = %Causes(self), "request failed");
            }
            _ => {}
        }
        match &self.cookie {
            Some(CookieChange::Clear(clear)) => headers.push(("set-cookie", clear.clone())),
            Some(CookieChange::Replace(set)) => {
                headers.push(("set-cookie", set.expose_secret().to_owned()));
            }
            None => {}
        }
        headers
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self {
            problem,
            cookie: None,
        }
    }
}

impl From<jwt_rotate::Error> for ApiError {
    fn from(err: jwt_rotate::Error) -> Self {
        Problem::Token(err).into()
    }
}

impl From<CookieError> for ApiError {
    fn from(err: CookieError) -> Self {
        Problem::Cookie(err).into()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            Problem::Token(err) => Some(err),
            Problem::Cookie(err) => Some(err),
            _ => None,
        }
    }
}

/// An error and its chain of sources, for the server's log.
struct Causes<'a>(&'a ApiError);

impl fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.problem {
            Problem::Internal(what) => f.write_str(what)?,
            _ => write!(f, "{}", self.0.code())?,
        }
        let mut source = self.0.source();
        while let Some(err) = source {
            write!(f, ": {err}")?;
            source = err.source();
        }
        Ok(())
    }
}

/// The token of an `Authorization: Bearer <token>` header value.
///
/// # Errors
/// [`ApiError::missing_bearer`] when there is no header, another scheme,
/// or no token.
pub fn bearer_token(authorization: Option<&[u8]>) -> Result<&str, ApiError> {
    let value = authorization.ok_or_else(ApiError::missing_bearer)?;
    let value = std::str::from_utf8(value).map_err(|_| ApiError::missing_bearer())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(ApiError::missing_bearer)?;
    let token = token.trim_matches(' ');
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::missing_bearer());
    }
    Ok(token)
}

#[cfg(test)]
mod tests;
