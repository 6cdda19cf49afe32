//! The refresh-token cookie, for any web framework: `Set-Cookie` values to
//! send and the token read back from `Cookie` headers.
//!
//! Frameworks bundle different versions of the `cookie` crate; this module
//! needs none and works on plain header strings.

use std::fmt;

use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{ConfigError, Error};
use crate::secret::RefreshToken;

/// Browsers drop a cookie whose name and value together exceed this.
const MAX_COOKIE_BYTES: usize = 4096;

/// Whether the refresh cookie carries the `Secure` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CookieSecurity {
    /// `Secure`: the browser sends the cookie over HTTPS only (the default).
    #[default]
    Secure,
    /// No `Secure` attribute, for plain-HTTP development on localhost
    /// only: anywhere else the token would cross the network in clear.
    InsecureLocalhost,
}

/// Why the refresh cookie could not be written or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CookieError {
    /// The request has no refresh-token cookie.
    #[error("no refresh-token cookie")]
    Missing,
    /// The request has the cookie more than once (one may have been planted
    /// by a sibling domain), so which one is the user's is unknown.
    #[error("more than one refresh-token cookie")]
    Duplicate,
    /// The value holds characters no token has (a token is base64url and
    /// dots), or is empty.
    #[error("the refresh-token cookie value is not a token")]
    InvalidValue,
    /// Name and value would exceed 4096 bytes, which browsers drop.
    #[error("the refresh-token cookie would exceed 4096 bytes")]
    TooLarge,
    /// More than [`RefreshCookie::MAX_CANDIDATES`] different values of the
    /// cookie: more than a browser's cookie jar sends for one request, so
    /// a crafted request.
    #[error("more refresh-token cookies than a browser sends")]
    TooMany,
}

impl CookieError {
    /// A short stable code for API bodies, like [`Error::code`]:
    /// `"missing_refresh_token"` or `"invalid_token"`.
    pub fn code(&self) -> &'static str {
        match self {
            CookieError::Missing => "missing_refresh_token",
            CookieError::Duplicate
            | CookieError::InvalidValue
            | CookieError::TooLarge
            | CookieError::TooMany => "invalid_token",
        }
    }
}

/// A `Set-Cookie` header value holding a refresh token: a secret.
///
/// `Debug` is redacted and there is no `Display`; the bytes are zeroized on
/// drop. Read it with [`SetCookie::expose_secret`] to put it in a header.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SetCookie(String);

impl SetCookie {
    /// The header value, to hand to the framework's response.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SetCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetCookie([redacted])")
    }
}

/// How the refresh token travels as a cookie: `HttpOnly` (scripts cannot
/// read it), `SameSite=Strict` (other sites cannot make the browser send
/// it), `Secure` unless told otherwise, scoped to one path.
///
/// ```
/// use jwt_rotate::{CookieSecurity, RefreshCookie, RefreshToken};
/// use time::{Duration, OffsetDateTime};
///
/// let cookie = RefreshCookie::default(); // "refresh_token", Path=/auth, Secure
/// let now = OffsetDateTime::now_utc();
/// let token = RefreshToken::new("eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJhIn0.c2ln");
/// let set = cookie.set_cookie(&token, now + Duration::days(7), now)?;
/// assert_eq!(
///     set.expose_secret(),
///     "refresh_token=eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJhIn0.c2ln; Max-Age=604800; \
///      Path=/auth; HttpOnly; Secure; SameSite=Strict",
/// );
///
/// // On the next request, from its `Cookie` header(s):
/// let back = cookie.read_token(["theme=dark; refresh_token=eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJhIn0.c2ln"])?;
/// assert_eq!(back, token);
///
/// // At logout:
/// assert!(cookie.clear_cookie().starts_with("refresh_token=; Max-Age=0; Path=/auth"));
///
/// // For plain-HTTP development on localhost:
/// let dev = RefreshCookie::builder().security(CookieSecurity::InsecureLocalhost).build()?;
/// assert!(!dev.clear_cookie().contains("Secure"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshCookie {
    name: String,
    path: String,
    security: CookieSecurity,
}

impl Default for RefreshCookie {
    /// Name `refresh_token`, `Path=/auth`, [`CookieSecurity::Secure`].
    fn default() -> Self {
        Self {
            name: "refresh_token".to_owned(),
            path: "/auth".to_owned(),
            security: CookieSecurity::Secure,
        }
    }
}

