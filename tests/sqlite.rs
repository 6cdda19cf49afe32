//! `SqliteStore` on real database files: the conformance suite, refreshes
//! racing over separate connections, a restart, what lies in the file, a
//! locked database, damaged rows, permanent failures, deadlines and the
//! size of the WAL.
#![cfg(all(feature = "sqlite", feature = "testing"))]

mod common;
#[path = "sqlite/faults.rs"]
mod faults;
mod sql;
#[path = "sqlite/wal.rs"]
mod wal;

use std::path::PathBuf;
use std::sync::Arc;

use jwt_rotate::sqlx::{self, Connection, SqliteConnection};
use jwt_rotate::store::{RefreshStore, SqliteStore, StoreErrorKind};
use jwt_rotate::testing;
use jwt_rotate::{Error, ManualClock};
use tempfile::TempDir;
use time::Duration;

/// A fresh directory (removed when dropped) and a database file in it.
struct TempDb {
    dir: TempDir,
    path: PathBuf,
}

impl TempDb {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("jwt-rotate-sqlite-")
            .tempdir()
            .expect("a temporary directory");
        let path = dir.path().join("sessions.db");
        Self { dir, path }
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    /// A migrated store on this file with `connections` connections.
    async fn store(&self, connections: u32) -> SqliteStore {
        let store = SqliteStore::builder()
            .max_connections(connections)
            .connect(&self.url())
            .await
            .expect("open the database");
        store.migrate().await.expect("migrate");
        store
    }

