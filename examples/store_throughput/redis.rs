//! RedisStore beside a loop of bare `EVALSHA`s of its rotation script.

use std::time::Instant;

use jwt_rotate::redis::aio::ConnectionManager;
use jwt_rotate::redis::{self, Script, Value};
use jwt_rotate::store::{RedisStore, RefreshStore, SecretHash};
use jwt_rotate::{NoClaims, SessionInfo, TokenService};
use time::{Duration, OffsetDateTime};

use crate::measure::{self, Run};
use crate::{Failure, Settings};

/// The rotation script exactly as the store loads it.
const ROTATE: &str = concat!(
    include_str!("../../src/store/redis/prelude.lua"),
    include_str!("../../src/store/redis/rotate.lua")
);

/// The store's `retention` argument, in ms (its default).
const RETENTION_MS: i64 = 3_600_000;

/// Measures RedisStore at every concurrency of `settings`, under a key
/// prefix of its own on the server of `url`.
///
/// # Errors
/// When the server or a refresh fails.
pub(crate) async fn measure(url: &str, settings: &Settings) -> Result<(), Failure> {
    let prefix = format!("jwt-rotate-tp:{}", std::process::id());
    let store = RedisStore::builder()
        .key_prefix(&prefix)
        .connect(url)
        .await?;
    let service = crate::service(store.clone())?;
    // The bare loop's own connection, of the store's kind: one
    // multiplexed connection that every task shares.
    let mut conn = ConnectionManager::new(redis::Client::open(url)?).await?;
    let sha = Script::new(ROTATE).load_async(&mut conn).await?;
    let bare = Bare {
        store: &store,
        service: &service,
        conn,
        sha,
        prefix: &prefix,
    };
    let mut rows = Vec::new();
    let result = async {
        for &concurrency in &settings.concurrency {
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            for _ in 0..settings.rounds {
                theirs.push(bare.run(concurrency, settings.length).await?);
                ours.push(measure::refreshes(&service, concurrency, settings.length).await?);
            }
            if let (Some(ours), Some(theirs)) = (Run::median(ours), Run::median(theirs)) {
                rows.push((concurrency, ours, theirs));
            }
        }
        Ok::<(), Failure>(())
    }
    .await;
    bare.delete_keys().await?;
    result?;
    measure::print_table(
        "RedisStore, one multiplexed connection",
        "a loop of bare EVALSHAs of its rotation script",
        &rows,
    );
    Ok(())
}

/// What the bare loop needs.
struct Bare<'a> {
    store: &'a RedisStore,
    service: &'a TokenService<RedisStore>,
    conn: ConnectionManager,
    sha: String,
    prefix: &'a str,
}

impl Bare<'_> {
    /// One timed run of `concurrency` tasks, each rotating a session of
    /// its own.
    async fn run(&self, concurrency: usize, length: std::time::Duration) -> Result<Run, Failure> {
        let mut sessions = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            // A session as the service makes it, refreshed once like the
            // crate's (the first rotation adds the grace fields).
            let pair = self
                .service
                .issue("bare", NoClaims {}, SessionInfo::default())
                .await?;
            self.service.refresh(&pair.refresh_token).await?;
            let record = self
                .store
                .get(&pair.session_id)
                .await?
                .ok_or("no session")?;
            let key = format!("{}:s:{{{}}}", self.prefix, record.id);
            let idle = record.idle_expires_at - record.refreshed_at;
            sessions.push((key, record.generation, record.secret_hash, idle));
        }
        let rotations = sessions.into_iter().map(|(key, generation, hash, idle)| {
            let call = Rotation {
                conn: self.conn.clone(),
                sha: self.sha.clone(),
                key,
                generation,
                hash,
                idle,
            };
            move |until| call.until(until)
        });
        measure::in_tasks(rotations, length).await
    }

    /// Deletes every key under the prefix.
    async fn delete_keys(&self) -> Result<(), Failure> {
        let mut conn = self.conn.clone();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query_async(&mut conn)
            .await?;
        for chunk in keys.chunks(500) {
            redis::cmd("DEL").arg(chunk).exec_async(&mut conn).await?;
        }
        Ok(())
    }
}

/// One task's session, rotated by bare `EVALSHA`s.
struct Rotation {
    conn: ConnectionManager,
    sha: String,
    key: String,
    generation: u64,
    hash: SecretHash,
    /// The session's idle lifetime, which each rotation extends by.
    idle: Duration,
}

impl Rotation {
    /// Rotates until `until` with the arguments `RedisStore::rotate`
    /// sends for a refresh without new claims; how many times.
    async fn until(mut self, until: Instant) -> Result<u64, Failure> {
        let mut done = 0;
        while Instant::now() < until {
            let generation = self.generation;
            let now = OffsetDateTime::now_utc();
            let next = SecretHash::from_bytes(rand::random());
            let reply: Value = redis::cmd("EVALSHA")
                .arg(&self.sha)
                .arg(1)
                .arg(&self.key)
                .arg(generation)
                .arg(&self.hash.as_bytes()[..])
                .arg(instant(now))
                .arg(RETENTION_MS)
                .arg(generation + 1)
                .arg(&next.as_bytes()[..])
                .arg(instant(now + self.idle))
                .arg(generation)
                .arg(&self.hash.as_bytes()[..])
                .arg(instant(now))
                .arg(&rand::random::<[u8; 32]>()[..])
                .arg("")
                .arg("")
                .arg("")
                .query_async(&mut self.conn)
                .await?;
            if !matches!(reply, Value::Array(_)) {
                return Err("the bare rotation was refused".into());
            }
            self.hash = next;
            self.generation += 1;
            done += 1;
        }
        Ok(done)
    }
}

/// An instant as the store writes it: seconds and nanoseconds.
fn instant(at: OffsetDateTime) -> String {
    format!("{}.{:09}", at.unix_timestamp(), at.nanosecond())
}
