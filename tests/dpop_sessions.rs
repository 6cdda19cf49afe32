//! Sessions bound to a client's key (DPoP, RFC 9449): binding at login,
//! refreshes that need a proof by that key, grace replays, reuse with and
//! without a proof, and bound access tokens. Over MemoryStore; the store
//! tests run `common::bound::bound_session_lifecycle` on the other stores.

mod common;

use common::bound::{bound_service, login_bound, refresh_as, token_proof};
use common::dpop::{Client, TOKEN_URL, URL};
use jwt_rotate::{
    Clock, DpopProblem, DpopRequest, Error, IssueOptions, ManualClock, MemoryStore, NoClaims,
    TokenService,
};
use time::Duration;

fn setup() -> (TokenService<MemoryStore>, ManualClock) {
    let clock = ManualClock::new(common::start());
    (bound_service(MemoryStore::new(), &clock), clock)
}

#[tokio::test]
async fn a_bound_session_lives_its_life_in_memory() {
    common::bound::bound_session_lifecycle(MemoryStore::new()).await;
}

#[tokio::test]
async fn es256_and_eddsa_keys_bind_and_every_token_carries_the_binding() {
    let (service, clock) = setup();
    for client in [Client::es256(), Client::ed25519()] {
        let pair = login_bound(&service, "alice", &client).await;
        let mut token = pair.refresh_token;
        for _ in 0..3 {
            clock.advance(Duration::seconds(30));
            let next = refresh_as(&service, &token, &client, &clock).await.unwrap();
            let access = next.access_token.as_str();
            let claims = common::tokens::payload(access);
            assert_eq!(claims["cnf"]["jkt"], client.jkt.as_str());
            assert!(matches!(service.verify(access), Err(Error::DpopRequired)));
            let proof = client.sign(
                &client.header(),
                &client.claims_for(URL, clock.now(), access),
            );
            let request = DpopRequest::new(&proof, "GET", URL);
            let verified = service.verify_dpop(access, &request).await.unwrap();
            assert_eq!(verified.jkt, Some(client.jkt));
            // The refresh token names its key too, under the signature.
            let refresh = common::tokens::payload(next.refresh_token.as_str());
            assert_eq!(refresh["cnf"]["jkt"], client.jkt.as_str());
            token = next.refresh_token;
        }
    }
}

