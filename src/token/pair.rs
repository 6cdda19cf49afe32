//! [`TokenPair`]: what a login or a refresh hands the client.

use time::OffsetDateTime;

use crate::secret::{AccessToken, RefreshToken};
use crate::session::{Jkt, SessionId};

/// What a login or a refresh returns.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenPair {
    /// The new access token.
    pub access_token: AccessToken,
    /// The new refresh token; the one presented before is now spent.
    pub refresh_token: RefreshToken,
    /// When the access token expires.
    pub access_expires_at: OffsetDateTime,
    /// When the refresh token expires (idle or absolute, whichever first).
    pub refresh_expires_at: OffsetDateTime,
    /// The session both tokens belong to.
    pub session_id: SessionId,
    /// The thumbprint of the client key the session is bound to (DPoP,
    /// RFC 9449), which the access token carries as `cnf.jkt`: its
    /// `token_type` is then `DPoP`. `None` for a bearer session.
    pub bound_to: Option<Jkt>,
}

impl TokenPair {
    /// The OAuth `token_type` of the access token (RFC 6749, section
    /// 7.1): `"DPoP"` when the session is bound to a key, else `"Bearer"`.
    pub fn token_type(&self) -> &'static str {
        if self.bound_to.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }
    }
}
