//! `max_sessions_per_subject`: the revocations a login makes, and the
//! clean-up when they fail.

use time::OffsetDateTime;

use super::{TokenService, newest_first};
use crate::error::Error;
use crate::session::{RevocationReason, SessionId, SessionRecord};
use crate::store::RefreshStore;
use crate::token::AppClaims;

/// What a login does about its subject's other sessions
/// ([`TokenServiceBuilder::session_limit_mode`](crate::TokenServiceBuilder::session_limit_mode),
/// or per login [`IssueOptions::session_limit_mode`](crate::IssueOptions::session_limit_mode)).
///
/// Logins are ordered by (creation time, id); a login never revokes a
/// newer one, so two concurrent logins never revoke each other and leave
/// none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionLimitMode {
    /// Over `max_sessions_per_subject`, the oldest sessions are revoked
    /// ([`RevocationReason::SessionLimit`]). The default.
    #[default]
    RevokeOldest,
    /// At `max_sessions_per_subject` live sessions, a new login is refused
    /// with [`Error::SessionLimit`] and the other sessions are untouched.
    /// The new session is created first and revoked again (it never gets
    /// a token), because only then can concurrent logins see each other:
    /// a login is refused when its listing shows `max` other live sessions,
    /// older or newer, so the limit is never exceeded, and of concurrent
    /// logins for the last place each may be refused (the user retries).
    RefuseNew,
    /// One session per subject: every login revokes the subject's older
    /// sessions, whatever `max_sessions_per_subject` says.
    SingleSession,
}

impl<S: RefreshStore, C: AppClaims> TokenService<S, C> {
    /// What the subject's other sessions become after the login that
    /// created `new`, as `mode` (the login's, else the builder's) says.
    pub(super) async fn apply_session_limit(
        &self,
        new: &SessionRecord,
        mode: SessionLimitMode,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let settings = &self.inner.settings;
        match (mode, settings.max_sessions_per_subject) {
            (SessionLimitMode::SingleSession, _) => self.enforce_session_limit(new, 1, now).await,
            (SessionLimitMode::RefuseNew, Some(max)) => {
                let live = self.live_sessions(&new.subject, now).await?;
                let others = live.iter().filter(|s| s.id != new.id).count();
                if others >= max {
                    Err(Error::SessionLimit { max })
                } else {
                    Ok(())
                }
            }
            (SessionLimitMode::RevokeOldest, Some(max)) => {
                self.enforce_session_limit(new, max, now).await
            }
            (_, None) => Ok(()),
        }
    }

    /// Revokes the live sessions of the new session's subject beyond the
    /// `max` newest, but only those older than the new one.
    ///
    /// Logins are ordered by (creation time, id). A login never revokes
    /// itself nor a newer login: of two concurrent logins over the limit,
    /// the newer one revokes the older, instead of each revoking the other
    /// and leaving none. The price: logins in the same microsecond are
    /// ordered by their random ids, and one ranked below a newer one stays
    /// live past the limit until the next login.
    pub(super) async fn enforce_session_limit(
        &self,
        new: &SessionRecord,
        max: usize,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let mut live = self.live_sessions(&new.subject, now).await?;
        if !live.iter().any(|s| s.id == new.id) {
            live.push(new.clone());
            live.sort_by(newest_first);
        }
        let new_rank = live.iter().position(|s| s.id == new.id).unwrap_or(0);
        for old in live.iter().skip(max.max(new_rank + 1)) {
            self.revoke_with(&old.id, RevocationReason::SessionLimit, now)
                .await?;
        }
        Ok(())
    }

    /// The login that created session `id` is failing and hands out no
    /// token: revoke the session, so that it neither lists as a device nor
    /// counts towards the limit. Best effort: the store just failed, and
    /// may fail again; the session then holds no usable token and dies at
    /// its idle expiry (or is revoked by the next login over the limit).
    pub(super) async fn abandon(&self, id: &SessionId, now: OffsetDateTime) {
        let revoked = self
            .revoke_with(id, RevocationReason::IssueFailed, now)
            .await;
        if let Err(error) = revoked {
            tracing::warn!(
                target: "jwt_rotate",
                session_id = %id,
                error = &error as &dyn std::error::Error,
                "a failed login's session could not be revoked; it has no token"
            );
        }
    }
}
