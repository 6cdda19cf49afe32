//! `PostgresStore` when the server fails it: a dropped connection, a
//! restart, a lock timeout, a serialization failure, an exhausted pool, a
//! lock held or a server frozen past the call timeout. Each is a retryable
//! store error that revokes nothing, and the next call works. Like
//! `tests/postgres.rs`, each test has a database of its own.
#![cfg(all(feature = "postgres", feature = "testing"))]

mod common;
mod sql;

use std::str::FromStr;
use std::time::{Duration as StdDuration, Instant};

use jwt_rotate::sqlx;
use jwt_rotate::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use jwt_rotate::store::{PostgresStore, RefreshStore};
use jwt_rotate::{Error, ManualClock, SessionId, TokenPair, TokenService};
use sql::freeze::Relay;
use sql::pg::{TestDb, server_address, with_address};
use time::Duration;

/// A service over a one-connection pool whose sessions run with the server
/// setting `key = value`, with a fresh login for `subject`.
async fn service_with(
    db: &TestDb,
    setting: (&str, &str),
    subject: &str,
) -> (TokenService<PostgresStore>, TokenPair) {
    let options = PgConnectOptions::from_str(&db.url)
        .unwrap()
        .options([setting]);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let store = PostgresStore::from_pool(pool);
    store.migrate().await.unwrap();
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(store).unwrap();
    let login = common::login(&service, subject).await;
    (service, login)
}

/// Waits (at most 2 s) until `pool` holds `idle` idle connections: each
/// goes back only after sqlx has pinged it.
async fn wait_until_idle(pool: &sqlx::PgPool, idle: usize) {
    for _ in 0..200 {
        if pool.num_idle() == idle {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    assert_eq!(pool.num_idle(), idle, "idle connections");
}

/// `result` is a retryable store error whose sqlx source mentions `cause`.
fn assert_retryable<T: std::fmt::Debug>(result: Result<T, Error>, cause: &str) {
    match result {
        Err(Error::Store(e) | Error::RotationInDoubt { source: e, .. }) => {
            assert!(e.is_retryable(), "{e:?}");
            let source = std::error::Error::source(&e).expect("the sqlx error");
            assert!(source.to_string().contains(cause), "{source}");
        }
        other => panic!("expected a retryable store error, got {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn a_dropped_connection_fails_one_call_retryably_and_revokes_nothing() {
    let db = TestDb::create().await;
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(db.store(1).await).unwrap();
    let login = common::login(&service, "dropped").await;
    let pool = service.store().pool();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(pool)
        .await
        .unwrap();
    // sqlx pings a connection before it takes it back: ended before that
    // ping, it would never be lent again, and no call would meet it.
    wait_until_idle(pool, 1).await;
    let mut admin = db.connection().await;
    // The timeout makes it wait until the server process has exited.
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 10000)")
        .bind(pid)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert!(ended);
    match service.refresh(&login.refresh_token).await {
        Err(Error::Store(e) | Error::RotationInDoubt { source: e, .. }) => {
            assert!(e.is_retryable(), "{e:?}")
        }
        other => panic!("expected a retryable store error, got {other:?}"),
    }
    let next = service.refresh(&login.refresh_token).await;
    assert!(
        next.is_ok(),
        "the pool reconnects and the token still rotates: {next:?}"
    );
}

#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn a_lock_timeout_is_retryable_and_revokes_nothing() {
    let db = TestDb::create().await;
    let (service, login) = service_with(&db, ("lock_timeout", "50ms"), "waiting").await;

    let mut other = db.lock_session_row(&login.session_id).await;
    assert_retryable(service.refresh(&login.refresh_token).await, "lock");
    sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();
    let next = service.refresh(&login.refresh_token).await;
    assert!(next.is_ok(), "{next:?}");
}

/// Under REPEATABLE READ a refresh that waited for another writer of its
/// row fails with a serialization failure: retryable, not reuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn a_serialization_failure_is_retryable_and_revokes_nothing() {
    let db = TestDb::create().await;
    let isolation = ("default_transaction_isolation", "repeatable read");
    let (service, login) = service_with(&db, isolation, "serialized").await;

    // Another writer changes the row (touching no field the CAS compares)
    // and holds it until the refresh is waiting for it.
    let mut other = db.connection().await;
    sqlx::raw_sql("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query("UPDATE jwt_rotate_sessions SET label = 'touched' WHERE id = $1")
        .bind(&login.session_id.as_bytes()[..])
        .execute(&mut other)
        .await
        .unwrap();
    let refreshing = {
        let (service, token) = (service.clone(), login.refresh_token.clone());
        tokio::spawn(async move { service.refresh(&token).await })
    };
    let mut watcher = db.connection().await;
    let deadline = Instant::now() + StdDuration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut watcher)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the refresh never waited for the lock"
        );
        tokio::task::yield_now().await;
    }
    sqlx::raw_sql("COMMIT").execute(&mut other).await.unwrap();
    assert_retryable(refreshing.await.unwrap(), "serialize");
    let next = service.refresh(&login.refresh_token).await;
    assert!(next.is_ok(), "{next:?}");
}

