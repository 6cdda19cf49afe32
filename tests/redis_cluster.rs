//! `RedisStore` over a real Redis Cluster (`REDIS_CLUSTER_URLS`, the
//! primaries' URLs comma-separated; `.ci/redis-cluster start` makes one of
//! three primaries and three replicas): the conformance suite, races
//! through `TokenService`, the subject index and the purge across slots
//! and primaries (`redis_cluster/many.rs`), errors of a cluster that
//! cannot serve (`redis_cluster/errors.rs`), and failovers with and
//! without `WAIT` (`redis_cluster/failover.rs`).
//!
//! The tests are ignored unless asked for (`-- --include-ignored`), and
//! then fail when `REDIS_CLUSTER_URLS` is unset. Each uses its own random
//! key prefix and deletes its keys when done. The failover tests kill and
//! restart cluster nodes: they hold [`CLUSTER`] alone, and put the cluster
//! back (every node up, three primaries with a replica each) before they
//! let go, even when they fail.
#![cfg(all(feature = "redis-cluster", feature = "testing"))]

mod common;
#[path = "redis_cluster/errors.rs"]
mod errors;
#[path = "redis_cluster/failover.rs"]
mod failover;
#[path = "redis_cluster/loss.rs"]
mod loss;
#[path = "redis_cluster/many.rs"]
mod many;
#[path = "redis_cluster/nodes.rs"]
mod nodes;

use std::sync::Arc;

use jwt_rotate::store::{RedisStore, RedisStoreBuilder, RefreshStore};
use jwt_rotate::testing;
use jwt_rotate::{Error, ManualClock, RevocationReason, TokenPair, TokenService};
use time::Duration;
use tokio::sync::{Barrier, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Tests that kill nodes run alone.
static CLUSTER: RwLock<()> = RwLock::const_new(());

/// A test's hold on [`CLUSTER`].
enum Turn {
    /// Alongside other tests that leave the nodes alone.
    Shared { _held: RwLockReadGuard<'static, ()> },
    /// Alone: this test kills nodes.
    Alone {
        _held: RwLockWriteGuard<'static, ()>,
    },
}

/// A store under a key prefix of its own, whose keys are deleted on drop.
struct Fixture {
    store: RedisStore,
    /// The primaries' URLs, as the environment gave them.
    urls: Vec<String>,
    prefix: String,
    // Dropped last: the keys go while this test still holds its turn.
    _turn: Turn,
}

impl Fixture {
    /// A fixture with the default options, alongside other tests.
    async fn new() -> Self {
        let turn = Turn::Shared {
            _held: CLUSTER.read().await,
        };
        Self::make(RedisStore::builder(), turn).await
    }

    /// A fixture with `options` (its prefix is replaced), alone.
    async fn alone(options: RedisStoreBuilder) -> Self {
        let turn = Turn::Alone {
            _held: CLUSTER.write().await,
        };
        Self::make(options, turn).await
    }

    async fn make(options: RedisStoreBuilder, turn: Turn) -> Self {
        let urls = urls();
        let prefix = format!("jwt-rotate-test:{:016x}", rand::random::<u64>());
        let store = options
            .key_prefix(&prefix)
            .connect_cluster(&urls)
            .await
            .expect("connect to REDIS_CLUSTER_URLS");
        Self {
            store,
            urls,
            prefix,
            _turn: turn,
        }
    }

    /// A service over this store: the common test settings (10 s grace),
    /// a clock at the real time.
    fn service(&self) -> TokenService<RedisStore> {
        let clock = ManualClock::starting_now();
        common::builder(&clock)
            .build(self.store.clone())
            .expect("a service")
    }

    /// The key of session `id`.
    fn session_key(&self, id: &jwt_rotate::SessionId) -> String {
        format!("{}:s:{{{id}}}", self.prefix)
    }
}

impl Drop for Fixture {
    // Synchronous, so it also runs when a test panics.
    fn drop(&mut self) {
        nodes::delete_keys(&self.urls, &format!("{}:*", self.prefix));
    }
}

/// The primaries' URLs from `REDIS_CLUSTER_URLS`.
///
/// # Panics
/// When it is unset (see [`common::server_url`]).
/// Refreshes with `token` until it goes through: right after a failover
/// the new primary may have no replica synced yet, and with
/// `wait_for_replicas` each try is then in doubt and hands back the token
/// to try next, as a client sees. Bounded: 300 tries, 100 ms apart.
async fn refresh_through_doubt(
    service: &TokenService<RedisStore>,
    token: &jwt_rotate::RefreshToken,
) -> TokenPair {
    let mut token = token.clone();
    for _ in 0..300 {
        match service.refresh(&token).await {
            Ok(pair) => return pair,
            Err(Error::RotationInDoubt { retry_with, .. }) => token = retry_with,
            Err(other) => panic!("refresh after the failover: {other:?}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("still in doubt 30 s after the failover");
}

fn urls() -> Vec<String> {
    let urls = common::server_url("REDIS_CLUSTER_URLS");
    urls.split(',').map(str::trim).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_passes_the_conformance_suite() {
    let fixture = Fixture::new().await;
    testing::run_all(&Arc::new(fixture.store.clone())).await;
    // Behind `dyn`, and two runs at once on one prefix.
    let shared: Arc<dyn RefreshStore> = Arc::new(fixture.store.clone());
    let other = Arc::clone(&shared);
    let run = tokio::spawn(async move { testing::run_all(&other).await });
    testing::run_all(&shared).await;
    run.await.expect("the overlapping run failed");
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
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_thirty_two_refreshes_of_one_token_have_one_winner() {
    let fixture = Fixture::new().await;
    let clock = ManualClock::starting_now();
    let service = common::builder(&clock)
        .reuse_grace(Duration::ZERO)
        .build(fixture.store.clone())
        .unwrap();
    for round in 0..40 {
        // Each round's session in another slot, so all primaries race.
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
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_grace_racers_share_one_successor() {
    let fixture = Fixture::new().await;
    let service = fixture.service();
    for round in 0..20 {
        let pair = common::login(&service, "tabs").await;
        let results = race(&service, &pair, 32).await;
        let first = results[0].as_ref().expect("a racer failed");
        for (i, result) in results.iter().enumerate() {
            let other = result
                .as_ref()
                .unwrap_or_else(|e| panic!("round {round}: racer {i} failed: {e:?}"));
            assert_eq!(
                other.refresh_token.expose_secret(),
                first.refresh_token.expose_secret(),
                "round {round}: racers got different successors"
            );
        }
        let stored = common::record(&service, &pair.session_id).await;
        assert_eq!((stored.generation, stored.revoked), (1, None));
    }
}
