//! What lets PostgreSQL make a rotation a HOT update (migration 7), checked
//! without counting HOT updates: whether one is HOT also depends on free
//! space in the row's page and on what VACUUM has done, and PostgreSQL
//! publishes its counts a second or so late (`examples/pg_hot_updates.rs`
//! measures them instead). What is certain is checked here: no index
//! covers a column a rotation writes, the bound `purge_after` moves only
//! when it must and never passes the session's expiry, and the purge
//! statement can use its index.

use jwt_rotate::sqlx::{self, AssertSqlSafe, Row};
use jwt_rotate::store::{
    ExpectedGeneration, GraceData, PostgresStore, RefreshStore, RotationUpdate, SecretHash,
    SessionRecord, WrappedSecret,
};
use jwt_rotate::testing;
use time::{Duration, OffsetDateTime};

use super::pg::TestDb;

/// The columns the rotate statement sets.
const ROTATED: [&str; 11] = [
    "generation",
    "secret_hash",
    "prev_generation",
    "prev_secret_hash",
    "prev_rotated_at",
    "prev_wrapped_secret",
    "refreshed_at",
    "idle_expires_at",
    "claims",
    "last_seen",
    "auth",
];

/// No index of the sessions table names a column a rotation writes.
pub(crate) async fn no_index_covers_a_rotated_column(db: &TestDb) {
    let mut conn = db.connection().await;
    let definitions: Vec<String> = sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'jwt_rotate_sessions'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(
        definitions.iter().any(|d| d.contains("(purge_after)")),
        "{definitions:?}"
    );
    for definition in &definitions {
        let words: Vec<&str> = definition
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        for column in ROTATED {
            assert!(!words.contains(&column), "{definition} covers {column}");
        }
    }
}

/// `purge_after` and the session's expiry, as stored.
async fn bound(db: &TestDb, record: &SessionRecord) -> (i64, i64) {
    let mut conn = db.connection().await;
    let row = sqlx::query(
        "SELECT purge_after, LEAST(idle_expires_at, absolute_expires_at) \
         FROM jwt_rotate_sessions WHERE id = $1",
    )
    .bind(&record.id.as_bytes()[..])
    .fetch_one(&mut conn)
    .await
    .unwrap();
    (row.get(0), row.get(1))
}

fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap()
}

/// Rotates `record` at `at` to an idle expiry of `idle_expires_at`.
async fn rotate(
    store: &PostgresStore,
    record: SessionRecord,
    at: OffsetDateTime,
    idle_expires_at: OffsetDateTime,
) -> SessionRecord {
    let expected = ExpectedGeneration {
        generation: record.generation,
        secret_hash: record.secret_hash,
    };
    let rotation = RotationUpdate {
        generation: record.generation + 1,
        secret_hash: SecretHash::from_bytes([record.generation as u8 + 1; 32]),
        previous: GraceData {
            generation: record.generation,
            secret_hash: record.secret_hash,
            rotated_at: at,
            wrapped_secret: WrappedSecret::from_bytes([7; 32]),
        },
        refreshed_at: at,
        idle_expires_at,
        claims_json: None,
        last_seen: None,
        auth: None,
    };
    store
        .rotate(&record.id, &expected, &rotation)
        .await
        .unwrap()
        .expect("the rotation applies")
}

/// The bound is the expiry at login, stays through a rotation that keeps
/// over half its lead, moves to the new expiry once it lags more, and
/// drops at once to an expiry that came before it.
pub(crate) async fn the_purge_bound_moves_only_when_it_must(db: &TestDb, store: &PostgresStore) {
    let mut record = testing::sample_record(&testing::unique_subject("bound"));
    let start = record.created_at;
    record.idle_expires_at = start + Duration::hours(10);
    store.create(&record).await.unwrap();
    let login = micros(start + Duration::hours(10));
    assert_eq!(bound(db, &record).await, (login, login));

    // 1 h later, 9 h of lead left of the new 10 h: kept.
    let at = start + Duration::hours(1);
    let record = rotate(store, record, at, at + Duration::hours(10)).await;
    assert_eq!(
        bound(db, &record).await,
        (login, micros(at + Duration::hours(10)))
    );

    // 6 h after login, 4 h of lead left of 10: moved to the new expiry.
    let at = start + Duration::hours(6);
    let record = rotate(store, record, at, at + Duration::hours(10)).await;
    let moved = micros(at + Duration::hours(10));
    assert_eq!(bound(db, &record).await, (moved, moved));

    // A shorter idle lifetime: the bound follows it down.
    let at = start + Duration::hours(7);
    let record = rotate(store, record, at, at + Duration::minutes(30)).await;
    let shorter = micros(at + Duration::minutes(30));
    assert_eq!(bound(db, &record).await, (shorter, shorter));
}

/// The statement `purge_expired` ran on the sessions table (it also
/// deletes stale DPoP proofs and trims the feed), as the server received
/// it, can use the purge index (sequential scans turned off for the
/// check, so that the few rows here do not make the planner prefer one).
/// A statement trigger records the text (`current_query()`): the store
/// may run all three on one connection, so `pg_stat_activity` shows only
/// the last.
pub(crate) async fn purge_can_use_its_index(db: &TestDb, store: &PostgresStore) {
    let mut conn = db.connection().await;
    sqlx::raw_sql(
        "CREATE TABLE seen (query TEXT);
         CREATE FUNCTION see() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN INSERT INTO seen VALUES (current_query()); RETURN NULL; END $$;
         CREATE TRIGGER see BEFORE DELETE ON jwt_rotate_sessions
           FOR EACH STATEMENT EXECUTE FUNCTION see();",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    store
        .purge_expired(OffsetDateTime::UNIX_EPOCH)
        .await
        .unwrap();
    let purge: String = sqlx::query_scalar("SELECT query FROM seen")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sqlx::raw_sql("DROP TRIGGER see ON jwt_rotate_sessions; DROP FUNCTION see(); DROP TABLE seen")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(purge.contains("purge_after <= $1"), "{purge}");
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET enable_seqscan = off; PREPARE purge(bigint) AS {purge}"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let plan: Vec<String> = sqlx::query_scalar("EXPLAIN EXECUTE purge(0)")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("jwt_rotate_sessions_purge"), "{plan}");
}
