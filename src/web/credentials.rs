//! [`Credentials`]: the application's password check, called by the login
//! route.

use std::future::Future;

use async_trait::async_trait;

use crate::token::NoClaims;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Who a right password proved the caller to be.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Login<C = NoClaims> {
    /// The session's subject (`sub`), e.g. the user's id.
    pub subject: String,
    /// The app's claims, carried into every access token of the session.
    pub claims: C,
    /// The account's security stamp at the check, if the app keeps one:
    /// see [`Credentials::stamp_is_current`].
    pub stamp: Option<String>,
}

impl<C> Login<C> {
    /// `subject` with `claims`, no stamp.
    pub fn new(subject: impl Into<String>, claims: C) -> Self {
        Self {
            subject: subject.into(),
            claims,
            stamp: None,
        }
    }

    /// With the account's security stamp (e.g. its password hash, or a
    /// counter bumped at every password change).
    #[must_use]
    pub fn with_stamp(mut self, stamp: impl Into<String>) -> Self {
        self.stamp = Some(stamp.into());
        self
    }
}

/// Why a password could not be checked (not: the password was wrong).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// Every password-hashing slot is taken: 503 with `Retry-After: 1`.
    #[error("password checks are at their bound")]
    Busy,
    /// The check failed (the user database is down, a hash is corrupt):
    /// 500. The cause goes to the log, never to the client.
    #[error("the password check failed")]
    Failed(#[source] BoxError),
}

/// The application's password check, which the login route calls after its
/// CSRF check and its throttle, and before it starts a session.
///
/// Implement it on the app's user table, or pass an async closure
/// `|username: String, password: String| async move { ... }`. Run slow
/// hashing (argon2, bcrypt) off the async runtime, e.g. with
/// `tokio::task::spawn_blocking`, and spend as much work on an unknown
/// user as on a known one, so that timing does not tell which exist.
///
/// ```
/// use jwt_rotate::web::{Credentials, CredentialsError, Login};
///
/// struct OneUser;
///
/// #[async_trait::async_trait]
/// impl Credentials for OneUser {
///     async fn check(&self, username: &str, password: &str)
///         -> Result<Option<Login>, CredentialsError> {
///         // A real app compares a password hash, in constant time.
///         let right = username == "alice" && password == "correct horse";
///         Ok(right.then(|| Login::new("user-1", jwt_rotate::NoClaims {})))
///     }
/// }
/// ```
#[async_trait]
pub trait Credentials<C = NoClaims>: Send + Sync + 'static {
    /// `Some(login)` if `password` is `username`'s, `None` if not (or no
    /// such user: answer both alike).
    ///
    /// # Errors
    /// [`CredentialsError`] when the password could not be checked.
    async fn check(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Login<C>>, CredentialsError>;

    /// Whether `subject`'s security stamp is still `stamp`; called after
    /// the session of a login with a stamp was created. A password change
    /// that revoked the user's sessions while this login was between its
    /// check and its session would miss that session: `false` here revokes
    /// it and answers 401. Default: `true`.
    ///
    /// # Errors
    /// [`CredentialsError`] when the stamp could not be read (the new
    /// session is then revoked too).
    async fn stamp_is_current(&self, subject: &str, stamp: &str) -> Result<bool, CredentialsError> {
        let _ = (subject, stamp);
        Ok(true)
    }
}

#[async_trait]
impl<C, F, Fut> Credentials<C> for F
where
    C: Send + 'static,
    F: Fn(String, String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Login<C>>, CredentialsError>> + Send,
{
    async fn check(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Login<C>>, CredentialsError> {
        self(username.to_owned(), password.to_owned()).await
    }
}
