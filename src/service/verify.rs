//! `verify` and `verify_live`: every request's check; and the JWKS other
//! services verify with.

use jsonwebtoken::jwk::JwkSet;

use super::{TokenService, session_status};
use crate::error::Error;
use crate::store::RefreshStore;
use crate::store::StoreOp;
use crate::token::{AccessClaims, AppClaims, access};

impl<S: RefreshStore, C: AppClaims> TokenService<S, C> {
    /// Verifies an access token: signature with the algorithm pinned by its
    /// `kid`, `typ`, issuer, audience, times, lifetime. No store access, so
    /// a revoked session's access tokens stay valid until they expire; use
    /// [`verify_live`](Self::verify_live) where that matters.
    ///
    /// # Errors
    /// [`Error::Malformed`], [`Error::InvalidSignature`],
    /// [`Error::InvalidClaim`], [`Error::Expired`], [`Error::NotYetValid`].
    pub fn verify(&self, access_token: impl AsRef<str>) -> Result<AccessClaims<C>, Error> {
        let inner = &*self.inner;
        access::verify(
            &inner.settings.rules,
            &inner.access,
            access_token.as_ref(),
            self.now(),
        )
    }

    /// [`verify`](Self::verify), then checks that the session is still live
    /// (one store read).
    ///
    /// # Errors
    /// As `verify`; [`Error::SessionRevoked`], [`Error::SessionExpired`];
    /// [`Error::Store`] if the store fails.
    pub async fn verify_live(
        &self,
        access_token: impl AsRef<str>,
    ) -> Result<AccessClaims<C>, Error> {
        let claims = self.verify(access_token)?;
        let record = self
            .timed(StoreOp::Get, self.inner.store.get(&claims.sid))
            .await?;
        let record = record.ok_or(Error::SessionExpired)?;
        if record.subject != claims.sub {
            return Err(Error::InvalidClaim {
                claim: "sub",
                problem: "does not match the session",
            });
        }
        session_status(&record, self.now())?;
        Ok(claims)
    }

    /// The public access-token keys as a JSON Web Key Set, for other
    /// services to verify access tokens. Empty with HMAC keys.
    pub fn jwks(&self) -> &JwkSet {
        &self.inner.jwks
    }
}