    /// The bytes of every file SQLite keeps for the database (the main
    /// file, and the WAL while one is open).
    fn bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).expect("list the directory") {
            let path = entry.expect("an entry").path();
            all.extend(std::fs::read(&path).expect("read a database file"));
        }
        all
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_on_a_file_with_several_connections() {
    let db = TempDb::new();
    testing::run_all(&Arc::new(db.store(8).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revocation_feed_conformance() {
    let db = TempDb::new();
    sql::feed_conformance(db.store(4).await).await;
}

#[tokio::test]
async fn a_dpop_bound_session_keeps_its_binding() {
    let db = TempDb::new();
    common::bound::bound_session_lifecycle(db.store(2).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_in_memory_with_several_connections() {
    let store = SqliteStore::builder()
        .max_connections(4)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    store.migrate().await.unwrap();
    testing::run_all(&Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_table_prefix_keeps_stores_apart_in_one_file() {
    let db = TempDb::new();
    let default = db.store(2).await;
    let other = SqliteStore::builder()
        .table_prefix("app_")
        .connect(&db.url())
        .await
        .unwrap();
    other.migrate().await.unwrap();
    assert_eq!(other.table(), "app_sessions");
    testing::run_all(&Arc::new(other.clone())).await;

    let record = testing::sample_record(&testing::unique_subject("apart"));
    other.create(&record).await.unwrap();
    assert!(default.get(&record.id).await.unwrap().is_none());
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(default.pool())
            .await
            .unwrap();
    let expected = [
        "app_dpop_replay",
        "app_migrations",
        "app_revocations",
        "app_revocations_head",
        "app_sessions",
        "jwt_rotate_dpop_replay",
        "jwt_rotate_migrations",
        "jwt_rotate_revocations",
        "jwt_rotate_revocations_head",
        "jwt_rotate_sessions",
    ];
    assert_eq!(tables, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_run_once_however_many_runners() {
    let db = TempDb::new();
    let stores: Vec<SqliteStore> = {
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(SqliteStore::connect(&db.url()).await.unwrap());
        }
        stores
    };
    let runs: Vec<_> = stores
        .iter()
        .map(|s| {
            let s = s.clone();
            tokio::spawn(async move { s.migrate().await })
        })
        .collect();
    for run in runs {
        run.await.unwrap().expect("a concurrent migrate failed");
    }
    stores[0].migrate().await.expect("a repeated migrate");
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM jwt_rotate_migrations")
        .fetch_all(stores[0].pool())
        .await
        .unwrap();
    assert_eq!(versions, [1, 2, 3, 4, 6, 7]);
}

#[tokio::test]
async fn instants_round_trip_to_the_microsecond() {
    let db = TempDb::new();
    sql::instants_round_trip_to_the_microsecond(&db.store(1).await).await;
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    let db = TempDb::new();
    let store = db.store(1).await;
    sqlx::query("UPDATE jwt_rotate_migrations SET checksum = zeroblob(32) WHERE version = 1")
        .execute(store.pool())
        .await
        .unwrap();
    let err = store.migrate().await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Other);
    assert!(
        err.to_string().contains("migration 1 (sessions) differs"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unmigrated_database_says_so() {
    let db = TempDb::new();
    let store = SqliteStore::connect(&db.url()).await.unwrap();
    let err = store
        .get(&jwt_rotate::SessionId::random())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("run `migrate()`"), "{err}");
    assert!(!err.is_retryable());
}

/// 32 stores on one file, one connection each: 32 writers as separate as
/// 32 processes.
///
/// The busy timeout is generous: SQLite's busy handler is not fair, and on
/// a loaded machine one of 32 writers may wait long; this test is about the
/// compare-and-swap, not about lock waits (another test covers those).
async fn racing_stores(db: &TempDb) -> Vec<SqliteStore> {
    let mut stores = Vec::new();
    for _ in 0..sql::RACERS {
        let store = SqliteStore::builder()
            .max_connections(1)
            .busy_timeout(Duration::seconds(60))
            .connect(&db.url())
            .await
            .expect("open the database");
        store.migrate().await.expect("migrate");
        stores.push(store);
    }
    stores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn racing_refreshes_over_separate_connections_have_one_winner() {
    let db = TempDb::new();
    let clock = ManualClock::new(common::start());
    let services = sql::services(racing_stores(&db).await, &clock, Duration::ZERO);
    let trials = sql::exactly_one_winner(&services).await;
    assert_eq!(trials, sql::TRIALS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn racing_refreshes_inside_the_grace_window_all_get_the_same_successor() {
    let db = TempDb::new();
    let clock = ManualClock::new(common::start());
    let grace = Duration::seconds(10);
    let services = sql::services(racing_stores(&db).await, &clock, grace);
    let trials = sql::all_get_the_same_successor(&services).await;
    assert_eq!(trials, sql::TRIALS);
}

#[tokio::test]
async fn a_session_survives_a_restart() {
    let db = TempDb::new();
    sql::session_survives_a_restart(
        async || db.store(2).await,
        async |store: &SqliteStore| store.pool().close().await,
    )
    .await;
}

#[tokio::test]
async fn no_token_and_no_secret_is_ever_written() {
    let db = TempDb::new();
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(db.store(2).await).unwrap();
    let pairs = sql::exercise(&service).await;
    let check = |bytes: &[u8], when: &str| {
        let last = pairs.last().expect("pairs");
        assert!(
            sql::contains(bytes, &sql::secret_hash(last)),
            "{when}: the current secret's hash must be there (or the search looks nowhere)"
        );
        for (i, pair) in pairs.iter().enumerate() {
            for needle in sql::forbidden(pair) {
                assert!(!sql::contains(bytes, &needle), "{when}: pair {i} leaked");
            }
        }
    };
    check(&db.bytes(), "while open");
    service.store().pool().close().await;
    check(&db.bytes(), "after closing");
}

#[tokio::test]
async fn a_locked_database_is_a_retryable_failure_that_revokes_nothing() {
    let db = TempDb::new();
    let clock = ManualClock::new(common::start());
    db.store(1).await.pool().close().await;
    let store = SqliteStore::builder()
        .busy_timeout(Duration::ZERO)
        .connect(&db.url())
        .await
        .unwrap();
    let service = common::builder(&clock).build(store).unwrap();
    let login = common::login(&service, "locked-out").await;

    // Another process holds the write lock.
    let mut other = SqliteConnection::connect(&db.url()).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    match service.refresh(&login.refresh_token).await {
        // A failed rotate is in doubt, whether or not it wrote anything.
        Err(Error::Store(e) | Error::RotationInDoubt { source: e, .. }) => {
            assert!(e.is_retryable(), "{e:?}");
            let source = std::error::Error::source(&e).expect("the sqlx error");
            assert!(source.downcast_ref::<sqlx::Error>().is_some(), "{source:?}");
        }
        other => panic!("expected a retryable store error, got {other:?}"),
    }
    sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();

    // Nothing changed: the same token still rotates.
    let next = service.refresh(&login.refresh_token).await;
    assert!(next.is_ok(), "{next:?}");
}

/// Damage the schema lets through is caught when read; the rest the
/// schema refuses.
#[tokio::test]
async fn damaged_rows_are_corrupt_errors() {
    let db = TempDb::new();
    let store = db.store(1).await;
    let damage = |change: &'static str| {
        let store = store.clone();
        async move {
            let record = testing::sample_record(&testing::unique_subject("damaged"));
            store.create(&record).await.unwrap();
            let sql = format!("UPDATE jwt_rotate_sessions SET {change} WHERE id = $1");
            let update = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&record.id.as_bytes()[..]);
            (record, update.execute(store.pool()).await)
        }
    };
    let readable = [
        "revoked_at = 1, revoked_reason = 'exploded'",
        "ip = 'not an address'",
        "created_at = 9223372036854775807",
    ];
    for change in readable {
        let (record, updated) = damage(change).await;
        updated.unwrap_or_else(|e| panic!("{change}: {e}"));
        let err = store.get(&record.id).await.unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{change}: {err}");
        if record.revoked.is_none() && !change.starts_with("revoked") {
            let err = store.sessions(&record.subject).await.unwrap_err();
            assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{change}: {err}");
        }
    }
    let refused = [
        "prev_generation = 1",
        "generation = -1",
        "secret_hash = x'00'",
        "revoked_at = 1",
        "created_at = 'yesterday'",
    ];
    for change in refused {
        let (_, updated) = damage(change).await;
        let err = updated.expect_err(change);
        assert!(
            err.to_string().contains("constraint failed")
                || err.to_string().contains("cannot store"),
            "{change}: {err}"
        );
    }
}
