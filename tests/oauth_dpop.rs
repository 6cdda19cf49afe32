//! The token endpoint with DPoP proofs (RFC 9449, sections 5 and 8):
//! `token_endpoint_dpop` refreshes bound sessions with a proof by their
//! key and answers `token_type: "DPoP"`; a missing or bad proof is 400
//! `invalid_dpop_proof` and changes nothing; a missing nonce is 400
//! `use_dpop_nonce` with a `DPoP-Nonce` header, and tokens come with the
//! nonce of the moment.
#![cfg(feature = "oauth")]

mod common;

use common::bound::{bound_service, login_bound};
use common::dpop::{Client, TOKEN_URL};
use jwt_rotate::oauth::{OAuthResponse, token_endpoint, token_endpoint_dpop};
use jwt_rotate::{Clock, Dpop, DpopNonces, ManualClock, MemoryStore, TokenPair, TokenService};
use serde_json::{Value, json};
use time::Duration;

fn setup() -> (TokenService<MemoryStore>, ManualClock) {
    let clock = ManualClock::new(common::start());
    (bound_service(MemoryStore::new(), &clock), clock)
}

fn form(refresh_token: &str) -> String {
    format!("grant_type=refresh_token&refresh_token={refresh_token}")
}

fn body(response: &OAuthResponse, status: u16) -> Value {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    serde_json::from_str(&response.body).unwrap()
}

async fn post(service: &TokenService<MemoryStore>, token: &str, proofs: &[&str]) -> OAuthResponse {
    token_endpoint_dpop(service, form(token).as_bytes(), proofs, TOKEN_URL).await
}

#[tokio::test]
async fn a_bound_session_refreshes_with_a_proof_and_gets_dpop_tokens() {
    let (service, clock) = setup();
    let client = Client::es256();
    let login = login_bound(&service, "alice", &client).await;
    let mut token = login.refresh_token.expose_secret().to_owned();
    for _ in 0..3 {
        clock.advance(Duration::seconds(30));
        let proof = client.proof("POST", TOKEN_URL, clock.now());
        let answer = body(&post(&service, &token, &[&proof]).await, 200);
        assert_eq!(answer["token_type"], "DPoP");
        let access = answer["access_token"].as_str().unwrap();
        let claims = common::tokens::payload(access);
        assert_eq!(claims["cnf"]["jkt"], client.jkt.as_str());
        token = answer["refresh_token"].as_str().unwrap().to_owned();
    }
}

#[tokio::test]
async fn a_bound_session_without_a_proof_or_with_a_bad_one_is_refused_and_kept() {
    let (service, clock) = setup();
    let (client, thief) = (Client::es256(), Client::ed25519());
    let login = login_bound(&service, "alice", &client).await;
    let token = login.refresh_token.expose_secret();
    let before = common::record(&service, &login.session_id).await;
    let used = client.proof("POST", TOKEN_URL, clock.now());
    let accepted = post(&service, token, &[&used]).await;
    let next: Value = body(&accepted, 200);
    let token = next["refresh_token"].as_str().unwrap();
    let after_one = common::record(&service, &login.session_id).await;
    assert_eq!(after_one.generation, before.generation + 1);

    let now = clock.now();
    let stale = client.proof("POST", TOKEN_URL, now - Duration::minutes(5));
    let wrong_url = client.proof("POST", "https://auth.example.com/other", now);
    let by_thief = thief.proof("POST", TOKEN_URL, now);
    let good = client.proof("POST", TOKEN_URL, now);
    let refusals: Vec<(&str, OAuthResponse)> = vec![
        ("no proof", post(&service, token, &[]).await),
        (
            "token_endpoint",
            token_endpoint(&service, form(token).as_bytes()).await,
        ),
        ("replayed", post(&service, token, &[&used]).await),
        ("stale", post(&service, token, &[&stale]).await),
        ("wrong htu", post(&service, token, &[&wrong_url]).await),
        ("another key", post(&service, token, &[&by_thief]).await),
        ("garbage", post(&service, token, &["not.a.proof"]).await),
        ("two headers", post(&service, token, &[&good, &good]).await),
    ];
    for (case, response) in &refusals {
        let answer = body(response, 400);
        assert_eq!(answer["error"], "invalid_dpop_proof", "{case}");
        assert!(answer.get("refresh_token").is_none(), "{case}");
    }
    // Nothing changed: the session is where it was, and the good proof
    // (never used: the two-header request was refused before it) works.
    let kept = common::record(&service, &login.session_id).await;
    assert_eq!(kept.generation, after_one.generation);
    assert!(kept.revoked.is_none());
    assert_eq!(
        body(&post(&service, token, &[&good]).await, 200)["token_type"],
        "DPoP"
    );
}

