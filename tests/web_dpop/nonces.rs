//! Server nonces on the session routes: asked for, then brought fresh by
//! every answer to a proof.

use super::*;

#[tokio::test]
async fn nonces_are_asked_for_then_accepted() {
    let nonces = DpopNonces::with_secret([7u8; 32], Duration::minutes(5)).unwrap();
    let (flow, clock) = flow_with(Some(nonces), RefreshCookie::default());
    let client = DpopClient::random();
    let proof = client.proof("POST", &url("/auth/login"), clock.now());
    let err = login_with_proof(&flow, &proof, BODY).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (401, "use_dpop_nonce"));
    assert!(www_authenticate(&err).starts_with("DPoP error=\"use_dpop_nonce\""));
    let reply = err.reply();
    let nonce = reply.header("dpop-nonce").expect("a nonce").to_owned();

    let mut claims = client.claims("POST", &url("/auth/login"), clock.now());
    claims["nonce"] = Value::from(nonce.as_str());
    let login = login_with_proof(&flow, &client.sign(&claims), BODY)
        .await
        .unwrap();
    assert_eq!(json(&login)["token_type"], "DPoP");
    let access = json(&login)["access_token"].as_str().unwrap().to_owned();
    let dpop = format!("DPoP {access}");
    let proof = client.proof_for("GET", &url("/me"), clock.now(), &access, Some(&nonce));
    me_with_proof(&flow, &dpop, &proof).await.unwrap();
}

/// A proof by `client` for `method` and `url`, now, with `nonce`.
fn with_nonce(
    client: &DpopClient,
    method: &str,
    url: &str,
    clock: &ManualClock,
    nonce: &str,
) -> String {
    let mut claims = client.claims(method, url, clock.now());
    claims["nonce"] = Value::from(nonce);
    client.sign(&claims)
}

#[tokio::test]
async fn answers_to_proofs_bring_a_fresh_nonce_that_keeps_the_client_going() {
    let nonces = DpopNonces::with_secret([7u8; 32], Duration::minutes(5)).unwrap();
    let (flow, clock) = flow_with(Some(nonces), RefreshCookie::default());
    let client = DpopClient::random();
    let login_url = url("/auth/login");
    let proof = client.proof("POST", &login_url, clock.now());
    let err = login_with_proof(&flow, &proof, BODY).await.unwrap_err();
    let mut nonce = err.reply().header("dpop-nonce").unwrap().to_owned();
    let proof = with_nonce(&client, "POST", &login_url, &clock, &nonce);
    let login = login_with_proof(&flow, &proof, BODY).await.unwrap();
    assert_eq!(login.header("dpop-nonce"), Some(nonce.as_str()));
    let mut cookie = cookie_of(&login);
    let first = nonce.clone();
    // Four minutes at a time, for twenty: each refresh signs with the
    // nonce the last answer brought, and none is refused, though the
    // first nonce went stale after ten.
    for _ in 0..5 {
        clock.advance(Duration::minutes(4));
        let refresh_url = url("/auth/refresh");
        let proof = with_nonce(&client, "POST", &refresh_url, &clock, &nonce);
        let refreshed = refresh_with_proof(&flow, &cookie, &proof).await.unwrap();
        cookie = cookie_of(&refreshed);
        nonce = refreshed.header("dpop-nonce").expect("a nonce").to_owned();
    }
    assert_ne!(nonce, first);
    // A refresh without a proof gets none (the session is bound: refused).
    let bare = request("POST", "/auth/refresh", &[("cookie", &cookie)]);
    let refused = flow.refresh(&bare).await.unwrap_err();
    assert_eq!(refused.reply().header("dpop-nonce"), None);
}
