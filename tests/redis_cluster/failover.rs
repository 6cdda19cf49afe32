//! A primary killed (`SIGKILL`) under a bounded load of refreshes: every
//! error is "try later", never "log in again", except where an
//! acknowledged write was lost with the primary (asynchronous
//! replication, the README's loss window), which only the killed
//! primary's sessions can suffer; with `WAIT 1`, none is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration as StdDuration, Instant};

use jwt_rotate::store::{RedisStore, RedisStoreBuilder, RefreshStore};
use jwt_rotate::{Error, ErrorClass, RefreshToken, SessionId, TokenService};
use time::Duration;

use crate::loss::{primary_and_replica, wait_for_failover};
use crate::nodes::{self, Restore};
use crate::{Fixture, common};

const CLIENTS: usize = 24;
const WORKERS: usize = 6;
/// Bounds on the load: refreshes per worker, and time.
const MAX_REFRESHES: usize = 3_000;
const MAX_TIME: StdDuration = StdDuration::from_secs(40);

/// One client of the load: the token it holds, and the generation of the
/// last rotation the service acknowledged to it.
struct Client {
    session: SessionId,
    token: RefreshToken,
    acknowledged: u64,
    /// Errors it saw that told it to log in again.
    unauthorized: Vec<String>,
}

/// What the load saw.
#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    try_later: usize,
    in_doubt: usize,
}

fn generation(token: &RefreshToken) -> u64 {
    let claim = &common::tokens::payload(token.expose_secret())["gen"];
    claim.as_u64().expect("a generation")
}

/// One worker: refreshes its clients in turn until told to stop or out of
/// its bounds; a client given a rotation in doubt keeps its retry token.
async fn work(
    service: TokenService<RedisStore>,
    mut clients: Vec<Client>,
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicUsize>,
) -> (Vec<Client>, Tally) {
    let (mut tally, start) = (Tally::default(), Instant::now());
    for i in 0..MAX_REFRESHES {
        if stop.load(Ordering::Relaxed) == 1 || start.elapsed() > MAX_TIME {
            break;
        }
        let count = clients.len();
        let client = &mut clients[i % count];
        if !client.unauthorized.is_empty() {
            continue;
        }
        match service.refresh(&client.token).await {
            Ok(pair) => {
                client.acknowledged = generation(&pair.refresh_token);
                client.token = pair.refresh_token;
                tally.ok += 1;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Err(Error::RotationInDoubt { retry_with, .. }) => {
                client.token = retry_with;
                tally.in_doubt += 1;
            }
            Err(e) if e.class() == ErrorClass::TryLater => tally.try_later += 1,
            Err(e) => client.unauthorized.push(format!("{e:?}")),
        }
    }
    (clients, tally)
}

/// Runs the load across a kill of the primary of the first client's
/// session; returns the clients, what the load saw, and the killed
/// primary's sessions.
async fn load_through_failover(
    options: RedisStoreBuilder,
) -> (Fixture, Vec<Client>, Tally, Vec<SessionId>) {
    let fixture = Fixture::alone(options).await;
    let service = fixture.service();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let pair = common::login(&service, "load").await;
        clients.push(Client {
            session: pair.session_id,
            token: pair.refresh_token,
            acknowledged: 0,
            unauthorized: Vec::new(),
        });
    }
    let (primary, _) = primary_and_replica(&fixture, &clients[0].session).await;
    let topology = nodes::topology(&fixture.urls);
    let mut conn = nodes::conn(&fixture.urls[0]).await;
    let mut victims = Vec::new();
    for client in &clients {
        let slot = nodes::slot(&mut conn, &fixture.session_key(&client.session)).await;
        if nodes::owner(&topology, slot).id == primary.id {
            victims.push(client.session);
        }
    }
    let probe_slot = nodes::slot(&mut conn, &fixture.session_key(&clients[0].session)).await;

    let (done, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let mine: Vec<Client> = clients.drain(..CLIENTS / WORKERS).collect();
        let (service, done, stop) = (service.clone(), Arc::clone(&done), Arc::clone(&stop));
        tasks.push(tokio::spawn(work(service, mine, done, stop)));
    }
    let wait_for = |count: usize| {
        let done = Arc::clone(&done);
        async move {
            let start = Instant::now();
            while done.load(Ordering::Relaxed) < count && start.elapsed() < MAX_TIME {
                tokio::time::sleep(StdDuration::from_millis(10)).await;
            }
        }
    };
    wait_for(200).await;
    let restore = Restore::of(&fixture.urls, &[primary.url()]);
    nodes::signal(restore.pid(0), "KILL");
    let killed_at = done.load(Ordering::Relaxed);
    let urls = fixture.urls.clone();
    tokio::task::spawn_blocking(move || wait_for_failover(&urls, &primary, probe_slot))
        .await
        .unwrap();
    // Load goes on after the failover, then stops.
    wait_for(killed_at + 400).await;
    stop.store(1, Ordering::Relaxed);
    let mut tally = Tally::default();
    for task in tasks {
        let (mine, seen) = task.await.expect("a worker panicked");
        clients.extend(mine);
        tally.ok += seen.ok;
        tally.try_later += seen.try_later;
        tally.in_doubt += seen.in_doubt;
    }
    drop(restore);
    (fixture, clients, tally, victims)
}

/// The sessions whose acknowledged generation the store no longer has.
async fn lost(fixture: &Fixture, clients: &[Client]) -> Vec<SessionId> {
    let mut lost = Vec::new();
    for client in clients {
        let record = fixture.store.get(&client.session).await.unwrap().unwrap();
        if record.generation < client.acknowledged {
            lost.push(client.session);
        }
    }
    lost
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_failover_under_load_gives_only_retryable_errors() {
    let (fixture, clients, tally, victims) = load_through_failover(RedisStore::builder()).await;
    eprintln!("failover without WAIT: {tally:?}");
    assert!(tally.try_later + tally.in_doubt > 0, "the kill was felt");
    let lost = lost(&fixture, &clients).await;
    eprintln!(
        "acknowledged rotations lost: {} of {CLIENTS} sessions",
        lost.len()
    );
    let service = fixture.service();
    for client in &clients {
        if lost.contains(&client.session) {
            // The loss window: only the killed primary's sessions.
            assert!(victims.contains(&client.session), "a write lost elsewhere");
            continue;
        }
        assert!(
            client.unauthorized.is_empty(),
            "{}: told to log in again: {:?}",
            client.session,
            client.unauthorized
        );
        // After the failover every such client goes on.
        crate::refresh_through_doubt(&service, &client.token).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_with_wait_failover_under_load_loses_no_acknowledged_rotation() {
    let options = RedisStore::builder().wait_for_replicas(1, Duration::milliseconds(500));
    let (fixture, clients, tally, _) = load_through_failover(options).await;
    eprintln!("failover with WAIT 1: {tally:?}");
    assert!(tally.try_later + tally.in_doubt > 0, "the kill was felt");
    assert!(
        lost(&fixture, &clients).await.is_empty(),
        "a write was lost"
    );
    let service = fixture.service();
    for client in &clients {
        assert!(
            client.unauthorized.is_empty(),
            "{}: told to log in again: {:?}",
            client.session,
            client.unauthorized
        );
        crate::refresh_through_doubt(&service, &client.token).await;
    }
}
