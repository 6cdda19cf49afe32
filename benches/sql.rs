//! One refresh through each SQL store beside the bare rotation statement
//! it runs, on the same pool, in the same run: the ratio is what the
//! service adds to the database's own round trip (target ≤ 1.3). A third
//! row, `store.rotate`, splits that into the store's share and the
//! service's (token checks and signing).
//!
//! `cargo bench --bench sql --features sqlite,postgres`. PostgreSQL runs
//! when `DATABASE_URL` is set (in a database of its own, dropped after);
//! SQLite always, on a file in a temporary directory. Compare medians
//! within one run only.
//!
//! A commit's cost wanders with the disk and the machine's load, and a
//! fresh WAL costs more than a recycled one, so every iteration runs all
//! three operations, in turn, and each benchmark times only its own: all
//! three see the same conditions.

use std::hint::black_box;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration as StdDuration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use jwt_rotate::sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use jwt_rotate::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use jwt_rotate::sqlx::{self, AssertSqlSafe, Connection, Database, Executor, IntoArguments};
use jwt_rotate::store::{
    ExpectedGeneration, GraceData, PostgresStore, RefreshStore, RotationUpdate, SecretHash,
    SessionRecord, SqliteStore, WrappedSecret,
};
use jwt_rotate::{Key, ManualClock, NoClaims, RefreshToken, SessionId, SessionInfo, TokenService};
use time::{Duration, OffsetDateTime};
use tokio::runtime::Runtime;

/// The statement `rotate` runs, as one would write it by hand: the
/// compare-and-swap and the new values, returning the row.
const ROTATE: &str = "UPDATE jwt_rotate_sessions SET generation = $5, secret_hash = $6, \
     prev_generation = $7, prev_secret_hash = $8, prev_rotated_at = $9, \
     prev_wrapped_secret = $10, refreshed_at = $4, idle_expires_at = $11, \
     claims = COALESCE($12, claims) \
     WHERE id = $1 AND generation = $2 AND secret_hash = $3 AND revoked_at IS NULL \
     AND idle_expires_at > $4 AND absolute_expires_at > $4 \
     RETURNING id, subject, generation, secret_hash, prev_generation, prev_secret_hash, \
     prev_rotated_at, prev_wrapped_secret, created_at, refreshed_at, idle_expires_at, \
     absolute_expires_at, revoked_at, revoked_reason, claims, user_agent, ip, label";

/// Per sample, refresh and `rotate` time over bare-statement time, all
/// three summed over the same iterations: ratios free of the drift between
/// the windows in which criterion runs each benchmark.
static RATIOS: Mutex<Vec<[f64; 2]>> = Mutex::new(Vec::new());

/// The operation a benchmark times; the others run untimed beside it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Timed {
    Refresh = 0,
    Rotate = 1,
    Bare = 2,
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn service<S: RefreshStore>(store: S) -> TokenService<S> {
    TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256([0xA1; 32]).expect("key"))
        .refresh_key(Key::hs256([0x5E; 32]).expect("key"))
        .clock(ManualClock::starting_now())
        .build(store)
        .expect("service")
}

/// 32 bytes that differ for every generation: the hand-made hashes.
fn bytes(n: i64) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_le_bytes());
    b
}

/// A fresh session at generation 0 with secret hash `bytes(0)`, stored.
async fn fresh_row(store: &impl RefreshStore, now: OffsetDateTime) -> SessionRecord {
    let record = SessionRecord {
        id: SessionId::random(),
        subject: "user-42".to_owned(),
        generation: 0,
        secret_hash: SecretHash::from_bytes(bytes(0)),
        jkt: None,
        previous: None,
        created_at: now,
        refreshed_at: now,
        idle_expires_at: now + Duration::days(1),
        absolute_expires_at: now + Duration::days(30),
        revoked: None,
        claims_json: "{}".to_owned(),
        info: SessionInfo::default(),
        auth: None,
        last_seen: Default::default(),
        status_index: None,
    };
    store.create(&record).await.expect("create");
    record
}

