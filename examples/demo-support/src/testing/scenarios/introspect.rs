//! The scenarios of `POST /oauth/introspect` (RFC 7662): HTTP Basic, the
//! answers, the throttle, and the route disabled without a client.

use crate::Config;
use crate::testing::suite::{
    ALICE, Env, INTROSPECTOR, Reply, Spawn, TestServer, native_login, oauth_post, seconds,
};

/// `POST /oauth/introspect` of `token` as the introspection client.
async fn introspect(server: &TestServer, token: &str) -> Reply {
    let reply = oauth_post(
        server,
        "/oauth/introspect",
        &[("token", token)],
        Some(INTROSPECTOR),
    )
    .await;
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    reply
}

pub async fn oauth_introspect_answers_active_and_inactive(server: &TestServer, env: &Env) {
    let (access, refresh) = native_login(server, ALICE).await;
    let active = introspect(server, &access).await;
    assert_eq!(active.status, 200);
    assert_eq!(active.body["active"], true);
    assert_eq!(active.body["token_type"], "access_token");
    assert_eq!(active.body["sub"], "alice");
    let sid = active.body["sid"].as_str().unwrap().to_owned();
    assert!(active.body["exp"].as_i64().unwrap() > active.body["iat"].as_i64().unwrap());

    let rt = introspect(server, &refresh).await;
    assert_eq!(rt.body["active"], true);
    assert_eq!(rt.body["token_type"], "refresh_token");
    assert_eq!(rt.body["sid"], sid.as_str());

    for junk in ["junk", "a.b.c", &access[1..]] {
        let inactive = introspect(server, junk).await;
        assert_eq!(
            (inactive.status, &inactive.body),
            (200, &serde_json::json!({"active": false}))
        );
    }

    // A spent refresh token is inactive, even in the grace window.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let next = oauth_post(server, "/oauth/token", &form, None).await;
    assert_eq!(introspect(server, &refresh).await.body["active"], false);
    let next_refresh = next.body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(server, &next_refresh).await.body["active"], true);

    // An expired access token, then a revoked session: inactive.
    env.clock.advance(seconds(15 * 60 + 6));
    assert_eq!(introspect(server, &access).await.body["active"], false);
    let revoke = oauth_post(
        server,
        "/oauth/revoke",
        &[("token", next_refresh.as_str())],
        None,
    )
    .await;
    assert_eq!(revoke.status, 200);
    assert_eq!(
        introspect(server, &next_refresh).await.body["active"],
        false
    );
}

pub async fn oauth_introspect_needs_the_client_credentials(server: &TestServer, _: &Env) {
    let (access, _) = native_login(server, ALICE).await;
    let form = [("token", access.as_str())];
    let (id, secret) = INTROSPECTOR;
    for credentials in [
        None,
        Some((id, "wrong")),
        Some(("someone", secret)),
        Some((id, "")),
    ] {
        let reply = oauth_post(server, "/oauth/introspect", &form, credentials).await;
        reply.assert_error(401, "invalid_client");
        assert!(
            reply
                .header("www-authenticate")
                .unwrap()
                .starts_with("Basic")
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.body.get("active"), None, "nothing about the token");
    }
    // A bearer token is no client authentication.
    let bearer = reqwest::Client::new()
        .post(server.url("/oauth/introspect"))
        .bearer_auth(&access)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={access}"));
    Reply::read(bearer.send().await.unwrap())
        .await
        .assert_error(401, "invalid_client");
    // Authenticated, but no token: 400.
    let none = oauth_post(server, "/oauth/introspect", &[], Some(INTROSPECTOR)).await;
    none.assert_error(400, "invalid_request");
}

pub async fn oauth_introspect_failures_are_throttled_per_address(server: &TestServer, env: &Env) {
    let (access, _) = native_login(server, ALICE).await;
    let form = [("token", access.as_str())];
    let wrong = Some((INTROSPECTOR.0, "a guess"));
    // Right credentials cost nothing.
    for _ in 0..40 {
        assert_eq!(introspect(server, &access).await.status, 200);
    }
    // The per-address budget (30 by default) of wrong guesses...
    for _ in 0..30 {
        let reply = oauth_post(server, "/oauth/introspect", &form, wrong).await;
        reply.assert_error(401, "invalid_client");
    }
    // ...then 429 for everyone at that address, right credentials too.
    let throttled = oauth_post(server, "/oauth/introspect", &form, Some(INTROSPECTOR)).await;
    throttled.assert_error(429, "too_many_attempts");
    assert_eq!(throttled.header("retry-after"), Some("10"));
    assert_eq!(throttled.header("pragma"), Some("no-cache"));
    env.clock.advance(seconds(10));
    assert_eq!(introspect(server, &access).await.body["active"], true);
}

pub async fn oauth_introspect_is_disabled_without_a_client(spawn: Spawn<'_>, env: &Env) {
    let server = spawn(Config {
        introspection: None,
        ..env.config()
    })
    .await;
    let (access, refresh) = native_login(&server, ALICE).await;
    let form = [("token", access.as_str())];
    let reply = oauth_post(&server, "/oauth/introspect", &form, Some(INTROSPECTOR)).await;
    reply.assert_error(404, "not_found");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    // The other OAuth routes need no client and still answer.
    let token = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    assert_eq!(
        oauth_post(&server, "/oauth/token", &token, None)
            .await
            .status,
        200
    );
    server.stop().await;
}
