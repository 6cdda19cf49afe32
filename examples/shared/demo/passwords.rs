//! The routes that check a password: login and password change. Each check
//! is throttled (`throttle.rs`) and bounded (`hashing.rs`) before it runs
//! argon2 off the async runtime.

use std::net::IpAddr;

use jwt_rotate::{NoClaims, SessionInfo};

use super::http::{self, ApiError, LoginRequest, PasswordRequest, RevokedBody};
use super::logout::Candidates;
use super::users::{MAX_USERNAME_BYTES, PasswordChangeError, Users};
use super::{AppState, Issued, User};
use jwt_rotate::web::Ticket;

impl AppState {
    /// `POST /auth/login` from `client` (`cookies`: the request's `Cookie`
    /// header values): checks the password and starts a session. Every
    /// refresh cookie the browser still holds that verifies is logged out
    /// first, so that no old session lingers as an orphan, whatever was
    /// planted beside it.
    ///
    /// # Errors
    /// 400 for a bad body or too many cookies, 401 for wrong credentials,
    /// 429 when throttled, 503 if hashing is at its bound or the store
    /// fails.
    pub async fn login(
        &self,
        body: &[u8],
        info: SessionInfo,
        client: Option<IpAddr>,
        cookies: &[&[u8]],
    ) -> Result<Issued, ApiError> {
        let request: LoginRequest =
            serde_json::from_slice(body).map_err(|_| ApiError::bad_request())?;
        if request.username.len() > MAX_USERNAME_BYTES {
            return Err(ApiError::bad_request());
        }
        let previous = match self.candidates(cookies)? {
            Candidates::Tokens(tokens) => tokens,
            Candidates::None | Candidates::Junk(_) => Vec::new(),
        };
        let username = request.username.clone();
        let (credential, ticket) = self
            .check_password(&request.username, client, move |users| {
                users.verify(&username, &request.password)
            })
            .await?;
        let Some(credential) = credential else {
            return Err(ApiError::invalid_credentials());
        };
        ticket.refund();
        self.end_sessions(&previous).await?;
        let pair = self
            .service()
            .issue(&request.username, NoClaims {}, info)
            .await?;
        // A password change that ran while this login was between its
        // password check and its session's creation revoked the user's
        // sessions before this one existed: the password it proved is no
        // longer the user's, so the session must not live on. (The change
        // updates the password before revoking, so either its revocation
        // saw this session or this check sees the new password.)
        if !self.inner.users.is_current(&request.username, &credential) {
            self.service().revoke(&pair.refresh_token).await?;
            return Err(ApiError::invalid_credentials());
        }
        self.issued(&pair)
    }

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
    ) -> Result<RevokedBody, ApiError> {
        let request: PasswordRequest =
            serde_json::from_slice(body).map_err(|_| ApiError::bad_request())?;
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
                return Err(ApiError::internal("hashing failed"));
            }
        };
        ticket.refund();
        match self.logout_others(user).await {
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
    ) -> Result<(T, Ticket<'_>), ApiError> {
        let ticket = self
            .inner
            .flow
            .throttle()
            .try_take(user, client)
            .map_err(ApiError::from)?;
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
        .map_err(|_| ApiError::internal("password check panicked"))?;
        Ok((out, ticket))
    }
}
