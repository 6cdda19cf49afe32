//! Three parties on loopback: the axum demo auth server (in this process,
//! its sessions in a real store), resource-demo as a child process
//! following that store's revocation feed, and a client. A logout at the
//! auth server must turn the resource server's 200 into a 401 within a
//! bound; the delay observed is printed (`--nocapture` shows it).
//!
//! Each test needs its server (`DATABASE_URL`, `REDIS_URL`) and fails
//! without it; PostgreSQL gets a database of its own per run.

mod support;

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use demo_support::{AppState, Config, Store, open_store};
use jwt_rotate::SessionId;
use jwt_rotate::sqlx::{self, AssertSqlSafe, Connection, postgres::PgConnection};
use jwt_rotate::store::RedisStore;
use serde_json::json;
use support::{me, poll_me};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a revocation may take to reach the resource server (and the
/// resource server to start): far more than loopback needs
/// (milliseconds), far less than an access token's 15 minutes.
const BOUND: Duration = Duration::from_secs(5);

/// Logouts measured per store: a few, for the spread.
const ROUNDS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DATABASE_URL"]
async fn a_logout_reaches_the_resource_server_through_postgresql() {
    let server = server_url("DATABASE_URL");
    let db = TestDb::create(&server).await;
    let store = open_store(&db.url).await.unwrap();
    let delays = logouts_reach_the_resource_server(store, &[("DATABASE_URL", &db.url)]).await;
    report("PostgreSQL", delays);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs REDIS_URL"]
async fn a_logout_reaches_the_resource_server_through_redis() {
    let url = server_url("REDIS_URL");
    let keys = RedisKeys::new(&url);
    let store = RedisStore::builder()
        .key_prefix(&keys.prefix)
        .connect(&url)
        .await
        .unwrap();
    let feed = [
        ("REDIS_URL", url.as_str()),
        ("REDIS_KEY_PREFIX", &keys.prefix),
    ];
    let delays = logouts_reach_the_resource_server(Arc::new(store), &feed).await;
    report("Redis", delays);
}

/// Starts an auth server over `store` and a resource-demo child following
/// its feed (`feed`: the child's variables), then [`ROUNDS`] times: logs
/// in, gets 200 from `GET /me` at the resource server, logs out at the
/// auth server, and measures until that token gets 401 there.
async fn logouts_reach_the_resource_server(store: Store, feed: &[(&str, &str)]) -> Vec<Duration> {
    let auth = auth_server(store).await;
    let jwks_url = format!("{auth}/.well-known/jwks.json");
    let mut env = vec![("JWKS_URL", jwks_url.as_str())];
    env.extend_from_slice(feed);
    let (mut child, resource) = resource_demo(&env).await;
    let mut delays = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let login = client
            .post(format!("{auth}/auth/login"))
            .json(&json!({"username": "alice", "password": "correct horse battery staple"}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let login: serde_json::Value = login.json().await.unwrap();
        let token = login["access_token"].as_str().unwrap();

        // Until its first sync with the feed the resource server says 503.
        let (ok, _) = poll_me(&resource, token, BOUND, |me| me.status != 503).await;
        assert_eq!((ok.status, &ok.body), (200, &json!({"sub": "alice"})));

        let logout = client
            .post(format!("{auth}/auth/logout"))
            .send()
            .await
            .unwrap();
        assert_eq!(logout.status(), 204);
        let (refused, delay) = poll_me(&resource, token, BOUND, |me| me.status != 200).await;
        assert_eq!((refused.status, refused.code()), (401, "session_revoked"));
        delays.push(delay);
        // Still refused: the revocation stays in the view.
        assert_eq!(me(&resource, Some(token)).await.status, 401);
    }
    child.kill().await.unwrap();
    delays
}

/// Prints the delays' median and largest (`--nocapture` shows them).
fn report(store: &str, mut delays: Vec<Duration>) {
    delays.sort();
    let (median, max) = (delays[delays.len() / 2], delays[delays.len() - 1]);
    println!(
        "{store}: logout answered to 401 at the resource server, {} logouts: median {median:?}, max {max:?}",
        delays.len()
    );
}

/// The axum demo auth server over `store`, in this process on a free
/// loopback port; its base URL.
async fn auth_server(store: Store) -> String {
    let state = AppState::new(Config {
        store,
        ..Config::default()
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum_demo::serve(listener, state, std::future::pending()));
    format!("http://{addr}")
}

/// resource-demo as a child process with `env`, on a free loopback port
/// it picks itself; the child and its base URL, read from its log.
async fn resource_demo(env: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_resource-demo"))
        .env_clear()
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(BOUND, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(at) = line.find("resource server on http://") {
                let url = &line[at + "resource server on ".len()..];
                return url.trim_end().trim_end_matches("/me").to_owned();
            }
        }
        panic!("resource-demo ended before listening");
    })
    .await
    .expect("resource-demo listens");
    // Keep reading its log, so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

/// The URL in `var`.
///
/// # Panics
/// When `var` is unset: the test needs that server.
fn server_url(var: &str) -> String {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{var} is not set: this test needs that server (see CONTRIBUTING.md)"),
    }
}

/// A PostgreSQL database of this run's own on the server at `server`.
struct TestDb {
    server: String,
    name: String,
    url: String,
}

impl TestDb {
    async fn create(server: &str) -> Self {
        let hex: String = SessionId::random().as_bytes()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let name = format!("resource_demo_test_{hex}");
        let mut admin = PgConnection::connect(server).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        // The server's URL with the database replaced.
        let (base, query) = server.split_once('?').unwrap_or((server, ""));
        let authority = base.find("://").map_or(0, |i| i + 3);
        let path = base[authority..]
            .find('/')
            .map_or(base.len(), |i| authority + i);
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        let url = format!("{}/{name}{query}", &base[..path]);
        Self {
            server: server.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for TestDb {
    /// Drops the database, even when the test panics: on a thread and a
    /// runtime of its own, as the test's runtime may be unwinding.
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&server).await?;
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::raw_sql(AssertSqlSafe(drop))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

/// A key prefix of this run's own on the Redis server at `url`; its keys
/// are deleted on drop, even when the test panics.
struct RedisKeys {
    url: String,
    prefix: String,
}

impl RedisKeys {
    fn new(url: &str) -> Self {
        let hex: String = SessionId::random().as_bytes()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            url: url.to_owned(),
            prefix: format!("resource-demo-test:{hex}"),
        }
    }
}

impl Drop for RedisKeys {
    // Synchronous, so it also runs when a test panics.
    fn drop(&mut self) {
        use jwt_rotate::redis;

        let Ok(mut conn) = redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection())
        else {
            eprintln!("could not delete the keys under {}", self.prefix);
            return;
        };
        let pattern = format!("{}:*", self.prefix);
        let mut cursor = 0_u64;
        loop {
            let scanned: Result<(u64, Vec<Vec<u8>>), _> = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query(&mut conn);
            let Ok((next, keys)) = scanned else {
                return;
            };
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }
}
