//! DPoP (RFC 9449): sender-constrained tokens. A client proves, with each
//! request, that it holds the private key its session or access token is
//! bound to, so a stolen token is of no use without the key.
//!
//! [`Dpop`] checks proofs: the proof itself ([`proof`]), its key and
//! thumbprint ([`jwk`], [`Jkt`]), the request URL ([`htu`]), server nonces
//! ([`DpopNonces`]) and replays ([`DpopReplayCache`]). Access tokens of
//! bound sessions carry `cnf.jkt`, and [`verify_access`] checks such a
//! token together with its proof and `ath`.

mod htu;
mod nonce;
mod proof;
mod replay;
mod rules;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use time::OffsetDateTime;

pub use crate::session::Jkt;
pub use nonce::DpopNonces;
pub use replay::{DpopReplayCache, MemoryReplayCache, Replay, ReplayKey, StoreReplayCache};
pub use rules::DpopBuilder;

use super::access::{self, AccessClaims, Presented};
use super::ring::KeyRing;
use super::rules::TokenRules;
use crate::clock::Clock;
use crate::error::{ConfigError, DpopProblem, Error};
use proof::Target;
use rules::DpopRules;

/// Checks DPoP proofs (RFC 9449): signature by the key in the proof's
/// `jwk` header, `typ`, algorithm, method and URL of the request, `iat`
/// window, `jti` never seen before, and the server nonce when nonces are
/// on. Build one at start-up with [`Dpop::builder`] and share it: it holds
/// the replay cache.
///
/// ```
/// use jwt_rotate::{Dpop, DpopRequest, DpopProblem, Error};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let dpop = Dpop::builder().build()?;
/// let request = DpopRequest::new("not a proof", "POST", "https://auth.example.com/token");
/// let refused = dpop.verify_proof(&request).await;
/// assert!(matches!(refused, Err(Error::InvalidDpopProof(DpopProblem::Malformed))));
/// # Ok::<(), Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Dpop {
    pub(crate) rules: DpopRules,
    pub(crate) nonces: Option<DpopNonces>,
    pub(crate) replay: Arc<dyn DpopReplayCache>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Dpop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dpop")
            .field("rules", &self.rules)
            .field("nonces", &self.nonces)
            .finish_non_exhaustive()
    }
}

/// What a proof is checked against: the `DPoP` header's value, and the
/// request's method and absolute URL as the client addressed it (scheme,
/// host and port of the public endpoint, behind any proxy).
#[derive(Debug, Clone, Copy)]
pub struct DpopRequest<'a> {
    proof: &'a str,
    method: &'a str,
    url: &'a str,
}

impl<'a> DpopRequest<'a> {
    /// The proof `proof` sent with a `method` request to `url` (query and
    /// fragment, if any, are not compared).
    pub fn new(proof: &'a str, method: &'a str, url: &'a str) -> Self {
        Self { proof, method, url }
    }
}

/// A proof that passed every check: its key's thumbprint, to bind a
/// session to or compare with a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpopProof {
    jkt: Jkt,
    iat: OffsetDateTime,
}

impl DpopProof {
    /// The thumbprint of the key that signed the proof.
    pub fn jkt(&self) -> &Jkt {
        &self.jkt
    }

    /// When the client says it made the proof.
    pub fn iat(&self) -> OffsetDateTime {
        self.iat
    }
}

impl Dpop {
    /// A builder with the defaults of RFC 9449's examples: proofs up to 60
    /// seconds old, ES256, EdDSA, PS256, RS256, no nonces, an in-memory
    /// replay cache.
    pub fn builder() -> DpopBuilder {
        DpopBuilder::default()
    }

    /// Checks a proof sent without an access token (at a token endpoint,
    /// or at login to bind the new session to its key), and remembers it
    /// so it is never accepted again.
    ///
    /// # Errors
    /// [`Error::InvalidDpopProof`] with the reason; [`Error::UseDpopNonce`]
    /// when nonces are on and the proof has no valid one;
    /// [`Error::DpopReplayCacheFull`] or [`Error::Store`] when the replay
    /// cache cannot remember it; [`Error::Config`] if `url` is not an
    /// absolute `http` or `https` URL.
    pub async fn verify_proof(&self, request: &DpopRequest<'_>) -> Result<DpopProof, Error> {
        self.verify_at(request, None, None, self.clock.now()).await
    }

    /// A nonce for the `DPoP-Nonce` header of a response, when nonces are
    /// on.
    ///
    /// # Errors
    /// [`Error::Config`] if the backend fails to compute it.
    pub fn nonce(&self) -> Result<Option<String>, Error> {
        self.nonce_at(self.clock.now())
    }

    /// [`nonce`](Self::nonce) at `now`.
    pub(crate) fn nonce_at(&self, now: OffsetDateTime) -> Result<Option<String>, Error> {
        self.nonces
            .as_ref()
            .map(|nonces| nonces.issue(now))
            .transpose()
    }

    /// Every check of a proof at `now`: its own, `ath` when it comes with
    /// `access_token`, the key when the token or session is bound to
    /// `bound`, the nonce, and last (so that refused proofs take no room)
    /// the replay cache.
    pub(crate) async fn verify_at(
        &self,
        request: &DpopRequest<'_>,
        access_token: Option<&str>,
        bound: Option<&Jkt>,
        now: OffsetDateTime,
    ) -> Result<DpopProof, Error> {
        let url = htu::normalize(request.url)
            .ok_or_else(|| ConfigError::new("the request URL is not an absolute http(s) URL"))?;
        let target = Target {
            method: request.method,
            url: &url,
        };
        let seconds = now.unix_timestamp();
        let checked = proof::check(&self.rules, request.proof, &target, access_token, seconds)?;
        if bound.is_some_and(|bound| *bound != checked.jkt) {
            return Err(Error::InvalidDpopProof(DpopProblem::KeyMismatch));
        }
        if let Some(nonces) = &self.nonces {
            let nonce = checked.nonce.as_deref().unwrap_or_default();
            if !nonces.is_valid(nonce, now) {
                return Err(Error::UseDpopNonce {
                    nonce: nonces.issue(now)?,
                });
            }
        }
        let iat = OffsetDateTime::from_unix_timestamp(checked.iat)
            .map_err(|_| Error::InvalidDpopProof(DpopProblem::Future))?;
        // Refused as stale once `now > iat + max_age`: remembered until then.
        let expires_at = iat
            .checked_add(self.rules.max_age + time::Duration::SECOND)
            .ok_or(Error::InvalidDpopProof(DpopProblem::Future))?;
        let key = ReplayKey::new(&checked.jkt, &checked.jti);
        match self.replay.insert_if_absent(&key, now, expires_at).await? {
            Replay::Fresh => Ok(DpopProof {
                jkt: checked.jkt,
                iat,
            }),
            Replay::Seen => Err(Error::InvalidDpopProof(DpopProblem::Replayed)),
        }
    }
}

/// Verifies a DPoP-bound access token with the proof that came with it:
/// the token as [`access::verify`] does but requiring `cnf.jkt`, then the
/// proof, its `ath` over this token, and its key against `cnf.jkt`.
pub(crate) async fn verify_access<C: DeserializeOwned>(
    rules: &TokenRules,
    ring: &KeyRing,
    dpop: &Dpop,
    token: &str,
    request: &DpopRequest<'_>,
    now: OffsetDateTime,
) -> Result<AccessClaims<C>, Error> {
    let claims: AccessClaims<C> = access::verify_as(rules, ring, token, now, Presented::Dpop)?;
    dpop.verify_at(request, Some(token), claims.jkt.as_ref(), now)
        .await?;
    Ok(claims)
}
