//! The CSRF check of the routes the refresh cookie authenticates (and of
//! login, which sets it): the browser must say the request comes from this
//! server's own origin, which is a scheme, a host and a port.
//!
//! How the server knows its origin: the cookie's
//! [`public_origin`](super::RefreshCookieBuilder::public_origin) (e.g.
//! `https://auth.example.com`) when it is set, which it must be behind a
//! proxy that terminates TLS or rewrites `Host`. Unset, the server is
//! reached directly over plain HTTP: the origin is `http://` and the
//! request's `Host`. (The cookie's `Secure` says nothing about the scheme:
//! browsers keep `Secure` cookies for `http://127.0.0.1` and
//! `http://localhost` too.)

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::{CookieError, RefreshCookie, RequestHeaders};
use crate::secret::RefreshToken;

/// The two schemes a browser origin of this server can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http`, default port 80.
    Http,
    /// `https`, default port 443.
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A web origin: scheme, host (lowercase, IP addresses in their canonical
/// form) and port (the scheme's default when not written), so that
/// `http://h` and `http://h:80` are equal.
///
/// ```
/// use jwt_rotate::Origin;
///
/// let public: Origin = "https://Auth.Example.com:443".parse()?;
/// assert_eq!(public.to_string(), "https://auth.example.com");
/// assert!("https://auth.example.com/".parse::<Origin>().is_err());
/// # Ok::<(), jwt_rotate::InvalidOrigin>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: Scheme,
    host: String,
    port: u16,
}

/// A value that is not `http(s)://host[:port]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvalidOrigin;

impl fmt::Display for InvalidOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an origin: http:// or https://, a host, an optional port, nothing else")
    }
}

impl std::error::Error for InvalidOrigin {}

impl Origin {
    /// An `Origin` header value, or a configured public origin: `http://` or
    /// `https://`, a host and an optional port, and nothing else (no path,
    /// not even `/`; no user). `None` for anything else, `null` included.
    pub fn parse(value: &[u8]) -> Option<Self> {
        let (scheme, authority) = if let Some(rest) = strip_prefix_ignore_case(value, b"https://") {
            (Scheme::Https, rest)
        } else {
            (Scheme::Http, strip_prefix_ignore_case(value, b"http://")?)
        };
        Self::from_authority(scheme, authority)
    }

    /// The origin a request reached with this `Host` (or HTTP/2
    /// `:authority`) value over `scheme`.
    pub fn from_authority(scheme: Scheme, authority: &[u8]) -> Option<Self> {
        let authority = std::str::from_utf8(authority).ok()?;
        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let (v6, after) = rest.split_once(']')?;
            let v6: Ipv6Addr = v6.parse().ok()?;
            let port = match after {
                "" => None,
                after => Some(after.strip_prefix(':')?),
            };
            (format!("[{v6}]"), port)
        } else {
            let (host, port) = match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            };
            let host = host.to_ascii_lowercase();
            let name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
            if host.is_empty() || !host.bytes().all(name) {
                return None;
            }
            match host.parse::<Ipv4Addr>() {
                Ok(v4) => (v4.to_string(), port),
                Err(_) => (host, port),
            }
        };
        let port = match port {
            None => scheme.default_port(),
            Some(port) => parse_port(port)?,
        };
        Some(Self { scheme, host, port })
    }
}

impl FromStr for Origin {
    type Err = InvalidOrigin;

