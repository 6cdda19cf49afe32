//! The scenarios of the HTTP tests about the store: an outage, and a
//! restart over SQLite.

use std::future::Future;

use crate::{Config, Signing, sqlite_store};
use serde_json::json;
use time::Duration;

use crate::testing::suite::{ALICE, Agent, Env, TestServer, record, refresh_with};

pub async fn a_store_outage_is_503_and_keeps_the_session(server: &TestServer, env: &Env) {
    let mut alice = Agent::new(server);
    alice.login(ALICE).await;
    let session = alice.session_id().await;
    let cookie = alice.refresh_token().unwrap();

    env.store.fail();
    let refresh = alice.refresh().await;
    refresh.assert_error(503, "store_unavailable");
    assert_eq!(refresh.header("retry-after"), Some("5"));
    // The rotation is in doubt: the cookie becomes the token to retry with
    // (the same session and generation).
    assert!(refresh.header("set-cookie").is_some(), "the retry token");
    let retry_cookie = alice.refresh_token().unwrap();
    assert_ne!(retry_cookie, cookie);
    alice
        .get("/me")
        .await
        .assert_error(503, "store_unavailable");
    let logout = alice.logout().await;
    logout.assert_error(503, "store_unavailable");
    assert_eq!(logout.header("set-cookie"), None);
    Agent::new(server)
        .login(ALICE)
        .await
        .assert_error(503, "store_unavailable");
    assert_eq!(alice.refresh_token(), Some(retry_cookie));

    // Back up: the cookie rotates, nothing was revoked.
    env.store.recover();
    assert_eq!(alice.refresh().await.status, 200);
    assert_eq!(record(server, &session).await, (1, false));
}

/// The store writes a rotation and its answer is lost; the outage lasts a
/// minute, far past the grace window. The browser, retrying as told with
/// the cookie the 503 set, gets the successor: nobody is logged out.
pub async fn a_lost_rotation_answer_does_not_log_anyone_out(server: &TestServer, env: &Env) {
    let mut alice = Agent::new(server);
    alice.login(ALICE).await;
    let session = alice.session_id().await;
    env.clock.advance(Duration::minutes(20));
    env.store.lose_next_rotate_answer();
    let refresh = alice.refresh().await;
    refresh.assert_error(503, "store_unavailable");
    assert_eq!(record(server, &session).await, (1, false), "it was written");
    env.store.fail();
    env.clock.advance(Duration::seconds(55));
    env.store.recover();
    env.clock.advance(Duration::seconds(5));
    assert_eq!(alice.refresh().await.status, 200);
    assert_eq!(alice.get("/me").await.status, 200);
    // The successor it got is the session's live token: it rotates on.
    env.clock.advance(Duration::minutes(1));
    assert_eq!(alice.refresh().await.status, 200);
    assert_eq!(record(server, &session).await, (2, false));
}

pub async fn a_password_change_that_cannot_log_out_the_others_is_undone(
    server: &TestServer,
    env: &Env,
) {
    let (mut laptop, mut phone) = (Agent::new(server), Agent::new(server));
    laptop.login(ALICE).await;
    phone.login(ALICE).await;
    let new_password = "a brand new passphrase";
    let change = json!({ "current_password": ALICE.1, "new_password": new_password });

    // The other sessions cannot be revoked: a 503, and the change is
    // undone, so that the retry the 503 asks for is the same request.
    env.store.fail_revoke_subject();
    let failed = laptop
        .authed_post("/auth/password", Some(change.clone()))
        .await;
    failed.assert_error(503, "store_unavailable");
    assert_eq!(phone.get("/me").await.status, 200);
    env.store.recover();
    let mut other = Agent::new(server);
    other
        .login(("alice", new_password))
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(
        other.login(ALICE).await.status,
        200,
        "the old one still works"
    );

    let retried = laptop.authed_post("/auth/password", Some(change)).await;
    assert_eq!(retried.status, 200);
    assert_eq!(retried.body, json!({ "revoked": 2 }));
    phone.get("/me").await.assert_error(401, "session_revoked");
}

pub async fn a_login_racing_a_password_change_does_not_survive_it(server: &TestServer, env: &Env) {
    let mut laptop = Agent::new(server);
    laptop.login(ALICE).await;
    // A login with the old password passes its check, and its session is
    // written only after the password change has revoked every other one.
    env.store.hold_create();
    let mut late = Agent::new(server);
    let racing = tokio::spawn(async move { late.login(ALICE).await });
    env.store.create_held().await;
    let new_password = "a brand new passphrase";
    let change = json!({ "current_password": ALICE.1, "new_password": new_password });
    let changed = laptop.authed_post("/auth/password", Some(change)).await;
    assert_eq!(changed.body, json!({ "revoked": 0 }));
    env.store.release_create();
    let login = racing.await.unwrap();
    login.assert_error(401, "invalid_credentials");
    assert_eq!(login.header("set-cookie"), None);
    // Nothing of it lives on: only the session that changed the password.
    let sessions = laptop.get("/sessions").await.body;
    assert_eq!(sessions.as_array().unwrap().len(), 1, "{sessions}");
}

pub async fn sessions_survive_a_restart_on_sqlite<F, Fut>(spawn: F)
where
    F: Fn(Config) -> Fut,
    Fut: Future<Output = TestServer>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
    let secrets = Signing::Secrets {
        access: b"the demo's access secret, 32 bytes+".to_vec(),
        refresh: b"the demo's refresh secret, 32 bytes".to_vec(),
    };
    let config = |signing: Signing| {
        let url = url.clone();
        async move {
            Config {
                store: sqlite_store(&url).await.unwrap(),
                signing,
                ..Config::default()
            }
        }
    };

    let first = spawn(config(secrets.clone()).await).await;
    let mut alice = Agent::new(&first);
    assert_eq!(alice.login(ALICE).await.status, 200);
    let cookie = alice.refresh_token().unwrap();
    let access = alice.access.clone().unwrap();
    let session = alice.session_id().await;
    first.stop().await;

    // The stored session is of no use to a server without the keys.
    let stranger = spawn(config(Signing::Random).await).await;
    refresh_with(&stranger, &cookie)
        .await
        .assert_error(401, "invalid_token");
    stranger.stop().await;

    // Restarted with the same database and keys: the user is still in.
    let second = spawn(config(secrets).await).await;
    let me = reqwest::Client::new()
        .get(second.url("/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(refresh_with(&second, &cookie).await.status, 200);
    assert_eq!(record(&second, &session).await, (1, false));
    second.stop().await;
}
