//! [`RequestHeaders`]: the request headers the cookie and the HTTP helpers
//! read, gathered from any framework's header map.

use std::fmt;

/// The headers of one request that session handling reads: `Cookie`,
/// `Origin`, `Sec-Fetch-Site`, `Host` (or HTTP/2's `:authority`),
/// `Authorization`, `User-Agent`, `X-Forwarded-For`, `DPoP`, each with
/// every value the request sent. Other headers are ignored. The request's
/// method and path, which DPoP proofs name, come with
/// [`with_target`](Self::with_target).
///
/// Borrowed from the framework's header map, so building one copies no
/// header value. `Debug` shows which headers are present, never the
/// cookies or credentials.
///
/// ```
/// use jwt_rotate::RequestHeaders;
///
/// // From any iterator of (name, value), e.g. `http::HeaderMap::iter()`
/// // mapped to `(name.as_str(), value.as_bytes())`:
/// let headers: RequestHeaders<'_> = [
///     ("Cookie", &b"refresh_token=a.b.c"[..]),
///     ("sec-fetch-site", b"same-origin"),
///     ("x-unrelated", b"ignored"),
/// ]
/// .into_iter()
/// .collect();
/// assert_eq!(headers.cookies(), [&b"refresh_token=a.b.c"[..]]);
/// ```
#[derive(Clone, Default)]
pub struct RequestHeaders<'a> {
    cookie: Vec<&'a [u8]>,
    origin: Vec<&'a [u8]>,
    fetch_site: Vec<&'a [u8]>,
    host: Vec<&'a [u8]>,
    authority: Option<&'a [u8]>,
    authorization: Vec<&'a [u8]>,
    user_agent: Vec<&'a [u8]>,
    forwarded_for: Vec<&'a [u8]>,
    dpop: Vec<&'a [u8]>,
    method: Option<&'a str>,
    path: Option<&'a str>,
}

impl<'a> RequestHeaders<'a> {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one header value; `name` in any case. Headers this type does
    /// not read are ignored.
    pub fn push(&mut self, name: &str, value: &'a [u8]) {
        let list = match name.len() {
            4 if name.eq_ignore_ascii_case("host") => &mut self.host,
            4 if name.eq_ignore_ascii_case("dpop") => &mut self.dpop,
            6 if name.eq_ignore_ascii_case("cookie") => &mut self.cookie,
            6 if name.eq_ignore_ascii_case("origin") => &mut self.origin,
            10 if name.eq_ignore_ascii_case("user-agent") => &mut self.user_agent,
            13 if name.eq_ignore_ascii_case("authorization") => &mut self.authorization,
            14 if name.eq_ignore_ascii_case("sec-fetch-site") => &mut self.fetch_site,
            15 if name.eq_ignore_ascii_case("x-forwarded-for") => &mut self.forwarded_for,
            _ => return,
        };
        list.push(value);
    }

    /// The request's authority when it came in the URI rather than a
    /// `Host` header (HTTP/2 `:authority`); `Host` wins when both are there.
    pub fn with_authority(mut self, authority: Option<&'a [u8]>) -> Self {
        self.authority = authority;
        self
    }

    /// The request's method (`GET`, `POST`, ...) and path (as the request
    /// line has it, without the query), which a DPoP proof's `htm` and
    /// `htu` must name. Framework glue sets them; without them a route
    /// that checks DPoP proofs answers 500.
    pub fn with_target(mut self, method: &'a str, path: &'a str) -> Self {
        self.method = Some(method);
        self.path = Some(path);
        self
    }

    /// The method given to [`with_target`](Self::with_target).
    pub fn method(&self) -> Option<&'a str> {
        self.method
    }

    /// The path given to [`with_target`](Self::with_target).
    pub fn path(&self) -> Option<&'a str> {
        self.path
    }

    /// Every `DPoP` header value (RFC 9449: a request carries at most one
    /// proof, so two are refused, not judged on either).
    pub fn dpop(&self) -> &[&'a [u8]] {
        &self.dpop
    }

    /// Every `Cookie` header value (HTTP/2 may send several).
    pub fn cookies(&self) -> &[&'a [u8]] {
        &self.cookie
    }

    /// Every `Origin` header value.
    pub fn origin(&self) -> &[&'a [u8]] {
        &self.origin
    }

    /// Every `Sec-Fetch-Site` header value.
    pub fn fetch_site(&self) -> &[&'a [u8]] {
        &self.fetch_site
    }

    /// Every `Host` header value.
    pub fn host(&self) -> &[&'a [u8]] {
        &self.host
    }

    /// The URI's authority, if given ([`with_authority`](Self::with_authority)).
    pub fn authority(&self) -> Option<&'a [u8]> {
        self.authority
    }

    /// The `Authorization` header value, when there is exactly one.
    pub fn authorization(&self) -> Option<&'a [u8]> {
        only(&self.authorization)
    }

    /// The `User-Agent` header value, when there is exactly one.
    pub fn user_agent(&self) -> Option<&'a [u8]> {
        only(&self.user_agent)
    }

    /// Every `X-Forwarded-For` header value, in order.
    pub fn forwarded_for(&self) -> &[&'a [u8]] {
        &self.forwarded_for
    }
}

fn only<'a>(values: &[&'a [u8]]) -> Option<&'a [u8]> {
    match values {
        [one] => Some(one),
        _ => None,
    }
}

impl<'a, N: AsRef<str>> FromIterator<(N, &'a [u8])> for RequestHeaders<'a> {
    fn from_iter<I: IntoIterator<Item = (N, &'a [u8])>>(iter: I) -> Self {
        let mut headers = Self::new();
        for (name, value) in iter {
            headers.push(name.as_ref(), value);
        }
        headers
    }
}

impl fmt::Debug for RequestHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHeaders")
            .field("cookie", &self.cookie.len())
            .field("origin", &self.origin.len())
            .field("sec_fetch_site", &self.fetch_site.len())
            .field("host", &self.host.len())
            .field("authorization", &self.authorization.len())
            .field("dpop", &self.dpop.len())
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}
