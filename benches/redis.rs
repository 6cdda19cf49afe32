//! `RedisStore` against a real server: one refresh through the store beside
//! one bare `EVALSHA` of its rotation script, in the same run, plus the
//! store's `rotate` alone (the refresh minus the token work).
//!
//! `REDIS_URL=redis://127.0.0.1:6379/ cargo bench --features redis --bench redis`.
//! Skipped, with the reason printed, when `REDIS_URL` is unset. Keys go
//! under a random prefix and are deleted at the end. Compare medians
//! within one run only.

use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use jwt_rotate::redis::aio::ConnectionManager;
use jwt_rotate::redis::{self, Script, Value};
use jwt_rotate::store::{
    ExpectedGeneration, GraceData, RedisStore, RefreshStore, RotationUpdate, SecretHash,
    SessionRecord, WrappedSecret,
};
use jwt_rotate::{Key, ManualClock, NoClaims, RefreshToken, SessionId, SessionInfo, TokenService};
use time::{Duration, OffsetDateTime};
use tokio::runtime::Runtime;

/// The rotation script exactly as the store loads it.
const ROTATE: &str = concat!(
    include_str!("../src/store/redis/prelude.lua"),
    include_str!("../src/store/redis/rotate.lua")
);

/// The store's `retention` argument, in ms (its default).
const RETENTION_MS: i64 = 3_600_000;

struct Setup {
    rt: Runtime,
    url: String,
    prefix: String,
    store: RedisStore,
    conn: ConnectionManager,
    service: TokenService<RedisStore>,
}

fn setup() -> Option<Setup> {
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("skipped: set REDIS_URL (e.g. redis://127.0.0.1:6379/) to bench RedisStore");
        return None;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let prefix = format!("jwt-rotate-bench:{:016x}", rand::random::<u64>());
    let (store, conn) = rt.block_on(async {
        let client = redis::Client::open(url.as_str()).expect("REDIS_URL is a Redis URL");
        let conn = ConnectionManager::new(client).await.expect("connect");
        let store = RedisStore::builder()
            .key_prefix(&prefix)
            .build(conn.clone())
            .expect("valid options");
        (store, conn)
    });
    let clock = ManualClock::starting_now();
    let service = TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256([0xA1; 32]).expect("key"))
        .refresh_key(Key::hs256([0x5E; 32]).expect("key"))
        .clock(clock)
        .build(store.clone())
        .expect("service");
    Some(Setup {
        rt,
        url,
        prefix,
        store,
        conn,
        service,
    })
}

fn random_hash() -> SecretHash {
    SecretHash::from_bytes(rand::random())
}

/// A fresh session record, created at `now`, with secret hash `hash`.
fn record(now: OffsetDateTime, hash: SecretHash) -> SessionRecord {
    SessionRecord {
        id: SessionId::random(),
        subject: "user-42".into(),
        generation: 0,
        secret_hash: hash,
        jkt: None,
        previous: None,
        created_at: now,
        refreshed_at: now,
        idle_expires_at: now + Duration::days(7),
        absolute_expires_at: now + Duration::days(30),
        revoked: None,
        claims_json: "{}".into(),
        info: SessionInfo::default(),
        auth: None,
        last_seen: Default::default(),
        status_index: None,
    }
}

/// What the service would ask of `rotate` to move `(generation, hash)` on.
fn rotation(
    generation: u64,
    hash: SecretHash,
    now: OffsetDateTime,
) -> (ExpectedGeneration, RotationUpdate) {
    let expected = ExpectedGeneration {
        generation,
        secret_hash: hash,
    };
    let next = RotationUpdate {
        generation: generation + 1,
        secret_hash: random_hash(),
        previous: GraceData {
            generation,
            secret_hash: hash,
            rotated_at: now,
            wrapped_secret: WrappedSecret::from_bytes(rand::random()),
        },
        refreshed_at: now,
        idle_expires_at: now + Duration::days(7),
        claims_json: None,
        last_seen: None,
        auth: None,
    };
    (expected, next)
}

fn instant(at: OffsetDateTime) -> String {
    format!("{}.{:09}", at.unix_timestamp(), at.nanosecond())
}

