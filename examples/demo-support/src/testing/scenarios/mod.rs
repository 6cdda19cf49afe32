//! The scenarios of the HTTP tests; see [`suite`](super::suite).

use serde_json::json;

use crate::testing::suite::{ALICE, Agent, BOB, Env, TestServer, record, refresh_with, seconds};

mod store;
pub use store::*;
mod cookie;
pub use cookie::*;
mod origin;
pub use origin::*;
mod throttle;
pub use throttle::*;
mod limits;
pub use limits::*;
mod oauth;
pub use oauth::*;
mod introspect;
pub use introspect::*;
mod oauth_client;
pub use oauth_client::*;
mod dpop;
pub use dpop::*;
mod dpop_oauth;
pub use dpop_oauth::*;

pub async fn whole_flow(server: &TestServer, env: &Env) {
    let mut alice = Agent::new(server);

    let page = reqwest::get(server.url("/")).await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(page.text().await.unwrap().contains("src=\"/app.js\""));

    let wrong = alice.login(("alice", "correct horse battery")).await;
    wrong.assert_error(401, "invalid_credentials");
    assert_eq!(wrong.header("set-cookie"), None);
    alice
        .login(("mallory", ALICE.1))
        .await
        .assert_error(401, "invalid_credentials");

    let login = alice.login(ALICE).await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["token_type"], "Bearer");
    assert_eq!(login.body["expires_in"], 900);
    assert_eq!(login.header("cache-control"), Some("no-store"));
    let cookie = login.header("set-cookie").unwrap();
    let attributes: Vec<&str> = cookie.split("; ").skip(1).collect();
    assert_eq!(
        attributes,
        [
            "Max-Age=604800",
            "Path=/auth",
            "HttpOnly",
            "Secure",
            "SameSite=Strict"
        ]
    );

    let me = alice.get("/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["sub"], "alice");
    let session = me.body["sid"].as_str().unwrap().to_owned();

    let anonymous = Agent::new(server).get("/me").await;
    anonymous.assert_error(401, "missing_token");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));

    let first_cookie = alice.refresh_token().unwrap();
    let first_access = alice.access.clone().unwrap();
    let refreshed = alice.refresh().await;
    assert_eq!(refreshed.status, 200);
    assert_ne!(
        alice.refresh_token().unwrap(),
        first_cookie,
        "the cookie rotated"
    );
    assert_ne!(alice.access.clone().unwrap(), first_access);
    assert_eq!(record(server, &session).await, (1, false));

    // The access token expires; a refresh gets a new one.
    env.clock.advance(seconds(15 * 60 + 6));
    let expired = alice.get("/me").await;
    expired.assert_error(401, "token_expired");
    assert!(
        expired
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\"")
    );
    assert_eq!(alice.refresh().await.status, 200);
    assert_eq!(alice.get("/me").await.body["sid"], session.as_str());

    let sessions = alice.get("/sessions").await;
    assert_eq!(sessions.status, 200);
    let rows = sessions.body.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], session.as_str());
    assert_eq!(rows[0]["current"], true);
    assert_eq!(rows[0]["user_agent"], "http-suite");
    assert_eq!(rows[0]["ip"], "127.0.0.1");
}

pub async fn racing_refreshes_get_the_same_successor(server: &TestServer, env: &Env) {
    let mut alice = Agent::new(server);
    let login = alice.login(ALICE).await;
    let session = alice.session_id().await;
    let spent = login.cookie_token().unwrap().to_owned();

    // Two tabs present the same cookie at once: both succeed, with the
    // same new refresh token, and the session moved one generation.
    let (one, two) = tokio::join!(refresh_with(server, &spent), refresh_with(server, &spent));
    assert_eq!((one.status, two.status), (200, 200));
    assert_eq!(one.cookie_token(), two.cookie_token());
    assert_ne!(one.cookie_token(), Some(spent.as_str()));
    assert_eq!(record(server, &session).await, (1, false));

    // A response lost on the way: the spent token, a little later but
    // inside the grace window, still gets that same successor.
    env.clock.advance(seconds(9));
    let late = refresh_with(server, &spent).await;
    assert_eq!(late.status, 200);
    assert_eq!(late.cookie_token(), one.cookie_token());
    assert_eq!(record(server, &session).await, (1, false));
}

pub async fn reusing_an_old_cookie_revokes_the_session(server: &TestServer, env: &Env) {
    let mut alice = Agent::new(server);
    alice.login(ALICE).await;
    let session = alice.session_id().await;
    let stolen = alice.refresh_token().unwrap();
    assert_eq!(alice.refresh().await.status, 200);

    // Past the grace window, the old cookie is proof of theft.
    env.clock.advance(seconds(11));
    let replay = refresh_with(server, &stolen).await;
    replay.assert_error(401, "reuse_detected");
    assert_eq!(
        replay.cookie_token(),
        Some(""),
        "the dead cookie is cleared"
    );
    assert_eq!(record(server, &session).await, (1, true));

    // The whole family is dead: the current cookie and the access token.
    alice.refresh().await.assert_error(401, "session_revoked");
    alice.get("/me").await.assert_error(401, "session_revoked");
}

