//! Reading the refresh token back from a request's `Cookie` headers.

use subtle::ConstantTimeEq;

use super::{CookieError, MAX_COOKIE_BYTES, RefreshCookie, is_token_value};
use crate::secret::RefreshToken;

impl RefreshCookie {
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
