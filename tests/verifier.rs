//! The resource-server side: `Verifier` built from a JWKS (given or
//! fetched), answering as `TokenService::verify` does, and its revocation
//! view fed by MemoryStore's `RevocationFeed`: revoked sessions refused,
//! entries dropped after `access_ttl + leeway`, fail-closed staleness,
//! catch-up after a disconnect, resync when the cursor is too old.
//! No sleeping: a `ManualClock` for every instant, tokio's paused clock
//! where the follower backs off.

mod common;

#[cfg(feature = "jwks-fetch")]
#[path = "verifier/cache.rs"]
mod cache;
#[path = "verifier/feed.rs"]
mod feed;
#[path = "verifier/keys.rs"]
mod keys;

use jwt_rotate::{
    Error, ErrorClass, Key, ManualClock, MemoryStore, TokenService, Verifier, VerifierBuilder,
};
use std::sync::Arc;
use time::Duration;

pub(crate) const ED25519_PEM: &str = include_str!("data/keys/ed25519.pem");
pub(crate) const ED25519_B_PEM: &str = include_str!("data/keys/ed25519-b.pem");

/// A service with an Ed25519 access key over `store`, on `clock`.
pub(crate) fn ed_service(
    clock: &ManualClock,
    store: Arc<MemoryStore>,
) -> TokenService<Arc<MemoryStore>> {
    common::builder(clock)
        .access_key(Key::ed25519_pem(ED25519_PEM).unwrap())
        .build(store)
        .unwrap()
}

/// A verifier builder for the tests' issuer and audience on `clock`.
pub(crate) fn verifier(clock: &ManualClock) -> VerifierBuilder {
    Verifier::builder()
        .issuer(common::ISSUER)
        .audience(common::AUDIENCE)
        .clock(clock.clone())
}

#[tokio::test]
async fn a_jwks_verifier_accepts_what_the_service_accepts() {
    let clock = ManualClock::new(common::start());
    let service = ed_service(&clock, Arc::default());
    let verifier = verifier(&clock).jwks(service.jwks()).build().unwrap();
    let pair = common::login(&service, "alice").await;
    let claims = verifier.verify(&pair.access_token).await.unwrap();
    assert_eq!(claims, service.verify(&pair.access_token).unwrap());
    assert_eq!(
        (claims.sub.as_str(), claims.sid),
        ("alice", pair.session_id)
    );
    // Expired for both, at the same instant.
    clock.advance(Duration::minutes(15) + Duration::seconds(6));
    let ours = verifier.verify(&pair.access_token).await.unwrap_err();
    assert!(matches!(ours, Error::Expired), "{ours:?}");
    assert!(matches!(
        service.verify(&pair.access_token),
        Err(Error::Expired)
    ));
    // Without a revocation feed there is no view to be stale.
    assert_eq!(verifier.staleness(), None);
    assert_eq!(verifier.revocations(), None);
}

#[tokio::test]
async fn another_issuers_or_audiences_tokens_are_refused() {
    let clock = ManualClock::new(common::start());
    let service = ed_service(&clock, Arc::default());
    let pair = common::login(&service, "alice").await;
    let other_issuer = Verifier::builder()
        .issuer("https://other.example.com")
        .audience(common::AUDIENCE)
        .clock(clock.clone())
        .jwks(service.jwks())
        .build()
        .unwrap();
    let found = other_issuer.verify(&pair.access_token).await.unwrap_err();
    assert!(
        matches!(found, Error::InvalidClaim { claim: "iss", .. }),
        "{found:?}"
    );
    // A shorter access_ttl than the issuer's refuses its tokens' lifetime.
    let short = verifier(&clock)
        .access_ttl(Duration::minutes(5))
        .jwks(service.jwks())
        .build()
        .unwrap();
    let found = short.verify(&pair.access_token).await.unwrap_err();
    assert!(
        matches!(found, Error::InvalidClaim { claim: "exp", .. }),
        "{found:?}"
    );
}

