//! Why and when a session ended early.

use std::str::FromStr;

use time::OffsetDateTime;

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
    /// Every reason, for parsing and for stores' tests (the enum is
    /// non-exhaustive, so only this crate can list them).
    pub(crate) const ALL: [Self; 6] = [
        Self::Logout,
        Self::Revoked,
        Self::SubjectRevoked,
        Self::ReuseDetected,
        Self::SessionLimit,
        Self::IssueFailed,
    ];

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
        Self::ALL
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocation_reasons_round_trip() {
        for reason in RevocationReason::ALL {
            assert_eq!(reason.as_str().parse(), Ok(reason));
        }
        assert_eq!("LOGOUT".parse::<RevocationReason>(), Err(ParseReasonError));
    }
}
