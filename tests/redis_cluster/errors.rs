//! A cluster that cannot serve gives retryable errors, for real: a node of
//! our own with no slots answers `CLUSTERDOWN`; and a single-server store
//! pointed at a cluster node is told to use a cluster connection.

use std::error::Error as _;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

use jwt_rotate::redis::{self, ErrorKind, RedisError, ServerErrorKind};
use jwt_rotate::store::{RedisStore, RefreshStore, Revocation, StoreError};
use jwt_rotate::testing::{next_rotation, sample_record, unique_subject};
use jwt_rotate::{Error, ErrorClass, ManualClock, RevocationReason};

use crate::nodes::{self, wait_until};
use crate::{Fixture, common, urls};

/// A cluster-enabled `redis-server` of this test's own, on a free port,
/// with no slots: every keyed command gets `CLUSTERDOWN`. Killed on drop.
struct LoneNode {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl LoneNode {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--cluster-enabled",
                "yes",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server on the PATH (the cluster tests need it)");
        let url = format!("redis://127.0.0.1:{port}/");
        let node = Self {
            child,
            url,
            _dir: dir,
        };
        wait_until("the lone node", StdDuration::from_secs(10), || {
            redis::Client::open(node.url.as_str())
                .and_then(|c| c.get_connection())
                .is_ok()
        });
        node
    }
}

impl Drop for LoneNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `RedisError` behind a store error.
fn redis_source(err: &StoreError) -> &RedisError {
    let source = err.source().expect("the redis error is kept");
    source.downcast_ref::<RedisError>().expect("a RedisError")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_down_is_retryable_and_revokes_nothing() {
    // Needs only redis-server; asks for the cluster like its neighbours.
    let _ = urls();
    let node = LoneNode::start();
    let store = RedisStore::builder()
        .key_prefix(format!("jwt-rotate-test:{:016x}", rand::random::<u64>()))
        .connect(&node.url)
        .await
        .expect("connect to the lone node");
    let record = sample_record(&unique_subject("down"));
    let (expected, next) = next_rotation(&record, record.created_at);
    let why = Revocation {
        reason: RevocationReason::Revoked,
        at: record.created_at,
    };
    let errors = [
        store.create(&record).await.unwrap_err(),
        store.get(&record.id).await.unwrap_err(),
        store
            .rotate(&record.id, &expected, &next)
            .await
            .unwrap_err(),
        store.revoke(&record.id, &why).await.unwrap_err(),
        store.sessions(&record.subject).await.unwrap_err(),
    ];
    for err in &errors {
        assert!(err.is_retryable(), "{err:?}");
        let redis = redis_source(err);
        assert_eq!(
            redis.kind(),
            ErrorKind::Server(ServerErrorKind::ClusterDown),
            "{redis:?}"
        );
    }

    // Through the service: "try later", never "log in again".
    let clock = ManualClock::starting_now();
    let service = common::builder(&clock).build(store).unwrap();
    let err = service.issue("ann", jwt_rotate::NoClaims {}, Default::default());
    let err = err.await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::TryLater, "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_single_server_store_on_a_cluster_node_is_told_to_use_a_cluster_connection() {
    let fixture = Fixture::new().await;
    let service = fixture.service();
    let pair = common::login(&service, "moved").await;
    let topology = nodes::topology(&fixture.urls);
    let mut conn = nodes::conn(&fixture.urls[0]).await;
    let slot = nodes::slot(&mut conn, &fixture.session_key(&pair.session_id)).await;
    let elsewhere = topology
        .iter()
        .find(|n| n.primary && !n.slots.is_empty() && !n.serves(slot))
        .expect("another primary");
    let single = RedisStore::builder()
        .key_prefix(&fixture.prefix)
        .connect(&elsewhere.url())
        .await
        .unwrap();
    let err = single.get(&pair.session_id).await.unwrap_err();
    assert!(!err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("cluster connection"), "{err}");
    assert_eq!(
        redis_source(&err).kind(),
        ErrorKind::Server(ServerErrorKind::Moved)
    );
    // The refresh through such a store is a server fault, not a bad token,
    // and the session is untouched.
    let clock = ManualClock::starting_now();
    let misconfigured = common::builder(&clock).build(single).unwrap();
    let err = misconfigured
        .refresh(&pair.refresh_token)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Internal);
    service.refresh(&pair.refresh_token).await.unwrap();
}