#[test]
fn the_builder_refuses_what_cannot_work() {
    let clock = ManualClock::new(common::start());
    let ed = || Key::ed25519_pem(ED25519_PEM).unwrap();
    let public = || Key::from_public_jwk(&ed().public_jwk().unwrap()).unwrap();
    assert!(verifier(&clock).key(public()).build().is_ok());
    let hmac_only = jwt_rotate::JwkSet {
        keys: vec![
            serde_json::from_str(r#"{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}"#)
                .unwrap(),
        ],
    };
    let refusals = [
        verifier(&clock).build(),
        verifier(&clock).jwks(&hmac_only).build(),
        verifier(&clock).key(public()).key(public()).build(),
        verifier(&clock).issuer("").key(public()).build(),
        verifier(&clock).audience("").key(public()).build(),
        verifier(&clock)
            .key(public())
            .access_ttl(Duration::ZERO)
            .build(),
        verifier(&clock)
            .key(public())
            .leeway(Duration::minutes(6))
            .build(),
        verifier(&clock)
            .key(public())
            .leeway(Duration::seconds(-1))
            .build(),
        verifier(&clock).key(public()).max_token_bytes(100).build(),
        verifier(&clock)
            .key(public())
            .max_staleness(Duration::ZERO)
            .build(),
        verifier(&clock)
            .key(public())
            .jwks_max_age(Duration::ZERO)
            .build(),
        verifier(&clock)
            .key(public())
            .jwks_source(keys::Counting::new(vec![]))
            .build(),
    ];
    for (n, refused) in refusals.into_iter().enumerate() {
        assert!(
            matches!(refused, Err(Error::Config(_))),
            "case {n}: {refused:?}"
        );
    }
    // A verify-only key cannot sign for a service.
    let service = common::keyless(&clock)
        .access_key(public())
        .refresh_key(Key::hs256([3u8; 32]).unwrap())
        .build(MemoryStore::new());
    assert!(matches!(service, Err(Error::Config(_))));
}

#[test]
fn stale_and_unavailable_mean_try_later() {
    let stale = Error::RevocationsStale { last_synced: None };
    assert_eq!(
        (stale.class(), stale.code()),
        (ErrorClass::TryLater, "temporarily_unavailable")
    );
    let keys = Error::KeysUnavailable("down".into());
    assert_eq!(keys.class(), ErrorClass::TryLater);
    assert!(std::error::Error::source(&keys).is_some());
}

#[tokio::test]
async fn verify_dpop_checks_the_proof_and_the_revocations() {
    use common::dpop::{Client, URL, bound_access_token};
    use jwt_rotate::{Clock, Dpop, DpopProblem, DpopRequest};

    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(Arc::clone(&store)).unwrap();
    let verifier = verifier(&clock)
        .key(Key::hs256(common::ACCESS_SECRET).unwrap())
        .revocation_feed(store)
        .build()
        .unwrap();
    verifier.sync_revocations().await.unwrap();
    let dpop = Dpop::builder().clock(clock.clone()).build().unwrap();
    let pair = common::login(&service, "alice").await;
    let client = Client::es256();
    let token = bound_access_token(&pair, "alice", client.jkt.as_str(), clock.now());
    let proof = |token: &str| {
        client.sign(
            &client.header(),
            &client.claims_for(URL, clock.now(), token),
        )
    };
    let first = proof(&token);
    let request = DpopRequest::new(&first, "GET", URL);
    let claims = verifier.verify_dpop(&dpop, &token, &request).await.unwrap();
    assert_eq!(claims.jkt, Some(client.jkt));
    // As the service: a bound token is no Bearer token, a proof is single-use.
    let found = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(found, Error::DpopRequired), "{found:?}");
    let again = verifier
        .verify_dpop(&dpop, &token, &request)
        .await
        .unwrap_err();
    assert!(
        matches!(again, Error::InvalidDpopProof(DpopProblem::Replayed)),
        "{again:?}"
    );
    // Revoked: refused even with a good proof.
    service.revoke(&pair.refresh_token).await.unwrap();
    verifier.sync_revocations().await.unwrap();
    let second = proof(&token);
    let request = DpopRequest::new(&second, "GET", URL);
    let found = verifier
        .verify_dpop(&dpop, &token, &request)
        .await
        .unwrap_err();
    assert!(matches!(found, Error::SessionRevoked), "{found:?}");
}
