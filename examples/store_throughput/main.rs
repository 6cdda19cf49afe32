//! Refreshes per second through `PostgresStore` and `RedisStore` with 1, 8
//! and 32 concurrent refreshers, each refreshing a session of its own,
//! beside the bare rotation at the same concurrency: pgbench running the
//! store's own rotation `UPDATE`, and a loop of `EVALSHA`s of the store's
//! own rotation script. The ratio is what the crate costs a service's
//! throughput over the database's own work (issue 16; goal ≥ 0.8).
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//! REDIS_URL=redis://127.0.0.1:6379/ \
//!   cargo run --release --example store_throughput --features postgres,redis
//! ```
//!
//! Settings, from the environment: `CONCURRENCY` (default `1,8,32`),
//! `SECONDS` per timed run (default 3), `ROUNDS` (default 3: each round
//! runs the bare rotation and then the crate, in turn, so both see the
//! same machine; the table shows each side's median round), `POOL` (the
//! PostgreSQL pool's connections; default the store's own, 16),
//! `SYNCHRONOUS_COMMIT` (`on` or `off`, set on the benchmark's database
//! for both sides; default the server's), `WORKERS` (the Tokio runtime's
//! worker threads, which run the crate and the bare `EVALSHA` loop;
//! default one per core). A store
//! whose URL is unset is skipped, saying so.
//!
//! Refresh tokens and access tokens are HS256 (the access token's
//! signature is the crate's, not the store's, cost). The client and the
//! servers share the machine's cores, as they did when these were
//! measured: a client that burns CPU takes it from the server, so beside
//! throughput the table shows CPU per operation, the client's (this
//! process, or pgbench) and the whole machine's. Run it on a machine at
//! rest. PostgreSQL's part runs in a database of its own
//! (`jwt_rotate_tp_<pid>`), dropped at the end; Redis's under a key
//! prefix of its own, deleted at the end.

mod measure;
mod postgres;
mod redis;

use std::time::Duration;

use jwt_rotate::store::RefreshStore;
use jwt_rotate::{Key, TokenService};

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// What every store's measurement takes.
#[derive(Debug)]
pub(crate) struct Settings {
    concurrency: Vec<usize>,
    length: Duration,
    rounds: usize,
    pool: Option<u32>,
    synchronous_commit: Option<Switch>,
    workers: Option<usize>,
}

/// A PostgreSQL setting's value.
#[derive(Debug, Clone, Copy)]
enum Switch {
    On,
    Off,
}

impl Switch {
    fn parse(value: &str) -> Result<Self, Failure> {
        match value {
            "on" => Ok(Self::On),
            "off" => Ok(Self::Off),
            _ => Err(format!("{value:?}: on or off").into()),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::On => "on",
            Self::Off => "off",
        }
    }
}

impl Settings {
    fn from_env() -> Result<Self, Failure> {
        let var = |name: &str| std::env::var(name).ok();
        let concurrency = var("CONCURRENCY")
            .unwrap_or_else(|| "1,8,32".into())
            .split(',')
            .map(|c| c.trim().parse::<usize>())
            .collect::<Result<Vec<_>, _>>()?;
        if concurrency.contains(&0) {
            return Err("CONCURRENCY: at least one refresher".into());
        }
        // Whole seconds: pgbench's -T takes no others.
        let seconds: u64 = var("SECONDS").map_or(Ok(3), |s| s.parse())?;
        let rounds: usize = var("ROUNDS").map_or(Ok(3), |s| s.parse())?;
        let pool = var("POOL").map(|p| p.parse()).transpose()?;
        let synchronous_commit = var("SYNCHRONOUS_COMMIT")
            .map(|s| Switch::parse(&s))
            .transpose()?;
        let workers = var("WORKERS").map(|w| w.parse()).transpose()?;
        if workers == Some(0) {
            return Err("WORKERS: at least one".into());
        }
        Ok(Self {
            workers,
            concurrency,
            length: Duration::from_secs(seconds.max(1)),
            rounds: rounds.max(1),
            pool,
            synchronous_commit,
        })
    }
}

/// The service every run refreshes through: HS256 both ways.
fn service<S: RefreshStore>(store: S) -> Result<TokenService<S>, Failure> {
    Ok(TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256(rand::random::<[u8; 32]>())?)
        .refresh_key(Key::hs256(rand::random::<[u8; 32]>())?)
        .build(store)?)
}

fn main() -> Result<(), Failure> {
    let settings = Settings::from_env()?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = settings.workers {
        runtime.worker_threads(workers);
    }
    runtime.enable_all().build()?.block_on(measure(&settings))
}

async fn measure(settings: &Settings) -> Result<(), Failure> {
    let url = |name: &str| std::env::var(name).ok().filter(|url| !url.is_empty());
    match url("DATABASE_URL") {
        Some(url) => postgres::measure(&url, settings).await?,
        None => println!("PostgreSQL skipped: set DATABASE_URL"),
    }
    match url("REDIS_URL") {
        Some(url) => redis::measure(&url, settings).await?,
        None => println!("Redis skipped: set REDIS_URL"),
    }
    Ok(())
}
