//! The scenarios of the HTTP tests about the refresh cookie sent more than
//! once: a sibling subdomain can plant a `refresh_token` cookie beside the
//! user's, and logout or login must not be cancelled by it.

use crate::testing::suite::{ALICE, Agent, Reply, TestServer, record};

/// A request to `path` with exactly this `Cookie` header and no other
/// state, as a browser holding several `refresh_token` cookies sends it.
async fn post_with_cookies(server: &TestServer, path: &str, cookies: &str) -> Reply {
    let request = reqwest::Client::new()
        .post(server.url(path))
        .header("cookie", cookies);
    Reply::read(request.send().await.unwrap()).await
}

/// Alice logged in on a fresh agent: her refresh token and session id.
async fn logged_in(server: &TestServer) -> (String, String) {
    let mut agent = Agent::new(server);
    assert_eq!(agent.login(ALICE).await.status, 200);
    let sid = agent.session_id().await;
    (agent.refresh_token().unwrap(), sid)
}

pub async fn logout_revokes_every_cookie_that_verifies(server: &TestServer) {
    // A planted cookie before or after the user's must not cancel the
    // logout: every value that verifies is revoked.
    for planted_first in [false, true] {
        let (token, sid) = logged_in(server).await;
        let cookies = if planted_first {
            format!("refresh_token=x; refresh_token={token}")
        } else {
            format!("refresh_token={token}; refresh_token=x")
        };
        let logout = post_with_cookies(server, "/auth/logout", &cookies).await;
        assert_eq!(logout.status, 204, "{cookies}");
        assert_eq!(logout.cookie_token(), Some(""));
        assert!(record(server, &sid).await.1, "revoked: {cookies}");
    }

    // Two genuine sessions in one jar (another path or domain): both end.
    let (one, one_sid) = logged_in(server).await;
    let (two, two_sid) = logged_in(server).await;
    let cookies = format!("refresh_token={one}; theme=dark; refresh_token=x.y.z");
    let other_header = format!("refresh_token={two}");
    let request = reqwest::Client::new()
        .post(server.url("/auth/logout"))
        .header("cookie", cookies)
        .header("cookie", other_header);
    let logout = Reply::read(request.send().await.unwrap()).await;
    assert_eq!(logout.status, 204);
    assert!(record(server, &one_sid).await.1 && record(server, &two_sid).await.1);
}

pub async fn logout_with_no_cookie_that_verifies_is_an_error(server: &TestServer) {
    let (token, sid) = logged_in(server).await;
    // One character of the signature changed: the value looks like a token
    // and does not verify.
    let at = token.len() - 6;
    let swap = if &token[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{swap}{}", &token[..at], &token[at + 1..]);
    for cookies in [
        format!("refresh_token={forged}; refresh_token=x"),
        format!("refresh_token={forged}"),
        "refresh_token=\"quoted\"; refresh_token=".to_owned(),
    ] {
        let logout = post_with_cookies(server, "/auth/logout", &cookies).await;
        logout.assert_error(401, "invalid_token");
        assert_eq!(logout.cookie_token(), Some(""), "the junk is cleared");
        assert_eq!(record(server, &sid).await, (0, false), "{cookies}");
    }
    // No cookie at all: nothing to end, logging out is idempotent.
    let logout = post_with_cookies(server, "/auth/logout", "theme=dark").await;
    assert_eq!(logout.status, 204);
    assert_eq!(record(server, &sid).await, (0, false));
}

pub async fn too_many_refresh_cookies_are_refused(server: &TestServer) {
    let (token, sid) = logged_in(server).await;
    // More values than a browser's jar can send for one path: a crafted
    // request, refused before any store call.
    let mut cookies: Vec<String> = (0..40).map(|i| format!("refresh_token=junk{i}")).collect();
    cookies.push(format!("refresh_token={token}"));
    let cookies = cookies.join("; ");
    let logout = post_with_cookies(server, "/auth/logout", &cookies).await;
    logout.assert_error(400, "too_many_cookies");
    assert_eq!(logout.header("set-cookie"), None);
    let body = serde_json::json!({ "username": ALICE.0, "password": ALICE.1 });
    let request = reqwest::Client::new()
        .post(server.url("/auth/login"))
        .header("cookie", &cookies)
        .json(&body);
    let login = Reply::read(request.send().await.unwrap()).await;
    login.assert_error(400, "too_many_cookies");
    assert_eq!(login.header("set-cookie"), None);
    // Refresh refuses any second cookie of the name, and keeps it.
    let refresh = post_with_cookies(server, "/auth/refresh", &cookies).await;
    refresh.assert_error(401, "invalid_token");
    assert_eq!(refresh.header("set-cookie"), None);
    assert_eq!(record(server, &sid).await, (0, false));
}

pub async fn login_over_duplicated_cookies_ends_the_old_sessions(server: &TestServer) {
    let (one, one_sid) = logged_in(server).await;
    let (two, two_sid) = logged_in(server).await;
    let body = serde_json::json!({ "username": ALICE.0, "password": ALICE.1 });
    let request = reqwest::Client::new()
        .post(server.url("/auth/login"))
        .header(
            "cookie",
            format!("refresh_token={one}; refresh_token=x; refresh_token={two}"),
        )
        .json(&body);
    let login = Reply::read(request.send().await.unwrap()).await;
    assert_eq!(login.status, 200);
    assert!(
        record(server, &one_sid).await.1,
        "the first old session ended"
    );
    assert!(
        record(server, &two_sid).await.1,
        "the second old session ended"
    );
}

pub async fn refresh_refuses_a_duplicated_cookie(server: &TestServer) {
    // Refresh stays strict: which cookie is the user's is unknown, and
    // rotating a planted one would log the user into the planter's
    // session. Nothing rotates, nothing is revoked.
    let (token, sid) = logged_in(server).await;
    for cookies in [
        format!("refresh_token={token}; refresh_token=x"),
        format!("refresh_token={token}; refresh_token={token}"),
    ] {
        let reply = post_with_cookies(server, "/auth/refresh", &cookies).await;
        reply.assert_error(401, "invalid_token");
        // Not known to be dead: the user's cookie stays, so that the next
        // login (or logout) can end its session.
        assert_eq!(reply.header("set-cookie"), None, "{cookies}");
        assert_eq!(record(server, &sid).await, (0, false), "{cookies}");
    }
    let alone = post_with_cookies(server, "/auth/refresh", &format!("refresh_token={token}")).await;
    assert_eq!(alone.status, 200);
}
