//! The JSON bodies of the session routes, with OAuth 2's field names where
//! it has them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::session::{SessionId, SessionView};
use crate::token::TokenPair;

/// `POST /auth/login` body: `{"username", "password"[, "client"]}`.
#[derive(Deserialize)]
#[non_exhaustive]
pub struct LoginRequest {
    /// The account name.
    pub username: String,
    /// Its password.
    pub password: String,
    /// Which kind of client logs in. Default: [`ClientKind::Browser`].
    #[serde(default)]
    pub client: ClientKind,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Where a client keeps its refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ClientKind {
    /// In the `HttpOnly` cookie, out of the page's reach (the default).
    #[default]
    Browser,
    /// A native app: the refresh token comes in the body, no cookie.
    Native,
}

/// A token response (RFC 6749 section 5.1).
#[derive(Serialize)]
pub struct TokenBody {
    /// The access token, for `Authorization: Bearer`, or `Authorization:
    /// DPoP` with a proof when the session is bound to a key.
    pub access_token: String,
    /// `"Bearer"`, or `"DPoP"` for a session bound to a key (RFC 9449,
    /// section 5).
    pub token_type: &'static str,
    /// Whole seconds until the access token expires, rounded down so the
    /// client renews early rather than late.
    pub expires_in: i64,
    /// The refresh token, for native clients only (browsers get a cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl TokenBody {
    /// The body for `pair` at `now`, the refresh token left out (it goes in
    /// a cookie) unless `client` is [`ClientKind::Native`].
    pub fn new(pair: &TokenPair, now: OffsetDateTime, client: ClientKind) -> Self {
        Self {
            access_token: pair.access_token.expose_secret().to_owned(),
            token_type: pair.token_type(),
            expires_in: (pair.access_expires_at - now).whole_seconds().max(0),
            refresh_token: match client {
                ClientKind::Native => Some(pair.refresh_token.expose_secret().to_owned()),
                ClientKind::Browser => None,
            },
        }
    }
}

impl std::fmt::Debug for TokenBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBody")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// One row of `GET /sessions`: a device, for a "your devices" page.
#[derive(Debug, Serialize)]
pub struct SessionBody {
    /// The session id, for `DELETE /sessions/{id}`.
    pub id: String,
    /// Whether it is the session making this request.
    pub current: bool,
    /// The `User-Agent` seen at login.
    pub user_agent: Option<String>,
    /// The client address seen at login.
    pub ip: Option<String>,
    /// Login time, Unix seconds.
    pub created_at: i64,
    /// Last rotation, Unix seconds.
    pub refreshed_at: i64,
    /// When the session ends if not refreshed (or at its absolute end).
    pub expires_at: i64,
}

impl SessionBody {
    /// The row of `view`, `current` if it is the caller's session.
    pub fn new(view: &SessionView, caller: &SessionId) -> Self {
        Self {
            id: view.id.to_string(),
            current: view.id == *caller,
            user_agent: view.info.user_agent.clone(),
            ip: view.info.ip.map(|ip| ip.to_string()),
            created_at: view.created_at.unix_timestamp(),
            refreshed_at: view.refreshed_at.unix_timestamp(),
            expires_at: view
                .idle_expires_at
                .min(view.absolute_expires_at)
                .unix_timestamp(),
        }
    }
}

/// How many sessions an operation revoked.
#[derive(Debug, Serialize)]
pub struct RevokedBody {
    /// The count.
    pub revoked: u64,
}

/// An error answer: `{"error": code}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// A short stable code; never says why a token failed beyond it.
    pub error: &'static str,
}
