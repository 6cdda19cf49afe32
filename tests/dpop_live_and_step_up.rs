//! A bound session's live check and step-up: `verify_live_dpop` refuses
//! the bound access token of a revoked session, and `reauthenticate_dpop`
//! steps a bound session up with a proof by its key (a bad proof changes
//! nothing; `reauthenticate` without a proof is refused).

mod common;

use common::bound::{bound_service, login_bound, token_proof};
use common::dpop::{Client, TOKEN_URL, URL};
use jwt_rotate::{Clock, DpopProblem, DpopRequest, Error, ManualClock, MemoryStore, TokenService};
use time::Duration;

fn setup() -> (TokenService<MemoryStore>, ManualClock) {
    let clock = ManualClock::new(common::start());
    (bound_service(MemoryStore::new(), &clock), clock)
}

fn mfa() -> Vec<String> {
    vec!["pwd".into(), "otp".into()]
}

#[tokio::test]
async fn verify_live_dpop_checks_proof_then_session() {
    let (service, clock) = setup();
    let (client, thief) = (Client::es256(), Client::ed25519());
    let pair = login_bound(&service, "alice", &client).await;
    let token = pair.access_token.as_str();
    let proof_by = |c: &Client| c.sign(&c.header(), &c.claims_for(URL, clock.now(), token));

    let good = proof_by(&client);
    let claims = service
        .verify_live_dpop(token, &DpopRequest::new(&good, "GET", URL))
        .await
        .unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.jkt),
        ("alice", Some(client.jkt))
    );
    // The same proof again is a replay; another key's proof is refused.
    let replayed = service
        .verify_live_dpop(token, &DpopRequest::new(&good, "GET", URL))
        .await;
    assert!(matches!(
        replayed,
        Err(Error::InvalidDpopProof(DpopProblem::Replayed))
    ));
    let stolen = proof_by(&thief);
    let refused = service
        .verify_live_dpop(token, &DpopRequest::new(&stolen, "GET", URL))
        .await;
    assert!(matches!(
        refused,
        Err(Error::InvalidDpopProof(DpopProblem::KeyMismatch))
    ));
    // A bearer token is not a bound token.
    assert!(service.verify_live(token).await.is_err());

    // Revoked: the token is still valid by signature, no longer live.
    service.revoke_session(&pair.session_id).await.unwrap();
    let fresh = proof_by(&client);
    let request = DpopRequest::new(&fresh, "GET", URL);
    assert!(service.verify_dpop(token, &request).await.is_ok());
    let another = proof_by(&client);
    let revoked = service
        .verify_live_dpop(token, &DpopRequest::new(&another, "GET", URL))
        .await;
    assert!(matches!(revoked, Err(Error::SessionRevoked)), "{revoked:?}");
}

#[tokio::test]
async fn a_bound_session_steps_up_with_a_proof_by_its_key_only() {
    let (service, clock) = setup();
    let (client, thief) = (Client::es256(), Client::ed25519());
    let pair = login_bound(&service, "alice", &client).await;
    clock.advance(Duration::minutes(10));
    let before = common::record(&service, &pair.session_id).await;

    // Without a proof, or with another key's: refused, nothing changed.
    let acr = || Some("urn:example:mfa".to_owned());
    let bare = service
        .reauthenticate(&pair.refresh_token, mfa(), acr())
        .await;
    assert!(matches!(bare, Err(Error::DpopRequired)), "{bare:?}");
    let proof = token_proof(&thief, &clock);
    let request = DpopRequest::new(&proof, "POST", TOKEN_URL);
    let stolen = service
        .reauthenticate_dpop(&pair.refresh_token, &request, mfa(), acr())
        .await;
    assert!(matches!(
        stolen,
        Err(Error::InvalidDpopProof(DpopProblem::KeyMismatch))
    ));
    let kept = common::record(&service, &pair.session_id).await;
    assert_eq!(
        (kept.generation, &kept.auth),
        (before.generation, &before.auth)
    );
    assert!(kept.revoked.is_none());

    // With the bound key's proof: stepped up, rotated, still bound.
    let proof = token_proof(&client, &clock);
    let request = DpopRequest::new(&proof, "POST", TOKEN_URL);
    let stepped = service
        .reauthenticate_dpop(&pair.refresh_token, &request, mfa(), acr())
        .await
        .unwrap();
    assert_eq!(stepped.token_type(), "DPoP");
    let claims = common::tokens::payload(stepped.access_token.as_str());
    assert_eq!(claims["cnf"]["jkt"], client.jkt.as_str());
    assert_eq!(claims["acr"], "urn:example:mfa");
    assert_eq!(claims["auth_time"], clock.now().unix_timestamp());
    let after = common::record(&service, &pair.session_id).await;
    assert_eq!(after.generation, before.generation + 1);
    // The same proof cannot step up again.
    let again = service
        .reauthenticate_dpop(&stepped.refresh_token, &request, mfa(), acr())
        .await;
    assert!(matches!(
        again,
        Err(Error::InvalidDpopProof(DpopProblem::Replayed))
    ));
}
