//! `PostgresStore` when the server fails it: a dropped connection, a lock
//! timeout, a serialization failure, an exhausted pool. Each is a
//! retryable store error that revokes nothing, and the next call works.
//! Like `tests/postgres.rs`, each test has a database of its own.
#![cfg(all(feature = "postgres", feature = "testing"))]

mod common;
mod sql;

use std::str::FromStr;

use jwt_rotate::sqlx;
use jwt_rotate::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use jwt_rotate::store::{PostgresStore, RefreshStore};
use jwt_rotate::{Error, ManualClock, SessionId, TokenPair, TokenService};
use sql::pg::TestDb;
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

/// `result` is a retryable store error whose sqlx source mentions `cause`.
fn assert_retryable<T: std::fmt::Debug>(result: Result<T, Error>, cause: &str) {
    match result {
        Err(Error::Store(e)) => {
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
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(service.store().pool())
        .await
        .unwrap();
    let mut admin = db.connection().await;
    // The timeout makes it wait until the server process has exited.
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 10000)")
        .bind(pid)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert!(ended);
    match service.refresh(&login.refresh_token).await {
        Err(Error::Store(e)) => assert!(e.is_retryable(), "{e:?}"),
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

    let mut other = db.connection().await;
    sqlx::raw_sql("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query("SELECT 1 FROM jwt_rotate_sessions WHERE id = $1 FOR UPDATE")
        .bind(&login.session_id.as_bytes()[..])
        .execute(&mut other)
        .await
        .unwrap();
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
