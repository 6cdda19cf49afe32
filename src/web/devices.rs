//! The caller's devices: `GET /sessions`, `DELETE /sessions/{id}` and
//! `POST /auth/logout-others`, the routes of a "your devices" page.

use super::body::{RevokedBody, SessionBody};
use super::error::HttpError;
use super::flow::AuthFlow;
use super::reply::Reply;
use crate::session::SessionId;
use crate::store::RefreshStore;
use crate::token::{AccessClaims, AppClaims};

impl<S: RefreshStore, C: AppClaims> AuthFlow<S, C> {
    /// `POST /auth/logout-others`: revokes every session of the caller but
    /// this one; `{"revoked": n}`.
    ///
    /// # Errors
    /// 503 if the store fails.
    pub async fn logout_others(&self, caller: &AccessClaims<C>) -> Result<Reply, HttpError> {
        let revoked = self
            .service()
            .revoke_subject(&caller.sub, Some(&caller.sid))
            .await?;
        Ok(Reply::json(200, &RevokedBody { revoked }).with_header("cache-control", "no-store"))
    }

    /// `GET /sessions`: the caller's live sessions, newest first.
    ///
    /// # Errors
    /// 503 if the store fails.
    pub async fn sessions(&self, caller: &AccessClaims<C>) -> Result<Reply, HttpError> {
        let views = self.service().sessions(&caller.sub).await?;
        let rows: Vec<SessionBody> = views
            .iter()
            .map(|view| SessionBody::new(view, &caller.sid))
            .collect();
        Ok(Reply::json(200, &rows).with_header("cache-control", "no-store"))
    }

    /// `DELETE /sessions/{id}`: revokes one of the caller's sessions; 204.
    ///
    /// # Errors
    /// 404 if `id` is not one of the caller's live sessions; 503.
    pub async fn revoke_session(
        &self,
        caller: &AccessClaims<C>,
        id: &str,
    ) -> Result<Reply, HttpError> {
        let id: SessionId = id.parse().map_err(|_| HttpError::not_found())?;
        let sessions = self.service().sessions(&caller.sub).await?;
        if !sessions.iter().any(|s| s.id == id) {
            return Err(HttpError::not_found());
        }
        self.service().revoke_session(&id).await?;
        Ok(Reply::empty(204))
    }
}
