//! One refresh through `MySqlStore` beside the bare rotation statement, on
//! the same connection (a pool of one), in the same run: the ratio is what
//! the store and the service add to the database's own round trip (target
//! ≤ 1.3).
//!
//! Four rows: `refresh` (the service: token checks, the store's `CALL`,
//! signing), `store.rotate` (the store alone), `bare CALL` (the procedure
//! through sqlx by hand) and `bare UPDATE` (the compare-and-swap `UPDATE`
//! alone, no row back: the least one round trip can do, and the baseline
//! of the ratios). `bare CALL / bare UPDATE` is the price of getting the
//! row back in the same round trip.
//!
//! `MYSQL_URL=mysql://root@127.0.0.1:3306/test cargo bench --bench mysql
//! --features mysql`, in a database of its own, dropped after. Compare
//! medians within one run only. As in `benches/sql.rs`, every iteration
//! runs all four operations, in turn, and each benchmark times only its
//! own, so all see the same disk and load.

use std::hint::black_box;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration as StdDuration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use jwt_rotate::sqlx::mysql::{MySqlConnection, MySqlPool, MySqlPoolOptions};
use jwt_rotate::sqlx::{self, AssertSqlSafe, Connection, Executor};
use jwt_rotate::store::{
    ExpectedGeneration, GraceData, MySqlStore, RefreshStore, RotationUpdate, SecretHash,
    SessionRecord, WrappedSecret,
};
use jwt_rotate::{Key, ManualClock, NoClaims, RefreshToken, SessionId, SessionInfo, TokenService};
use time::{Duration, OffsetDateTime};
use tokio::runtime::Runtime;

/// The compare-and-swap as one would write it by hand, without the row.
const UPDATE: &str = "UPDATE jwt_rotate_sessions SET generation = ?, secret_hash = ?, \
     prev_generation = ?, prev_secret_hash = ?, prev_rotated_at = ?, \
     prev_wrapped_secret = ?, refreshed_at = ?, idle_expires_at = ?, \
     claims = COALESCE(?, claims) \
     WHERE id = ? AND generation = ? AND secret_hash = ? AND revoked_at IS NULL \
     AND idle_expires_at > ? AND absolute_expires_at > ?";

/// The statement `MySqlStore::rotate` runs.
const CALL: &str = "CALL jwt_rotate_sessions_rotate(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// Per sample, each operation's time over the bare `UPDATE`'s, summed over
/// the same iterations: refresh, store.rotate, bare CALL.
static RATIOS: Mutex<Vec<[f64; 3]>> = Mutex::new(Vec::new());

#[derive(Clone, Copy, PartialEq, Eq)]
enum Timed {
    Refresh = 0,
    Rotate = 1,
    Call = 2,
    Update = 3,
}

/// 32 bytes that differ for every generation: the hand-made hashes.
fn bytes(n: i64) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_le_bytes());
    b
}

