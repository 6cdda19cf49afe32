//! `MySqlStore` against the MySQL or MariaDB server `MYSQL_URL` names (read
//! at run time): the conformance suite, migrations, instants, restarts and
//! nothing secret at rest here; `mysql/races.rs` races refreshes at both
//! isolation levels, `mysql/locks.rs` holds row locks and damages rows.
//!
//! The tests that need the server are ignored unless asked for
//! (`-- --include-ignored`), and then fail when `MYSQL_URL` is unset. Every
//! test makes its own database, `jwt_rotate_test_<random>`, and drops it at
//! the end, so runs never see each other's rows.
#![cfg(all(feature = "mysql", feature = "testing"))]

mod common;
mod sql;
// An inline module, so that its files live in `tests/mysql/`.
mod mysql {
    pub(crate) mod db;
    mod locks;
    mod races;
}

use std::sync::Arc;

use jwt_rotate::sqlx::{self, AssertSqlSafe};
use jwt_rotate::store::{MySqlStore, RefreshStore, StoreErrorKind};
use jwt_rotate::testing;
use jwt_rotate::{ManualClock, SessionId};
use mysql::db::{TestDb, with_database};

#[test]
fn mysql_database_names_are_replaced_in_urls() {
    assert_eq!(
        with_database("mysql://root@127.0.0.1:3306/test", "t"),
        "mysql://root@127.0.0.1:3306/t"
    );
    assert_eq!(with_database("mysql://h", "t"), "mysql://h/t");
    assert_eq!(
        with_database("mysql://h/db?ssl-mode=disabled", "t"),
        "mysql://h/t?ssl-mode=disabled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_conformance_suite() {
    let db = TestDb::create().await;
    testing::run_all(&Arc::new(db.store(8).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_revocation_feed_conformance() {
    let db = TestDb::create().await;
    sql::feed_conformance(db.store(4).await).await;
}

#[tokio::test]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_dpop_bound_session_keeps_its_binding() {
    let db = TestDb::create().await;
    common::bound::bound_session_lifecycle(db.store(2).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_table_prefixes_keep_stores_apart_and_migrations_run_once() {
    let db = TestDb::create().await;
    let default = db.store(2).await;
    let mut stores = Vec::new();
    for _ in 0..4 {
        // One connection each: `migrate` holds its lock on a connection of
        // its own, so a pool of one cannot wait for itself.
        let store = MySqlStore::builder()
            .table_prefix("app_")
            .max_connections(1)
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
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_instants_round_trip_to_the_microsecond() {
    let db = TestDb::create().await;
    sql::instants_round_trip_to_the_microsecond(&db.store(1).await).await;
}

/// The extremes `time` can hold without `large-dates`, and the store's
/// own: `BIGINT` microseconds keep all of them, as in the other SQL stores
/// (a `DATETIME` would stop at 9999, a `TIMESTAMP` at 2038).
#[tokio::test]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_keeps_extreme_instants() {
    use time::{Duration, OffsetDateTime};
    let db = TestDb::create().await;
    let store = db.store(1).await;
    let max = OffsetDateTime::new_utc(time::Date::MAX, time::Time::MAX);
    let min = OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT);
    let whole_micros = |t: OffsetDateTime| t.replace_nanosecond(t.microsecond() * 1000).unwrap();
    let mut record = testing::sample_record(&testing::unique_subject("extreme"));
    record.created_at = min;
    record.idle_expires_at = whole_micros(max);
    record.absolute_expires_at = whole_micros(max) - Duration::microseconds(1);
    store.create(&record).await.expect("create");
    let stored = store.get(&record.id).await.unwrap().expect("stored");
    assert_eq!(stored.created_at, min);
    assert_eq!(stored.idle_expires_at, whole_micros(max));
    assert_eq!(stored.absolute_expires_at, record.absolute_expires_at);
    // And a purge far in the future finds it expired.
    assert_eq!(store.purge_expired(whole_micros(max)).await.unwrap(), 1);
}

#[tokio::test]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_an_edited_migration_is_refused_and_a_missing_table_named() {
    let db = TestDb::create().await;
    let bare = MySqlStore::connect(&db.url).await.unwrap();
    let err = bare.get(&SessionId::random()).await.unwrap_err();
    assert!(err.to_string().contains("run `migrate()`"), "{err}");
    // The rotate procedure is looked up by its own name.
    let (expected, next) = testing::next_rotation(
        &testing::sample_record("nobody"),
        time::OffsetDateTime::now_utc(),
    );
    let err = bare
        .rotate(&SessionId::random(), &expected, &next)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("run `migrate()`"), "{err}");

    let store = db.store(1).await;
    sqlx::query("UPDATE jwt_rotate_migrations SET checksum = x'00' WHERE version = 1")
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
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_a_session_survives_a_restart() {
    let db = TestDb::create().await;
    sql::session_survives_a_restart(
        async || db.store(2).await,
        async |store: &MySqlStore| store.pool().close().await,
    )
    .await;
}

#[tokio::test]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_no_token_and_no_secret_is_ever_written() {
    let db = TestDb::create().await;
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(db.store(2).await).unwrap();
    let pairs = sql::exercise(&service).await;
    let pool = service.store().pool();
    // Every column's bytes, joined, and the same in hex (lowercased, as
    // `forbidden` spells hex).
    let every_column = "CONCAT_WS(x'00', id, subject, generation, secret_hash, \
        prev_generation, prev_secret_hash, prev_rotated_at, prev_wrapped_secret, \
        created_at, refreshed_at, idle_expires_at, absolute_expires_at, revoked_at, \
        revoked_reason, claims, user_agent, ip, label)";
    let sql = format!(
        "SELECT CAST({every_column} AS BINARY), CAST(LOWER(HEX({every_column})) AS BINARY) \
         FROM jwt_rotate_sessions"
    );
    let rows: Vec<(Vec<u8>, Vec<u8>)> = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one row per session");
    let (raw, hex) = &rows[0];
    let last = pairs.last().expect("pairs");
    assert!(
        sql::contains(raw, &sql::secret_hash(last)),
        "the search must see the hash"
    );
    for (i, pair) in pairs.iter().enumerate() {
        for needle in sql::forbidden(pair) {
            assert!(!sql::contains(raw, &needle), "pair {i} leaked into the row");
            assert!(!sql::contains(hex, &needle), "pair {i} leaked into its hex");
        }
    }
}

/// MySQL's text comparisons ignore case (the default collations) or
/// trailing spaces (`utf8mb4_bin`): the store compares subjects as bytes,
/// so neither `Alice` nor `alice ` is `alice`.
#[tokio::test]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_subjects_are_compared_byte_for_byte() {
    let db = TestDb::create().await;
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(db.store(2).await).unwrap();
    let subjects = ["alice", "Alice", "alice ", "ålice 🦀"];
    let mut ids = Vec::new();
    for subject in subjects {
        ids.push(common::login(&service, subject).await.session_id);
    }
    for (subject, id) in subjects.iter().zip(&ids) {
        assert_eq!(
            common::session_ids(&service, subject).await,
            [*id],
            "{subject:?}"
        );
        let record = common::record(&service, id).await;
        assert_eq!(record.subject, *subject);
    }
    assert_eq!(service.revoke_subject("alice ", None).await.unwrap(), 1);
    assert_eq!(common::session_ids(&service, "alice").await, [ids[0]]);
    assert_eq!(common::session_ids(&service, "Alice").await, [ids[1]]);
}
