//! Sessions (token families): ids, the stored record, and what apps may show.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::refresh::{SecretHash, WrappedSecret};

/// The id of a session: 128 random bits, shown as 22 base64url characters.
///
/// Not a credential (the refresh token's signed secret is), so it may be
/// logged, shown to users and used in URLs such as `DELETE /sessions/{id}`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; 16]);

impl SessionId {
    /// A fresh random id from the thread-local CSPRNG.
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        rand::fill(&mut bytes);
        Self(bytes)
    }

    /// The id from its 16 raw bytes (as a store may keep it).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 22];
        let n = URL_SAFE_NO_PAD
            .encode_slice(self.0, &mut buf)
            .map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// The text was not a session id: 22 canonical base64url characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a session id")]
pub struct ParseSessionIdError;

impl FromStr for SessionId {
    type Err = ParseSessionIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 22 {
            return Err(ParseSessionIdError);
        }
        let mut bytes = [0u8; 16];
        // The engine rejects padding and non-zero trailing bits, so each id
        // has exactly one spelling.
        match URL_SAFE_NO_PAD.decode_slice(s, &mut bytes) {
            Ok(16) => Ok(Self(bytes)),
            _ => Err(ParseSessionIdError),
        }
    }
}

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What the app knows about the device behind a session, for a "your
/// devices" page. All optional; the crate never interprets it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The `User-Agent` seen at login.
    pub user_agent: Option<String>,
    /// The client address seen at login.
    pub ip: Option<IpAddr>,
    /// A name for the session chosen by the app or the user ("Work laptop").
    pub label: Option<String>,
}

impl SessionInfo {
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
}

/// Why a session was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationReason {
    /// The user logged out with this session's refresh token.
    Logout,
    /// The app revoked this one session (a "revoke" button).
    Revoked,
    /// The app revoked the subject's sessions (password change, "log out
    /// other devices").
    SubjectRevoked,
    /// An old refresh token was presented again.
    ReuseDetected,
    /// A newer login pushed the subject over `max_sessions_per_subject`.
    SessionLimit,
    /// The login that created it failed (a store error while enforcing
    /// `max_sessions_per_subject`) and handed out no token.
    IssueFailed,
}

impl RevocationReason {
    /// A stable name for storage and logs, e.g. `"reuse_detected"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::Revoked => "revoked",
            Self::SubjectRevoked => "subject_revoked",
            Self::ReuseDetected => "reuse_detected",
            Self::SessionLimit => "session_limit",
            Self::IssueFailed => "issue_failed",
        }
    }
}

/// The name was not one of [`RevocationReason::as_str`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown revocation reason")]
pub struct ParseReasonError;

impl FromStr for RevocationReason {
    type Err = ParseReasonError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Logout,
            Self::Revoked,
            Self::SubjectRevoked,
            Self::ReuseDetected,
            Self::SessionLimit,
            Self::IssueFailed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or(ParseReasonError)
    }
}

/// A revocation: why and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    /// Why.
    pub reason: RevocationReason,
    /// When.
    pub at: OffsetDateTime,
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_round_trips_through_text() {
        let id = SessionId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 22);
        assert_eq!(text.parse::<SessionId>(), Ok(id));
        assert_ne!(SessionId::random(), id);
    }

    #[test]
    fn session_id_rejects_non_canonical_text() {
        let text = SessionId::from_bytes([0xff; 16]).to_string();
        assert_eq!(text, "_____________________w");
        // Same bits but non-zero trailing bits, padding, standard alphabet.
        for bad in [
            "_____________________x",
            "_____________________w==",
            "/////////////////////w",
            "",
            "short",
            "_____________________w_",
        ] {
            assert_eq!(bad.parse::<SessionId>(), Err(ParseSessionIdError), "{bad}");
        }
    }

    #[test]
    fn session_id_serializes_as_its_text() {
        let id = SessionId::random();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<SessionId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<SessionId>("\"nope\"").is_err());
    }

    #[test]
    fn revocation_reasons_round_trip() {
        for reason in [
            RevocationReason::Logout,
            RevocationReason::Revoked,
            RevocationReason::SubjectRevoked,
            RevocationReason::ReuseDetected,
            RevocationReason::SessionLimit,
            RevocationReason::IssueFailed,
        ] {
            assert_eq!(reason.as_str().parse(), Ok(reason));
        }
        assert_eq!("LOGOUT".parse::<RevocationReason>(), Err(ParseReasonError));
    }
}