pub async fn logout_ends_the_session(server: &TestServer, _: &Env) {
    let mut alice = Agent::new(server);
    alice.login(ALICE).await;
    let cookie = alice.refresh_token().unwrap();
    let session = alice.session_id().await;

    let logout = alice.logout().await;
    assert_eq!(logout.status, 204);
    assert_eq!(logout.cookie_token(), Some(""));
    assert!(logout.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(alice.refresh_token(), None, "the jar dropped the cookie");
    assert!(record(server, &session).await.1, "revoked");

    alice.get("/me").await.assert_error(401, "session_revoked");
    alice
        .refresh()
        .await
        .assert_error(401, "missing_refresh_token");
    refresh_with(server, &cookie)
        .await
        .assert_error(401, "session_revoked");
    assert_eq!(
        alice.logout().await.status,
        204,
        "logging out twice is fine"
    );
}

pub async fn password_change_logs_out_every_other_session(server: &TestServer, _: &Env) {
    let (mut laptop, mut phone, mut bob) =
        (Agent::new(server), Agent::new(server), Agent::new(server));
    laptop.login(ALICE).await;
    phone.login(ALICE).await;
    bob.login(BOB).await;
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });

    let wrong = laptop
        .authed_post("/auth/password", Some(change("guess", "new password 1")))
        .await;
    wrong.assert_error(403, "invalid_credentials");
    let weak = laptop
        .authed_post("/auth/password", Some(change(ALICE.1, "short")))
        .await;
    weak.assert_error(400, "weak_password");
    assert_eq!(phone.refresh().await.status, 200, "nothing changed yet");

    let new_password = "a brand new passphrase";
    let changed = laptop
        .authed_post("/auth/password", Some(change(ALICE.1, new_password)))
        .await;
    assert_eq!(changed.status, 200);
    assert_eq!(changed.body, json!({ "revoked": 1 }));

    phone.get("/me").await.assert_error(401, "session_revoked");
    phone.refresh().await.assert_error(401, "session_revoked");
    assert_eq!(
        laptop.refresh().await.status,
        200,
        "the changing session lives"
    );
    assert_eq!(laptop.get("/me").await.status, 200);
    assert_eq!(
        bob.get("/me").await.status,
        200,
        "other users are untouched"
    );

    let mut later = Agent::new(server);
    later
        .login(ALICE)
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(later.login(("alice", new_password)).await.status, 200);
}

pub async fn sessions_are_listed_and_revoked_one_by_one(server: &TestServer, _: &Env) {
    let (mut laptop, mut phone, mut tablet) =
        (Agent::new(server), Agent::new(server), Agent::new(server));
    for agent in [&mut laptop, &mut phone, &mut tablet] {
        agent.login(ALICE).await;
    }
    let mut bob = Agent::new(server);
    bob.login(BOB).await;
    let phone_sid = phone.session_id().await;
    let bob_sid = bob.session_id().await;

    let listed = laptop.get("/sessions").await.body;
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&phone_sid.as_str()) && !ids.contains(&bob_sid.as_str()));

    let path = |id: &str| format!("/sessions/{id}");
    laptop
        .delete(&path(&bob_sid))
        .await
        .assert_error(404, "not_found");
    laptop
        .delete(&path("not-a-session"))
        .await
        .assert_error(404, "not_found");
    assert_eq!(laptop.delete(&path(&phone_sid)).await.status, 204);
    phone.refresh().await.assert_error(401, "session_revoked");
    laptop
        .delete(&path(&phone_sid))
        .await
        .assert_error(404, "not_found");
    assert_eq!(bob.get("/me").await.status, 200);

    let others = laptop.authed_post("/auth/logout-others", None).await;
    assert_eq!(others.body, json!({ "revoked": 1 }));
    tablet.get("/me").await.assert_error(401, "session_revoked");
    let left = laptop.get("/sessions").await.body;
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["current"], true);
}

pub async fn bad_input_gets_a_clear_error(server: &TestServer, _: &Env) {
    let mut alice = Agent::new(server);
    let garbled = alice
        .send(alice.post("/auth/login").body("{\"username\":"))
        .await;
    garbled.assert_error(400, "invalid_request");

    alice.login(ALICE).await;
    let good = alice.refresh_token().unwrap();
    // One character of the signature changed.
    let at = good.len() - 6;
    let swap = if &good[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{swap}{}", &good[..at], &good[at + 1..]);
    let reply = refresh_with(server, &forged).await;
    reply.assert_error(401, "invalid_token");
    assert_eq!(reply.cookie_token(), Some(""));
    let quoted = reqwest::Client::new()
        .post(alice.url("/auth/refresh"))
        .header("cookie", "refresh_token=\"abc\"");
    let quoted = alice.send(quoted).await;
    quoted.assert_error(401, "invalid_token");

    let bearer = alice
        .send(
            reqwest::Client::new()
                .get(alice.url("/me"))
                .header("authorization", "Basic YWxpY2U6cHc="),
        )
        .await;
    bearer.assert_error(401, "missing_token");
    let access = alice.access.clone().unwrap();
    let garbled_bearer = alice
        .send(
            reqwest::Client::new()
                .get(alice.url("/me"))
                .bearer_auth(&access[1..]),
        )
        .await;
    garbled_bearer.assert_error(401, "invalid_token");
    let unknown = alice.get("/nowhere").await;
    unknown.assert_error(404, "not_found");
    let wrong_method = alice.get("/auth/refresh").await;
    wrong_method.assert_error(405, "method_not_allowed");

    // The genuine token, untouched by all this.
    assert_eq!(alice.refresh().await.status, 200);
}
