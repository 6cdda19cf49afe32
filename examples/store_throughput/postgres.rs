//! PostgresStore beside pgbench running the store's rotation `UPDATE`.

use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

use jwt_rotate::sqlx::postgres::PgConnectOptions;
use jwt_rotate::sqlx::{self, AssertSqlSafe, ConnectOptions, Connection};
use jwt_rotate::store::PostgresStore;
use jwt_rotate::{NoClaims, SessionInfo};

use crate::measure::{self, Client, Cpu, Run};
use crate::{Failure, Settings};

/// The statement `PostgresStore::rotate` runs, as pgbench runs it: the
/// same text, with pgbench's variables for its parameters. The three
/// `COALESCE`s take what a refresh without new claims, device sighting
/// or authentication context binds: NULL, which pgbench cannot bind.
/// Each client reads its session once, then moves its generation on by
/// one per transaction; the secret hash stays (a 32-byte value written
/// all the same), and the idle expiry is `now` plus the session's own
/// idle lifetime, as the service computes it.
const SCRIPT: &str = r"\if :g < 0
SELECT id AS sid, generation AS g, secret_hash AS h, idle_expires_at - refreshed_at AS ttl FROM jwt_rotate_sessions WHERE subject = 'bare-' || :client_id AND revoked_at IS NULL \gset
\endif
\set next :g + 1
\set idle :now + :ttl
UPDATE jwt_rotate_sessions SET generation = :next, secret_hash = :h, prev_generation = :g, prev_secret_hash = :h, prev_rotated_at = :now, prev_wrapped_secret = :h, refreshed_at = :now, idle_expires_at = :idle, claims = COALESCE(NULL, claims), last_seen = COALESCE(NULL, last_seen), auth = COALESCE(NULL, auth) WHERE id = :sid AND generation = :g AND secret_hash = :h AND revoked_at IS NULL AND idle_expires_at > :now AND absolute_expires_at > :now RETURNING id, subject, generation, secret_hash, prev_generation, prev_secret_hash, prev_rotated_at, prev_wrapped_secret, created_at, refreshed_at, idle_expires_at, absolute_expires_at, revoked_at, revoked_reason, claims, user_agent, ip, label, kind, auth, last_seen, jkt, status_index;
\set g :next
";

/// Measures PostgresStore at every concurrency of `settings`, in a
/// database of its own on the server of `url`.
///
/// # Errors
/// When the server, pgbench or a refresh fails.
pub(crate) async fn measure(url: &str, settings: &Settings) -> Result<(), Failure> {
    let server = PgConnectOptions::from_str(url)?;
    let name = format!("jwt_rotate_tp_{}", std::process::id());
    admin(&server, &format!("CREATE DATABASE {name}")).await?;
    let result = async {
        if let Some(switch) = settings.synchronous_commit {
            // Taken by every connection made from now on: the store's and
            // pgbench's.
            let set = format!(
                "ALTER DATABASE {name} SET synchronous_commit = {}",
                switch.as_str()
            );
            admin(&server, &set).await?;
        }
        run(url, &server, &name, settings).await
    }
    .await;
    admin(&server, &format!("DROP DATABASE {name} WITH (FORCE)")).await?;
    result
}

async fn run(
    url: &str,
    server: &PgConnectOptions,
    name: &str,
    settings: &Settings,
) -> Result<(), Failure> {
    let mut builder = PostgresStore::builder();
    if let Some(pool) = settings.pool {
        builder = builder.max_connections(pool);
    }
    let store = builder.connect(&with_database(url, name)).await?;
    store.migrate().await?;
    let service = crate::service(store)?;
    // pgbench's sessions, refreshed once each like the crate's (the first
    // rotation fills in the grace columns and grows the row).
    let most = settings.concurrency.iter().copied().max().unwrap_or(1);
    for i in 0..most {
        let pair = service
            .issue(&format!("bare-{i}"), NoClaims {}, SessionInfo::default())
            .await?;
        service.refresh(&pair.refresh_token).await?;
    }
    let script = std::env::temp_dir().join(format!("{name}.sql"));
    std::fs::write(&script, SCRIPT)?;
    let bench = Pgbench {
        server,
        database: name,
        script: script.to_str().ok_or("a temporary path in UTF-8")?,
    };
    let mut rows = Vec::new();
    for &concurrency in &settings.concurrency {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..settings.rounds {
            theirs.push(bench.run(concurrency, settings.length).await?);
            ours.push(measure::refreshes(&service, concurrency, settings.length).await?);
        }
        let (Some(ours), Some(theirs)) = (Run::median(ours), Run::median(theirs)) else {
            continue;
        };
        rows.push((concurrency, ours, theirs));
    }
    std::fs::remove_file(&script)?;
    let pool = settings
        .pool
        .map_or("16 (the default)".into(), |p| p.to_string());
    let commit = settings
        .synchronous_commit
        .map_or("the server's", |s| s.as_str());
    measure::print_table(
        &format!("PostgresStore, pool of {pool}, synchronous_commit {commit}"),
        "pgbench -M prepared running its UPDATE",
        &rows,
    );
    Ok(())
}