/// `iters` iterations of: a refresh of one session through the service,
/// a `rotate` of another through the store, the bare statement on a third
/// through the pool. Returns the time of the `timed` one.
async fn alternate<'p, S, DB, E>(
    service: &TokenService<S>,
    pool: E,
    iters: u64,
    timed: Timed,
) -> StdDuration
where
    S: RefreshStore,
    DB: Database,
    E: Executor<'p, Database = DB> + Copy,
    for<'a> DB::Arguments: IntoArguments<DB>,
    i64: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> &'a [u8]: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Option<&'static str>: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let store = service.store();
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("valid");
    let login = service.issue("user-42", NoClaims {}, SessionInfo::default());
    let mut token: RefreshToken = login.await.expect("issue").refresh_token;
    let mut record = fresh_row(store, now).await;
    let bare = fresh_row(store, now).await.id;
    let micros = now.unix_timestamp() * 1_000_000;
    let iters = i64::try_from(iters).expect("iterations");
    let mut total = StdDuration::ZERO;
    let mut sums = [StdDuration::ZERO; 3];
    for generation in 0..iters {
        let mut times = [StdDuration::ZERO; 3];
        // Each op goes first as often as the others: no op always pays
        // for waking the connection or follows another's commit.
        for step in 0..3 {
            let op = (generation + step) % 3;
            let start = Instant::now();
            match op {
                0 => {
                    let next = service.refresh(black_box(&token)).await.expect("refresh");
                    token = next.refresh_token;
                }
                1 => {
                    let (expected, rotation) = next_rotation(&record, now);
                    let rotated = store.rotate(&record.id, &expected, &rotation).await;
                    record = rotated.expect("rotate").expect("the rotation must apply");
                }
                _ => {
                    let (hash, next) = (bytes(generation), bytes(generation + 1));
                    let rows = sqlx::query::<DB>(ROTATE)
                        .bind(&bare.as_bytes()[..])
                        .bind(generation)
                        .bind(&hash[..])
                        .bind(micros)
                        .bind(generation + 1)
                        .bind(&next[..])
                        .bind(generation)
                        .bind(&hash[..])
                        .bind(micros)
                        .bind(&bytes(-1)[..])
                        .bind(micros + 3_600_000_000)
                        .bind(None::<&'static str>)
                        // Read to its end, as the store does: cut short,
                        // SQLite's WAL never restarts.
                        .fetch_all(pool)
                        .await
                        .expect("rotate");
                    assert_eq!(black_box(rows).len(), 1, "the bare rotation must apply");
                }
            }
            times[usize::try_from(op).expect("0..3")] = start.elapsed();
        }
        total += times[timed as usize];
        for (sum, time) in sums.iter_mut().zip(times) {
            *sum += time;
        }
    }
    let bare_sum = sums[Timed::Bare as usize].as_secs_f64();
    let ratio = |op: Timed| sums[op as usize].as_secs_f64() / bare_sum;
    let mut ratios = RATIOS.lock().unwrap_or_else(PoisonError::into_inner);
    ratios.push([ratio(Timed::Refresh), ratio(Timed::Rotate)]);
    total
}

/// What the service would ask of `rotate` to move `record` on at `now`.
fn next_rotation(
    record: &SessionRecord,
    now: OffsetDateTime,
) -> (ExpectedGeneration, RotationUpdate) {
    let generation = record.generation;
    let next = i64::try_from(generation + 1).expect("in range");
    let expected = ExpectedGeneration {
        generation,
        secret_hash: record.secret_hash,
    };
    let rotation = RotationUpdate {
        generation: generation + 1,
        secret_hash: SecretHash::from_bytes(bytes(next)),
        previous: GraceData {
            generation,
            secret_hash: record.secret_hash,
            rotated_at: now,
            wrapped_secret: WrappedSecret::from_bytes(bytes(-1)),
        },
        refreshed_at: now,
        idle_expires_at: now + Duration::hours(1),
        claims_json: None,
        last_seen: None,
        auth: None,
    };
    (expected, rotation)
}

