//! [`HttpError`]: every failure of a session route, mapped to one answer
//! (status, code, challenge, `Retry-After`, cookie change).

use std::error::Error as _;
use std::fmt;

use time::Duration;

use super::body::ErrorBody;
use super::credentials::CredentialsError;
use super::dpop;
use super::reply::Reply;
use super::throttle::Throttled;
use crate::cookie::{CookieError, SetCookie};
use crate::error::{Error, ErrorClass};

/// Seconds a client waits after a 503 from the store.
const STORE_RETRY_AFTER: &str = "5";

/// A failed request: the HTTP answer of a library error, a cookie problem,
/// a throttled or wrong login, or an app's own refusal.
///
/// [`status`](Self::status), [`code`](Self::code) and
/// [`headers`](Self::headers) make the answer; [`reply`](Self::reply) makes
/// all of it, JSON body `{"error": code}` included. Server-side failures
/// (500, 503) are logged with their causes through `tracing` when the
/// answer is made; the client gets the code only.
///
/// ```
/// use jwt_rotate::Error;
/// use jwt_rotate::web::HttpError;
///
/// let expired = HttpError::from(Error::Expired);
/// assert_eq!((expired.status(), expired.code()), (401, "token_expired"));
/// let reply = expired.reply();
/// assert!(reply.header("www-authenticate").is_some_and(|v| v.contains("invalid_token")));
/// ```
#[derive(Debug)]
pub struct HttpError {
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
    Token(Error),
    Cookie(CookieError),
    Credentials(CredentialsError),
    MissingBearer,
    InvalidCredentials,
    TooManyAttempts { retry_after_secs: i64 },
    PayloadTooLarge,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    Internal(&'static str),
    App { status: u16, code: &'static str },
}

impl HttpError {
    /// No `Authorization: Bearer` header: 401 `missing_token`.
    pub fn missing_bearer() -> Self {
        Problem::MissingBearer.into()
    }
    /// Unknown user or wrong password at login: 401 `invalid_credentials`.
    pub fn invalid_credentials() -> Self {
        Problem::InvalidCredentials.into()
    }
    /// The body is over the size limit: 413 `payload_too_large`.
    pub fn payload_too_large() -> Self {
        Problem::PayloadTooLarge.into()
    }
    /// The body is not the JSON expected: 400 `invalid_request`.
    pub fn bad_request() -> Self {
        Problem::BadRequest.into()
    }
    /// No such resource for this user: 404 `not_found`.
    pub fn not_found() -> Self {
        Problem::NotFound.into()
    }
    /// The path exists, not with this method: 405 `method_not_allowed`.
    pub fn method_not_allowed() -> Self {
        Problem::MethodNotAllowed.into()
    }
    /// A server-side failure that is not the store's: 500 `server_error`;
    /// `what` goes to the log only.
    pub fn internal(what: &'static str) -> Self {
        Problem::Internal(what).into()
    }
    /// An application's own refusal, e.g. `(400, "weak_password")`. A
    /// status outside 400 to 599 is answered as 500.
    pub fn app(status: u16, code: &'static str) -> Self {
        Problem::App { status, code }.into()
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
    /// rotation in doubt hands back ([`Error::RotationInDoubt`]), which the
    /// browser then sends when it retries after the 503.
    pub fn replacing_cookie(mut self, retry_with: SetCookie) -> Self {
        self.cookie = Some(CookieChange::Replace(retry_with));
        self
    }

    /// The library error behind this answer, if it is one.
    pub fn token_error(&self) -> Option<&Error> {
        match &self.problem {
            Problem::Token(err) => Some(err),
            _ => None,
        }
    }

    /// The HTTP status. For a library error its [`ErrorClass`] decides:
    /// 401 (log in again), 503 (keep the tokens, try later) or 500 (our
    /// fault); a cross-site request is 403, a throttled login 429.
    pub fn status(&self) -> u16 {
        match &self.problem {
            Problem::Token(err) => match err.class() {
                ErrorClass::Unauthorized => 401,
                ErrorClass::TryLater => 503,
                _ => 500,
            },
            // A crafted request, refused as a whole: not a dead cookie.
            Problem::Cookie(CookieError::TooMany) => 400,
            Problem::Cookie(CookieError::CrossSite) => 403,
            Problem::Cookie(_) | Problem::MissingBearer | Problem::InvalidCredentials => 401,
            Problem::Credentials(CredentialsError::Busy) => 503,
            Problem::Credentials(_) | Problem::Internal(_) => 500,
            Problem::BadRequest => 400,
            Problem::NotFound => 404,
            Problem::MethodNotAllowed => 405,
            Problem::PayloadTooLarge => 413,
            Problem::TooManyAttempts { .. } => 429,
            Problem::App { status, .. } if (400..600).contains(status) => *status,
            Problem::App { .. } => 500,
        }
    }

    /// The short stable code of the JSON body.
    pub fn code(&self) -> &'static str {
        match &self.problem {
            Problem::Token(err) => err.code(),
            Problem::Cookie(err) => err.code(),
            Problem::Credentials(CredentialsError::Busy) => "server_busy",
            Problem::Credentials(_) | Problem::Internal(_) => "server_error",
            Problem::MissingBearer => "missing_token",
            Problem::InvalidCredentials => "invalid_credentials",
            Problem::TooManyAttempts { .. } => "too_many_attempts",
            Problem::PayloadTooLarge => "payload_too_large",
            Problem::BadRequest => "invalid_request",
            Problem::NotFound => "not_found",
            Problem::MethodNotAllowed => "method_not_allowed",
            Problem::App { code, .. } => code,
        }
    }

    /// The JSON body, `{"error": code}`.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: self.code() }
    }

    /// The headers to send with it, names in lowercase: `cache-control`,
    /// `www-authenticate` on a token's 401 (a `DPoP` challenge, and
    /// `dpop-nonce` when a nonce is due, for a refused DPoP proof), `retry-after` on 429 and 503,
    /// `set-cookie` when the cookie changes. Logs server-side failures.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![("cache-control", "no-store".to_owned())];
        match &self.problem {
            Problem::MissingBearer => headers.push(("www-authenticate", "Bearer".to_owned())),
            Problem::Token(err) if dpop::is_proof_error(err) => {
                headers.extend(dpop::challenge(err))
            }
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
            // Load, not a fault: a hashing slot frees in milliseconds.
            Problem::Credentials(CredentialsError::Busy) => {
                headers.push(("retry-after", "1".to_owned()));
                tracing::warn!("password checks are at their bound; login refused");
            }
            _ if self.status() >= 500 => {
                headers.push(("retry-after", STORE_RETRY_AFTER.to_owned()));
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

    /// The whole answer: status, [`headers`](Self::headers) and JSON body.
    pub fn reply(&self) -> Reply {
        Reply::json(self.status(), &self.body()).with_headers(self.headers())
    }
}

impl From<Problem> for HttpError {
    fn from(problem: Problem) -> Self {
        Self {
            problem,
            cookie: None,
        }
    }
}

impl From<Error> for HttpError {
    fn from(err: Error) -> Self {
        Problem::Token(err).into()
    }
}

impl From<CookieError> for HttpError {
    fn from(err: CookieError) -> Self {
        Problem::Cookie(err).into()
    }
}

impl From<CredentialsError> for HttpError {
    fn from(err: CredentialsError) -> Self {
        Problem::Credentials(err).into()
    }
}

impl From<Throttled> for HttpError {
    /// 429, `Retry-After` rounded up to whole seconds (at least one).
    fn from(throttled: Throttled) -> Self {
        let wait = throttled.retry_after;
        let whole = wait.whole_seconds();
        let up = if wait > Duration::seconds(whole) {
            whole.saturating_add(1)
        } else {
            whole
        };
        Problem::TooManyAttempts {
            retry_after_secs: up.max(1),
        }
        .into()
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            Problem::Token(err) => Some(err),
            Problem::Cookie(err) => Some(err),
            Problem::Credentials(err) => Some(err),
            _ => None,
        }
    }
}

/// An error and its chain of sources, for the server's log.
struct Causes<'a>(&'a HttpError);

impl fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.problem {
            Problem::Internal(what) => f.write_str(what)?,
            _ => f.write_str(self.0.code())?,
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
/// [`HttpError::missing_bearer`] when there is no header, another scheme,
/// or no token.
pub fn bearer_token(authorization: Option<&[u8]>) -> Result<&str, HttpError> {
    scheme_token(authorization, "bearer").ok_or_else(HttpError::missing_bearer)
}

/// The token of an `Authorization: <scheme> <token>` header value, the
/// scheme compared without case; `None` for another scheme or no token.
pub(super) fn scheme_token<'a>(authorization: Option<&'a [u8]>, scheme: &str) -> Option<&'a str> {
    let value = std::str::from_utf8(authorization?).ok()?;
    let (sent, token) = value.split_once(' ')?;
    let token = token.trim_matches(' ');
    (sent.eq_ignore_ascii_case(scheme) && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests;