/// `iters` rotations of a fresh session by bare `EVALSHA`s carrying what
/// the store sends.
async fn bare_evalsha(s: &Setup, sha: &str, iters: u64) -> StdDuration {
    let now = OffsetDateTime::now_utc();
    let mut hash = random_hash();
    let session = record(now, hash);
    s.store.create(&session).await.expect("create");
    let key = format!("{}:s:{{{}}}", s.prefix, session.id);
    let mut conn = s.conn.clone();
    let start = Instant::now();
    for generation in 0..iters {
        let (expected, next) = rotation(generation, hash, now);
        let previous = &next.previous;
        let reply: Value = redis::cmd("EVALSHA")
            .arg(sha)
            .arg(1)
            .arg(&key)
            .arg(expected.generation)
            .arg(&expected.secret_hash.as_bytes()[..])
            .arg(instant(next.refreshed_at))
            .arg(RETENTION_MS)
            .arg(next.generation)
            .arg(&next.secret_hash.as_bytes()[..])
            .arg(instant(next.idle_expires_at))
            .arg(previous.generation)
            .arg(&previous.secret_hash.as_bytes()[..])
            .arg(instant(previous.rotated_at))
            .arg(&previous.wrapped_secret.as_bytes()[..])
            // No new claims, device sighting or authentication context.
            .arg("")
            .arg("")
            .arg("")
            .query_async(&mut conn)
            .await
            .expect("EVALSHA");
        assert!(matches!(reply, Value::Array(_)), "the rotation was refused");
        hash = next.secret_hash;
    }
    start.elapsed()
}

/// `iters` rotations of a fresh session through `RedisStore::rotate`.
async fn store_rotate(s: &Setup, iters: u64) -> StdDuration {
    let now = OffsetDateTime::now_utc();
    let mut hash = random_hash();
    let session = record(now, hash);
    s.store.create(&session).await.expect("create");
    let start = Instant::now();
    for generation in 0..iters {
        let (expected, next) = rotation(generation, hash, now);
        let rotated = s.store.rotate(&session.id, &expected, &next).await;
        black_box(rotated.expect("rotate").expect("the rotation was refused"));
        hash = next.secret_hash;
    }
    start.elapsed()
}

/// `iters` refreshes of a fresh login, each spending the last one's token.
async fn service_refresh(s: &Setup, iters: u64) -> StdDuration {
    let login = s
        .service
        .issue("user-42", NoClaims {}, SessionInfo::default());
    let mut token: RefreshToken = login.await.expect("issue").refresh_token;
    let start = Instant::now();
    for _ in 0..iters {
        token = s
            .service
            .refresh(&token)
            .await
            .expect("refresh")
            .refresh_token;
    }
    start.elapsed()
}

fn redis_store(c: &mut Criterion) {
    let Some(s) = setup() else {
        return;
    };
    let script = Script::new(ROTATE);
    let mut conn = s.conn.clone();
    let sha =
        s.rt.block_on(script.load_async(&mut conn))
            .expect("SCRIPT LOAD");
    let mut group = c.benchmark_group("redis");
    group.bench_function("refresh (TokenService over RedisStore)", |b| {
        b.to_async(&s.rt)
            .iter_custom(|iters| service_refresh(&s, iters))
    });
    group.bench_function("rotate (RedisStore)", |b| {
        b.to_async(&s.rt)
            .iter_custom(|iters| store_rotate(&s, iters))
    });
    group.bench_function("bare EVALSHA of the rotation script", |b| {
        b.to_async(&s.rt)
            .iter_custom(|iters| bare_evalsha(&s, &sha, iters))
    });
    group.finish();
    cleanup(&s);
}

/// Deletes the bench's keys.
fn cleanup(s: &Setup) {
    let mut conn = redis::Client::open(s.url.as_str())
        .and_then(|client| client.get_connection())
        .expect("connect for cleanup");
    let keys: Vec<Vec<u8>> = redis::cmd("SCAN")
        .cursor_arg(0)
        .arg("MATCH")
        .arg(format!("{}:*", s.prefix))
        .arg("COUNT")
        .arg(1000)
        .clone()
        .iter(&mut conn)
        .expect("SCAN")
        .collect::<Result<_, _>>()
        .expect("SCAN");
    for chunk in keys.chunks(1000) {
        let () = redis::cmd("DEL").arg(chunk).query(&mut conn).expect("DEL");
    }
}

criterion_group!(benches, redis_store);
criterion_main!(benches);
