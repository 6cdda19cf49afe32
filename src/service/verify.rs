//! `verify` and `verify_live`: every request's check; and the JWKS other
//! services verify with.

use jsonwebtoken::jwk::JwkSet;

use super::{TokenService, session_status};
use crate::error::Error;
use crate::store::RefreshStore;
use crate::store::StoreOp;
use crate::token::{AccessClaims, AppClaims, DpopRequest, access, dpop};

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
        self.check_live(claims).await
    }

    /// `verify_live` for an introspection endpoint: bound tokens too,
    /// whose `cnf.jkt` the caller reports (RFC 9449, section 6.2); the
    /// resource server that asked checks the proof.
    #[cfg(feature = "oauth")]
    pub(crate) async fn introspect_live(
        &self,
        access_token: &str,
    ) -> Result<AccessClaims<C>, Error> {
        let inner = &*self.inner;
        let rules = &inner.settings.rules;
        let presented = access::Presented::Introspected;
        let claims = access::verify_as(rules, &inner.access, access_token, self.now(), presented)?;
        self.check_live(claims).await
    }

    /// `claims`, if their session is still live (one store read).
    pub(crate) async fn check_live(
        &self,
        claims: AccessClaims<C>,
    ) -> Result<AccessClaims<C>, Error> {
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

    /// Verifies a DPoP-bound access token (`Authorization: DPoP`) with
    /// the proof that came with it (RFC 9449, section 7): the token as
    /// [`verify`](Self::verify) does, and it must carry `cnf.jkt`; the
    /// proof as [`Dpop::verify_proof`](crate::Dpop::verify_proof) does, and its `ath` must be this
    /// token's hash and its key the one in `cnf.jkt`. Both are judged by
    /// the service's clock. No store access; the proof's `jti` goes to the
    /// replay cache of the [`Dpop`](crate::Dpop) given to
    /// [`TokenServiceBuilder::dpop`](crate::TokenServiceBuilder::dpop).
    ///
    /// A bound token sent to [`verify`](Self::verify) as a Bearer token is
    /// refused with [`Error::DpopRequired`].
    ///
    /// # Errors
    /// As `verify`, and [`Error::InvalidClaim`] for `cnf` when the token
    /// is not bound; [`Error::InvalidDpopProof`] with the reason,
    /// [`Error::UseDpopNonce`], [`Error::DpopReplayCacheFull`],
    /// [`Error::Store`] and [`Error::Config`] as
    /// [`Dpop::verify_proof`](crate::Dpop::verify_proof) says, and
    /// [`Error::Config`] if the service was built without a `Dpop`.
    pub async fn verify_dpop(
        &self,
        access_token: impl AsRef<str>,
        request: &DpopRequest<'_>,
    ) -> Result<AccessClaims<C>, Error> {
        let inner = &*self.inner;
        let (rules, ring) = (&inner.settings.rules, &inner.access);
        let token = access_token.as_ref();
        let dpop = self.dpop()?;
        dpop::verify_access(rules, ring, dpop, token, request, self.now()).await
    }

    /// [`verify_dpop`](Self::verify_dpop), then checks that the session is
    /// still live (one store read), as [`verify_live`](Self::verify_live)
    /// does for bearer tokens: what a resource served by the auth server
    /// itself calls for a bound token (`Authorization: DPoP`) where a
    /// revoked session must lose access at once. The proof is checked
    /// (and remembered) before the store is read, so a refused proof costs
    /// no store call.
    ///
    /// # Errors
    /// As `verify_dpop`; [`Error::SessionRevoked`],
    /// [`Error::SessionExpired`]; [`Error::Store`] if the store fails.
    pub async fn verify_live_dpop(
        &self,
        access_token: impl AsRef<str>,
        request: &DpopRequest<'_>,
    ) -> Result<AccessClaims<C>, Error> {
        let claims = self.verify_dpop(access_token, request).await?;
        self.check_live(claims).await
    }

    /// The public access-token keys as a JSON Web Key Set, for other
    /// services to verify access tokens. Empty with HMAC keys.
    pub fn jwks(&self) -> &JwkSet {
        &self.inner.jwks
    }
}
