//! [`AuthContext`] and [`LastSeen`]: how a session's user last proved who
//! they are, and where its client was last seen.

use std::net::IpAddr;

use serde::{Deserialize, Serialize, Serializer};
use time::OffsetDateTime;

use crate::error::quotable;

/// How the user behind a session authenticated (RFC 8176, RFC 9470): set
/// at login, replaced only by a step-up
/// ([`reauthenticate`](crate::TokenService::reauthenticate)), carried
/// unchanged into every access token the session gets. A refresh never
/// advances `auth_time`.
///
/// Serialized as the stores keep it, `auth_time` in Unix seconds (JWT's
/// `auth_time`); inside a serialized
/// [`SessionView`](super::SessionView) it is RFC 3339, like the view's
/// other instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthContext {
    /// When the user last actively authenticated, whole seconds.
    #[serde(with = "time::serde::timestamp")]
    pub auth_time: OffsetDateTime,
    /// Authentication methods used (`amr`, RFC 8176: `"pwd"`, `"otp"`,
    /// `"hwk"`...), in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// Authentication context class reached (`acr`), as the app names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

impl AuthContext {
    /// The most `amr` values kept.
    pub const MAX_AMR_VALUES: usize = 16;

    /// The longest `amr` value or `acr`, in bytes.
    pub const MAX_VALUE_BYTES: usize = 128;

    /// An authentication at `auth_time` with methods `amr` and class `acr`.
    pub fn new(auth_time: OffsetDateTime, amr: Vec<String>, acr: Option<String>) -> Self {
        Self {
            auth_time,
            amr,
            acr,
        }
    }

    /// What is wrong with it, if anything: too many or too long values,
    /// an empty one, or one a token could not carry as written.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        let bad = |value: &String| value.len() > Self::MAX_VALUE_BYTES || !quotable(value);
        if self.amr.len() > Self::MAX_AMR_VALUES {
            Some("authentication context: more than 16 amr values")
        } else if self.amr.iter().any(bad) {
            Some(
                "authentication context: an amr value is empty, over 128 bytes, or not printable ASCII without space, quote or backslash",
            )
        } else if self.acr.as_ref().is_some_and(bad) {
            Some(
                "authentication context: acr is empty, over 128 bytes, or not printable ASCII without space, quote or backslash",
            )
        } else {
            None
        }
    }
}

/// Serializes a [`SessionView`](super::SessionView)'s `auth`: `auth_time`
/// in RFC 3339 like the view's other instants. The stored form
/// ([`AuthContext`]'s own serde) keeps Unix seconds, so rows written
/// before stay readable.
pub(super) fn serialize_in_view<S: Serializer>(
    auth: &Option<AuthContext>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct InView<'a> {
        #[serde(with = "time::serde::rfc3339")]
        auth_time: OffsetDateTime,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        amr: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        acr: Option<&'a str>,
    }
    auth.as_ref()
        .map(|auth| InView {
            auth_time: auth.auth_time,
            amr: &auth.amr,
            acr: auth.acr.as_deref(),
        })
        .serialize(serializer)
}

/// The client behind a session's last refresh, as the caller gave it to
/// [`refresh_with`](crate::TokenService::refresh_with); its instant is the
/// record's `refreshed_at`. Both empty until such a refresh.
///
/// Kept apart from [`SessionInfo`](super::SessionInfo), which stays what was
/// seen at login: a "your devices" page shows both, and the login address
/// is evidence worth keeping after the device moves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LastSeen {
    /// The client address of the last refresh.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` of the last refresh, at most
    /// [`SessionInfo::MAX_USER_AGENT_BYTES`](super::SessionInfo::MAX_USER_AGENT_BYTES).
    pub user_agent: Option<String>,
}

impl LastSeen {
    /// Nothing seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the client address.
    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// Sets the user agent.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// With the user agent cut to
    /// [`SessionInfo::MAX_USER_AGENT_BYTES`](super::SessionInfo::MAX_USER_AGENT_BYTES)
    /// at a character boundary.
    pub(crate) fn truncated(mut self) -> Self {
        if let Some(ua) = &mut self.user_agent {
            let mut end = ua.len().min(super::SessionInfo::MAX_USER_AGENT_BYTES);
            while !ua.is_char_boundary(end) {
                end -= 1;
            }
            ua.truncate(end);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{SessionId, SessionInfo, SessionView};

    #[test]
    fn a_view_writes_every_instant_in_rfc_3339_and_stores_keep_unix_seconds() {
        let at = OffsetDateTime::from_unix_timestamp(1_796_558_400).unwrap();
        let auth = AuthContext::new(at, vec!["pwd".into(), "otp".into()], Some("mfa".into()));
        let view = SessionView {
            id: SessionId::random(),
            info: SessionInfo::default(),
            created_at: at,
            refreshed_at: at,
            idle_expires_at: at,
            absolute_expires_at: at,
            auth: Some(auth.clone()),
            last_seen: LastSeen::default(),
        };
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["created_at"], "2026-12-06T12:00:00Z");
        assert_eq!(
            json["auth"],
            serde_json::json!({
                "auth_time": "2026-12-06T12:00:00Z",
                "amr": ["pwd", "otp"],
                "acr": "mfa",
            })
        );
        let bare = SessionView {
            auth: Some(AuthContext::new(at, Vec::new(), None)),
            ..view.clone()
        };
        let json = serde_json::to_value(&bare).unwrap();
        assert_eq!(
            json["auth"],
            serde_json::json!({"auth_time": "2026-12-06T12:00:00Z"})
        );
        let none = SessionView { auth: None, ..view };
        assert_eq!(
            serde_json::to_value(&none).unwrap()["auth"],
            serde_json::Value::Null
        );

        // The stored form is unchanged, and reads back.
        let stored = serde_json::to_string(&auth).unwrap();
        assert!(
            stored.contains(&format!("\"auth_time\":{}", at.unix_timestamp())),
            "{stored}"
        );
        assert_eq!(serde_json::from_str::<AuthContext>(&stored).unwrap(), auth);
    }
}
