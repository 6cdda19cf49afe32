//! [`RefreshCookieBuilder`]: the cookie's settings, checked in `build()`.

use super::origin::Origin;
use super::{CookieSecurity, RefreshCookie, SameSite, is_tchar};
use crate::error::{ConfigError, Error};

/// Builds a [`RefreshCookie`]; checked in [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct RefreshCookieBuilder {
    pub(super) cookie: RefreshCookie,
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

    /// The `SameSite` attribute. Default: [`SameSite::Strict`].
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.cookie.same_site = same_site;
        self
    }

    /// A `Domain` attribute, which also sends the cookie to every subdomain
    /// of `domain` (e.g. `example.com` for `auth.example.com` and
    /// `app.example.com`). Default: none, a host-only cookie, sent back to
    /// the exact host that set it: the safest, since a subdomain that is
    /// taken over then never sees the token.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie.domain = Some(domain.into());
        self
    }

    /// The origin browsers reach this server at (scheme, host, port), for
    /// the same-origin check ([`RefreshCookie::check_same_origin`]). Set it
    /// behind a proxy that terminates TLS or rewrites `Host`. Default: none,
    /// the server is reached directly over plain HTTP, so the expected
    /// origin is `http://` and the request's `Host`.
    pub fn public_origin(mut self, origin: Origin) -> Self {
        self.cookie.public_origin = Some(origin);
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::Config`] if the name is empty or not an HTTP token, starts
    /// with `__Host-`, or starts with `__Secure-` without
    /// [`CookieSecurity::Secure`]; if the path does not start with `/` or
    /// holds `;`, whitespace, control or non-ASCII characters; if the
    /// domain is empty, starts or ends with a dot, or holds anything but
    /// ASCII letters, digits, `-` and `.`.
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
        if let Some(domain) = &cookie.domain {
            let valid = !domain.is_empty()
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'));
            if !valid {
                return Err(fail(
                    "cookie domain must be a host name: letters, digits, `-` and inner dots",
                ));
            }
        }
        Ok(cookie)
    }
}

fn fail(message: &'static str) -> Error {
    ConfigError::new(message).into()
}
