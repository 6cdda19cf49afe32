//! The token status list over HTTP: `GET /statuslists/{id}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::testing::suite::{ALICE, Agent, Env, TestServer};

/// The claims of a compact JWS, unverified: the test reads what the
/// server wrote.
fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a compact JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

pub async fn logout_shows_in_the_status_list(server: &TestServer, _: &Env) {
    let mut alice = Agent::new(server);
    alice.login(ALICE).await;
    let claims = payload(alice.access.as_deref().unwrap());
    let status = &claims["status"]["status_list"];
    let idx = status["idx"]
        .as_u64()
        .expect("an access token with a status index");
    let uri = status["uri"].as_str().unwrap();
    let path = &uri[uri.find("/statuslists/").expect("the demo's route")..];

    let fetch = || async {
        let resp = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(resp.status(), 200);
        let header = |name: &str| resp.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "application/statuslist+jwt");
        assert_eq!(header("cache-control"), "max-age=300");
        let token = resp.text().await.unwrap();
        let list = server.state.service().read_status_list(&token).unwrap();
        assert_eq!(list.uri(), uri);
        list.is_revoked(idx)
    };
    assert_eq!(fetch().await, Some(false));
    assert_eq!(alice.logout().await.status, 204);
    assert_eq!(fetch().await, Some(true), "the logout shows in the list");

    for bad in [
        "/statuslists/01",
        "/statuslists/x",
        "/statuslists/8796093022208",
    ] {
        let resp = reqwest::get(server.url(bad)).await.unwrap();
        assert_eq!(resp.status(), 404, "{bad}");
    }
}
