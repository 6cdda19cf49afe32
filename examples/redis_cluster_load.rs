//! Load on `RedisStore` over Redis Cluster, measured in one run, printed as
//! ratios:
//!
//! 1. a refresh through the service beside a bare `EVALSHA` of the
//!    rotation script on the same cluster connection (one at a time);
//! 2. refreshes per second with 1, 8 and 32 concurrent refreshers (each
//!    its own session), on the cluster and on one Redis node;
//! 3. the cost of `wait_for_replicas(1, ..)` on the cluster, at 1 and 32.
//!
//! ```sh
//! eval "$(.ci/redis-cluster start)"
//! REDIS_URL=redis://127.0.0.1:6379/ cargo run --release --features redis-cluster \
//!     --example redis_cluster_load
//! ```
//! Keys go under a random prefix and expire within hours (sessions of a
//! minute, the minimum retention). Wall-clock figures: the client, the
//! token work and every Redis node share this machine's cores, so compare
//! ratios within one run only.

use std::time::{Duration as StdDuration, Instant};

use jwt_rotate::redis::{self, Script, Value, cluster::ClusterClientBuilder};
use jwt_rotate::store::{RedisStore, RedisStoreBuilder, RefreshStore, SessionRecord};
use jwt_rotate::store::{SecretHash, WrappedSecret};
use jwt_rotate::{Key, NoClaims, RefreshToken, SessionId, SessionInfo, TokenService};
use time::{Duration, OffsetDateTime};

/// The rotation script exactly as the store loads it.
const ROTATE: &str = concat!(
    include_str!("../src/store/redis/prelude.lua"),
    include_str!("../src/store/redis/rotate.lua")
);
const SEQUENTIAL: u32 = 2_000;
/// Refreshes per concurrency level, spread over the refreshers.
const PER_LEVEL: usize = 6_400;

type Service = TokenService<RedisStore>;

fn service(store: RedisStore) -> Result<Service, jwt_rotate::Error> {
    TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256([0xA1; 32])?)
        .refresh_key(Key::hs256([0x5E; 32])?)
        .build(store)
}

fn options(prefix: &str) -> RedisStoreBuilder {
    RedisStore::builder()
        .key_prefix(prefix)
        .retention(Duration::minutes(5))
}

/// Refreshes per second with `refreshers` concurrent refreshers.
async fn throughput(service: &Service, refreshers: usize) -> f64 {
    let each = PER_LEVEL / refreshers;
    let mut tokens = Vec::new();
    for _ in 0..refreshers {
        let pair = service.issue("load", NoClaims {}, SessionInfo::default());
        tokens.push(pair.await.expect("login").refresh_token);
    }
    let start = Instant::now();
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|mut token: RefreshToken| {
            let service = service.clone();
            tokio::spawn(async move {
                for _ in 0..each {
                    token = service
                        .refresh(&token)
                        .await
                        .expect("refresh")
                        .refresh_token;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a refresher panicked");
    }
    (each * refreshers) as f64 / start.elapsed().as_secs_f64()
}

/// One session's record, for the bare script.
fn record(now: OffsetDateTime, hash: SecretHash) -> SessionRecord {
    let mut record = jwt_rotate::testing::sample_record("bare");
    record.id = SessionId::random();
    record.generation = 0;
    record.secret_hash = hash;
    record.previous = None;
    record.created_at = now;
    record.refreshed_at = now;
    record.idle_expires_at = now + Duration::minutes(1);
    record.absolute_expires_at = now + Duration::minutes(1);
    record
}

fn instant(at: OffsetDateTime) -> String {
    format!("{}.{:09}", at.unix_timestamp(), at.nanosecond())
}

/// Mean time of a bare `EVALSHA` rotation on `conn`, as the store sends it.
async fn bare_evalsha(
    store: &RedisStore,
    conn: &mut redis::cluster_async::ClusterConnection,
    prefix: &str,
) -> StdDuration {
    let sha = Script::new(ROTATE).load_async(conn).await.expect("load");
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("an instant");
    let mut hash = SecretHash::from_bytes(rand::random());
    let session = record(now, hash);
    store.create(&session).await.expect("create");
    let key = format!("{prefix}:s:{{{}}}", session.id);
    let start = Instant::now();
    for generation in 0..u64::from(SEQUENTIAL) {
        let next = SecretHash::from_bytes(rand::random());
        let reply: Value = redis::cmd("EVALSHA")
            .arg(&sha)
            .arg(1)
            .arg(&key)
            .arg(generation)
            .arg(&hash.as_bytes()[..])
            .arg(instant(now))
            .arg(300_000)
            .arg(generation + 1)
            .arg(&next.as_bytes()[..])
            .arg(instant(now + Duration::minutes(1)))
            .arg(generation)
            .arg(&hash.as_bytes()[..])
            .arg(instant(now))
            .arg(&WrappedSecret::from_bytes(rand::random()).as_bytes()[..])
            .query_async(conn)
            .await
            .expect("EVALSHA");
        assert!(matches!(reply, Value::Array(_)), "the rotation was refused");
        hash = next;
    }
    start.elapsed() / SEQUENTIAL
}

/// Mean time of one refresh, one after another.
async fn sequential_refresh(service: &Service) -> StdDuration {
    let login = service.issue("seq", NoClaims {}, SessionInfo::default());
    let mut token = login.await.expect("login").refresh_token;
    let start = Instant::now();
    for _ in 0..SEQUENTIAL {
        token = service
            .refresh(&token)
            .await
            .expect("refresh")
            .refresh_token;
    }
    start.elapsed() / SEQUENTIAL
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let urls = std::env::var("REDIS_CLUSTER_URLS").map_err(|_| "set REDIS_CLUSTER_URLS")?;
    let urls: Vec<&str> = urls.split(',').collect();
    let single_url = std::env::var("REDIS_URL").map_err(|_| "set REDIS_URL")?;
    let prefix = format!("jwt-rotate-load:{:016x}", rand::random::<u64>());

    let client = ClusterClientBuilder::new(urls.clone()).build()?;
    let mut conn = client.get_async_connection().await?;
    let cluster = options(&prefix).build_cluster(conn.clone())?;
    let cluster_service = service(cluster.clone())?;
    let single = options(&prefix).connect(&single_url).await?;
    let single_service = service(single)?;
    let waiting = options(&prefix)
        .wait_for_replicas(1, Duration::milliseconds(500))
        .connect_cluster(&urls)
        .await?;
    let waiting_service = service(waiting)?;

    // Warm-up: connections, scripts, caches.
    throughput(&cluster_service, 8).await;
    throughput(&single_service, 8).await;

    let bare = bare_evalsha(&cluster, &mut conn, &prefix).await;
    let refresh = sequential_refresh(&cluster_service).await;
    println!(
        "one at a time, cluster: refresh {refresh:?}, bare EVALSHA {bare:?}, ratio {:.2}",
        refresh.as_secs_f64() / bare.as_secs_f64()
    );
    println!("refreshes/s   cluster   one node   cluster/node   cluster+WAIT 1   WAIT cost");
    for refreshers in [1, 8, 32] {
        let c = throughput(&cluster_service, refreshers).await;
        let s = throughput(&single_service, refreshers).await;
        let w = throughput(&waiting_service, refreshers).await;
        println!(
            "{refreshers:>3} at once  {c:>8.0}   {s:>8.0}   {:>12.2}   {w:>14.0}   {:>8.2}x",
            c / s,
            c / w
        );
    }
    let purged = cluster.purge_expired(OffsetDateTime::now_utc()).await?;
    println!("(sessions are left to expire; purged {purged} already expired)");
    Ok(())
}
