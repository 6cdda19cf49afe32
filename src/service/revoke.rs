//! Ending sessions (`revoke`, `revoke_session`, `revoke_subject`), listing
//! them (`sessions`), and `purge_expired`.

use time::OffsetDateTime;

use super::hooks::Event;
use super::{TokenService, newest_first};
use crate::clock::shifted;
use crate::error::Error;
use crate::session::{Revocation, RevocationReason, SessionId, SessionRecord, SessionView};
use crate::store::RefreshStore;
use crate::store::StoreOp;
use crate::token::AppClaims;
use crate::token::refresh::{self, Expiry};

impl<S: RefreshStore, C: AppClaims> TokenService<S, C> {
    /// Logs out the session `refresh_token` belongs to. A genuine token
    /// ends its session even if expired or of an old generation. Returns
    /// whether this call revoked it (`false`: already revoked, or purged).
    ///
    /// # Racing a refresh
    /// Once this returns, no refresh token of the session rotates again
    /// (grace replays included) and [`verify_live`](Self::verify_live)
    /// refuses every access token of it, including the pair of a refresh
    /// that raced this call and won. [`verify`](Self::verify) alone keeps
    /// accepting access tokens until they expire: it never reads the store.
    ///
    /// # Errors
    /// Token errors (a forged token revokes nothing); [`Error::Store`].
    pub async fn revoke(&self, refresh_token: impl AsRef<str>) -> Result<bool, Error> {
        let inner = &*self.inner;
        let now = self.now();
        let presented = refresh::verify(
            &inner.settings.rules,
            &inner.refresh,
            refresh_token.as_ref(),
            now,
            Expiry::Ignore,
        )?;
        self.revoke_with(&presented.session_id, RevocationReason::Logout, now)
            .await
    }

    /// Revokes one session by id (a "sign out this device" button).
    /// Returns whether this call revoked it (`false`: unknown, or already
    /// revoked). Races with refresh as [`revoke`](Self::revoke) does.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub async fn revoke_session(&self, session_id: &SessionId) -> Result<bool, Error> {
        self.revoke_with(session_id, RevocationReason::Revoked, self.now())
            .await
    }

    /// Revokes every session of `subject` except `except` (the caller's
    /// own, for "log out other devices"; `None` after a password reset).
    /// Returns how many this call revoked (expired sessions not yet purged
    /// included).
    ///
    /// # Racing logins and refreshes
    /// Every session whose [`issue`](Self::issue) returned before this call
    /// began is revoked when it returns, with every token refreshed from
    /// it, as [`revoke`](Self::revoke) says. A login still in flight (its
    /// `issue` called before, returning after this began) may survive: its
    /// session is written by a store call that can land after the
    /// revocation. After a password change, update the credential first,
    /// then call this, so that no login with the old password can begin
    /// afterwards; to close the window of one already past the password
    /// check, serialize logins and password changes per user (a row lock
    /// on the user, say).
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
    ) -> Result<u64, Error> {
        let reason = RevocationReason::SubjectRevoked;
        let why = Revocation {
            reason,
            at: self.now(),
        };
        let store = &self.inner.store;
        let count = self
            .timed(
                StoreOp::RevokeSubject,
                store.revoke_subject(subject, except, &why),
            )
            .await?;
        self.emit(Event::SubjectRevoked {
            subject,
            count,
            reason,
        });
        Ok(count)
    }

    /// The subject's live sessions, newest first: a "your devices" page.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub async fn sessions(&self, subject: &str) -> Result<Vec<SessionView>, Error> {
        Ok(self
            .live_sessions(subject, self.now())
            .await?
            .into_iter()
            .map(SessionView::from)
            .collect())
    }

    /// Deletes sessions that expired (beyond the leeway), revoked or not.
    /// Run it periodically. Returns how many were deleted.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub async fn purge_expired(&self) -> Result<u64, Error> {
        let cutoff = shifted(self.now(), -self.inner.settings.rules.leeway, "-leeway")?;
        Ok(self
            .timed(
                StoreOp::PurgeExpired,
                self.inner.store.purge_expired(cutoff),
            )
            .await?)
    }

    pub(super) async fn revoke_with(
        &self,
        session_id: &SessionId,
        reason: RevocationReason,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        let why = Revocation { reason, at };
        let revoked = self
            .timed(StoreOp::Revoke, self.inner.store.revoke(session_id, &why))
            .await?;
        if revoked {
            self.emit(Event::Revoked { session_id, reason });
        }
        Ok(revoked)
    }

    pub(super) async fn live_sessions(
        &self,
        subject: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, Error> {
        let mut sessions = self
            .timed(StoreOp::Sessions, self.inner.store.sessions(subject))
            .await?;
        sessions.retain(|s| s.subject == subject && s.is_live(now));
        sessions.sort_by(newest_first);
        Ok(sessions)
    }
}