/// A fresh session at generation 0 with secret hash `bytes(0)`, stored.
async fn fresh_row(store: &MySqlStore, now: OffsetDateTime) -> SessionRecord {
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

/// `iters` iterations of: a refresh of one session through the service,
/// a `rotate` of a second through the store, the bare `CALL` on a third
/// and the bare `UPDATE` on a fourth, all through `pool`'s one connection.
/// Returns the time of the `timed` one.
async fn alternate(
    service: &TokenService<MySqlStore>,
    pool: &MySqlPool,
    iters: u64,
    timed: Timed,
) -> StdDuration {
    let store = service.store();
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("valid");
    let login = service.issue("user-42", NoClaims {}, SessionInfo::default());
    let mut token: RefreshToken = login.await.expect("issue").refresh_token;
    let mut record = fresh_row(store, now).await;
    let called = fresh_row(store, now).await.id;
    let updated = fresh_row(store, now).await.id;
    let micros = now.unix_timestamp() * 1_000_000;
    let iters = i64::try_from(iters).expect("iterations");
    let mut sums = [StdDuration::ZERO; 4];
    for generation in 0..iters {
        let mut times = [StdDuration::ZERO; 4];
        let (hash, next) = (bytes(generation), bytes(generation + 1));
        // Each op goes first as often as the others.
        for step in 0..4 {
            let op = (generation + step) % 4;
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
                2 => {
                    let rows = sqlx::query(CALL)
                        .bind(&called.as_bytes()[..])
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
                        .bind(None::<&str>)
                        .fetch_all(pool)
                        .await
                        .expect("call");
                    assert_eq!(black_box(rows).len(), 1, "the bare CALL must apply");
                }
                _ => {
                    let done = sqlx::query(UPDATE)
                        .bind(generation + 1)
                        .bind(&next[..])
                        .bind(generation)
                        .bind(&hash[..])
                        .bind(micros)
                        .bind(&bytes(-1)[..])
                        .bind(micros)
                        .bind(micros + 3_600_000_000)
                        .bind(None::<&str>)
                        .bind(&updated.as_bytes()[..])
                        .bind(generation)
                        .bind(&hash[..])
                        .bind(micros)
                        .bind(micros)
                        .execute(pool)
                        .await
                        .expect("update");
                    assert_eq!(done.rows_affected(), 1, "the bare UPDATE must apply");
                }
            }
            times[usize::try_from(op).expect("0..4")] = start.elapsed();
        }
        for (sum, time) in sums.iter_mut().zip(times) {
            *sum += time;
        }
    }
    let base = sums[Timed::Update as usize].as_secs_f64();
    let ratio = |op: Timed| sums[op as usize].as_secs_f64() / base;
    let mut ratios = RATIOS.lock().unwrap_or_else(PoisonError::into_inner);
    ratios.push([
        ratio(Timed::Refresh),
        ratio(Timed::Rotate),
        ratio(Timed::Call),
    ]);
    sums[timed as usize]
}

fn mysql(c: &mut Criterion) {
    let Ok(server) = std::env::var("MYSQL_URL") else {
        eprintln!("mysql benches skipped: set MYSQL_URL to run them");
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let name = format!("jwt_rotate_bench_{}", std::process::id());
    let url = with_database(&server, &name);
    let (store, pool) = rt.block_on(async {
        admin(&server, &format!("DROP DATABASE IF EXISTS {name}")).await;
        admin(&server, &format!("CREATE DATABASE {name}")).await;
        // One connection: the store and the bare statements share it.
        let pool = MySqlPoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect(&url)
            .await
            .expect("connect");
        let store = MySqlStore::from_pool(pool.clone());
        store.migrate().await.expect("migrate");
        (store, pool)
    });
    group(c, &rt, &store, &pool);
    rt.block_on(async {
        pool.close().await;
        admin(&server, &format!("DROP DATABASE {name}")).await;
    });
}

fn group(c: &mut Criterion, rt: &Runtime, store: &MySqlStore, pool: &MySqlPool) {
    let service = TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256([0xA1; 32]).expect("key"))
        .refresh_key(Key::hs256([0x5E; 32]).expect("key"))
        .clock(ManualClock::starting_now())
        .build(store.clone())
        .expect("service");
    let name = "mysql (one connection)";
    let mut group = c.benchmark_group(name);
    // Each iteration commits four times, each waiting for the disk.
    group
        .sample_size(30)
        .measurement_time(StdDuration::from_secs(15));
    for (id, timed) in [
        ("refresh", Timed::Refresh),
        ("store.rotate", Timed::Rotate),
        ("bare CALL", Timed::Call),
        ("bare UPDATE", Timed::Update),
    ] {
        group.bench_function(id, |b| {
            b.to_async(rt)
                .iter_custom(|iters| alternate(&service, pool, iters, timed))
        });
    }
    group.finish();
    let mut ratios = std::mem::take(&mut *RATIOS.lock().unwrap_or_else(PoisonError::into_inner));
    let mut median = |i: usize| {
        ratios.sort_by(|a, b| a[i].total_cmp(&b[i]));
        ratios[ratios.len() / 2][i]
    };
    let (refresh, rotate, call) = (median(0), median(1), median(2));
    println!(
        "{name}: paired medians over {} samples: refresh / bare UPDATE = {refresh:.3}, \
         store.rotate / bare UPDATE = {rotate:.3}, bare CALL / bare UPDATE = {call:.3}",
        ratios.len()
    );
}

async fn admin(server: &str, statement: &str) {
    let mut conn = MySqlConnection::connect(server)
        .await
        .expect("connect to MYSQL_URL");
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

criterion_group!(benches, mysql);
criterion_main!(benches);
