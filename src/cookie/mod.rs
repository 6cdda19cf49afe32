//! The refresh-token cookie, for any web framework: `Set-Cookie` values to
//! send and the token read back from `Cookie` headers.
//!
//! Frameworks bundle different versions of the `cookie` crate; this module
//! needs none and works on plain header strings. It also holds the
//! same-origin (CSRF) check of the requests the cookie authenticates.

mod builder;
mod origin;
mod read;
mod request;

use std::fmt;

use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop};

pub use self::builder::RefreshCookieBuilder;
pub use self::origin::{InvalidOrigin, Origin, Scheme};
pub use self::request::RequestHeaders;
use crate::secret::RefreshToken;
use crate::service::TokenService;
use crate::store::RefreshStore;
use crate::token::TokenPair;

/// Browsers drop a cookie whose name and value together exceed this.
pub(super) const MAX_COOKIE_BYTES: usize = 4096;

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

/// The cookie's `SameSite` attribute: whether the browser sends it on
/// requests started by other sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SameSite {
    /// `SameSite=Strict`: only on requests from this site (the default).
    #[default]
    Strict,
    /// `SameSite=Lax`: also on top-level navigations from other sites.
    /// The refresh and logout routes are `POST`s, which `Lax` still keeps
    /// from other sites; choose it only if a `GET` below the cookie's path
    /// needs the cookie after a link from elsewhere.
    Lax,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
        }
    }
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
    /// The browser says the request comes from another origin (or sent a
    /// same-origin header twice): a cross-site request, refused before the
    /// cookie is read ([`RefreshCookie::check_same_origin`]).
    #[error("cross-site request")]
    CrossSite,
}

impl CookieError {
    /// A short stable code for API bodies, like
    /// [`Error::code`](crate::Error::code): `"missing_refresh_token"`,
    /// `"cross_site_request"`, `"too_many_cookies"` or `"invalid_token"`.
    pub fn code(&self) -> &'static str {
        match self {
            CookieError::Missing => "missing_refresh_token",
            CookieError::CrossSite => "cross_site_request",
            CookieError::TooMany => "too_many_cookies",
            CookieError::Duplicate | CookieError::InvalidValue | CookieError::TooLarge => {
                "invalid_token"
            }
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
/// it) unless told otherwise, `Secure` unless told otherwise, scoped to one
/// path and, by default, to the host that set it.
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
    same_site: SameSite,
    domain: Option<String>,
    public_origin: Option<Origin>,
}

impl Default for RefreshCookie {
    /// Name `refresh_token`, `Path=/auth`, [`CookieSecurity::Secure`],
    /// [`SameSite::Strict`], no `Domain` (host-only), no public origin (see
    /// [`RefreshCookieBuilder::public_origin`]).
    fn default() -> Self {
        Self {
            name: "refresh_token".to_owned(),
            path: "/auth".to_owned(),
            security: CookieSecurity::Secure,
            same_site: SameSite::Strict,
            domain: None,
            public_origin: None,
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

    /// The cookie's `SameSite` attribute.
    pub fn same_site(&self) -> SameSite {
        self.same_site
    }

    /// The cookie's `Domain` attribute, if any.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// The `Set-Cookie` value carrying `pair`'s refresh token, its
    /// `Max-Age` counted on `service`'s clock (so a test's
    /// [`ManualClock`](crate::ManualClock) is honoured, and there is no
    /// `now` to pass).
    ///
    /// # Errors
    /// As [`set_cookie`](Self::set_cookie); never for a pair `service`
    /// issued under the default token size cap.
    pub fn set_cookie_for<S: RefreshStore, C>(
        &self,
        pair: &TokenPair,
        service: &TokenService<S, C>,
    ) -> Result<SetCookie, CookieError> {
        self.set_cookie(&pair.refresh_token, pair.refresh_expires_at, service.now())
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

    fn header(&self, value: &str, max_age: i64) -> String {
        let secure = match self.security {
            CookieSecurity::Secure => "; Secure",
            CookieSecurity::InsecureLocalhost => "",
        };
        let domain = match &self.domain {
            Some(domain) => format!("; Domain={domain}"),
            None => String::new(),
        };
        format!(
            "{}={value}; Max-Age={max_age}; Path={}{domain}; HttpOnly{secure}; SameSite={}",
            self.name,
            self.path,
            self.same_site.as_str()
        )
    }
}

/// The characters of a JWS compact token: base64url and dots, all of them
/// safe in a cookie value without quoting.
pub(super) fn is_token_value(value: &[u8]) -> bool {
    !value.is_empty()
        && value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// RFC 9110 `tchar`, the characters of a cookie name.
pub(super) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests;