#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn an_exhausted_pool_is_retryable() {
    let db = TestDb::create().await;
    db.store(1).await;
    let store = PostgresStore::builder()
        .max_connections(1)
        .acquire_timeout(Duration::milliseconds(50))
        .connect(&db.url)
        .await
        .unwrap();
    let held = store.pool().acquire().await.unwrap();
    let err = store.get(&SessionId::random()).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    let source = std::error::Error::source(&err).expect("the sqlx error");
    assert!(matches!(
        source.downcast_ref::<sqlx::Error>(),
        Some(sqlx::Error::PoolTimedOut)
    ));
    drop(held);
    assert!(store.get(&SessionId::random()).await.unwrap().is_none());
}

/// A restart ends every connection of the pool at once: the first call to
/// meet a dead one fails (retryably), and the pool tests the others before
/// lending them again, so no other call fails for it.
#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn a_restart_costs_one_failed_call_not_one_per_connection() {
    const CONNECTIONS: usize = 4;
    const CALLS: usize = 12;
    let db = TestDb::create().await;
    let store = db.store(CONNECTIONS as u32).await;
    // Open every connection at once, then give them back.
    let mut held = Vec::new();
    for _ in 0..CONNECTIONS {
        held.push(store.pool().acquire().await.unwrap());
    }
    drop(held);
    wait_until_idle(store.pool(), CONNECTIONS).await;

    // What a restart does to the pool: every server process ends.
    let mut admin = db.connection().await;
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM \
         (SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
          AND backend_type = 'client backend' AND pid <> pg_backend_pid()) AS others",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(ended, CONNECTIONS as i64, "server processes ended");

    let mut failed = 0;
    for _ in 0..CALLS {
        match store.get(&SessionId::random()).await {
            Ok(found) => assert!(found.is_none()),
            Err(e) => {
                assert!(e.is_retryable(), "{e:?}");
                failed += 1;
            }
        }
    }
    println!("{failed} of {CALLS} calls failed after {CONNECTIONS} connections ended");
    assert!(
        failed <= 1,
        "{failed} calls failed, one per dead connection"
    );
}

/// The call timeout of the deadline tests, and how long a call may take
/// past it before the test calls it hung.
const CALL_TIMEOUT: Duration = Duration::milliseconds(200);
const HUNG: StdDuration = StdDuration::from_secs(5);

/// Refreshes `pair` and expects a retryable error saying it timed out,
/// well before [`HUNG`]; returns how long it took.
async fn refresh_times_out(service: &TokenService<PostgresStore>, pair: &TokenPair) -> StdDuration {
    let started = Instant::now();
    let result = tokio::time::timeout(HUNG, service.refresh(&pair.refresh_token))
        .await
        .unwrap_or_else(|_| panic!("the refresh hung for {HUNG:?}"));
    let took = started.elapsed();
    match result {
        Err(Error::Store(e) | Error::RotationInDoubt { source: e, .. }) => {
            assert!(e.is_retryable(), "{e:?}");
            assert!(e.to_string().contains("timed out"), "{e}");
        }
        other => panic!("expected a retryable store error, got {other:?}"),
    }
    assert!(took < StdDuration::from_secs(2), "took {took:?}");
    took
}

/// A row lock held elsewhere (and no `lock_timeout`) makes a refresh wait
/// for it: the call timeout ends the wait with a retryable error. The
/// statement goes on waiting on the server and commits once the lock is
/// free: a lost answer, which the grace window answers.
#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn a_lock_held_past_the_call_timeout_fails_the_call_retryably() {
    let db = TestDb::create().await;
    db.store(1).await;
    let store = PostgresStore::builder()
        .max_connections(2)
        .call_timeout(CALL_TIMEOUT)
        .connect(&db.url)
        .await
        .unwrap();
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(store).unwrap();
    let login = common::login(&service, "waiting-for-a-lock").await;

    let mut other = db.lock_session_row(&login.session_id).await;
    let took = refresh_times_out(&service, &login).await;
    println!("a refresh behind a held lock failed after {took:?} (call timeout {CALL_TIMEOUT})");
    sqlx::raw_sql("COMMIT").execute(&mut other).await.unwrap();
    let next = service.refresh(&login.refresh_token).await;
    assert!(next.is_ok(), "{next:?}");
}

/// A server that stops answering (here a relay that stops passing bytes
/// on, as `SIGSTOP` would) with the connection open: the call timeout
/// ends the wait with a retryable error; once the server answers again,
/// so does the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn a_frozen_server_fails_calls_at_the_call_timeout() {
    let db = TestDb::create().await;
    db.store(1).await;
    let relay = Relay::start(server_address().await).await;
    let store = PostgresStore::builder()
        .max_connections(2)
        .call_timeout(CALL_TIMEOUT)
        .connect(&with_address(&db.url, relay.addr()))
        .await
        .unwrap();
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(store).unwrap();
    let login = common::login(&service, "frozen").await;

    relay.freeze(true);
    let took = refresh_times_out(&service, &login).await;
    println!("a refresh on a frozen server failed after {took:?} (call timeout {CALL_TIMEOUT})");
    let took = refresh_times_out(&service, &login).await;
    println!("and the next one after {took:?}");
    relay.freeze(false);
    let next = service.refresh(&login.refresh_token).await;
    assert!(next.is_ok(), "{next:?}");
}
