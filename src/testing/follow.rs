//! [`Following`]: a service over a store and a [`Verifier`] following the
//! store's feed, for the feed checks and for measuring how fast a
//! revocation reaches a resource server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::error::Error;
use crate::store::{RefreshStore, RevocationFeed};
use crate::token::{Key, NoClaims, TokenPair};
use crate::{SessionInfo, TokenService, Verifier};

const ISSUER: &str = "https://feed.conformance.invalid";
const AUDIENCE: &str = "feed-conformance";

/// How long the helpers wait for a follower before they fail.
const PATIENCE: Duration = Duration::from_secs(30);

/// A [`TokenService`] over a store and a [`Verifier`] that follows the
/// store's [`RevocationFeed`] (its task spawned, and aborted on drop),
/// sharing a random HS256 access key.
#[derive(Debug)]
pub struct Following<S: ?Sized> {
    /// The service, issuing and revoking sessions in the store.
    pub service: TokenService<Arc<S>>,
    /// The verifier, with no store read per request.
    pub verifier: Verifier,
    follower: JoinHandle<()>,
}

impl<S: RefreshStore + RevocationFeed + ?Sized> Following<S> {
    /// Starts the follower and waits until it synced once.
    ///
    /// # Panics
    /// When the keys cannot be made or the follower does not sync within
    /// 30 seconds.
    pub async fn start(store: &Arc<S>) -> Self {
        let mut secret = [0u8; 32];
        rand::fill(&mut secret);
        let key = || Key::hs256(secret).expect("an HS256 key");
        let service = TokenService::builder()
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .access_key(key())
            .refresh_key(Key::generate(crate::Algorithm::HS256).expect("a refresh key"))
            .build(Arc::clone(store))
            .expect("a service");
        let verifier = Verifier::builder()
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .key(key())
            .revocation_feed(Arc::clone(store))
            .build()
            .expect("a verifier");
        let follower = tokio::spawn(verifier.follow());
        let following = Self {
            service,
            verifier,
            follower,
        };
        let synced = || matches!(following.verifier.staleness(), Some(Some(_)));
        eventually("the follower's first sync", synced).await;
        following
    }

    /// A new session of a fresh subject, whose access token the verifier
    /// accepts.
    ///
    /// # Panics
    /// When the service or the verifier fails.
    pub async fn login(&self) -> TokenPair {
        let subject = super::unique_subject("feed");
        let pair = self
            .service
            .issue(&subject, NoClaims {}, SessionInfo::default())
            .await
            .expect("issue");
        self.verifier
            .verify(&pair.access_token)
            .await
            .expect("a fresh token verifies");
        pair
    }

    /// Revokes `pair`'s session and returns how long after `revoke`
    /// returned the verifier first refused its access token.
    ///
    /// # Panics
    /// When the revocation fails or changes nothing, when the verifier
    /// fails otherwise than by refusing the session, or does not refuse it
    /// within 30 seconds.
    pub async fn revoke_and_time(&self, pair: &TokenPair) -> Duration {
        let revoked = self.service.revoke(&pair.refresh_token).await;
        let returned = Instant::now();
        assert!(revoked.expect("revoke"), "revoke changed nothing");
        loop {
            match self.verifier.verify(&pair.access_token).await {
                Ok(_) => {}
                Err(Error::SessionRevoked) => return returned.elapsed(),
                Err(e) => panic!("the verifier failed: {e:?}"),
            }
            assert!(
                returned.elapsed() < PATIENCE,
                "the follower did not apply a revocation within {PATIENCE:?}"
            );
            tokio::task::yield_now().await;
        }
    }
}

impl<S: ?Sized> Drop for Following<S> {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

/// Waits until `done`, checking every millisecond; panics, naming `what`,
/// after 30 seconds.
pub(super) async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