impl RefreshCookie {
    /// A builder starting from the defaults (see [`RefreshCookie::default`]).
    pub fn builder() -> RefreshCookieBuilder {
        RefreshCookieBuilder {
            cookie: Self::default(),
        }
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The path the browser sends the cookie to (and below).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the cookie is `Secure`.
    pub fn security(&self) -> CookieSecurity {
        self.security
    }

    /// The `Set-Cookie` value carrying `token`, which expires at
    /// `expires_at`; `Max-Age` counts whole seconds from `now` (zero if the
    /// token has already expired, so the browser drops it).
    ///
    /// # Errors
    /// [`CookieError::InvalidValue`] if the token is empty or holds
    /// characters other than base64url and dots (never true of this crate's
    /// tokens); [`CookieError::TooLarge`] past the browsers' 4096 bytes.
    pub fn set_cookie(
        &self,
        token: &RefreshToken,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<SetCookie, CookieError> {
        let value = token.expose_secret();
        if !is_token_value(value.as_bytes()) {
            return Err(CookieError::InvalidValue);
        }
        if self.name.len() + 1 + value.len() > MAX_COOKIE_BYTES {
            return Err(CookieError::TooLarge);
        }
        let max_age = (expires_at - now).whole_seconds().max(0);
        Ok(SetCookie(self.header(value, max_age)))
    }

    /// The `Set-Cookie` value that deletes the cookie (logout).
    pub fn clear_cookie(&self) -> String {
        self.header("", 0)
    }

    /// The refresh token from the request's `Cookie` header values (HTTP/2
    /// may send several; pass them all).
    ///
    /// Use it where one token must be chosen, as for a refresh: with the
    /// name twice, which cookie is the user's is unknown, and rotating one
    /// a sibling domain planted would log the user into the planter's
    /// session. To end sessions (logout), use
    /// [`read_candidates`](Self::read_candidates) instead, which a planted
    /// cookie cannot cancel.
    ///
    /// # Errors
    /// [`CookieError::Missing`], [`CookieError::Duplicate`] (the name twice:
    /// a sibling domain may have planted one), [`CookieError::InvalidValue`]
    /// (not base64url and dots, e.g. quoted or empty).
    pub fn read_token<I>(&self, cookie_headers: I) -> Result<RefreshToken, CookieError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let headers: Vec<I::Item> = cookie_headers.into_iter().collect();
        let mut values = self.values(&headers);
        let value = values.next().ok_or(CookieError::Missing)?;
        if values.next().is_some() {
            return Err(CookieError::Duplicate);
        }
        token_from(value).ok_or(CookieError::InvalidValue)
    }

    /// At most this many different values of the cookie are read by
    /// [`read_candidates`](Self::read_candidates). A browser sends one
    /// cookie per name, domain and path, and only those whose path is a
    /// prefix of the request's: a sibling domain can plant a few (each
    /// parent domain it may write to, times each matching path, named or
    /// nameless), far fewer than this.
    pub const MAX_CANDIDATES: usize = 32;

    /// Every refresh token the request's `Cookie` header values carry under
    /// this cookie's name, in the order sent, each once: the candidates to
    /// revoke at logout, where a cookie planted beside the user's (by a
    /// sibling domain) must not cancel the logout. Values that are not a
    /// token's characters are skipped; verify each candidate (e.g. with
    /// `TokenService::revoke`) and act on those that verify.
    ///
    /// ```
    /// use jwt_rotate::RefreshCookie;
    ///
    /// let cookie = RefreshCookie::default();
    /// let header = "refresh_token=planted; refresh_token=aaa.bbb.ccc; refresh_token=\"x\"";
    /// let candidates = cookie.read_candidates([header])?;
    /// let values: Vec<&str> = candidates.iter().map(|t| t.expose_secret()).collect();
    /// assert_eq!(values, ["planted", "aaa.bbb.ccc"]);
    /// # Ok::<(), jwt_rotate::CookieError>(())
    /// ```
    ///
    /// # Errors
    /// [`CookieError::Missing`] (no cookie of the name);
    /// [`CookieError::InvalidValue`] (some, none with a token's characters);
    /// [`CookieError::TooMany`] (more than [`Self::MAX_CANDIDATES`]
    /// different values: no browser sends that many, so the request is
    /// refused as a whole rather than cut to a subset an attacker chose).
    pub fn read_candidates<I>(&self, cookie_headers: I) -> Result<Vec<RefreshToken>, CookieError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let headers: Vec<I::Item> = cookie_headers.into_iter().collect();
        let mut named = false;
        let mut candidates: Vec<RefreshToken> = Vec::new();
        for value in self.values(&headers) {
            named = true;
            let Some(token) = token_from(value) else {
                continue;
            };
            // Constant-time: a planted value is compared with the user's.
            let seen = candidates
                .iter()
                .any(|known| bool::from(known.expose_secret().as_bytes().ct_eq(value)));
            if seen {
                continue;
            }
            if candidates.len() == Self::MAX_CANDIDATES {
                return Err(CookieError::TooMany);
            }
            candidates.push(token);
        }
        match (named, candidates.is_empty()) {
            (false, _) => Err(CookieError::Missing),
            (true, true) => Err(CookieError::InvalidValue),
            (true, false) => Ok(candidates),
        }
    }

