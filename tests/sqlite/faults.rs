//! SQLite failures that are not a lock released in time: a file that
//! cannot be written (permanent) and a lock held past the call timeout.

use std::time::{Duration as StdDuration, Instant};

use jwt_rotate::sqlx::{self, Connection, SqliteConnection};
use jwt_rotate::store::SqliteStore;
use jwt_rotate::{Error, ErrorClass, ManualClock, NoClaims, SessionInfo};
use time::Duration;

use crate::{TempDb, common};

/// `err` is a permanent store error: class `Internal`, code
/// `server_error`, not retryable, its message mentioning `what`.
fn assert_permanent(err: &Error, what: &str) {
    assert_eq!(err.class(), ErrorClass::Internal, "{err:?}");
    assert_eq!(err.code(), "server_error", "{err:?}");
    match err {
        Error::Store(e) => {
            assert!(!e.is_retryable(), "{e:?}");
            assert!(e.to_string().contains(what), "{e}");
            let source = std::error::Error::source(e).expect("the sqlx error");
            assert!(source.downcast_ref::<sqlx::Error>().is_some(), "{source:?}");
        }
        other => panic!("expected a store error, got {other:?}"),
    }
}

/// SQLite keeps a NUL byte in text (PostgreSQL refuses it); what it
/// refuses for good, e.g. writing a database opened read-only (a read-only
/// mount, a file the process may not write), is reported as permanent
/// (500), never as "try later" (503), which would have a client retry
/// forever.
#[tokio::test]
async fn a_permanent_failure_is_reported_as_permanent() {
    let db = TempDb::new();
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(db.store(1).await).unwrap();
    let nul = service
        .issue("a\0b", NoClaims {}, SessionInfo::default())
        .await
        .expect("SQLite keeps NUL in text");
    let record = common::record(&service, &nul.session_id).await;
    assert_eq!(record.subject, "a\0b");
    let login = common::login(&service, "read-only").await;
    // Another connection keeps the WAL open, as a writer elsewhere would.
    let _writer = SqliteConnection::connect(&db.url()).await.unwrap();
    service.store().pool().close().await;

    let read_only = SqliteStore::connect(&format!("{}?mode=ro", db.url()))
        .await
        .unwrap();
    let service = common::builder(&clock).build(read_only).unwrap();
    let err = service.refresh(&login.refresh_token).await.unwrap_err();
    assert_permanent(&err, "read-only");
    let err = service
        .issue("someone", NoClaims {}, SessionInfo::default())
        .await
        .unwrap_err();
    assert_permanent(&err, "read-only");
}

/// Another process holds the write lock and the busy timeout is long: the
/// call timeout ends the wait with a retryable error saying so. SQLite
/// goes on waiting and may commit the rotation once the lock is free (a
/// lost answer), which the grace window answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_past_the_call_timeout_fails_the_call_retryably() {
    let call_timeout = Duration::milliseconds(200);
    let db = TempDb::new();
    db.store(1).await.pool().close().await;
    let store = SqliteStore::builder()
        .busy_timeout(Duration::seconds(60))
        .call_timeout(call_timeout)
        .connect(&db.url())
        .await
        .unwrap();
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(store).unwrap();
    let login = common::login(&service, "waiting-for-a-lock").await;

    let mut other = SqliteConnection::connect(&db.url()).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let started = Instant::now();
    let hung = StdDuration::from_secs(5);
    let result = tokio::time::timeout(hung, service.refresh(&login.refresh_token))
        .await
        .unwrap_or_else(|_| panic!("the refresh hung for {hung:?}"));
    let took = started.elapsed();
    println!("a refresh behind a held lock failed after {took:?} (call timeout {call_timeout})");
    match result {
        Err(Error::Store(e) | Error::RotationInDoubt { source: e, .. }) => {
            assert!(e.is_retryable(), "{e:?}");
            assert!(e.to_string().contains("timed out"), "{e}");
        }
        other => panic!("expected a retryable store error, got {other:?}"),
    }
    assert!(took < StdDuration::from_secs(2), "took {took:?}");

    sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();
    let next = service.refresh(&login.refresh_token).await;
    assert!(next.is_ok(), "{next:?}");
}