#[tokio::test]
async fn a_refused_proof_changes_nothing_and_the_token_still_works() {
    let (service, clock) = setup();
    let (client, thief) = (Client::es256(), Client::ed25519());
    let pair = login_bound(&service, "alice", &client).await;
    let before = common::record(&service, &pair.session_id).await;
    let replayed = token_proof(&client, &clock);
    let request = DpopRequest::new(&replayed, "POST", TOKEN_URL);
    let other_url = DpopRequest::new(&replayed, "POST", "https://auth.example.com/other");
    let wrong_method = DpopRequest::new(&replayed, "GET", TOKEN_URL);
    let garbage = DpopRequest::new("not.a.proof", "POST", TOKEN_URL);
    let refusals = [
        (service.refresh(&pair.refresh_token).await, None),
        (
            refresh_as(&service, &pair.refresh_token, &thief, &clock).await,
            Some(DpopProblem::KeyMismatch),
        ),
        (
            service.refresh_dpop(&pair.refresh_token, &other_url).await,
            Some(DpopProblem::Url),
        ),
        (
            service
                .refresh_dpop(&pair.refresh_token, &wrong_method)
                .await,
            Some(DpopProblem::Method),
        ),
        (
            service.refresh_dpop(&pair.refresh_token, &garbage).await,
            Some(DpopProblem::Malformed),
        ),
    ];
    for (i, (refused, problem)) in refusals.into_iter().enumerate() {
        match (refused, problem) {
            (Err(Error::DpopRequired), None) => {}
            (Err(Error::InvalidDpopProof(got)), Some(want)) if got == want => {}
            (other, want) => panic!("refusal {i}: {other:?}, wanted {want:?}"),
        }
        assert_eq!(common::record(&service, &pair.session_id).await, before);
    }
    // The proof refused for its URL was not remembered; once accepted it
    // is, and its replay is refused without touching the session.
    let next = service
        .refresh_dpop(&pair.refresh_token, &request)
        .await
        .unwrap();
    let after = common::record(&service, &pair.session_id).await;
    assert_eq!(after.generation, 1);
    clock.advance(Duration::minutes(1));
    let again = service.refresh_dpop(&next.refresh_token, &request).await;
    assert!(
        matches!(again, Err(Error::InvalidDpopProof(DpopProblem::Replayed))),
        "{again:?}"
    );
    assert_eq!(common::record(&service, &pair.session_id).await, after);
    refresh_as(&service, &next.refresh_token, &client, &clock)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_grace_replay_needs_a_proof_by_the_bound_key_too() {
    let (service, clock) = setup();
    let (client, thief) = (Client::es256(), Client::ed25519());
    let pair = login_bound(&service, "alice", &client).await;
    let winner = refresh_as(&service, &pair.refresh_token, &client, &clock)
        .await
        .unwrap();
    let rotated = common::record(&service, &pair.session_id).await;
    clock.advance(Duration::seconds(3));
    // Inside the window: without a proof, or by another key, refused,
    // and nothing revoked.
    let bare = service.refresh(&pair.refresh_token).await;
    assert!(matches!(bare, Err(Error::DpopRequired)), "{bare:?}");
    let stolen = refresh_as(&service, &pair.refresh_token, &thief, &clock).await;
    assert!(
        matches!(
            stolen,
            Err(Error::InvalidDpopProof(DpopProblem::KeyMismatch))
        ),
        "{stolen:?}"
    );
    assert_eq!(common::record(&service, &pair.session_id).await, rotated);
    // With a proof by the key: the very same refresh token, still bound.
    let replay = refresh_as(&service, &pair.refresh_token, &client, &clock)
        .await
        .unwrap();
    assert_eq!(replay.refresh_token.as_str(), winner.refresh_token.as_str());
    let access = common::tokens::payload(replay.access_token.as_str());
    assert_eq!(access["cnf"]["jkt"], client.jkt.as_str());
    assert_eq!(common::record(&service, &pair.session_id).await, rotated);
    // Past the window, the same replay without a proof is reuse.
    clock.advance(Duration::seconds(10));
    let late = service.refresh(&pair.refresh_token).await;
    assert!(matches!(late, Err(Error::ReuseDetected)), "{late:?}");
    let dead = refresh_as(&service, &winner.refresh_token, &client, &clock).await;
    assert!(matches!(dead, Err(Error::SessionRevoked)), "{dead:?}");
}

#[tokio::test]
async fn a_spent_token_is_reuse_with_a_thiefs_proof_or_with_none() {
    let (service, clock) = setup();
    let (client, thief) = (Client::es256(), Client::ed25519());
    for with_thiefs_proof in [false, true] {
        let pair = login_bound(&service, "alice", &client).await;
        let next = refresh_as(&service, &pair.refresh_token, &client, &clock)
            .await
            .unwrap();
        clock.advance(Duration::seconds(11));
        let reused = if with_thiefs_proof {
            refresh_as(&service, &pair.refresh_token, &thief, &clock).await
        } else {
            service.refresh(&pair.refresh_token).await
        };
        assert!(matches!(reused, Err(Error::ReuseDetected)), "{reused:?}");
        let record = common::record(&service, &pair.session_id).await;
        assert!(record.revoked.is_some());
        let after = refresh_as(&service, &next.refresh_token, &client, &clock).await;
        assert!(matches!(after, Err(Error::SessionRevoked)), "{after:?}");
    }
}

#[tokio::test]
async fn an_unbound_session_refreshes_with_or_without_a_proof_and_stays_unbound() {
    let (service, clock) = setup();
    let client = Client::es256();
    let pair = common::login(&service, "alice").await;
    let next = refresh_as(&service, &pair.refresh_token, &client, &clock)
        .await
        .unwrap();
    assert!(service.verify(&next.access_token).is_ok());
    assert_eq!(common::record(&service, &pair.session_id).await.jkt, None);
    clock.advance(Duration::minutes(1));
    let before = common::record(&service, &pair.session_id).await;
    let garbage = DpopRequest::new("x", "POST", TOKEN_URL);
    let refused = service.refresh_dpop(&next.refresh_token, &garbage).await;
    assert!(matches!(refused, Err(Error::InvalidDpopProof(_))));
    assert_eq!(common::record(&service, &pair.session_id).await, before);
    service.refresh(&next.refresh_token).await.unwrap();
}

#[tokio::test]
async fn binding_needs_a_dpop_checker_and_a_proof_binds_its_key() {
    let (plain, _clock) = common::service();
    let client = Client::es256();
    let options = IssueOptions::new().bound_to(client.jkt);
    let refused = plain.issue_with("alice", NoClaims {}, options).await;
    assert!(matches!(refused, Err(Error::Config(_))), "{refused:?}");
    assert!(plain.sessions("alice").await.unwrap().is_empty());
    let token = common::login(&plain, "alice").await.access_token;
    let request = DpopRequest::new("x", "GET", URL);
    let verified = plain.verify_dpop(&token, &request).await;
    assert!(matches!(verified, Err(Error::Config(_))), "{verified:?}");

    // A login's checked proof binds the session to the proof's key.
    let (service, clock) = setup();
    let dpop = jwt_rotate::Dpop::builder()
        .clock(clock.clone())
        .build()
        .unwrap();
    let proof = token_proof(&client, &clock);
    let checked = dpop
        .verify_proof(&DpopRequest::new(&proof, "POST", TOKEN_URL))
        .await
        .unwrap();
    let options = IssueOptions::new().dpop(checked);
    let pair = service
        .issue_with("alice", NoClaims {}, options)
        .await
        .unwrap();
    let record = common::record(&service, &pair.session_id).await;
    assert_eq!(record.jkt, Some(client.jkt));
}

#[cfg(feature = "oauth")]
#[tokio::test]
async fn introspection_reports_the_binding_of_bound_tokens_only() {
    use jwt_rotate::oauth::{IntrospectionClient, introspection_endpoint};
    let (service, _clock) = setup();
    let client = Client::es256();
    let rs = IntrospectionClient::new("rs", "a long random secret");
    let caller = rs
        .authenticate(Some("Basic cnM6YStsb25nK3JhbmRvbStzZWNyZXQ="))
        .unwrap();
    let bound = login_bound(&service, "alice", &client).await;
    let plain = common::login(&service, "bob").await;
    for (pair, jkt) in [(&bound, Some(client.jkt)), (&plain, None)] {
        for token in [pair.access_token.as_str(), pair.refresh_token.as_str()] {
            let form = format!("token={token}");
            let response = introspection_endpoint(&service, &caller, form.as_bytes()).await;
            assert_eq!(response.status, 200, "{}", response.body);
            let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
            assert_eq!(body["active"], true, "{body}");
            match jkt {
                Some(jkt) => assert_eq!(body["cnf"]["jkt"], jkt.as_str(), "{body}"),
                None => assert!(body.get("cnf").is_none(), "{body}"),
            }
        }
    }
}

#[cfg(feature = "testing")]
#[tokio::test]
async fn a_rotation_in_doubt_hands_back_a_bound_token_that_still_needs_the_key() {
    use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp};
    let clock = ManualClock::new(common::start());
    let service = bound_service(FaultyStore::new(MemoryStore::new()), &clock);
    let (client, thief) = (Client::es256(), Client::ed25519());
    let pair = login_bound(&service, "alice", &client).await;
    // The rotation is written, its answer lost.
    service
        .store()
        .inject(Calls::Only(StoreOp::Rotate), Fault::FailAfter);
    let Err(Error::RotationInDoubt { retry_with, .. }) =
        refresh_as(&service, &pair.refresh_token, &client, &clock).await
    else {
        panic!("a rotation whose answer was lost is in doubt");
    };
    service.store().heal();
    let retry = common::tokens::payload(retry_with.as_str());
    assert_eq!(retry["cnf"]["jkt"], client.jkt.as_str());
    // Past the grace window, inside the outage tolerance: the retry token
    // still needs a proof by the key, and a refused one revokes nothing.
    clock.advance(Duration::seconds(40));
    let rotated = common::record(&service, &pair.session_id).await;
    let bare = service.refresh(&retry_with).await;
    assert!(matches!(bare, Err(Error::DpopRequired)), "{bare:?}");
    let stolen = refresh_as(&service, &retry_with, &thief, &clock).await;
    assert!(
        matches!(
            stolen,
            Err(Error::InvalidDpopProof(DpopProblem::KeyMismatch))
        ),
        "{stolen:?}"
    );
    assert_eq!(common::record(&service, &pair.session_id).await, rotated);
    let kept = refresh_as(&service, &retry_with, &client, &clock)
        .await
        .unwrap();
    let access = common::tokens::payload(kept.access_token.as_str());
    assert_eq!(access["cnf"]["jkt"], client.jkt.as_str());
}
