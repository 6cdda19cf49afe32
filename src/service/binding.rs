//! `refresh_dpop`: the refresh of a session bound to a client's key (DPoP,
//! RFC 9449), and how a refused proof is told apart from reuse.
//!
//! The binding travels in the signed refresh token (`cnf.jkt`), so the
//! proof is checked before the store is touched: a refused proof changes
//! nothing. Only then is the session read, once, because a spent token
//! stays proof of reuse whatever proof (or none) came with it: a thief
//! must not escape reuse detection by leaving the proof out.

use time::OffsetDateTime;

use super::rotation::Extras;
use super::{TokenService, session_status};
use crate::error::{ConfigError, Error};
use crate::store::{RefreshStore, StoreOp};
use crate::token::refresh::VerifiedRefresh;
use crate::token::{AppClaims, Dpop, DpopProof, DpopRequest, TokenPair};

impl<S: RefreshStore, C: AppClaims> TokenService<S, C> {
    /// [`refresh`](Self::refresh) with the request's DPoP proof (RFC 9449,
    /// section 5): what a token endpoint calls when the request carries a
    /// `DPoP` header. For a session bound at login
    /// ([`IssueOptions::bound_to`](crate::IssueOptions::bound_to)) the proof
    /// must be valid and signed by the bound key, for a rotation as for a
    /// grace replay of the previous token; the new access token carries
    /// `cnf.jkt` again. For an unbound session the proof is checked all the
    /// same, and the session stays unbound.
    ///
    /// A refused proof changes nothing and revokes nothing (whoever sent
    /// it does not hold the key), with one exception that has nothing to
    /// do with the proof: a spent refresh token is reuse, and revokes its
    /// session, with or without a proof.
    ///
    /// ```
    /// use jwt_rotate::{Dpop, DpopRequest, Error, Key, MemoryStore, NoClaims, SessionInfo, TokenService};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let service = TokenService::builder()
    ///     .issuer("https://auth.example.com")
    ///     .audience("api.example.com")
    ///     .access_key(Key::hs256([1u8; 32])?)
    ///     .refresh_key(Key::hs256([2u8; 32])?)
    ///     .dpop(Dpop::builder().build()?)
    ///     .build(MemoryStore::new())?;
    /// let pair = service.issue("user-42", NoClaims {}, SessionInfo::default()).await?;
    /// // Not a proof: refused, and the session is untouched.
    /// let request = DpopRequest::new("garbage", "POST", "https://auth.example.com/token");
    /// let refused = service.refresh_dpop(&pair.refresh_token, &request).await;
    /// assert!(matches!(refused, Err(Error::InvalidDpopProof(_))));
    /// service.refresh(&pair.refresh_token).await?;
    /// # Ok::<(), Error>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`refresh`](Self::refresh); [`Error::InvalidDpopProof`] with the
    /// reason ([`KeyMismatch`](crate::DpopProblem::KeyMismatch) for a
    /// proof by another key than the bound one), [`Error::UseDpopNonce`],
    /// [`Error::DpopReplayCacheFull`] as
    /// [`Dpop::verify_proof`] says; [`Error::Config`] if the service was
    /// built without [`TokenServiceBuilder::dpop`](crate::TokenServiceBuilder::dpop)
    /// or the request URL is not an absolute `http(s)` URL.
    pub async fn refresh_dpop(
        &self,
        refresh_token: impl AsRef<str>,
        request: &DpopRequest<'_>,
    ) -> Result<TokenPair, Error> {
        self.refresh_recording(
            refresh_token.as_ref(),
            Extras {
                proof: Some(request),
                ..Extras::default()
            },
        )
        .await
    }

    /// Whether the service checks DPoP proofs (it was built with
    /// [`TokenServiceBuilder::dpop`](crate::TokenServiceBuilder::dpop)):
    /// web glue ignores `DPoP` headers when it does not, as RFC 9449 lets
    /// a server that does not support DPoP do.
    pub fn accepts_dpop(&self) -> bool {
        self.inner.dpop.is_some()
    }

