//! The loss window of asynchronous replication, made certain: the replica
//! of a session's primary is cut off (stopped, its link closed), a refresh
//! is made, the primary is killed, the replica takes over. Without `WAIT`
//! the acknowledged rotation is lost, as the README says; with `WAIT 1`
//! it is never acknowledged: the client gets a rotation in doubt and a
//! token that works after the failover.

use std::error::Error as _;
use std::time::Duration as StdDuration;

use jwt_rotate::redis;
use jwt_rotate::store::{RedisStore, RedisStoreBuilder, ReplicationShortfall};
use jwt_rotate::{Error, SessionId, TokenPair, TokenService};
use time::Duration;

use crate::nodes::{self, Node, Restore, wait_until};
use crate::{Fixture, common};

/// The primary serving `session`, and its replica.
pub(crate) async fn primary_and_replica(fixture: &Fixture, session: &SessionId) -> (Node, Node) {
    let topology = nodes::topology(&fixture.urls);
    let mut conn = nodes::conn(&fixture.urls[0]).await;
    let slot = nodes::slot(&mut conn, &fixture.session_key(session)).await;
    let primary = nodes::owner(&topology, slot).clone();
    let replica = topology
        .iter()
        .find(|n| n.replica_of.as_deref() == Some(primary.id.as_str()) && !n.failed)
        .expect("the primary has a replica")
        .clone();
    (primary, replica)
}

/// Waits until a primary other than `old` serves `slot`, and the cluster
/// answers again.
pub(crate) fn wait_for_failover(urls: &[String], old: &Node, slot: u16) {
    wait_until("the failover", StdDuration::from_secs(30), || {
        let topology = nodes::topology(urls);
        topology
            .iter()
            .any(|n| n.primary && !n.failed && n.id != old.id && n.serves(slot))
    });
    wait_until("cluster_state:ok", StdDuration::from_secs(30), || {
        let survivors = nodes::topology(urls);
        survivors.iter().filter(|n| n.id != old.id).all(|n| {
            redis::Client::open(n.url())
                .and_then(|c| c.get_connection())
                .and_then(|mut c| redis::cmd("CLUSTER").arg("INFO").query::<String>(&mut c))
                .is_ok_and(|i| i.contains("cluster_state:ok"))
        })
    });
}

/// What a scenario leaves: the service, the session's tokens of
/// generation 1 (replicated) and the answer to the refresh made while
/// the replica was cut off.
struct Cut {
    service: TokenService<RedisStore>,
    first: TokenPair,
    second: Result<TokenPair, Error>,
    fixture: Fixture,
}

/// Logs in, refreshes once (replicated), cuts the replica off, refreshes
/// again, kills the primary, lets the replica take over.
async fn cut_then_fail_over(options: RedisStoreBuilder) -> Cut {
    let fixture = Fixture::alone(options).await;
    let service = fixture.service();
    let login = common::login(&service, "cut").await;
    let (primary, replica) = primary_and_replica(&fixture, &login.session_id).await;
    let first = service.refresh(&login.refresh_token).await.unwrap();
    let key = fixture.session_key(&login.session_id);
    let slot = nodes::slot(&mut nodes::conn(&primary.url()).await, &key).await;
    let mut replica_conn = nodes::conn(&replica.url()).await;
    let _: () = redis::cmd("READONLY")
        .query_async(&mut replica_conn)
        .await
        .unwrap();
    // Generation 1 is on the replica before it is cut off.
    for _ in 0..100 {
        let generation: Option<u64> = redis::cmd("HGET")
            .arg(&key)
            .arg("gen")
            .query_async(&mut replica_conn)
            .await
            .unwrap();
        if generation == Some(1) {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    drop(replica_conn);

    let restore = Restore::of(&fixture.urls, &[primary.url(), replica.url()]);
    let (primary_pid, replica_pid) = (restore.pid(0), restore.pid(1));
    nodes::signal(replica_pid, "STOP");
    let mut primary_conn = nodes::conn(&primary.url()).await;
    let _: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("replica")
        .query_async(&mut primary_conn)
        .await
        .unwrap();
    let second = service.refresh(&first.refresh_token).await;
    nodes::signal(primary_pid, "KILL");
    nodes::signal(replica_pid, "CONT");
    let urls = fixture.urls.clone();
    tokio::task::spawn_blocking(move || wait_for_failover(&urls, &primary, slot))
        .await
        .unwrap();
    // Dropped here: the old primary comes back as a replica.
    drop(restore);
    Cut {
        service,
        first,
        second,
        fixture,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_without_wait_an_acknowledged_rotation_can_be_lost_in_failover() {
    let cut = cut_then_fail_over(RedisStore::builder()).await;
    let second = cut.second.expect("acknowledged by the primary alone");
    let record = common::record(&cut.service, &second.session_id).await;
    assert_eq!(record.generation, 1, "the rotation to 2 was lost");
    // The README's loss window: the spent token works once more...
    let again = cut.service.refresh(&cut.first.refresh_token).await;
    assert!(again.is_ok(), "the spent token: {again:?}");
    // ...and the token the lost rotation gave looks like reuse.
    let lost = cut.service.refresh(&second.refresh_token).await;
    assert!(matches!(lost, Err(Error::ReuseDetected)), "{lost:?}");
    drop(cut.fixture);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_with_wait_no_acknowledged_rotation_is_lost_in_failover() {
    let options = RedisStore::builder().wait_for_replicas(1, Duration::milliseconds(300));
    let cut = cut_then_fail_over(options).await;
    // Generation 1 was acknowledged by the replica: it survived.
    let record = common::record(&cut.service, &cut.first.session_id).await;
    assert_eq!(record.generation, 1);
    assert_eq!(record.revoked, None);
    // Generation 2 was made on the primary alone: not acknowledged, but in
    // doubt, with the evidence to retry.
    let Err(Error::RotationInDoubt {
        source, retry_with, ..
    }) = cut.second
    else {
        panic!("want a rotation in doubt, got {:?}", cut.second);
    };
    assert!(source.is_retryable());
    let shortfall = source
        .source()
        .and_then(|s| s.downcast_ref::<ReplicationShortfall>())
        .expect("a ReplicationShortfall source");
    assert_eq!((shortfall.acknowledged(), shortfall.required()), (0, 1));
    // The client is not logged out: its retry token rotates the session,
    // once the new primary has a replica to acknowledge the write (the old
    // primary rejoins as one and syncs first). Until then each try is in
    // doubt again and hands back the token to try next, as a client sees.
    let retried = crate::refresh_through_doubt(&cut.service, &retry_with).await;
    let record = common::record(&cut.service, &retried.session_id).await;
    assert_eq!((record.generation, record.revoked), (2, None));
    drop(cut.fixture);
}