    fn from_str(s: &str) -> Result<Self, InvalidOrigin> {
        Self::parse(s.as_bytes()).ok_or(InvalidOrigin)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

impl RefreshCookie {
    /// The CSRF check of every route the cookie authenticates, and of
    /// login, which sets it: passes when the request is same-origin, or
    /// does not come from a browser.
    ///
    /// `Sec-Fetch-Site` (every current browser) must be `same-origin`: the
    /// browser compared scheme, host and port itself. Without it, `Origin`
    /// must equal the configured
    /// [`public_origin`](super::RefreshCookieBuilder::public_origin), or,
    /// with none configured, `http://` and the request's `Host`. A request
    /// with neither header does not come from a browser, the only client
    /// that attaches cookies on its own, so it passes. `SameSite` on the
    /// cookie is a second, independent guard.
    ///
    /// ```
    /// use jwt_rotate::{CookieError, RefreshCookie, RequestHeaders};
    ///
    /// let cookie = RefreshCookie::builder().public_origin("https://auth.example".parse()?).build()?;
    /// let from = |origin: &'static [u8]| -> RequestHeaders<'static> {
    ///     [("origin", origin), ("host", &b"10.0.0.5:3000"[..])].into_iter().collect()
    /// };
    /// assert!(cookie.check_same_origin(&from(b"https://auth.example")).is_ok());
    /// assert_eq!(
    ///     cookie.check_same_origin(&from(b"https://evil.example")),
    ///     Err(CookieError::CrossSite),
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`CookieError::CrossSite`] when the browser says another origin, or
    /// sent `Origin`, `Sec-Fetch-Site` or `Host` more than once.
    pub fn check_same_origin(&self, headers: &RequestHeaders<'_>) -> Result<(), CookieError> {
        let origin = single(headers.origin().iter().copied())?;
        let fetch_site = single(headers.fetch_site().iter().copied())?;
        let host = single(headers.host().iter().copied())?.or(headers.authority());
        check_same_origin(self.public_origin.as_ref(), origin, fetch_site, host)
    }

    /// The origin the client addressed: the configured
    /// [`public_origin`](super::RefreshCookieBuilder::public_origin), or,
    /// with none, `http://` and the request's single `Host` (or HTTP/2
    /// `:authority`), as [`check_same_origin`](Self::check_same_origin)
    /// assumes. `X-Forwarded-Host` and `-Proto` are never read: behind a
    /// proxy, configure the public origin. `None` without a usable host.
    pub fn request_origin(&self, headers: &RequestHeaders<'_>) -> Option<Origin> {
        if let Some(public) = &self.public_origin {
            return Some(public.clone());
        }
        let host = single(headers.host().iter().copied()).ok()?;
        Origin::from_authority(Scheme::Http, host.or(headers.authority())?)
    }

    /// [`read_token`](Self::read_token), only for a same-origin request
    /// ([`check_same_origin`](Self::check_same_origin)): the token that
    /// may rotate a session (refresh).
    ///
    /// # Errors
    /// [`CookieError::CrossSite`], then as `read_token`.
    pub fn read_token_same_origin(
        &self,
        headers: &RequestHeaders<'_>,
    ) -> Result<RefreshToken, CookieError> {
        self.check_same_origin(headers)?;
        self.read_token(headers.cookies())
    }

    /// [`read_candidates`](Self::read_candidates), only for a same-origin
    /// request: the tokens whose sessions a logout ends.
    ///
    /// # Errors
    /// [`CookieError::CrossSite`], then as `read_candidates`.
    pub fn read_candidates_same_origin(
        &self,
        headers: &RequestHeaders<'_>,
    ) -> Result<Vec<RefreshToken>, CookieError> {
        self.check_same_origin(headers)?;
        self.read_candidates(headers.cookies())
    }
}

/// Decides on `Sec-Fetch-Site`, else on `Origin`, each the single value of
/// its header ([`single`]); see [`RefreshCookie::check_same_origin`].
///
/// # Errors
/// [`CookieError::CrossSite`].
pub(super) fn check_same_origin(
    public: Option<&Origin>,
    origin: Option<&[u8]>,
    fetch_site: Option<&[u8]>,
    host: Option<&[u8]>,
) -> Result<(), CookieError> {
    if let Some(site) = fetch_site {
        return if site == b"same-origin" {
            Ok(())
        } else {
            Err(CookieError::CrossSite)
        };
    }
    let Some(origin) = origin else {
        return Ok(());
    };
    let expected = match public {
        Some(public) => Some(public.clone()),
        None => host.and_then(|host| Origin::from_authority(Scheme::Http, host)),
    };
    match (Origin::parse(origin), expected) {
        (Some(origin), Some(expected)) if origin == expected => Ok(()),
        _ => Err(CookieError::CrossSite),
    }
}

/// The one value of a header that must not be repeated (`Origin`,
/// `Sec-Fetch-Site`, `Host`): browsers send each once, so two are a
/// crafted request, refused rather than judged on whichever comes first.
///
/// # Errors
/// [`CookieError::CrossSite`] for more than one value.
pub(super) fn single<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<&'a [u8]>, CookieError> {
    let mut values = values.into_iter();
    let first = values.next();
    match values.next() {
        Some(_) => Err(CookieError::CrossSite),
        None => Ok(first),
    }
}

fn strip_prefix_ignore_case<'a>(value: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &value[prefix.len()..])
}

/// 1 to 65535, in at most five digits and nothing else.
fn parse_port(digits: &str) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u16>().ok().filter(|&port| port != 0)
}

#[cfg(test)]
mod tests;