/// pgbench, set to run the rotation script against one database.
struct Pgbench<'a> {
    server: &'a PgConnectOptions,
    database: &'a str,
    script: &'a str,
}

impl Pgbench<'_> {
    /// One timed run of `concurrency` clients, each rotating its session.
    ///
    /// # Errors
    /// When pgbench fails or its rotations did not all match their row.
    async fn run(&self, concurrency: usize, length: Duration) -> Result<Run, Failure> {
        let generations = || async {
            let mut db = self
                .server
                .clone()
                .database(self.database)
                .connect()
                .await?;
            let sum: i64 = sqlx::query_scalar(
                "SELECT COALESCE(SUM(generation), 0)::BIGINT FROM jwt_rotate_sessions \
                 WHERE subject LIKE 'bare-%'",
            )
            .fetch_one(&mut db)
            .await?;
            db.close().await?;
            Ok::<i64, Failure>(sum)
        };
        let first = generations().await?;
        let now = time::OffsetDateTime::now_utc();
        let now_us = now.unix_timestamp_nanos() / 1_000;
        let threads = concurrency.min(std::thread::available_parallelism()?.get());
        let before = Cpu::now()?;
        let start = Instant::now();
        let output = Command::new("pgbench")
            .args(["-n", "-M", "prepared", "-D", "g=-1"])
            .arg("-D")
            .arg(format!("now={now_us}"))
            .args(["-h", self.server.get_host()])
            .args(["-p", &self.server.get_port().to_string()])
            .args(["-U", self.server.get_username()])
            .args(["-c", &concurrency.to_string(), "-j", &threads.to_string()])
            .args(["-T", &length.as_secs().to_string()])
            .args(["-f", self.script, self.database])
            .output()
            .map_err(|e| format!("pgbench: {e} (is it installed? Debian: postgresql-client)"))?;
        let elapsed = start.elapsed();
        let after = Cpu::now()?;
        let report = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            let errors = String::from_utf8_lossy(&output.stderr);
            return Err(format!("pgbench failed: {report}\n{errors}").into());
        }
        let processed: u64 = after_label(&report, "number of transactions actually processed: ")
            .and_then(|n| n.split('/').next()?.parse().ok())
            .ok_or("no transaction count in pgbench's report")?;
        let tps: f64 = after_label(&report, "tps = ")
            .and_then(|t| t.split_whitespace().next()?.parse().ok())
            .ok_or("no tps in pgbench's report")?;
        let moved = generations().await? - first;
        if u64::try_from(moved).ok() != Some(processed) {
            return Err(format!("pgbench ran {processed} UPDATEs; {moved} rotated").into());
        }
        let mut run = Run::new(processed, elapsed, before, after, Client::Child);
        // pgbench's own rate leaves out its start and its connections.
        run.per_second = tps;
        Ok(run)
    }
}

/// The rest of the line of `report` that starts with `label`.
fn after_label<'r>(report: &'r str, label: &str) -> Option<&'r str> {
    report.lines().find_map(|line| line.strip_prefix(label))
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{}/{name}{query}", &base[..path_start])
}

/// Runs `statement` on the server's own database.
async fn admin(server: &PgConnectOptions, statement: &str) -> Result<(), Failure> {
    let mut connection = server.connect().await?;
    sqlx::raw_sql(AssertSqlSafe(statement.to_owned()))
        .execute(&mut connection)
        .await?;
    connection.close().await?;
    Ok(())
}
