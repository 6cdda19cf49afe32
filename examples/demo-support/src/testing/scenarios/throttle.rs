//! The scenarios of the HTTP tests about password guessing: login and
//! password change are throttled per username and per client address, on
//! the server's clock, before any hashing.

use serde_json::{Value, json};

use crate::Config;
use crate::testing::suite::{ALICE, Agent, BOB, Env, Reply, Spawn, TestServer, seconds};

/// `POST /auth/login` as `user` from `client` (an `X-Forwarded-For` a
/// trusted proxy would have written), without a cookie jar.
async fn login_from(server: &TestServer, client: &str, (user, password): (&str, &str)) -> Reply {
    let request = reqwest::Client::new()
        .post(server.url("/auth/login"))
        .header("x-forwarded-for", client)
        .json(&json!({ "username": user, "password": password }));
    Reply::read(request.send().await.unwrap()).await
}

pub async fn wrong_passwords_are_throttled(server: &TestServer, env: &Env) {
    let mut mallory = Agent::new(server);
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(mallory.login(("alice", "a guess")).await.status);
    }
    assert_eq!(statuses, [401; 10]);
    // From the 11th, refused at once, without hashing: no CPU to burn.
    let checks = server.state.hash_stats().checks;
    for _ in 0..10 {
        let reply = mallory.login(("alice", "a guess")).await;
        reply.assert_error(429, "too_many_attempts");
        assert_eq!(reply.header("retry-after"), Some("60"));
        assert_eq!(reply.header("set-cookie"), None);
    }
    mallory
        .login(ALICE)
        .await
        .assert_error(429, "too_many_attempts");
    assert_eq!(server.state.hash_stats().checks, checks);

    // An unknown user is throttled alike: a 429 tells nothing of who exists.
    for _ in 0..10 {
        let reply = mallory.login(("nobody", "a guess")).await;
        reply.assert_error(401, "invalid_credentials");
    }
    let unknown = mallory.login(("nobody", "a guess")).await;
    unknown.assert_error(429, "too_many_attempts");

    // The clock, not sleeping, earns a token back: one a minute.
    env.clock.advance(seconds(30));
    let reply = mallory.login(ALICE).await;
    assert_eq!(reply.header("retry-after"), Some("30"));
    env.clock.advance(seconds(30));
    assert_eq!(mallory.login(ALICE).await.status, 200);
    // A right password gives its token back: logging in again works.
    assert_eq!(Agent::new(server).login(ALICE).await.status, 200);
}

pub async fn unknown_users_cost_a_hash_like_known_ones(server: &TestServer, _env: &Env) {
    let mut agent = Agent::new(server);
    let checks = || server.state.hash_stats().checks;
    let before = checks();
    agent
        .login(("alice", "a guess"))
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(checks(), before + 1, "a known user: one argon2 check");
    agent
        .login(("mallory", "a guess"))
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(checks(), before + 2, "an unknown user: one too, on a decoy");
    // A name longer than any account's is refused unhashed, as a bad
    // request: its length alone says it is nobody's.
    let long = "n".repeat(257);
    agent
        .login((&long, "a guess"))
        .await
        .assert_error(400, "invalid_request");
    assert_eq!(checks(), before + 2);
}

pub async fn password_change_guesses_are_throttled(server: &TestServer, _env: &Env) {
    // A stolen access token must not let its holder guess the password
    // through the password change at full speed.
    let mut thief = Agent::new(server);
    thief.login(ALICE).await;
    let guess = json!({ "current_password": "a guess", "new_password": "whatever it is" });
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let reply = thief
            .authed_post("/auth/password", Some(guess.clone()))
            .await;
        statuses.push(reply.status);
    }
    assert_eq!(statuses[..10], [403; 10]);
    assert_eq!(statuses[10..], [429; 2]);
    // The guesses count against alice's login too: one bucket per user.
    Agent::new(server)
        .login(ALICE)
        .await
        .assert_error(429, "too_many_attempts");
}

pub async fn throttling_is_per_user_and_per_address(spawn: Spawn<'_>, env: &Env) {
    // Behind a trusted proxy (here, the test client's own loopback address)
    // the client is the forwarded address, so tests can come from several.
    let server = spawn(Config {
        trusted_proxies: "127.0.0.1".parse().unwrap(),
        ..env.config()
    })
    .await;
    let (a, b, c, d) = (
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "198.51.100.4",
    );
    for _ in 0..10 {
        let reply = login_from(&server, a, (BOB.0, "a guess")).await;
        reply.assert_error(401, "invalid_credentials");
    }
    let reply = login_from(&server, a, (BOB.0, "a guess")).await;
    reply.assert_error(429, "too_many_attempts");
    // Another user, from another address: not slowed by bob's failures.
    let alice = login_from(&server, b, ALICE).await;
    assert_eq!(alice.status, 200);
    // Bob himself is held to his account's rate wherever he comes from:
    // that is what stops a botnet guessing one password from many places.
    let reply = login_from(&server, b, BOB).await;
    reply.assert_error(429, "too_many_attempts");

    // One address spraying one guess over many accounts: 30, then 429,
    // even for a right password there; not elsewhere.
    for i in 0..30 {
        let reply = login_from(&server, c, (&format!("user{i}"), "a guess")).await;
        reply.assert_error(401, "invalid_credentials");
    }
    let reply = login_from(&server, c, ALICE).await;
    reply.assert_error(429, "too_many_attempts");
    assert_eq!(reply.header("retry-after"), Some("10"));
    assert_eq!(login_from(&server, d, ALICE).await.status, 200);

    // The session lists the forwarded address, not the proxy's (a second
    // later, so that it is the newest).
    env.clock.advance(seconds(1));
    let access = login_from(&server, d, ALICE).await.body["access_token"].clone();
    let sessions = reqwest::Client::new()
        .get(server.url("/sessions"))
        .bearer_auth(access.as_str().unwrap())
        .send()
        .await
        .unwrap();
    let sessions: Value = sessions.json().await.unwrap();
    assert_eq!(sessions[0]["ip"], d);
    server.stop().await;
}

pub async fn forwarded_for_is_ignored_unless_trusted(server: &TestServer, _env: &Env) {
    // No trusted proxy: each guess claiming a fresh X-Forwarded-For is
    // still counted against the connection's address.
    for i in 0..30 {
        let client = format!("203.0.113.{i}");
        let reply = login_from(server, &client, (&format!("user{i}"), "a guess")).await;
        reply.assert_error(401, "invalid_credentials");
    }
    let reply = login_from(server, "203.0.113.200", ALICE).await;
    reply.assert_error(429, "too_many_attempts");
}
