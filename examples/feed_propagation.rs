//! How fast a revocation reaches a resource server: from `revoke`
//! returning to a `Verifier` that follows the store's `RevocationFeed`
//! refusing the session's access token, p50 and p99 over 1,000
//! revocations (`REVOCATIONS` to change), one after another, per store:
//! MemoryStore (in process), SQLite (a temporary file), PostgreSQL
//! (`DATABASE_URL`), MySQL/MariaDB (`MYSQL_URL`) and Redis (`REDIS_URL`).
//! A store whose feature or URL is missing is skipped, and says so. The
//! SQL stores use tables of their own (a random prefix), dropped at the
//! end; Redis, keys under a random prefix, deleted at the end.
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//! MYSQL_URL=mysql://root@127.0.0.1:3306/test \
//! REDIS_URL=redis://127.0.0.1:6379/ \
//! cargo run --release --example feed_propagation --features sqlite,postgres,mysql,redis,testing
//! ```
//!
//! [`measure`] is generic over the store: a new store is one more call.
//! Revocations on a polled feed (SQLite, MySQL) are spread over the poll
//! interval, as real ones arrive at any time.

use std::sync::Arc;
use std::time::Duration;

use jwt_rotate::store::{RefreshStore, RevocationFeed};
use jwt_rotate::testing::Following;

/// The spread of a pushed feed's revocations: none, the phase is moot.
const PUSHED: Duration = Duration::ZERO;
/// The spread of a polled feed's: its poll interval (the default).
#[allow(dead_code, reason = "only the polled stores use it")]
const POLL: Duration = Duration::from_millis(100);

/// One store's figures.
struct Figures {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

/// Revokes `count` sessions of `store` one at a time, timing each from
/// `revoke` returning to the following verifier refusing its token. Each
/// revocation waits a random part of `spread` first: a store that polls
/// would otherwise see every revocation just after its last poll (the
/// previous one was found there), and show its worst case only.
async fn measure<S: RefreshStore + RevocationFeed>(
    store: Arc<S>,
    count: usize,
    spread: Duration,
) -> Figures {
    let following = Following::start(&store).await;
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let pair = following.login().await;
        let millis = u64::try_from(spread.as_millis()).unwrap_or(u64::MAX);
        if millis > 0 {
            let pause = Duration::from_millis(u64::from(rand_u32()) % millis);
            tokio::time::sleep(pause).await;
        }
        samples.push(following.revoke_and_time(&pair).await);
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Figures {
        p50: at(0.50),
        p99: at(0.99),
        max: at(1.0),
    }
}

fn report(store: &str, figures: Option<Figures>, count: usize) {
    match figures {
        Some(f) => println!(
            "{store:<10} {count:>5} revocations  p50 {:>9.3?}  p99 {:>9.3?}  max {:>9.3?}",
            f.p50, f.p99, f.max
        ),
        None => println!("{store:<10} skipped (feature or URL missing)"),
    }
}

/// A table prefix no other run uses.
#[allow(dead_code, reason = "only the SQL stores use it")]
fn prefix() -> String {
    format!("feedbench_{:08x}_", rand_u32())
}

fn rand_u32() -> u32 {
    let id = jwt_rotate::SessionId::random();
    u32::from_le_bytes(id.as_bytes()[..4].try_into().unwrap_or_default())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count = std::env::var("REVOCATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    println!("from revoke returning to the verifier refusing the token, one at a time:");

    let memory = measure(Arc::new(jwt_rotate::MemoryStore::new()), count, PUSHED).await;
    report("memory", Some(memory), count);

    #[cfg(feature = "sqlite")]
    {
        use jwt_rotate::store::SqliteStore;
        let dir = tempfile::Builder::new()
            .prefix("jwt-rotate-feed-")
            .tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
        let store = SqliteStore::connect(&url).await?;
        store.migrate().await?;
        report(
            "sqlite",
            Some(measure(Arc::new(store), count, POLL).await),
            count,
        );
    }
    #[cfg(not(feature = "sqlite"))]
    report("sqlite", None, count);

    #[cfg(feature = "postgres")]
    match std::env::var("DATABASE_URL") {
        Ok(url) => {
            use jwt_rotate::store::PostgresStore;
            let prefix = prefix();
            let store = PostgresStore::builder()
                .table_prefix(&prefix)
                .connect(&url)
                .await?;
            store.migrate().await?;
            let figures = measure(Arc::new(store.clone()), count, PUSHED).await;
            drop_tables(store.pool(), &prefix, "").await?;
            report("postgres", Some(figures), count);
        }
        Err(_) => report("postgres", None, count),
    }
    #[cfg(not(feature = "postgres"))]
    report("postgres", None, count);

    #[cfg(feature = "mysql")]
    match std::env::var("MYSQL_URL") {
        Ok(url) => {
            use jwt_rotate::store::MySqlStore;
            let prefix = prefix();
            let store = MySqlStore::builder()
                .table_prefix(&prefix)
                .connect(&url)
                .await?;
            store.migrate().await?;
            let figures = measure(Arc::new(store.clone()), count, POLL).await;
            let procedure = format!("DROP PROCEDURE IF EXISTS {prefix}sessions_rotate");
            drop_tables(store.pool(), &prefix, &procedure).await?;
            report("mysql", Some(figures), count);
        }
        Err(_) => report("mysql", None, count),
    }
    #[cfg(not(feature = "mysql"))]
    report("mysql", None, count);

    #[cfg(feature = "redis")]
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            use jwt_rotate::store::RedisStore;
            let prefix = format!("feedbench:{:08x}", rand_u32());
            let store = RedisStore::builder()
                .key_prefix(&prefix)
                .connect(&url)
                .await?;
            let figures = measure(Arc::new(store), count, PUSHED).await;
            delete_keys(&url, &prefix).await?;
            report("redis", Some(figures), count);
        }
        Err(_) => report("redis", None, count),
    }
    #[cfg(not(feature = "redis"))]
    report("redis", None, count);
    Ok(())
}

/// Deletes this run's keys: those under `prefix`.
#[cfg(feature = "redis")]
async fn delete_keys(url: &str, prefix: &str) -> Result<(), jwt_rotate::redis::RedisError> {
    use jwt_rotate::redis;
    let mut conn = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    let mut cursor = 0_u64;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(keys)
                .query_async::<()>(&mut conn)
                .await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

/// Drops this run's tables (and runs `also`, if not empty).
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn drop_tables<DB>(
    pool: &jwt_rotate::sqlx::Pool<DB>,
    prefix: &str,
    also: &str,
) -> Result<(), jwt_rotate::sqlx::Error>
where
    DB: jwt_rotate::sqlx::Database,
    for<'c> &'c jwt_rotate::sqlx::Pool<DB>: jwt_rotate::sqlx::Executor<'c, Database = DB>,
{
    use jwt_rotate::sqlx::{AssertSqlSafe, Executor};
    let tables = ["sessions", "migrations", "revocations", "revocations_head"];
    for table in tables {
        let statement = format!("DROP TABLE IF EXISTS {prefix}{table}");
        pool.execute(jwt_rotate::sqlx::raw_sql(AssertSqlSafe(statement)))
            .await?;
    }
    if !also.is_empty() {
        pool.execute(jwt_rotate::sqlx::raw_sql(AssertSqlSafe(also.to_owned())))
            .await?;
    }
    Ok(())
}
