//! The scenarios of the OAuth 2.0 routes: `POST /oauth/token` (RFC 6749
//! section 6) and `POST /oauth/revoke` (RFC 7009), for a native client.

use crate::testing::suite::{
    ALICE, Agent, Env, Reply, TestServer, native_login, oauth_post, record, seconds,
};

/// Asserts what RFC 6749 section 5.1 asks of every token endpoint answer.
#[track_caller]
fn assert_not_cached(reply: &Reply) {
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

pub async fn oauth_token_rotates_a_native_refresh_token(server: &TestServer, _: &Env) {
    let (access, refresh) = native_login(server, ALICE).await;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let reply = oauth_post(server, "/oauth/token", &form, None).await;
    assert_eq!(reply.status, 200);
    assert_not_cached(&reply);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    let next_access = reply.body["access_token"].as_str().unwrap();
    let next_refresh = reply.body["refresh_token"].as_str().unwrap();
    assert_ne!(next_refresh, refresh);
    assert_ne!(next_access, access);
    assert_eq!(reply.header("set-cookie"), None, "native: no cookie");

    let mut agent = Agent::new(server);
    agent.access = Some(next_access.to_owned());
    let session = agent.session_id().await;
    assert_eq!(record(server, &session).await, (1, false));
    let again = [
        ("grant_type", "refresh_token"),
        ("refresh_token", next_refresh),
    ];
    assert_eq!(
        oauth_post(server, "/oauth/token", &again, None)
            .await
            .status,
        200
    );
    assert_eq!(record(server, &session).await, (2, false));
}

pub async fn oauth_token_refuses_bad_requests_and_changes_nothing(server: &TestServer, _: &Env) {
    let (_, refresh) = native_login(server, ALICE).await;
    let refresh = refresh.as_str();
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("refresh_token", refresh)], "invalid_request"),
        (&[("grant_type", "refresh_token")], "invalid_request"),
        (
            &[("grant_type", "password"), ("refresh_token", refresh)],
            "unsupported_grant_type",
        ),
        (
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("refresh_token", refresh),
            ],
            "invalid_request",
        ),
        (
            &[("grant_type", "refresh_token"), ("refresh_token", "a.b.c")],
            "invalid_grant",
        ),
        (
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh[1..]),
            ],
            "invalid_grant",
        ),
    ];
    for (form, code) in cases {
        let reply = oauth_post(server, "/oauth/token", form, None).await;
        reply.assert_error(400, code);
        assert_not_cached(&reply);
    }
    // Over the body limit: refused before it is read.
    let padding = "x".repeat(20 * 1024);
    let big = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("padding", padding.as_str()),
    ];
    let reply = oauth_post(server, "/oauth/token", &big, None).await;
    reply.assert_error(400, "invalid_request");
    assert_not_cached(&reply);
    let get = reqwest::get(server.url("/oauth/token")).await.unwrap();
    Reply::read(get)
        .await
        .assert_error(405, "method_not_allowed");

    // None of it spent the token.
    let good = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let reply = oauth_post(server, "/oauth/token", &good, None).await;
    assert_eq!(reply.status, 200);
}

pub async fn oauth_token_reuse_revokes_the_session(server: &TestServer, env: &Env) {
    let (access, spent) = native_login(server, ALICE).await;
    let mut agent = Agent::new(server);
    agent.access = Some(access);
    let session = agent.session_id().await;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", spent.as_str()),
    ];
    let first = oauth_post(server, "/oauth/token", &form, None).await;
    let current = first.body["refresh_token"].as_str().unwrap().to_owned();

    // Inside the grace window the spent token gets the same successor.
    let replay = oauth_post(server, "/oauth/token", &form, None).await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.body["refresh_token"], current.as_str());
    assert_eq!(record(server, &session).await, (1, false));

    // Past it, it is reuse: the whole session ends.
    env.clock.advance(seconds(11));
    let reuse = oauth_post(server, "/oauth/token", &form, None).await;
    reuse.assert_error(400, "invalid_grant");
    assert_not_cached(&reuse);
    assert_eq!(record(server, &session).await, (1, true));
    let current = [
        ("grant_type", "refresh_token"),
        ("refresh_token", current.as_str()),
    ];
    oauth_post(server, "/oauth/token", &current, None)
        .await
        .assert_error(400, "invalid_grant");
    agent.get("/me").await.assert_error(401, "session_revoked");
}

pub async fn oauth_revoke_ends_the_session_of_a_refresh_or_access_token(
    server: &TestServer,
    _: &Env,
) {
    // A refresh token, with its hint.
    let (access, refresh) = native_login(server, ALICE).await;
    let mut agent = Agent::new(server);
    agent.access = Some(access);
    let first = agent.session_id().await;
    let form = [
        ("token", refresh.as_str()),
        ("token_type_hint", "refresh_token"),
    ];
    let reply = oauth_post(server, "/oauth/revoke", &form, None).await;
    assert_eq!((reply.status, &reply.body), (200, &serde_json::json!({})));
    assert_not_cached(&reply);
    assert!(record(server, &first).await.1, "revoked");
    agent.get("/me").await.assert_error(401, "session_revoked");
    // Revoking it again, or its access token, is still 200.
    let again = oauth_post(server, "/oauth/revoke", &form, None).await;
    assert_eq!(again.status, 200);

    // An access token, without a hint: its session ends.
    let (access, refresh) = native_login(server, ALICE).await;
    agent.access = Some(access.clone());
    let second = agent.session_id().await;
    let reply = oauth_post(server, "/oauth/revoke", &[("token", access.as_str())], None).await;
    assert_eq!(reply.status, 200);
    assert!(record(server, &second).await.1, "revoked");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    oauth_post(server, "/oauth/token", &refresh, None)
        .await
        .assert_error(400, "invalid_grant");

    // Unknown tokens: 200, nothing to tell. No token: 400.
    let (access, _) = native_login(server, ALICE).await;
    agent.access = Some(access);
    let third = agent.session_id().await;
    for unknown in ["not-a-token", "a.b.c", first.as_str()] {
        let reply = oauth_post(server, "/oauth/revoke", &[("token", unknown)], None).await;
        assert_eq!(reply.status, 200, "{unknown}");
    }
    oauth_post(
        server,
        "/oauth/revoke",
        &[("token_type_hint", "access_token")],
        None,
    )
    .await
    .assert_error(400, "invalid_request");
    assert_eq!(record(server, &third).await, (0, false), "untouched");
}