    /// The values of every `name=value` pair named like this cookie, in
    /// order, trimmed.
    fn values<'h, H: AsRef<[u8]>>(&self, headers: &'h [H]) -> impl Iterator<Item = &'h [u8]> {
        let name = self.name.as_bytes();
        headers
            .iter()
            .flat_map(|header| header.as_ref().split(|&b| b == b';'))
            .filter_map(move |pair| {
                let pair = pair.trim_ascii();
                let eq = pair.iter().position(|&b| b == b'=')?;
                (pair[..eq].trim_ascii() == name).then(|| pair[eq + 1..].trim_ascii())
            })
    }

    fn header(&self, value: &str, max_age: i64) -> String {
        let secure = match self.security {
            CookieSecurity::Secure => "; Secure",
            CookieSecurity::InsecureLocalhost => "",
        };
        format!(
            "{}={value}; Max-Age={max_age}; Path={}; HttpOnly{secure}; SameSite=Strict",
            self.name, self.path
        )
    }
}

/// Builds a [`RefreshCookie`]; checked in [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct RefreshCookieBuilder {
    cookie: RefreshCookie,
}

impl RefreshCookieBuilder {
    /// The cookie's name. Default: `refresh_token`. A `__Host-` name is
    /// refused (it requires `Path=/`, which would send the token to every
    /// page), and `__Secure-` requires [`CookieSecurity::Secure`].
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.cookie.name = name.into();
        self
    }

    /// The path the browser sends the cookie to: put the refresh and logout
    /// endpoints below it, and nothing else. Default: `/auth`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.cookie.path = path.into();
        self
    }

    /// Whether the cookie is `Secure`. Default: [`CookieSecurity::Secure`].
    pub fn security(mut self, security: CookieSecurity) -> Self {
        self.cookie.security = security;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::Config`] if the name is empty or not an HTTP token, starts
    /// with `__Host-`, or starts with `__Secure-` without
    /// [`CookieSecurity::Secure`]; if the path does not start with `/` or
    /// holds `;`, whitespace, control or non-ASCII characters.
    pub fn build(self) -> Result<RefreshCookie, Error> {
        let cookie = self.cookie;
        let name = cookie.name.as_bytes();
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(fail("cookie name must be a non-empty HTTP token"));
        }
        let lower = cookie.name.to_ascii_lowercase();
        if lower.starts_with("__host-") {
            return Err(fail("a __Host- cookie needs Path=/; use another name"));
        }
        if lower.starts_with("__secure-") && cookie.security != CookieSecurity::Secure {
            return Err(fail("a __Secure- cookie must be Secure"));
        }
        let path = cookie.path.as_bytes();
        if path.first() != Some(&b'/') || !path.iter().all(|&b| b.is_ascii_graphic() && b != b';') {
            return Err(fail(
                "cookie path must start with `/` and hold only printable ASCII without `;`",
            ));
        }
        Ok(cookie)
    }
}

fn fail(message: &'static str) -> Error {
    ConfigError::new(message).into()
}

/// `value` as a token, if it has a token's characters and fits a cookie.
fn token_from(value: &[u8]) -> Option<RefreshToken> {
    if !is_token_value(value) || value.len() > MAX_COOKIE_BYTES {
        return None;
    }
    // Only ASCII passed the check above.
    let value = std::str::from_utf8(value).ok()?;
    Some(RefreshToken::new(value))
}

/// The characters of a JWS compact token: base64url and dots, all of them
/// safe in a cookie value without quoting.
fn is_token_value(value: &[u8]) -> bool {
    !value.is_empty()
        && value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// RFC 9110 `tchar`, the characters of a cookie name.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests;
