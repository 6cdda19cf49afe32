//! [`Verifier`]: the resource-server side. Verifies access tokens exactly
//! as [`TokenService::verify`](crate::TokenService::verify) does (the same
//! token-layer function), with public keys only, and refuses tokens of
//! revoked sessions from a [`RevocationFeed`] without a store read per
//! request.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, PoisonError, RwLock};

use time::{Duration, OffsetDateTime};

use crate::clock::Clock;
use crate::error::Error;
use crate::store::{CatchUp, RevocationFeed};
use crate::token::{AccessClaims, AppClaims, Dpop, DpopRequest, KeyRing, NoClaims, TokenRules};
use crate::token::{access, dpop};

mod builder;
#[cfg(feature = "revocation-feed")]
mod follow;
#[cfg(feature = "jwks-fetch")]
mod http;
mod keys;
mod revocations;

pub use builder::VerifierBuilder;
#[cfg(feature = "jwks-fetch")]
pub use http::HttpJwks;
pub use keys::{JwksResponse, JwksSource};
pub use revocations::RevocationStatus;

use keys::Keys;
use revocations::Revocations;

/// What a resource server runs: verifies the access tokens an
/// authorization server's [`TokenService`](crate::TokenService) issued,
/// with its public keys (a JWKS, given or fetched) or a shared [`Key`](crate::Key).
///
/// Given a [`RevocationFeed`], it also refuses the tokens of revoked
/// sessions, from a view of recent revocations kept in memory, and fails
/// closed ([`Error::RevocationsStale`], "503, try later") when that view
/// is older than `max_staleness`.
///
/// ```
/// use jwt_rotate::{Key, MemoryStore, NoClaims, SessionInfo, TokenService, Verifier};
/// # let pem = include_str!("../../tests/data/keys/ed25519.pem");
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let service = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .access_key(Key::ed25519_pem(pem)?)
///     .refresh_key(Key::hs256(b"a refresh secret of at least 32 bytes")?)
///     .build(MemoryStore::new())?;
/// // On the resource server, from the auth server's /.well-known/jwks.json:
/// let verifier = Verifier::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .jwks(service.jwks())
///     .build()?;
/// let login = service.issue("user-42", NoClaims {}, SessionInfo::default()).await?;
/// let claims = verifier.verify(&login.access_token).await?;
/// assert_eq!(claims.sub, "user-42");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Verifier<C = NoClaims> {
    inner: Arc<Inner>,
    claims: PhantomData<fn() -> C>,
}

struct Inner {
    rules: TokenRules,
    keys: Keys,
    revocations: Option<RevocationSource>,
    clock: Arc<dyn Clock>,
}

/// The feed and the view it keeps.
struct RevocationSource {
    feed: Arc<dyn RevocationFeed>,
    view: RwLock<Revocations>,
    /// For the follower's heartbeat; the view checks its own staleness.
    #[cfg_attr(not(feature = "revocation-feed"), allow(dead_code))]
    max_staleness: Duration,
}

impl Verifier {
    /// A builder; see [`VerifierBuilder`] for the settings and defaults.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::new()
    }
}

impl<C> Clone for Verifier<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            claims: PhantomData,
        }
    }
}

impl<C> fmt::Debug for Verifier<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.rules.issuer)
            .field("audience", &self.inner.rules.audience)
            .field("keys", &self.inner.keys)
            .field("revocations", &self.revocations())
            .finish_non_exhaustive()
    }
}

impl<C: AppClaims> Verifier<C> {
    /// Verifies an access token presented as a Bearer token, as
    /// [`TokenService::verify`](crate::TokenService::verify) does, then,
    /// with a revocation feed, checks that its session was not revoked.
    /// With fetched keys, an unknown `kid` or keys older than their max
    /// age fetch the key set first (rate-limited).
    ///
    /// # Errors
    /// As `TokenService::verify`; [`Error::SessionRevoked`] for a revoked
    /// session; [`Error::RevocationsStale`] when the revocation view is
    /// older than `max_staleness`; [`Error::KeysUnavailable`] when the
    /// token's key is unknown and the key set could not be fetched.
    pub async fn verify(&self, access_token: impl AsRef<str>) -> Result<AccessClaims<C>, Error> {
        let (token, inner) = (access_token.as_ref(), &*self.inner);
        let now = inner.clock.now();
        let claims = match &inner.keys {
            Keys::Fixed(ring) => access::verify(&inner.rules, ring, token, now)?,
            // Boxed: the fetch's state would otherwise make every call's
            // future large, fixed keys' too.
            Keys::Fetched(_) => {
                let ring = Box::pin(self.ring_for(token, now)).await?;
                access::verify(&inner.rules, &ring, token, now)?
            }
        };
        self.check_revoked(&claims, now)?;
        Ok(claims)
    }

