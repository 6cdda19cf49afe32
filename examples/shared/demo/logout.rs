//! Ending the sessions of the refresh cookies a request carries: logout,
//! and the old session(s) a login replaces.
//!
//! A browser may send several `refresh_token` cookies: a sibling subdomain
//! can plant one beside the user's (another domain or path). Picking one
//! would let the planted cookie cancel the logout while a stolen copy of
//! the user's keeps refreshing, so every candidate is tried, and every one
//! that verifies is revoked.

use jwt_rotate::{CookieError, RefreshToken};

use super::AppState;
use super::http::ApiError;

/// What the request's cookies held.
pub(super) enum Candidates {
    /// No refresh cookie: nothing to end.
    None,
    /// Refresh cookies, none with a token's characters.
    Junk(CookieError),
    /// The distinct token-shaped values, to verify.
    Tokens(Vec<RefreshToken>),
}

impl AppState {
    /// Reads every refresh cookie of the request.
    ///
    /// # Errors
    /// 400 `too_many_cookies` for more than a browser sends
    /// ([`jwt_rotate::RefreshCookie::MAX_CANDIDATES`]): a crafted request,
    /// refused before any work rather than cut to a subset it chose.
    pub(super) fn candidates(&self, cookies: &[&[u8]]) -> Result<Candidates, ApiError> {
        match self.inner.flow.cookie().read_candidates(cookies) {
            Ok(tokens) => Ok(Candidates::Tokens(tokens)),
            Err(CookieError::Missing) => Ok(Candidates::None),
            Err(CookieError::TooMany) => Err(CookieError::TooMany.into()),
            Err(err) => Ok(Candidates::Junk(err)),
        }
    }

    /// Revokes the session of every token that verifies; returns how many
    /// verified (a session already revoked counts: it is ended), and the
    /// first refusal, to answer with when none did.
    ///
    /// # Errors
    /// 503 when the store fails: what was revoked stays revoked, and a
    /// retry revokes the rest.
    pub(super) async fn end_sessions(
        &self,
        tokens: &[RefreshToken],
    ) -> Result<(usize, Option<jwt_rotate::Error>), ApiError> {
        let mut verified = 0;
        let mut refused = None;
        for token in tokens {
            match self.service().revoke(token).await {
                Ok(_) => verified += 1,
                Err(err) if err.is_unauthorized() => {
                    refused.get_or_insert(err);
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok((verified, refused))
    }

    /// `POST /auth/logout` (`cookies`: the request's `Cookie` header
    /// values): revokes the session of every refresh cookie that verifies,
    /// and returns the `Set-Cookie` value that deletes the cookie.
    ///
    /// No refresh cookie at all: nothing to end, the answer is the same
    /// (logging out twice is fine).
    ///
    /// # Errors
    /// 401 when there are refresh cookies and none verifies (nothing is
    /// revoked; the cookie is deleted, it is of no use); 400
    /// `too_many_cookies`; 503 if the store fails (the cookie stays, so the
    /// logout can be retried).
    pub async fn logout(&self, cookies: &[&[u8]]) -> Result<String, ApiError> {
        let clear = self.inner.flow.cookie().clear_cookie();
        let tokens = match self.candidates(cookies)? {
            Candidates::None => return Ok(clear),
            Candidates::Junk(err) => return Err(ApiError::from(err).clearing_cookie(clear)),
            Candidates::Tokens(tokens) => tokens,
        };
        match self.end_sessions(&tokens).await? {
            (0, Some(refused)) => Err(ApiError::from(refused).clearing_cookie(clear)),
            (0, None) => Err(ApiError::from(CookieError::InvalidValue).clearing_cookie(clear)),
            _ => Ok(clear),
        }
    }
}
