//! The write-ahead log stays bounded while sessions rotate: every
//! statement runs to its end, so SQLite's automatic checkpoints can
//! restart the log instead of appending to it forever.

use jwt_rotate::sqlx::sqlite::SqliteSynchronous;
use jwt_rotate::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use jwt_rotate::store::{RefreshStore, SqliteStore};
use jwt_rotate::testing::{next_rotation, sample_record, unique_subject};
use time::OffsetDateTime;

use crate::TempDb;

/// Rotations run: each appends a few pages to the log, so an unbounded log
/// would pass the bound below within the first thousand or so.
const ROTATIONS: usize = 5_000;

/// SQLite checkpoints once the log holds 1,000 pages (4 MB with 4 KB
/// pages) and then starts the log again from its beginning; twice that
/// leaves room for the pages a checkpoint cannot take yet.
const WAL_BOUND: u64 = 8 * 1024 * 1024;

#[tokio::test]
async fn the_wal_stays_bounded_over_many_rotations() {
    let db = TempDb::new();
    // WAL as `connect` opens it; `synchronous = NORMAL` only spares the
    // test an fsync per commit: when the log restarts does not depend on it.
    let options = SqliteConnectOptions::new()
        .filename(&db.path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("open the database");
    let store = SqliteStore::from_pool(pool);
    store.migrate().await.expect("migrate");

    let now = OffsetDateTime::now_utc();
    let mut record = sample_record(&unique_subject("wal"));
    store.create(&record).await.expect("create");
    let wal = db.path.with_extension("db-wal");
    let mut largest = 0;
    for i in 0..ROTATIONS {
        let (expected, next) = next_rotation(&record, now);
        record = store
            .rotate(&record.id, &expected, &next)
            .await
            .expect("rotate")
            .unwrap_or_else(|| panic!("rotation {i} did not match"));
        if i % 500 == 0 {
            largest = largest.max(std::fs::metadata(&wal).expect("the WAL").len());
        }
    }
    largest = largest.max(std::fs::metadata(&wal).expect("the WAL").len());
    println!("largest WAL over {ROTATIONS} rotations: {largest} bytes");
    assert!(
        largest < WAL_BOUND,
        "the WAL grew to {largest} bytes over {ROTATIONS} rotations (bound {WAL_BOUND})"
    );
}
