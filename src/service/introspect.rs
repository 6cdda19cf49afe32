//! Whether a refresh token is the live one of its session: what an
//! introspection endpoint answers for it.

use time::OffsetDateTime;

use super::{TokenService, session_status};
use crate::error::Error;
use crate::session::{Jkt, SessionId};
use crate::store::RefreshStore;
use crate::store::StoreOp;
use crate::token::AppClaims;
use crate::token::refresh::{self, Expiry};

/// A refresh token that can still rotate its session: genuine, unexpired,
/// of the session's current generation, the session live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveRefresh {
    pub(crate) subject: String,
    pub(crate) session_id: SessionId,
    pub(crate) issued_at: OffsetDateTime,
    pub(crate) expires_at: OffsetDateTime,
    /// The key the session is bound to, if any.
    pub(crate) jkt: Option<Jkt>,
}

impl<S: RefreshStore, C: AppClaims> TokenService<S, C> {
    /// The refresh token's session, if the token could rotate it now (one
    /// store read). A spent token, even inside the grace window, is not
    /// live: it can only be replayed, not used.
    ///
    /// # Errors
    /// Token errors, [`Error::SessionRevoked`], [`Error::SessionExpired`],
    /// and [`Error::InvalidClaim`] for a spent generation;
    /// [`Error::Store`] if the store fails.
    pub(crate) async fn live_refresh(&self, refresh_token: &str) -> Result<LiveRefresh, Error> {
        let inner = &*self.inner;
        let now = self.now();
        let presented = refresh::verify(
            &inner.settings.rules,
            &inner.refresh,
            refresh_token,
            now,
            Expiry::Enforce,
        )?;
        let record = self
            .timed(StoreOp::Get, inner.store.get(&presented.session_id))
            .await?
            .ok_or(Error::SessionExpired)?;
        session_status(&record, now)?;
        if record.generation != presented.generation
            || record.secret_hash != presented.secret.hash()
        {
            return Err(Error::InvalidClaim {
                claim: "gen",
                problem: "a spent generation",
            });
        }
        Ok(LiveRefresh {
            jkt: record.jkt,
            expires_at: record.expires_at(),
            issued_at: record.refreshed_at,
            session_id: record.id,
            subject: record.subject,
        })
    }
}
