//! `PostgresStore` against the server `DATABASE_URL` names (read at run
//! time). The tests that need it are ignored unless asked for
//! (`-- --include-ignored`), and then fail when `DATABASE_URL` is unset.
//! Every test makes its own database, `jwt_rotate_test_<random>`, and drops
//! it at the end, so runs never see each other's rows.
#![cfg(all(feature = "postgres", feature = "testing"))]

mod common;
mod sql;

use std::sync::Arc;

use jwt_rotate::sqlx::{self, AssertSqlSafe};
use jwt_rotate::store::{PostgresStore, RefreshStore, StoreErrorKind};
use jwt_rotate::testing;
use jwt_rotate::{Error, ErrorClass, ManualClock, NoClaims, SessionId, SessionInfo};
use sql::pg::{TestDb, with_address, with_database};
use time::Duration;

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://u@h:5432/postgres", "t"),
        "postgres://u@h:5432/t"
    );
    assert_eq!(with_database("postgres://h", "t"), "postgres://h/t");
    assert_eq!(
        with_database("postgres://h/db?sslmode=disable", "t"),
        "postgres://h/t?sslmode=disable"
    );
}

#[test]
fn addresses_are_replaced_in_urls() {
    let addr = "127.0.0.1:4000".parse().unwrap();
    assert_eq!(
        with_address("postgres://u:p@h:5432/db?x=1", addr),
        "postgres://u:p@127.0.0.1:4000/db?x=1"
    );
    assert_eq!(
        with_address("postgres://h", addr),
        "postgres://127.0.0.1:4000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn conformance_suite() {
    let db = TestDb::create().await;
    testing::run_all(&Arc::new(db.store(8).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn revocation_feed_conformance() {
    let db = TestDb::create().await;
    sql::feed_conformance(db.store(4).await).await;
}

#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn a_dpop_bound_session_keeps_its_binding() {
    let db = TestDb::create().await;
    common::bound::bound_session_lifecycle(db.store(2).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn a_table_prefix_keeps_stores_apart_and_migrations_run_once() {
    let db = TestDb::create().await;
    let default = db.store(2).await;
    let mut stores = Vec::new();
    for _ in 0..4 {
        // Few connections each: tests run in parallel on one server.
        let store = PostgresStore::builder()
            .table_prefix("app_")
            .max_connections(2)
            .connect(&db.url)
            .await;
        stores.push(store.expect("connect"));
    }
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
    let other = stores.pop().expect("a store");
    other.migrate().await.expect("a repeated migrate");
    assert_eq!(other.table(), "app_sessions");
    testing::run_all(&Arc::new(other.clone())).await;

    let record = testing::sample_record(&testing::unique_subject("apart"));
    other.create(&record).await.unwrap();
    assert!(default.get(&record.id).await.unwrap().is_none());
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM app_migrations")
        .fetch_all(other.pool())
        .await
        .unwrap();
    assert_eq!(versions, [1, 2, 3, 4, 6, 7]);
}

#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn instants_round_trip_to_the_microsecond() {
    let db = TestDb::create().await;
    sql::instants_round_trip_to_the_microsecond(&db.store(1).await).await;
}

#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn an_edited_migration_is_refused_and_a_missing_table_named() {
    let db = TestDb::create().await;
    let bare = PostgresStore::connect(&db.url).await.unwrap();
    let err = bare.get(&SessionId::random()).await.unwrap_err();
    assert!(err.to_string().contains("run `migrate()`"), "{err}");

    let store = db.store(1).await;
    sqlx::query("UPDATE jwt_rotate_migrations SET checksum = '\\x00' WHERE version = 1")
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

/// 32 stores with one connection each: 32 separate server sessions.
async fn racing_stores(db: &TestDb) -> Vec<PostgresStore> {
    let mut stores = Vec::new();
    for _ in 0..sql::RACERS {
        stores.push(db.store(1).await);
    }
    stores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn racing_refreshes_over_separate_connections() {
    let db = TestDb::create().await;
    let stores = racing_stores(&db).await;
    let clock = ManualClock::new(common::start());
    let strict = sql::services(stores.clone(), &clock, Duration::ZERO);
    assert_eq!(sql::exactly_one_winner(&strict).await, sql::TRIALS);
    let tabs = sql::services(stores, &clock, Duration::seconds(10));
    assert_eq!(sql::all_get_the_same_successor(&tabs).await, sql::TRIALS);
}

#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn a_session_survives_a_restart() {
    let db = TestDb::create().await;
    sql::session_survives_a_restart(
        async || db.store(2).await,
        async |store: &PostgresStore| store.pool().close().await,
    )
    .await;
}

#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn no_token_and_no_secret_is_ever_written() {
    let db = TestDb::create().await;
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(db.store(2).await).unwrap();
    let pairs = sql::exercise(&service).await;
    let pool = service.store().pool();
    // Every column as text (bytea as hex), and the bytea columns raw.
    let text: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT convert_to(t::text, 'UTF8') FROM jwt_rotate_sessions t")
            .fetch_all(pool)
            .await
            .unwrap();
    let raw: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT id || secret_hash || prev_secret_hash || prev_wrapped_secret FROM jwt_rotate_sessions",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!((text.len(), raw.len()), (1, 1), "one row per session");
    let last = pairs.last().expect("pairs");
    assert!(
        sql::contains(&raw[0], &sql::secret_hash(last)),
        "the search must see the hash"
    );
    for (i, pair) in pairs.iter().enumerate() {
        for needle in sql::forbidden(pair) {
            assert!(
                !sql::contains(&text[0], &needle),
                "pair {i} leaked into the row text"
            );
            assert!(
                !sql::contains(&raw[0], &needle),
                "pair {i} leaked into the row bytes"
            );
        }
    }
}

/// Damage the schema lets through is caught when read; the rest the
/// schema refuses.
#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn damaged_rows_are_corrupt_errors() {
    let db = TestDb::create().await;
    let store = db.store(1).await;
    let damage = |change: &'static str| {
        let store = store.clone();
        async move {
            let record = testing::sample_record(&testing::unique_subject("damaged"));
            store.create(&record).await.unwrap();
            let sql = format!("UPDATE jwt_rotate_sessions SET {change} WHERE id = $1");
            let update = sqlx::query(AssertSqlSafe(sql)).bind(&record.id.as_bytes()[..]);
            (record, update.execute(store.pool()).await)
        }
    };
    for change in [
        "revoked_at = 1, revoked_reason = 'exploded'",
        "ip = 'not an address'",
        "created_at = 9223372036854775807",
    ] {
        let (record, updated) = damage(change).await;
        updated.unwrap_or_else(|e| panic!("{change}: {e}"));
        let err = store.get(&record.id).await.unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{change}: {err}");
        if !change.starts_with("revoked") {
            let err = store.sessions(&record.subject).await.unwrap_err();
            assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{change}: {err}");
        }
    }
    for change in [
        "prev_generation = 1",
        "generation = -1",
        "secret_hash = '\\x00'",
        "revoked_at = 1",
    ] {
        let (_, updated) = damage(change).await;
        let err = updated.expect_err(change);
        assert!(
            err.to_string().contains("check constraint"),
            "{change}: {err}"
        );
    }
}

/// `err` is a permanent store error: class `Internal`, code
/// `server_error`, not retryable, its sqlx source mentioning `cause`.
fn assert_permanent(err: &Error, cause: &str) {
    assert_eq!(err.class(), ErrorClass::Internal, "{err:?}");
    assert_eq!(err.code(), "server_error", "{err:?}");
    match err {
        Error::Store(e) => {
            assert!(!e.is_retryable(), "{e:?}");
            let source = std::error::Error::source(e).expect("the sqlx error");
            assert!(source.to_string().contains(cause), "{source}");
        }
        other => panic!("expected a store error, got {other:?}"),
    }
}

/// Failures the same request meets again however often it is sent are
/// reported as permanent (500), never as "try later" (503), which would
/// have a client retry forever: PostgreSQL refusing a NUL byte in text,
/// and a database that is read-only (`default_transaction_read_only`, as
/// a standby is).
#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn a_permanent_failure_is_reported_as_permanent() {
    let db = TestDb::create().await;
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(db.store(1).await).unwrap();
    let err = service
        .issue("a\0b", NoClaims {}, SessionInfo::default())
        .await
        .expect_err("PostgreSQL refuses NUL in text");
    assert_permanent(&err, "0x00");

    let login = common::login(&service, "read-only").await;
    let mut admin = db.connection().await;
    let alter = format!(
        "ALTER DATABASE {} SET default_transaction_read_only = on",
        db.name()
    );
    sqlx::raw_sql(AssertSqlSafe(alter))
        .execute(&mut admin)
        .await
        .unwrap();
    // New connections see the setting.
    let read_only = PostgresStore::connect(&db.url).await.unwrap();
    let service = common::builder(&clock).build(read_only).unwrap();
    let err = service.refresh(&login.refresh_token).await.unwrap_err();
    assert_permanent(&err, "read-only transaction");
    let err = service
        .issue("someone", NoClaims {}, SessionInfo::default())
        .await
        .unwrap_err();
    assert_permanent(&err, "read-only transaction");
}

/// `migrate` at every start must not log PostgreSQL's NOTICEs ("relation
/// ... already exists, skipping"), which sqlx logs at INFO.
// The default (current-thread) runtime: every event is on the thread the
// subscriber is set for.
#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn migrate_logs_no_notice_at_info() {
    let captured = common::logs::CapturedLog::at(tracing::Level::INFO);
    let log = || captured.text();

    let db = TestDb::create().await;
    let store = db.store(1).await;
    store.migrate().await.expect("a second migrate");
    store.migrate().await.expect("a third migrate");
    assert!(!log().contains("skipping"), "{}", log());

    // The capture hears sqlx's notices: the same statement outside
    // `migrate` is logged.
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS jwt_rotate_migrations ()")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(log().contains("already exists, skipping"), "{}", log());
}

#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn rotations_can_be_hot_updates_and_purge_keeps_its_index() {
    let db = TestDb::create().await;
    let store = db.store(2).await;
    sql::pg_hot::no_index_covers_a_rotated_column(&db).await;
    sql::pg_hot::the_purge_bound_moves_only_when_it_must(&db, &store).await;
    sql::pg_hot::purge_can_use_its_index(&db, &store).await;
}