    /// Checks a proof sent without an access token, as
    /// [`Dpop::verify_proof`] does but by the service's clock: the login
    /// request's proof, whose key [`IssueOptions::dpop`](crate::IssueOptions::dpop)
    /// binds the new session to.
    ///
    /// # Errors
    /// As [`Dpop::verify_proof`]; [`Error::Config`] if the service was
    /// built without [`TokenServiceBuilder::dpop`](crate::TokenServiceBuilder::dpop).
    pub async fn verify_dpop_proof(&self, request: &DpopRequest<'_>) -> Result<DpopProof, Error> {
        self.dpop()?
            .verify_at(request, None, None, self.now())
            .await
    }

    /// The server nonce of the moment for a `DPoP-Nonce` header, when the
    /// service requires nonces ([`DpopBuilder::nonces`](crate::DpopBuilder::nonces));
    /// `None` otherwise. Sent on answers to requests that carried a proof
    /// (RFC 9449, section 8.2), it lets a client sign its next proof with
    /// a fresh nonce instead of being refused once per nonce period.
    ///
    /// # Errors
    /// [`Error::Config`] if the backend fails to compute it.
    pub fn dpop_nonce(&self) -> Result<Option<String>, Error> {
        match &self.inner.dpop {
            Some(dpop) => dpop.nonce_at(self.now()),
            None => Ok(None),
        }
    }

    /// The proof checker, or the configuration error of a service without
    /// one.
    pub(super) fn dpop(&self) -> Result<&Dpop, Error> {
        self.inner
            .dpop
            .as_ref()
            .ok_or_else(|| ConfigError::new("DPoP needs TokenServiceBuilder::dpop at build").into())
    }

    /// Whether `proof` may rotate (or replay) `presented`: a bound session
    /// needs a valid proof by its key; an unbound one takes none, or a
    /// valid one. The proof's `jti` is remembered only once it passed.
    pub(super) async fn check_proof(
        &self,
        presented: &VerifiedRefresh,
        proof: Option<&DpopRequest<'_>>,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        match (proof, &presented.jkt, &self.inner.dpop) {
            (None, None, _) => Ok(()),
            (None, Some(_), _) | (Some(_), Some(_), None) => Err(Error::DpopRequired),
            (Some(request), bound, _) => {
                let dpop = self.dpop()?;
                let checked = dpop.verify_at(request, None, bound.as_ref(), now).await;
                checked.map(drop)
            }
        }
    }

    /// The error for a refresh whose proof `check_proof` refused with
    /// `refused`. A proof problem is answered as it is unless the token is
    /// spent beyond any grace: that is reuse, and revokes the session, as
    /// it would with a good proof. The session's current token, and the
    /// previous one inside the grace window, keep their session intact.
    pub(super) async fn refused_proof(
        &self,
        presented: &VerifiedRefresh,
        refused: Error,
        now: OffsetDateTime,
    ) -> Error {
        let about_the_proof = matches!(
            refused,
            Error::DpopRequired | Error::InvalidDpopProof(_) | Error::UseDpopNonce { .. }
        );
        if !about_the_proof {
            // The server's own trouble (replay cache, configuration):
            // nothing learned about the token.
            return refused;
        }
        let hash = presented.secret.hash();
        let sid = &presented.session_id;
        let read = self.timed(StoreOp::Get, self.inner.store.get(sid)).await;
        let record = match read {
            Ok(Some(record)) => record,
            Ok(None) => return Error::SessionExpired,
            Err(error) => return error.into(),
        };
        if let Err(status) = session_status(&record, now) {
            return status;
        }
        let current = record.generation == presented.generation && record.secret_hash == hash;
        if current || self.grace_secret(&record, presented, &hash, now).is_some() {
            return refused;
        }
        self.revoke_for_reuse(&record, presented, now).await
    }
}
