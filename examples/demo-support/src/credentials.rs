//! The demo's password check as the library's [`Credentials`], for the
//! login route of `jwt_rotate::web::AuthFlow`: argon2 through the hash
//! gate, off the async runtime. The flow throttles before calling it.

use std::sync::Arc;

use jwt_rotate::NoClaims;
use jwt_rotate::web::{Credentials, CredentialsError, Login};

use crate::hashing::HashGate;
use crate::users::{Credential, Users};

/// The accounts and the gate their hashes go through.
pub struct DemoCredentials {
    pub(crate) users: Arc<Users>,
    pub(crate) gate: HashGate,
}

#[async_trait::async_trait]
impl Credentials for DemoCredentials {
    async fn check(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Login>, CredentialsError> {
        let permit = self
            .gate
            .enter()
            .await
            .map_err(|_| CredentialsError::Busy)?;
        let users = Arc::clone(&self.users);
        let (name, password) = (username.to_owned(), password.to_owned());
        let credential = tokio::task::spawn_blocking(move || {
            // Held until the hash ends, even if the request is dropped.
            let _permit = permit;
            users.verify(&name, &password)
        })
        .await
        .map_err(|err| CredentialsError::Failed(err.into()))?;
        // The matched hash is the stamp: a password change replaces it.
        Ok(credential.map(|c| Login::new(username, NoClaims {}).with_stamp(c.into_stamp())))
    }

    async fn stamp_is_current(&self, subject: &str, stamp: &str) -> Result<bool, CredentialsError> {
        Ok(self
            .users
            .is_current(subject, &Credential::from_stamp(stamp)))
    }
}