#[tokio::test]
async fn a_spent_token_is_reuse_whatever_the_proof() {
    let (service, clock) = setup();
    let client = Client::es256();
    let login = login_bound(&service, "alice", &client).await;
    let spent = login.refresh_token.expose_secret();
    let proof = client.proof("POST", TOKEN_URL, clock.now());
    body(&post(&service, spent, &[&proof]).await, 200);
    clock.advance(Duration::minutes(1));
    let again = client.proof("POST", TOKEN_URL, clock.now());
    let answer = body(&post(&service, spent, &[&again]).await, 400);
    assert_eq!(answer["error"], "invalid_grant");
    let record = common::record(&service, &login.session_id).await;
    assert!(record.revoked.is_some(), "reuse revokes the session");
}

#[tokio::test]
async fn an_unbound_session_with_a_proof_stays_bearer() {
    let (service, clock) = setup();
    let client = Client::ed25519();
    let login: TokenPair = common::login(&service, "bob").await;
    let proof = client.proof("POST", TOKEN_URL, clock.now());
    let token = login.refresh_token.expose_secret();
    let answer = body(&post(&service, token, &[&proof]).await, 200);
    assert_eq!(answer["token_type"], "Bearer");
    let access = answer["access_token"].as_str().unwrap();
    assert!(common::tokens::payload(access).get("cnf").is_none());
}

#[tokio::test]
async fn a_missing_nonce_is_use_dpop_nonce_with_the_nonce_to_use() {
    let clock = ManualClock::new(common::start());
    let nonces = DpopNonces::with_secret([9u8; 32], Duration::minutes(5)).unwrap();
    let dpop = Dpop::builder()
        .clock(clock.clone())
        .nonces(nonces)
        .build()
        .unwrap();
    let service = common::builder(&clock)
        .dpop(dpop)
        .build(MemoryStore::new())
        .unwrap();
    let client = Client::es256();
    let login = login_bound(&service, "alice", &client).await;
    let token = login.refresh_token.expose_secret();
    let before = common::record(&service, &login.session_id).await;

    let without = client.proof("POST", TOKEN_URL, clock.now());
    let refused = post(&service, token, &[&without]).await;
    assert_eq!(body(&refused, 400)["error"], "use_dpop_nonce");
    let nonce = refused.header("dpop-nonce").expect("a DPoP-Nonce header");
    let mut wrong = client.claims("POST", TOKEN_URL, clock.now());
    wrong["nonce"] = json!("AAAA");
    let wrong = client.sign(&client.header(), &wrong);
    assert_eq!(
        body(&post(&service, token, &[&wrong]).await, 400)["error"],
        "use_dpop_nonce"
    );
    assert_eq!(
        common::record(&service, &login.session_id).await.generation,
        before.generation
    );

    let mut claims = client.claims("POST", TOKEN_URL, clock.now());
    claims["nonce"] = json!(nonce);
    let with = client.sign(&client.header(), &claims);
    let rotated = post(&service, token, &[&with]).await;
    assert_eq!(body(&rotated, 200)["token_type"], "DPoP");
    // The tokens come with the nonce of the moment, for the next proof.
    clock.advance(Duration::minutes(5));
    let next = body(&rotated, 200)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut claims = client.claims("POST", TOKEN_URL, clock.now());
    claims["nonce"] = json!(rotated.header("dpop-nonce").expect("a fresh nonce"));
    let with = client.sign(&client.header(), &claims);
    let again = post(&service, &next, &[&with]).await;
    assert_eq!(body(&again, 200)["token_type"], "DPoP");
    assert_ne!(again.header("dpop-nonce"), Some(nonce), "a new period's");
}
