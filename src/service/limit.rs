//! `max_sessions_per_subject`: the revocations a login makes, and the
//! clean-up when they fail.

use time::OffsetDateTime;

use super::{TokenService, newest_first};
use crate::error::Error;
use crate::session::{RevocationReason, SessionId, SessionRecord};
use crate::store::RefreshStore;
use crate::token::AppClaims;

impl<S: RefreshStore, C: AppClaims> TokenService<S, C> {
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
