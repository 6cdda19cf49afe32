//! The password change, the demo's own route that checks a password (the
//! login's check is [`DemoCredentials`](crate::DemoCredentials), called by
//! the flow). The check is throttled by the flow's throttle and bounded by
//! the hash gate (`hashing.rs`) before it runs argon2 off the async
//! runtime.

use std::net::IpAddr;

use jwt_rotate::web::Ticket;

use jwt_rotate::web::HttpError;

use crate::http::{self, PasswordRequest, RevokedBody};
use crate::state::{AppState, User};
use crate::users::{PasswordChangeError, Users};

impl AppState {
    /// `POST /auth/password` from `client`: changes the password and
    /// revokes every other session (whoever else knew the old password is
    /// logged out). Both or neither: if the sessions cannot be revoked, the
    /// old password is put back and the answer is 503, so that retrying the
    /// same request is right.
    ///
    /// # Errors
    /// 400 for a bad body or a weak password, 403 for a wrong current
    /// password, 429 when throttled, 503.
    pub async fn change_password(
        &self,
        user: &User,
        body: &[u8],
        client: Option<IpAddr>,
    ) -> Result<RevokedBody, HttpError> {
        let request: PasswordRequest =
            serde_json::from_slice(body).map_err(|_| HttpError::bad_request())?;
        let subject = user.subject.clone();
        let (changed, ticket) = self
            .check_password(&user.subject, client, move |users| {
                users.change_password(&subject, &request.current_password, &request.new_password)
            })
            .await?;
        let change = match changed {
            Ok(change) => change,
            // A wrong guess: the ticket keeps its charge.
            Err(PasswordChangeError::WrongPassword) => return Err(http::wrong_password()),
            Err(PasswordChangeError::Weak) => {
                ticket.refund();
                return Err(http::weak_password());
            }
            Err(PasswordChangeError::Hashing) => {
                ticket.refund();
                return Err(HttpError::internal("hashing failed"));
            }
        };
        ticket.refund();
        match self.revoke_others(user).await {
            Ok(revoked) => Ok(revoked),
            Err(err) => {
                self.inner.users.undo(change);
                Err(err)
            }
        }
    }

    /// Runs `check` (argon2 work on the accounts) for a guess at `user`'s
    /// password from `client`: throttled first (429 without hashing), then
    /// through the hash gate (503 when it is full), then on the blocking
    /// pool. The ticket is charged; refund it when the password was right.
    async fn check_password<T: Send + 'static>(
        &self,
        user: &str,
        client: Option<IpAddr>,
        check: impl FnOnce(&Users) -> T + Send + 'static,
    ) -> Result<(T, Ticket<'_>), HttpError> {
        let ticket = self
            .inner
            .flow
            .throttle()
            .try_take(user, client)
            .map_err(HttpError::from)?;
        let permit = match self.inner.hash_gate.enter().await {
            Ok(permit) => permit,
            Err(_) => {
                ticket.refund();
                return Err(http::busy());
            }
        };
        let state = self.clone();
        let out = tokio::task::spawn_blocking(move || {
            // Held until the hash ends, even if the request is dropped.
            let _permit = permit;
            check(&state.inner.users)
        })
        .await
        .map_err(|_| HttpError::internal("password check panicked"))?;
        Ok((out, ticket))
    }
}