    /// Verifies a DPoP-bound access token with its proof, as
    /// [`TokenService::verify_dpop`](crate::TokenService::verify_dpop)
    /// does, then checks revocation as [`verify`](Self::verify) does.
    ///
    /// # Errors
    /// As `TokenService::verify_dpop`, and as [`verify`](Self::verify).
    pub async fn verify_dpop(
        &self,
        dpop: &Dpop,
        access_token: impl AsRef<str>,
        request: &DpopRequest<'_>,
    ) -> Result<AccessClaims<C>, Error> {
        let (token, inner) = (access_token.as_ref(), &*self.inner);
        let now = inner.clock.now();
        let claims = match &inner.keys {
            Keys::Fixed(ring) => {
                dpop::verify_access(&inner.rules, ring, dpop, token, request, now).await?
            }
            Keys::Fetched(_) => {
                let ring = Box::pin(self.ring_for(token, now)).await?;
                dpop::verify_access(&inner.rules, &ring, dpop, token, request, now).await?
            }
        };
        self.check_revoked(&claims, now)?;
        Ok(claims)
    }
}

impl<C> Verifier<C> {
    async fn ring_for(&self, token: &str, now: OffsetDateTime) -> Result<Arc<KeyRing>, Error> {
        match &self.inner.keys {
            Keys::Fetched(fetched) => {
                let max_len = self.inner.rules.max_token_bytes;
                fetched.ring_for(token, max_len, now).await
            }
            Keys::Fixed(_) => Err(Error::KeysUnavailable("the keys are fixed".into())),
        }
    }

    fn check_revoked<D>(&self, claims: &AccessClaims<D>, now: OffsetDateTime) -> Result<(), Error> {
        let Some(source) = &self.inner.revocations else {
            return Ok(());
        };
        let view = source.view.read().unwrap_or_else(PoisonError::into_inner);
        let iat = claims.iat.unix_timestamp();
        view.check(&claims.sid, &claims.sub, iat, now)
    }

    /// How old the revocation view is: the time since the feed last
    /// confirmed it was current. `None` without a feed; `Some(None)` while
    /// it was never synced.
    pub fn staleness(&self) -> Option<Option<Duration>> {
        let source = self.inner.revocations.as_ref()?;
        let view = source.view.read().unwrap_or_else(PoisonError::into_inner);
        let now = self.inner.clock.now();
        Some(view.last_synced().map(|synced| now - synced))
    }

    /// Applies a pushed event (one not after the cursor is ignored).
    #[cfg_attr(not(feature = "revocation-feed"), allow(dead_code))]
    fn apply(&self, event: &crate::store::RevocationEvent) {
        if let Some(source) = &self.inner.revocations {
            let mut view = source.view.write().unwrap_or_else(PoisonError::into_inner);
            view.apply(event);
        }
    }

    /// The feed says nothing happened after `cursor`: if that is where the
    /// view stands, it is current now.
    #[cfg_attr(not(feature = "revocation-feed"), allow(dead_code))]
    fn confirm(&self, cursor: crate::store::Cursor) {
        if let Some(source) = &self.inner.revocations {
            let now = self.inner.clock.now();
            let mut view = source.view.write().unwrap_or_else(PoisonError::into_inner);
            if view.cursor() == cursor {
                view.synced(now);
            }
        }
    }

    /// What the revocation view holds; `None` without a feed.
    pub fn revocations(&self) -> Option<RevocationStatus> {
        let source = self.inner.revocations.as_ref()?;
        let view = source.view.read().unwrap_or_else(PoisonError::into_inner);
        Some(view.status())
    }

    /// Catches the revocation view up with the feed once (one
    /// [`RevocationFeed::since`] call) and marks it current as of the
    /// call's start. [`follow`](Self::follow) does this on its own; call it
    /// to sync without tokio, or right after building. When the feed no
    /// longer holds what was missed, every token issued up to the instant
    /// the feed says it may have missed revocations until (up to now when
    /// it cannot say) is refused until it would have expired (its holder
    /// refreshes): fails closed, then recovers. A verifier started against
    /// a feed that trimmed only revocations older than an access token's
    /// lifetime refuses nothing.
    ///
    /// Does nothing without a feed.
    ///
    /// # Errors
    /// [`Error::Store`] when the feed fails; the view keeps its age.
    pub async fn sync_revocations(&self) -> Result<(), Error> {
        let Some(source) = &self.inner.revocations else {
            return Ok(());
        };
        let started = self.inner.clock.now();
        let cursor = source
            .view
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .cursor();
        let answer = source.feed.since(cursor).await?;
        let mut view = source.view.write().unwrap_or_else(PoisonError::into_inner);
        match answer {
            CatchUp::Events { events, .. } => events.iter().for_each(|e| view.apply(e)),
            CatchUp::TooOld { head, missed_until } => {
                view.resync(head, missed_until, self.inner.clock.now());
            }
        }
        view.synced(started);
        Ok(())
    }
}
