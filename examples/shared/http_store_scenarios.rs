//! The scenarios of the HTTP tests about the store: an outage, and a
//! restart over SQLite.

use std::future::Future;

use crate::server::demo::{Config, Signing, sqlite_store};
use crate::suite::{ALICE, Agent, Env, TestServer, record, refresh_with};

pub async fn a_store_outage_is_503_and_keeps_the_session(server: &TestServer, env: &Env) {
    let mut alice = Agent::new(server);
    alice.login(ALICE).await;
    let session = alice.get("/me").await.body["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = alice.refresh_token().unwrap();

    env.store.fail();
    let refresh = alice.refresh().await;
    refresh.assert_error(503, "store_unavailable");
    assert_eq!(refresh.header("retry-after"), Some("5"));
    assert_eq!(refresh.header("set-cookie"), None, "the cookie is kept");
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
    assert_eq!(alice.refresh_token(), Some(cookie));

    // Back up: the same cookie rotates, nothing was revoked.
    env.store.recover();
    assert_eq!(alice.refresh().await.status, 200);
    assert_eq!(record(server, &session).await, (1, false));
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
    let session = alice.get("/me").await.body["sid"]
        .as_str()
        .unwrap()
        .to_owned();
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