/// Times a refresh, a store `rotate` and the bare statement on `pool`, in
/// one group.
fn group<S, DB>(c: &mut Criterion, rt: &Runtime, name: &str, store: &S, pool: &sqlx::Pool<DB>)
where
    S: RefreshStore + Clone,
    DB: Database,
    for<'p> &'p sqlx::Pool<DB>: Executor<'p, Database = DB>,
    for<'a> DB::Arguments: IntoArguments<DB>,
    i64: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> &'a [u8]: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Option<&'static str>: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let service = service(store.clone());
    let mut group = c.benchmark_group(name);
    // Each iteration commits three times and a durable commit waits for
    // the disk: fewer, longer samples.
    group
        .sample_size(30)
        .measurement_time(StdDuration::from_secs(15));
    for (id, timed) in [
        ("refresh", Timed::Refresh),
        ("store.rotate", Timed::Rotate),
        ("bare UPDATE", Timed::Bare),
    ] {
        group.bench_function(id, |b| {
            b.to_async(rt)
                .iter_custom(|iters| alternate(&service, pool, iters, timed))
        });
    }
    group.finish();
    let mut ratios = std::mem::take(&mut *RATIOS.lock().unwrap_or_else(PoisonError::into_inner));
    let median = |ratios: &mut Vec<[f64; 2]>, i: usize| {
        ratios.sort_by(|a, b| a[i].total_cmp(&b[i]));
        ratios[ratios.len() / 2][i]
    };
    let refresh = median(&mut ratios, 0);
    let rotate = median(&mut ratios, 1);
    println!(
        "{name}: paired medians over {} samples: refresh / bare = {refresh:.3}, \
         store.rotate / bare = {rotate:.3}",
        ratios.len()
    );
}

fn sqlite(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::Builder::new()
        .prefix("jwt-rotate-bench-")
        .tempdir()
        .expect("a temporary directory");
    let path = dir.path().join("bench.db");
    let url = format!("sqlite://{}", path.display());
    let durable = rt.block_on(async {
        let store = SqliteStore::connect(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        store
    });
    group(
        c,
        &rt,
        "sqlite (synchronous=FULL)",
        &durable,
        durable.pool(),
    );
    // WAL with synchronous=NORMAL: commits skip fsync (a common production
    // choice), so the statement's own cost shows.
    let fast = rt.block_on(async {
        let options = SqliteConnectOptions::from_str(&url)
            .expect("url")
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .expect("open");
        SqliteStore::from_pool(pool)
    });
    group(c, &rt, "sqlite (synchronous=NORMAL)", &fast, fast.pool());
}

fn postgres(c: &mut Criterion) {
    let Ok(server) = std::env::var("DATABASE_URL") else {
        eprintln!("postgres benches skipped: set DATABASE_URL to run them");
        return;
    };
    let rt = runtime();
    let name = format!("jwt_rotate_bench_{}", std::process::id());
    let url = with_database(&server, &name);
    let durable = rt.block_on(async {
        admin(&server, &format!("DROP DATABASE IF EXISTS {name}")).await;
        admin(&server, &format!("CREATE DATABASE {name}")).await;
        let store = PostgresStore::connect(&url).await.expect("connect");
        store.migrate().await.expect("migrate");
        store
    });
    group(
        c,
        &rt,
        "postgres (synchronous_commit=on)",
        &durable,
        durable.pool(),
    );
    // The commit does not wait for the WAL flush: the round trip and the
    // server's work show instead of the disk's latency.
    let fast = rt.block_on(async {
        let options = PgConnectOptions::from_str(&url)
            .expect("url")
            .options([("synchronous_commit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .expect("connect");
        PostgresStore::from_pool(pool)
    });
    group(
        c,
        &rt,
        "postgres (synchronous_commit=off)",
        &fast,
        fast.pool(),
    );
    rt.block_on(async {
        durable.pool().close().await;
        fast.pool().close().await;
        admin(&server, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
    });
}

async fn admin(server: &str, statement: &str) {
    let mut conn = PgConnection::connect(server)
        .await
        .expect("connect to DATABASE_URL");
    conn.execute(AssertSqlSafe(statement.to_owned()))
        .await
        .expect(statement);
    conn.close().await.expect("close");
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, String::new()), |(b, q)| (b, format!("?{q}")));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let end = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    format!("{}/{name}{query}", &base[..end])
}

criterion_group!(benches, postgres, sqlite);
criterion_main!(benches);
