//! One session as a store keeps it, and as an app may show it.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{AuthContext, Jkt, LastSeen, Revocation, SecretHash, SessionId, WrappedSecret};

/// What the app knows about the device behind a session, for a "your
/// devices" page. All optional; the crate never interprets it.
///
/// Each text field has a size limit, so that a store is never asked to
/// keep megabytes per session: `user_agent` at most
/// [`MAX_USER_AGENT_BYTES`](Self::MAX_USER_AGENT_BYTES), `label` at most
/// [`MAX_LABEL_BYTES`](Self::MAX_LABEL_BYTES), `kind` at most
/// [`MAX_KIND_BYTES`](Self::MAX_KIND_BYTES). `issue` refuses a longer one
/// with `Error::Claims`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The `User-Agent` seen at login.
    pub user_agent: Option<String>,
    /// The client address seen at login.
    pub ip: Option<IpAddr>,
    /// A name for the session chosen by the app or the user ("Work laptop").
    pub label: Option<String>,
    /// What kind of session the app made it ("web", "mobile", "cli",
    /// "remember-me"): a short app-chosen string, never interpreted here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl SessionInfo {
    /// The longest `user_agent` accepted, in bytes: 1 KiB (real ones are a
    /// few hundred).
    pub const MAX_USER_AGENT_BYTES: usize = 1024;

    /// The longest `label` accepted, in bytes.
    pub const MAX_LABEL_BYTES: usize = 256;

    /// The longest `kind` accepted, in bytes.
    pub const MAX_KIND_BYTES: usize = 64;

    /// Which field is over its limit, if any.
    pub(crate) fn oversized_field(&self) -> Option<&'static str> {
        let over = |field: &Option<String>, max| field.as_ref().is_some_and(|f| f.len() > max);
        if over(&self.user_agent, Self::MAX_USER_AGENT_BYTES) {
            Some("session info: user_agent is longer than 1024 bytes")
        } else if over(&self.label, Self::MAX_LABEL_BYTES) {
            Some("session info: label is longer than 256 bytes")
        } else if over(&self.kind, Self::MAX_KIND_BYTES) {
            Some("session info: kind is longer than 64 bytes")
        } else {
            None
        }
    }

    /// Sets the user agent.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Sets the client address.
    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// Sets the label.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the kind.
    pub fn with_kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
}

/// What a session keeps about the generation before the current one, so a
/// replay inside the grace window gets the current token back.
///
/// Holds no usable token: the current secret is wrapped under the previous
/// one, which the store does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraceData {
    /// The previous generation (`generation - 1` of the record).
    pub generation: u64,
    /// SHA-256 of the previous generation's secret.
    pub secret_hash: SecretHash,
    /// When the previous generation was rotated away.
    pub rotated_at: OffsetDateTime,
    /// The current secret, wrapped under the previous one.
    pub wrapped_secret: WrappedSecret,
}

/// One session as a store keeps it: one record per login, whatever the
/// number of rotations.
///
/// Stores build and read these field by field; the service owns every rule
/// about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session's id.
    pub id: SessionId,
    /// Whose session it is (the `sub` of its tokens).
    pub subject: String,
    /// The rotation counter: 0 at login, +1 per rotation.
    pub generation: u64,
    /// SHA-256 of the current refresh token's secret.
    pub secret_hash: SecretHash,
    /// The thumbprint of the key the session is bound to (DPoP, RFC 9449),
    /// set at login and never changed: every refresh needs a proof by it.
    pub jkt: Option<Jkt>,
    /// The previous generation, for grace replay (`None` before the first
    /// rotation).
    pub previous: Option<GraceData>,
    /// Login time, to the microsecond (it orders logins; token times are
    /// whole seconds).
    pub created_at: OffsetDateTime,
    /// Last rotation (the login second before the first).
    pub refreshed_at: OffsetDateTime,
    /// Dead if not refreshed before this instant (`refresh_ttl`).
    pub idle_expires_at: OffsetDateTime,
    /// Dead at this instant whatever happens (`session_ttl` after login).
    pub absolute_expires_at: OffsetDateTime,
    /// Set once the session is revoked; never cleared.
    pub revoked: Option<Revocation>,
    /// The app's claims, a JSON object, carried into every access token.
    pub claims_json: String,
    /// What the app recorded about the device.
    pub info: SessionInfo,
    /// How the user authenticated: set at login, replaced by a step-up.
    /// `None` only for a session stored before the store kept it.
    pub auth: Option<AuthContext>,
    /// The client of the last refresh that said who it was.
    pub last_seen: LastSeen,
}

impl SessionRecord {
    /// When the session dies unless refreshed: the earlier of its idle and
    /// absolute expiry.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.idle_expires_at.min(self.absolute_expires_at)
    }

    /// Not revoked and not expired at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked.is_none() && now < self.expires_at()
    }
}

/// A session as an app may show it to its user: no secrets, no grace data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SessionView {
    /// The session's id (to revoke it with `revoke_session`).
    pub id: SessionId,
    /// What the app recorded at login.
    pub info: SessionInfo,
    /// Login time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last refresh.
    #[serde(with = "time::serde::rfc3339")]
    pub refreshed_at: OffsetDateTime,
    /// Dead if not refreshed before this.
    #[serde(with = "time::serde::rfc3339")]
    pub idle_expires_at: OffsetDateTime,
    /// Dead at this instant whatever happens.
    #[serde(with = "time::serde::rfc3339")]
    pub absolute_expires_at: OffsetDateTime,
    /// How and when the user last authenticated in this session; its
    /// `auth_time` serialized in RFC 3339 like the instants above.
    #[serde(serialize_with = "super::auth::serialize_in_view")]
    pub auth: Option<AuthContext>,
    /// The client of the last refresh (its instant is `refreshed_at`).
    pub last_seen: LastSeen,
}

impl From<SessionRecord> for SessionView {
    fn from(record: SessionRecord) -> Self {
        Self {
            id: record.id,
            info: record.info,
            created_at: record.created_at,
            refreshed_at: record.refreshed_at,
            idle_expires_at: record.idle_expires_at,
            absolute_expires_at: record.absolute_expires_at,
            auth: record.auth,
            last_seen: record.last_seen,
        }
    }
}
