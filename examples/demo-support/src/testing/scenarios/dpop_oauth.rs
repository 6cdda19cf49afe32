//! DPoP at the token endpoint (RFC 9449, section 5): a native client whose
//! login bound its session refreshes through `POST /oauth/token` with a
//! proof by its key, and only so.

use jwt_rotate::Clock;
use jwt_rotate::testing::DpopClient;
use serde_json::json;

use super::dpop::DpopAgent;
use crate::testing::suite::{ALICE, Env, Reply, TestServer, oauth_request, record};

pub async fn dpop_oauth_token_needs_the_bound_key(server: &TestServer, env: &Env) {
    let mut alice = DpopAgent::new(server);
    let (user, password) = ALICE;
    let body = json!({ "username": user, "password": password, "client": "native" });
    let proof = alice.proof(env, "POST", "/auth/login", None);
    let request = alice.agent.post("/auth/login").json(&body);
    let login = alice.agent.send(request.header("dpop", proof)).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    assert_eq!(login.body["token_type"], "DPoP");
    alice.agent.access = login.body["access_token"].as_str().map(str::to_owned);
    let refresh = login.body["refresh_token"].as_str().unwrap().to_owned();
    let session = alice.me(env).await.body["sid"].as_str().unwrap().to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let token = |proof: Option<String>| {
        let mut request = oauth_request(server, "/oauth/token", &form);
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        async move { Reply::read(request.send().await.unwrap()).await }
    };

    // No proof, or a thief's: 400 invalid_dpop_proof, nothing changed.
    let url = alice.agent.url("/oauth/token");
    let stolen = DpopClient::random().proof("POST", url.as_str(), env.clock.now());
    let wrong_path = alice.proof(env, "POST", "/auth/refresh", None);
    for proof in [None, Some(stolen), Some(wrong_path)] {
        let refused = token(proof).await;
        assert_eq!(refused.status, 400, "{:?}", refused.body);
        assert_eq!(refused.body["error"], "invalid_dpop_proof");
        assert_eq!(refused.header("cache-control"), Some("no-store"));
        assert_eq!(record(server, &session).await, (0, false));
    }

    // The key's proof: a DPoP token pair, the session rotated.
    let rotated = token(Some(alice.proof(env, "POST", "/oauth/token", None))).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    assert_eq!(rotated.body["token_type"], "DPoP");
    assert_ne!(
        rotated.body["refresh_token"].as_str(),
        Some(refresh.as_str())
    );
    assert_eq!(record(server, &session).await, (1, false));
}
