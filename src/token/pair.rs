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
    /// The thumbprint of the client key the session is bound to (DPoP, RFC
    /// 9449), if it is: the access token is then a `DPoP` token, not a
    /// Bearer one.
    pub jkt: Option<Jkt>,
}
