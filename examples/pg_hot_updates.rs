//! How many of PostgresStore's rotations are HOT updates (heap-only
//! tuples: no index touched, the new row version on the same page), and
//! the plan of `purge_expired`, on a table of many sessions.
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release --example pg_hot_updates --features postgres -- 100000 3000 3
//! ```
//!
//! Arguments: sessions in the table (default 100,000), sessions rotated
//! (default 3,000, picked at random among the live ones), rounds (default
//! 3: each picked session is rotated once per round, so the first round is
//! every session's first rotation, which fills in its grace columns and
//! grows the row, and the later ones are the steady state), and a
//! `fillfactor` to set on the table before it is filled (default: the
//! migrations' own), to compare.
//!
//! Everything happens in a database of its own (`jwt_rotate_hot_<pid>`),
//! dropped at the end: no other table is read or written. The sessions
//! are written by one `INSERT ... SELECT` (a store call per session would
//! take minutes), shaped like those of active users: refreshed within the
//! last 15 minutes, idle lifetime 7 days, absolute 30 days, a user agent
//! and an authentication context; one in a hundred idle-expired, for
//! `purge_expired` to find. The rotations go through
//! [`RefreshStore::rotate`], as the service makes them. PostgreSQL counts
//! updates in `pg_stat_user_tables` (`n_tup_upd`, `n_tup_hot_upd`), which
//! its backends publish within a second or so of going idle: the example
//! waits for the count to reach the rotations made.
//!
//! The plan shown is the one of the very statement the store ran: its
//! text is recorded by a statement trigger (`current_query()`) and
//! `EXPLAIN`ed as a prepared statement at the same instant.

use std::str::FromStr;
use std::time::{Duration as StdDuration, Instant};

use jwt_rotate::SessionId;
use jwt_rotate::sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use jwt_rotate::sqlx::{self, AssertSqlSafe, ConnectOptions, Connection, Row};
use jwt_rotate::store::{
    ExpectedGeneration, GraceData, PostgresStore, RefreshStore, RotationUpdate, SecretHash,
    WrappedSecret,
};
use time::{Duration, OffsetDateTime};

type Failure = Box<dyn std::error::Error>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let mut arg = |default: u64| -> Result<u64, Failure> {
        Ok(args.next().map_or(Ok(default), |a| a.parse())?)
    };
    let (rows, picked, rounds) = (arg(100_000)?, arg(3_000)?, arg(3)?);
    let fillfactor = args.next().map(|f| f.parse::<u8>()).transpose()?;
    let url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL")?;
    let server = PgConnectOptions::from_str(&url)?;
    let name = format!("jwt_rotate_hot_{}", std::process::id());
    admin(&server, &format!("CREATE DATABASE {name}")).await?;
    let options = server.clone().database(&name);
    let result = run(options, rows, picked, rounds, fillfactor).await;
    admin(&server, &format!("DROP DATABASE {name} WITH (FORCE)")).await?;
    result
}

async fn run(
    options: PgConnectOptions,
    rows: u64,
    picked: u64,
    rounds: u64,
    fillfactor: Option<u8>,
) -> Result<(), Failure> {
    // No ping before each call, as `PostgresStore::connect` sets it.
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await?;
    let store = PostgresStore::builder().build(pool)?;
    store.migrate().await?;
    let table = store.table().to_owned();
    let mut db = options.connect().await?;
    if let Some(fillfactor) = fillfactor {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "ALTER TABLE {table} SET (fillfactor = {fillfactor})"
        )))
        .execute(&mut db)
        .await?;
    }
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let now_micros = micros(now);

    let start = Instant::now();
    fill(&mut db, &table, rows, now_micros).await?;
    sqlx::raw_sql(AssertSqlSafe(format!("VACUUM ANALYZE {table}")))
        .execute(&mut db)
        .await?;
    println!(
        "{rows} sessions written in {:.1} s; {} pages",
        start.elapsed().as_secs_f64(),
        pages(&mut db, &table).await?
    );
    println!("fillfactor: {}", table_fillfactor(&mut db, &table).await?);

    // The sessions to rotate: live ones, at random.
    let picks = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, secret_hash FROM {table} WHERE idle_expires_at > $1 \
         ORDER BY random() LIMIT $2"
    )))
    .bind(now_micros)
    .bind(i64::try_from(picked)?)
    .fetch_all(&mut db)
    .await?;
    let mut sessions = Vec::with_capacity(picks.len());
    for row in picks {
        let id: Vec<u8> = row.try_get(0)?;
        let hash: Vec<u8> = row.try_get(1)?;
        let id = SessionId::from_bytes(id.as_slice().try_into()?);
        sessions.push((
            id,
            0_u64,
            SecretHash::from_bytes(hash.as_slice().try_into()?),
        ));
    }

    let mut updates = counts(&mut db, &table).await?;
    for round in 1..=rounds {
        let at = now + Duration::seconds(i64::try_from(round)?);
        for (id, generation, hash) in &mut sessions {
            let next = SecretHash::from_bytes(bytes(*generation + 1, id));
            let rotation = RotationUpdate {
                generation: *generation + 1,
                secret_hash: next,
                previous: GraceData {
                    generation: *generation,
                    secret_hash: *hash,
                    rotated_at: at,
                    wrapped_secret: WrappedSecret::from_bytes(bytes(u64::MAX, id)),
                },
                refreshed_at: at,
                idle_expires_at: at + Duration::days(7),
                claims_json: None,
                last_seen: None,
                auth: None,
            };
            let expected = ExpectedGeneration {
                generation: *generation,
                secret_hash: *hash,
            };
            store
                .rotate(id, &expected, &rotation)
                .await?
                .ok_or("a rotation did not apply")?;
            (*generation, *hash) = (*generation + 1, next);
        }
        let before = updates;
        updates = wait_for(&mut db, &table, before.0 + sessions.len() as i64).await?;
        let (all, hot) = (updates.0 - before.0, updates.1 - before.1);
        println!(
            "round {round}: {hot} of {all} rotations HOT ({:.1} %)",
            100.0 * hot as f64 / all as f64
        );
    }
    println!(
        "{} pages after the rotations",
        pages(&mut db, &table).await?
    );

    // The purge statement's text, as the store sent it: run it once at an
    // instant that expires nothing, with a statement trigger recording the
    // text of every DELETE on the table (`pg_stat_activity` shows only
    // each connection's last statement, and purge runs three).
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE TABLE seen (query TEXT);
         CREATE FUNCTION see() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN INSERT INTO seen VALUES (current_query()); RETURN NULL; END $$;
         CREATE TRIGGER see BEFORE DELETE ON {table}
           FOR EACH STATEMENT EXECUTE FUNCTION see();"
    )))
    .execute(&mut db)
    .await?;
    store.purge_expired(now - Duration::days(365)).await?;
    let purge: String = sqlx::query_scalar("SELECT query FROM seen")
        .fetch_one(&mut db)
        .await?;
    println!("purge_expired runs: {purge}");
    sqlx::raw_sql(AssertSqlSafe(format!(
        "ANALYZE {table}; PREPARE purge(bigint) AS {purge}"
    )))
    .execute(&mut db)
    .await?;
    let plan: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "EXPLAIN EXECUTE purge({now_micros})"
    )))
    .fetch_all(&mut db)
    .await?;
    println!("its plan at {rows} sessions:");
    for line in plan {
        println!("  {line}");
    }
    let start = Instant::now();
    let purged = store.purge_expired(now).await?;
    println!(
        "purge_expired: {purged} sessions deleted in {:.0} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    store.pool().close().await;
    db.close().await?;
    Ok(())
}

