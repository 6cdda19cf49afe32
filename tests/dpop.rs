//! DPoP (RFC 9449) proofs that must pass: every algorithm, URL spellings
//! that name the same resource, the `iat` window's edges, server nonces,
//! the replay cache's bound, and a bound access token verified with its
//! proof. The hostile ones are in `hostile_dpop.rs`.

mod common;

use std::sync::Arc;

use common::dpop::{Client, TOKEN_URL, URL, bound_access_token};
use jwt_rotate::{
    Clock, Dpop, DpopNonces, DpopProblem, DpopRequest, Error, ManualClock, MemoryReplayCache,
    MemoryStore,
};
use time::Duration;

fn dpop(clock: &ManualClock) -> Dpop {
    Dpop::builder().clock(clock.clone()).build().unwrap()
}

fn clients() -> [Client; 4] {
    [
        Client::es256(),
        Client::ed25519(),
        Client::rs256(),
        Client::ps256(),
    ]
}

#[tokio::test]
async fn a_valid_proof_of_every_algorithm_is_accepted_once() {
    let clock = ManualClock::new(common::start());
    let dpop = dpop(&clock);
    for client in clients() {
        let proof = client.proof("POST", TOKEN_URL, clock.now());
        let request = DpopRequest::new(&proof, "POST", TOKEN_URL);
        let verified = dpop.verify_proof(&request).await;
        let verified = verified.unwrap_or_else(|e| panic!("{:?}: {e:?}", client.alg));
        // The thumbprint the library computed is RFC 7638's, computed here
        // independently.
        assert_eq!(*verified.jkt(), client.jkt, "{:?}", client.alg);
        assert_eq!(verified.iat(), clock.now());
        let again = dpop.verify_proof(&request).await;
        assert!(
            matches!(again, Err(Error::InvalidDpopProof(DpopProblem::Replayed))),
            "{:?}: {again:?}",
            client.alg
        );
    }
}

#[tokio::test]
async fn urls_naming_the_same_resource_match() {
    let clock = ManualClock::new(common::start());
    let dpop = dpop(&clock);
    let client = Client::ed25519();
    for (htu, request_url) in [
        (
            "https://auth.example.com/oauth/token",
            "https://auth.example.com/oauth/token",
        ),
        (
            "https://auth.example.com/oauth/token",
            "https://auth.example.com/oauth/token?a=1",
        ),
        (
            "https://auth.example.com/oauth/token?b=2#frag",
            "https://auth.example.com/oauth/token",
        ),
        (
            "HTTPS://Auth.Example.COM/oauth/token",
            "https://auth.example.com/oauth/token",
        ),
        (
            "https://auth.example.com:443/oauth/token",
            "https://auth.example.com/oauth/token",
        ),
        ("http://auth.example.com:80/x", "http://AUTH.example.com/x"),
        (
            "https://auth.example.com:8443/x",
            "https://auth.example.com:8443/x",
        ),
        (
            "https://auth.example.com/%6Fauth/token",
            "https://auth.example.com/oauth/token",
        ),
        (
            "https://auth.example.com/a%2fb",
            "https://auth.example.com/a%2Fb",
        ),
        ("https://auth.example.com", "https://auth.example.com/"),
    ] {
        let proof = client.sign(&client.header(), &client.claims("POST", htu, clock.now()));
        let request = DpopRequest::new(&proof, "POST", request_url);
        let verified = dpop.verify_proof(&request).await;
        assert!(verified.is_ok(), "{htu} vs {request_url}: {verified:?}");
    }
    // The server's own URL must be absolute: its mistake, not the client's.
    let proof = client.proof("POST", TOKEN_URL, clock.now());
    let relative = DpopRequest::new(&proof, "POST", "/oauth/token");
    assert!(matches!(
        dpop.verify_proof(&relative).await,
        Err(Error::Config(_))
    ));
}

#[tokio::test]
async fn iat_is_accepted_exactly_within_its_window() {
    let clock = ManualClock::new(common::start());
    let dpop = Dpop::builder()
        .clock(clock.clone())
        .max_age(Duration::seconds(60))
        .future_leeway(Duration::seconds(5))
        .build()
        .unwrap();
    let client = Client::es256();
    let now = clock.now();
    for (offset, expected) in [
        (-60, None),
        (-61, Some(DpopProblem::Stale)),
        (5, None),
        (6, Some(DpopProblem::Future)),
        (0, None),
    ] {
        let proof = client.proof("GET", URL, now + Duration::seconds(offset));
        let found = dpop
            .verify_proof(&DpopRequest::new(&proof, "GET", URL))
            .await;
        match (expected, found) {
            (None, Ok(_)) => {}
            (Some(problem), Err(Error::InvalidDpopProof(found))) if found == problem => {}
            (expected, found) => panic!("iat {offset:+}: expected {expected:?}, got {found:?}"),
        }
    }
}

