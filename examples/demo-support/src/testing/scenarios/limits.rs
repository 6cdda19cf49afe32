//! The scenarios of the HTTP tests about work per request: bodies, stored
//! sessions per user, password hashes at once.

use serde_json::json;

use crate::Config;
use crate::hashing::HashLimits;
use crate::testing::suite::{ALICE, Agent, Env, Reply, Spawn, TestServer, seconds};
use jwt_rotate::web::ThrottleLimits as Limits;

pub async fn oversized_bodies_are_refused_alike(server: &TestServer, _env: &Env) {
    // Both servers answer the same JSON 413, before parsing anything.
    let password = "p".repeat(100 * 1024);
    let body = json!({ "username": "alice", "password": password });
    let request = reqwest::Client::new()
        .post(server.url("/auth/login"))
        .json(&body);
    let reply = Reply::read(request.send().await.unwrap()).await;
    reply.assert_error(413, "payload_too_large");

    let mut alice = Agent::new(server);
    alice.login(ALICE).await;
    let body = json!({ "current_password": password, "new_password": "new password 1" });
    let reply = alice.authed_post("/auth/password", Some(body)).await;
    reply.assert_error(413, "payload_too_large");
}

pub async fn sessions_per_user_are_capped(server: &TestServer, env: &Env) {
    // Every login stores a session; the oldest go beyond the cap, so that
    // neither the store nor `GET /sessions` grows without bound.
    let mut agents = Vec::new();
    for _ in 0..11 {
        let mut agent = Agent::new(server);
        assert_eq!(agent.login(ALICE).await.status, 200);
        agents.push(agent);
        // Logins at one instant are ordered by their random ids.
        env.clock.advance(seconds(1));
    }
    let listed = agents[10].get("/sessions").await;
    assert_eq!(listed.body.as_array().unwrap().len(), 10);
    agents[0]
        .refresh()
        .await
        .assert_error(401, "session_revoked");
}

pub async fn password_hashes_at_once_are_bounded(spawn: Spawn<'_>, env: &Env) {
    let limits = HashLimits { slots: 2, queue: 3 };
    let server = spawn(Config {
        hashing: limits,
        ..env.config()
    })
    .await;
    // As many logins at once as may run or wait: they wait for a hashing
    // slot instead of each running argon2 on a blocking thread of its own.
    let burst = limits.slots + limits.queue;
    let logins = (0..burst).map(|i| {
        let body = json!({ "username": format!("user{i}"), "password": "a guess" });
        let request = reqwest::Client::new()
            .post(server.url("/auth/login"))
            .json(&body);
        async move { Reply::read(request.send().await.unwrap()).await }
    });
    for reply in futures_join_all(logins).await {
        reply.assert_error(401, "invalid_credentials");
    }
    let stats = server.state.hash_stats();
    assert_eq!(
        stats.checks, burst as u64,
        "every login hashed, unknown users too"
    );
    let slots = limits.slots;
    assert!(
        stats.peak <= slots,
        "{} hashes at once, {slots} slots",
        stats.peak
    );
    server.stop().await;
}

pub async fn a_full_hashing_queue_answers_503(spawn: Spawn<'_>, env: &Env) {
    let mut throttle = Limits::default();
    throttle.per_user.burst = 2;
    let server = spawn(Config {
        hashing: HashLimits { slots: 1, queue: 1 },
        throttle,
        ..env.config()
    })
    .await;
    // The one slot is taken (a long hash, say): one login may wait, the
    // next is refused at once rather than queued without bound.
    let held = server.state.hash_gate().try_enter().ok().unwrap();
    let login = |password: &'static str| {
        let body = json!({ "username": ALICE.0, "password": password });
        let request = reqwest::Client::new()
            .post(server.url("/auth/login"))
            .json(&body);
        tokio::spawn(async move { Reply::read(request.send().await.unwrap()).await })
    };
    let (mut one, mut two) = (login(ALICE.1), login(ALICE.1));
    // Whichever is refused, the other was admitted before it, and waits.
    let (refused, waiting) = tokio::select! {
        reply = &mut one => (reply.unwrap(), two),
        reply = &mut two => (reply.unwrap(), one),
    };
    refused.assert_error(503, "server_busy");
    assert_eq!(refused.header("retry-after"), Some("1"));
    let checks = server.state.hash_stats().checks;
    drop(held);
    assert_eq!(waiting.await.unwrap().status, 200);
    assert_eq!(server.state.hash_stats().checks, checks + 1);
    // A refusal for load is not a wrong guess: both of alice's tokens are
    // back, for two wrong guesses before the third is throttled.
    let mut mallory = Agent::new(&server);
    for status in [401, 401, 429] {
        assert_eq!(mallory.login((ALICE.0, "a guess")).await.status, status);
    }
    server.stop().await;
}

/// Runs the futures at once (each on its own task) and returns their
/// outputs in order.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for task in tasks {
        outputs.push(task.await.unwrap());
    }
    outputs
}
