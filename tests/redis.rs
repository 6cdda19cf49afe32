//! `RedisStore` against a real server (`REDIS_URL`): the conformance suite,
//! races through `TokenService`, nothing secret at rest. `redis/` holds the
//! checks of TTLs and the subject index, of errors (against a fake
//! server), and of the revocation feed.
//!
//! The tests that need the server are ignored unless asked for
//! (`-- --include-ignored`), and then fail when `REDIS_URL` is unset; those
//! against no server or a fake one always run.
//!
//! The server may be shared: each test uses its own random key prefix and
//! deletes its keys when done, even if it fails. Never `FLUSHDB`.
#![cfg(all(feature = "redis", feature = "testing"))]

mod common;
#[path = "redis/errors.rs"]
mod errors;
#[path = "redis/expiry.rs"]
mod expiry;
#[path = "redis/feed.rs"]
mod feed;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jwt_rotate::redis;
use jwt_rotate::store::{RedisStore, RedisStoreBuilder, RefreshStore};
use jwt_rotate::testing;
use jwt_rotate::{Error, ManualClock, RevocationReason, SessionInfo, TokenPair, TokenService};
use sha2::{Digest, Sha256};
use time::Duration;
use tokio::sync::{Barrier, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Tests that empty the server's script cache run alone: a flush between
/// loading a script and calling it would fail another test's call.
static SCRIPT_CACHE: RwLock<()> = RwLock::const_new(());

/// A test's hold on [`SCRIPT_CACHE`].
enum Turn {
    /// Alongside other tests that leave the script cache alone.
    Shared { _held: RwLockReadGuard<'static, ()> },
    /// Alone: this test flushes the script cache.
    Alone {
        _held: RwLockWriteGuard<'static, ()>,
    },
}

/// A store under a key prefix of its own, whose keys are deleted on drop.
struct Fixture {
    /// The store.
    store: RedisStore,
    /// The server's URL.
    url: String,
    /// The store's key prefix.
    prefix: String,
    _turn: Turn,
}

impl Fixture {
    /// A fixture on `REDIS_URL`.
    ///
    /// # Panics
    /// When `REDIS_URL` is unset (see [`common::server_url`]), or the
    /// server cannot be reached.
    pub(crate) async fn new() -> Self {
        Self::with_retention(Duration::hours(1)).await
    }

    /// Like [`Fixture::new`], with the store's retention set.
    pub(crate) async fn with_retention(retention: Duration) -> Self {
        Self::with(|builder| builder.retention(retention)).await
    }

    /// Like [`Fixture::new`], the store's builder set up by `options`.
    pub(crate) async fn with(options: impl FnOnce(RedisStoreBuilder) -> RedisStoreBuilder) -> Self {
        let turn = Turn::Shared {
            _held: SCRIPT_CACHE.read().await,
        };
        Self::make(options(RedisStore::builder()), turn).await
    }

    /// Like [`Fixture::new`], for a test that may empty the script cache:
    /// no other test of this binary uses the server meanwhile.
    pub(crate) async fn alone() -> Self {
        let turn = Turn::Alone {
            _held: SCRIPT_CACHE.write().await,
        };
        Self::make(RedisStore::builder(), turn).await
    }

    async fn make(builder: RedisStoreBuilder, turn: Turn) -> Self {
        let url = common::server_url("REDIS_URL");
        let prefix = format!("jwt-rotate-test:{:016x}", rand::random::<u64>());
        let store = builder
            .key_prefix(&prefix)
            .connect(&url)
            .await
            .expect("connect to REDIS_URL");
        Self {
            store,
            url,
            prefix,
            _turn: turn,
        }
    }

    /// A plain connection to the same server, for looking behind the store.
    pub(crate) async fn raw(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(self.url.as_str()).unwrap();
        client.get_multiplexed_async_connection().await.unwrap()
    }

    /// Every key under the prefix.
    pub(crate) async fn keys(&self) -> Vec<Vec<u8>> {
        let mut conn = self.raw().await;
        let (mut cursor, mut keys) = (0_u64, Vec::new());
        loop {
            let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}:*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .unwrap();
            keys.extend(batch);
            if next == 0 {
                keys.sort();
                keys.dedup();
                return keys;
            }
            cursor = next;
        }
    }

    /// A service over this store: the common test settings, a clock at the
    /// real time, and the given grace window.
    pub(crate) fn service(&self, grace: Duration) -> TokenService<RedisStore> {
        let clock = ManualClock::starting_now();
        common::builder(&clock)
            .reuse_grace(grace)
            .build(self.store.clone())
            .unwrap()
    }
}

impl Drop for Fixture {
    // Synchronous, so it also runs when a test panics.
    fn drop(&mut self) {
        let Ok(mut conn) = redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection())
        else {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs REDIS_URL"]
async fn passes_the_conformance_suite() {
    let fixture = Fixture::new().await;
    testing::run_all(&Arc::new(fixture.store.clone())).await;
    // Behind `dyn`, and two runs at once on one prefix.
    let shared: Arc<dyn RefreshStore> = Arc::new(fixture.store.clone());
    let other = Arc::clone(&shared);
    let run = tokio::spawn(async move { testing::run_all(&other).await });
    testing::run_all(&shared).await;
    run.await.expect("the overlapping run failed");
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn a_dpop_bound_session_keeps_its_binding() {
    let fixture = Fixture::new().await;
    common::bound::bound_session_lifecycle(fixture.store.clone()).await;
}

/// Runs `tasks` refreshes of one token at once; returns their results.
async fn race(
    service: &TokenService<RedisStore>,
    pair: &TokenPair,
    tasks: usize,
) -> Vec<Result<TokenPair, Error>> {
    let start = Arc::new(Barrier::new(tasks));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (service, start) = (service.clone(), Arc::clone(&start));
            let token = pair.refresh_token.clone();
            tokio::spawn(async move {
                start.wait().await;
                service.refresh(&token).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks);
    for handle in handles {
        results.push(handle.await.expect("a refresh task panicked"));
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs REDIS_URL"]
async fn thirty_two_refreshes_of_one_token_have_one_winner() {
    let fixture = Fixture::new().await;
    let service = fixture.service(Duration::ZERO);
    for round in 0..50 {
        let pair = common::login(&service, "racer").await;
        let results = race(&service, &pair, 32).await;
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {winners} of 32 refreshes won");
        for result in &results {
            assert!(
                matches!(
                    result,
                    Ok(_) | Err(Error::ReuseDetected | Error::SessionRevoked)
                ),
                "round {round}: a loser got {result:?}"
            );
        }
        // With no grace, the losers' replays are reuse: the family is dead.
        let stored = common::record(&service, &pair.session_id).await;
        assert_eq!(stored.generation, 1, "round {round}");
        let revoked = stored.revoked.expect("revoked for reuse");
        assert_eq!(revoked.reason, RevocationReason::ReuseDetected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs REDIS_URL"]
async fn grace_racers_share_one_successor() {
    let fixture = Fixture::new().await;
    let service = fixture.service(Duration::seconds(10));
    for round in 0..20 {
        let pair = common::login(&service, "tabs").await;
        let results = race(&service, &pair, 32).await;
        let pairs: Vec<TokenPair> = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("round {round}: a racer failed: {e:?}")))
            .collect();
        let first = pairs[0].refresh_token.expose_secret();
        assert_ne!(first, pair.refresh_token.expose_secret());
        for other in &pairs {
            assert_eq!(
                other.refresh_token.expose_secret(),
                first,
                "round {round}: racers got different successors"
            );
        }
        let stored = common::record(&service, &pair.session_id).await;
        assert_eq!(
            (stored.generation, stored.revoked),
            (1, None),
            "round {round}"
        );
    }
}

/// Every byte under the prefix: key names, hash fields and values, set
/// members and scores, stream entries (the revocation feed).
async fn dump(fixture: &Fixture) -> Vec<u8> {
    let mut conn = fixture.raw().await;
    let mut all = Vec::new();
    for key in fixture.keys().await {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        if kind == "stream" {
            let entries: Vec<(Vec<u8>, Vec<Vec<u8>>)> = redis::cmd("XRANGE")
                .arg(&key)
                .arg("-")
                .arg("+")
                .query_async(&mut conn)
                .await
                .unwrap();
            all.extend_from_slice(&key);
            for part in entries
                .into_iter()
                .flat_map(|(id, f)| [vec![id], f].concat())
            {
                all.push(0);
                all.extend(part);
            }
            continue;
        }
        let cmd = match kind.as_str() {
            "hash" => redis::cmd("HGETALL").arg(&key).clone(),
            "zset" => redis::cmd("ZRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .clone(),
            other => panic!("unexpected key type {other}"),
        };
        let value: Vec<Vec<u8>> = cmd.query_async(&mut conn).await.unwrap();
        all.extend_from_slice(&key);
        for item in value {
            all.push(0);
            all.extend(item);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs REDIS_URL"]
async fn no_token_or_secret_is_readable_in_redis() {
    let fixture = Fixture::new().await;
    let service = fixture.service(Duration::seconds(10));
    let info = SessionInfo::default()
        .with_user_agent("phone")
        .with_label("mine");
    let mut pairs = Vec::new();
    for subject in ["ann", "bo"] {
        let login = service
            .issue(subject, jwt_rotate::NoClaims {}, info.clone())
            .await
            .unwrap();
        let next = service.refresh(&login.refresh_token).await.unwrap();
        let replay = service.refresh(&login.refresh_token).await.unwrap();
        pairs.extend([login, next, replay]);
    }
    service.revoke(&pairs[5].refresh_token).await.unwrap();

    let dump = dump(&fixture).await;
    for pair in &pairs {
        let refresh = pair.refresh_token.expose_secret();
        let jti = common::tokens::jti(refresh);
        let secret = URL_SAFE_NO_PAD.decode(&jti).unwrap();
        assert_eq!(secret.len(), 32);
        let needles: [(&str, Vec<u8>); 5] = [
            ("a refresh token", refresh.as_bytes().to_vec()),
            (
                "an access token",
                pair.access_token.expose_secret().as_bytes().to_vec(),
            ),
            ("a secret (base64url)", jti.as_bytes().to_vec()),
            ("a secret (base64)", STANDARD.encode(&secret).into_bytes()),
            ("a secret (raw)", secret.clone()),
        ];
        for (what, needle) in needles {
            assert!(!contains(&dump, &needle), "{what} is readable in Redis");
        }
        // The dump is complete enough to find what must be there: the
        // secret's hash and the session id.
        let hash = Sha256::digest(&secret);
        assert!(contains(&dump, &hash), "the dump misses a secret hash");
        assert!(contains(&dump, pair.session_id.to_string().as_bytes()));
    }
}

/// A failure no retry cures comes back as permanent: here a key of ours
/// that holds another type (`WRONGTYPE`), as a stray write would leave it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs REDIS_URL"]
async fn a_permanent_failure_is_reported_as_permanent() {
    let fixture = Fixture::new().await;
    let service = fixture.service(Duration::seconds(10));
    let mut raw = fixture.raw().await;
    let index = format!("{}:u:{{carol}}", fixture.prefix);
    let _: () = redis::cmd("SET")
        .arg(&index)
        .arg("not a sorted set")
        .query_async(&mut raw)
        .await
        .unwrap();
    let err = service.sessions("carol").await.unwrap_err();
    let store = err.store_error().expect("a store failure");
    assert!(!store.is_retryable(), "{store:?}");
    assert_eq!(err.class(), jwt_rotate::ErrorClass::Internal, "{err:?}");
    assert_eq!(err.code(), "server_error");
}