#[tokio::test]
async fn a_nonce_is_demanded_then_accepted_then_expires() {
    let clock = ManualClock::new(common::start());
    let nonces = DpopNonces::new(Duration::minutes(5)).unwrap();
    let dpop = Dpop::builder()
        .clock(clock.clone())
        .nonces(nonces)
        .build()
        .unwrap();
    let client = Client::ed25519();
    let without = client.proof("POST", TOKEN_URL, clock.now());
    let nonce = match dpop
        .verify_proof(&DpopRequest::new(&without, "POST", TOKEN_URL))
        .await
    {
        Err(Error::UseDpopNonce { nonce }) => nonce,
        other => panic!("no nonce demanded: {other:?}"),
    };
    assert_eq!(dpop.nonce().unwrap().as_deref(), Some(nonce.as_str()));
    let with_nonce = |nonce: &str| {
        let mut claims = client.claims("POST", TOKEN_URL, clock.now());
        claims["nonce"] = nonce.into();
        client.sign(&client.header(), &claims)
    };
    let proof = with_nonce(&nonce);
    let accepted = dpop
        .verify_proof(&DpopRequest::new(&proof, "POST", TOKEN_URL))
        .await;
    assert_eq!(*accepted.unwrap().jkt(), client.jkt);
    // A refused nonce did not use up the proof's jti: the proof without
    // a nonce was never remembered.
    let forged = with_nonce("AAAA");
    let refused = dpop
        .verify_proof(&DpopRequest::new(&forged, "POST", TOKEN_URL))
        .await;
    assert!(
        matches!(refused, Err(Error::UseDpopNonce { .. })),
        "{refused:?}"
    );
    // Two periods later the nonce is stale, and a new one is handed out.
    clock.advance(Duration::minutes(10));
    let late = with_nonce(&nonce);
    match dpop
        .verify_proof(&DpopRequest::new(&late, "POST", TOKEN_URL))
        .await
    {
        Err(Error::UseDpopNonce { nonce: fresh }) => assert_ne!(fresh, nonce),
        other => panic!("stale nonce: {other:?}"),
    }
}

#[tokio::test]
async fn a_full_replay_cache_refuses_until_proofs_age_out() {
    let clock = ManualClock::new(common::start());
    let cache = Arc::new(MemoryReplayCache::new(16).unwrap());
    let dpop = Dpop::builder()
        .clock(clock.clone())
        .replay_cache(Arc::clone(&cache))
        .build()
        .unwrap();
    let client = Client::ed25519();
    let mut full = None;
    for _ in 0..1000 {
        let proof = client.proof("GET", URL, clock.now());
        match dpop
            .verify_proof(&DpopRequest::new(&proof, "GET", URL))
            .await
        {
            Ok(_) => {}
            Err(Error::DpopReplayCacheFull) => {
                full = Some(proof);
                break;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    let refused = full.expect("the cache never filled");
    assert!(cache.len() <= cache.capacity());
    assert_eq!(
        Error::DpopReplayCacheFull.class(),
        jwt_rotate::ErrorClass::TryLater
    );
    // Once the remembered proofs are stale, they are forgotten and there
    // is room; the refused proof itself is stale by then too.
    clock.advance(Duration::seconds(62));
    let stale = dpop
        .verify_proof(&DpopRequest::new(&refused, "GET", URL))
        .await;
    assert!(matches!(
        stale,
        Err(Error::InvalidDpopProof(DpopProblem::Stale))
    ));
    let fresh = client.proof("GET", URL, clock.now());
    assert!(
        dpop.verify_proof(&DpopRequest::new(&fresh, "GET", URL))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_bound_access_token_needs_a_proof_by_its_key() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock)
        .dpop(dpop(&clock))
        .build(MemoryStore::new())
        .unwrap();
    let pair = common::login(&service, "alice").await;
    let client = Client::es256();
    let token = bound_access_token(&pair, "alice", client.jkt.as_str(), clock.now());
    let proof = client.sign(
        &client.header(),
        &client.claims_for(URL, clock.now(), &token),
    );
    let request = DpopRequest::new(&proof, "GET", URL);
    let claims = service.verify_dpop(&token, &request).await.unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.jkt),
        ("alice", Some(client.jkt))
    );
    assert_eq!(claims.sid, pair.session_id);
    // As a Bearer token it is refused; the same proof twice too.
    assert!(matches!(service.verify(&token), Err(Error::DpopRequired)));
    let again = service.verify_dpop(&token, &request).await;
    assert!(matches!(
        again,
        Err(Error::InvalidDpopProof(DpopProblem::Replayed))
    ));
    // The unbound token of the same session is not accepted with a proof.
    let unbound = pair.access_token.as_str();
    let proof = client.sign(
        &client.header(),
        &client.claims_for(URL, clock.now(), unbound),
    );
    let request = DpopRequest::new(&proof, "GET", URL);
    let refused = service.verify_dpop(unbound, &request).await;
    assert!(
        matches!(refused, Err(Error::InvalidClaim { claim: "cnf", .. })),
        "{refused:?}"
    );
    assert!(service.verify(unbound).is_ok());
}