/// `rows` sessions of active users (see the crate docs above), one in a
/// hundred idle-expired at `now`.
async fn fill(db: &mut PgConnection, table: &str, rows: u64, now: i64) -> Result<(), Failure> {
    const MINUTE: i64 = 60_000_000;
    const DAY: i64 = 24 * 60 * MINUTE;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {table} (id, subject, generation, secret_hash, created_at, refreshed_at, \
             idle_expires_at, absolute_expires_at, claims, user_agent, ip, kind, auth) \
         SELECT decode(md5(i::text), 'hex'), 'user-' || (i / 3), 0, \
             sha256(decode(md5(i::text), 'hex')), refreshed - (i % 20) * {DAY}, refreshed, \
             refreshed + 7 * {DAY}, refreshed - (i % 20) * {DAY} + 30 * {DAY}, '{{}}', \
             'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/130.0.0.0 Safari/537.36', '203.0.113.' || (i % 250), 'browser', \
             '{{\"auth_time\":1764000000,\"amr\":[\"pwd\"]}}' \
         FROM (SELECT i, $1 - CASE WHEN i % 100 = 0 THEN 8 * {DAY} ELSE 0 END \
                 - (i % 15) * {MINUTE} AS refreshed \
               FROM generate_series(1, $2) AS i) AS s"
    )))
    .bind(now)
    .bind(i64::try_from(rows)?)
    .execute(db)
    .await?;
    Ok(())
}

/// The secret hash of generation `generation` of session `id` in this
/// example (made up: the store only compares them).
fn bytes(generation: u64, id: &SessionId) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&generation.to_le_bytes());
    b[8..24].copy_from_slice(id.as_bytes());
    b
}

/// `n_tup_upd` and `n_tup_hot_upd` of `table`, as published so far.
async fn counts(db: &mut PgConnection, table: &str) -> Result<(i64, i64), Failure> {
    // A fresh snapshot of the statistics for every read.
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(&mut *db)
        .await?;
    let row =
        sqlx::query("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = $1")
            .bind(table)
            .fetch_one(&mut *db)
            .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// The counts once `n_tup_upd` reached `updates`: the store's backends
/// publish theirs within about a second of going idle.
async fn wait_for(db: &mut PgConnection, table: &str, updates: i64) -> Result<(i64, i64), Failure> {
    let deadline = Instant::now() + StdDuration::from_secs(60);
    loop {
        let counts = counts(db, table).await?;
        if counts.0 >= updates {
            return Ok(counts);
        }
        if Instant::now() > deadline {
            return Err(format!("{} of {updates} updates counted after 60 s", counts.0).into());
        }
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
}

async fn pages(db: &mut PgConnection, table: &str) -> Result<i64, Failure> {
    Ok(sqlx::query_scalar(
        "SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint",
    )
    .bind(table)
    .fetch_one(db)
    .await?)
}

/// The table's `fillfactor` storage parameter (100, the default, if unset).
async fn table_fillfactor(db: &mut PgConnection, table: &str) -> Result<String, Failure> {
    let options: Option<Vec<String>> =
        sqlx::query_scalar("SELECT reloptions FROM pg_class WHERE oid = $1::regclass")
            .bind(table)
            .fetch_one(db)
            .await?;
    Ok(options
        .unwrap_or_default()
        .into_iter()
        .find_map(|o| o.strip_prefix("fillfactor=").map(str::to_owned))
        .unwrap_or_else(|| "100 (default)".to_owned()))
}

/// Microseconds since 1970, as the store keeps instants.
fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).expect("in range")
}

async fn admin(server: &PgConnectOptions, statement: &str) -> Result<(), Failure> {
    let mut conn = server.connect().await?;
    sqlx::raw_sql(AssertSqlSafe(statement.to_owned()))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}
