//! [`Postgres`], the PostgreSQL dialect, and [`PostgresStore`] with its
//! builder (feature `postgres`).

use std::str::FromStr;

use sha2::{Digest, Sha256};
use sqlx::error::DatabaseError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgQueryResult};

use super::dialect::{Spelling, sealed};
use super::error::{Judged, Link};
use super::migrate::Migration;
use super::options::check_scheme;
use super::{Dialect, SqlStore, SqlStoreBuilder};
use crate::error::{ConfigError, StoreError, StoreErrorKind};
use crate::store::RevocationSubscription;

/// PostgreSQL, as the [`Dialect`] of [`PostgresStore`].
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Postgres;

impl sealed::Sealed for Postgres {}

impl Dialect for Postgres {
    type Database = sqlx::Postgres;

    const NAME: &'static str = "postgres";

    const SPELLING: Spelling = Spelling {
        least: "LEAST",
        null_safe_eq: "IS NOT DISTINCT FROM",
        integer: "BIGINT",
        bytes: "BYTEA",
        table_options: "",
        subject: "subject",
    };

    const MIGRATIONS: &'static [Migration] = &[
        Migration::new(
            1,
            "sessions",
            include_str!("../../../migrations/postgres/0001_sessions.sql"),
        ),
        Migration::new(
            2,
            "dpop",
            include_str!("../../../migrations/postgres/0002_dpop.sql"),
        ),
        Migration::new(
            3,
            "auth_context",
            include_str!("../../../migrations/postgres/0003_auth_context.sql"),
        ),
        Migration::new(
            4,
            "revocations",
            include_str!("../../../migrations/postgres/0004_revocations.sql"),
        ),
        Migration::new(
            6,
            "dpop_replay",
            include_str!("../../../migrations/postgres/0006_dpop_replay.sql"),
        ),
        Migration::new(
            7,
            "hot_rotations",
            include_str!("../../../migrations/postgres/0007_hot_rotations.sql"),
        ),
    ];

    /// Closed: to give it back, sqlx would wait for the statement's answer,
    /// from a server that may be frozen or cut off.
    const CUT_SHORT: Link = Link::Unfit;

    /// See `SqlStoreBuilder::max_connections` for why 16.
    const MAX_CONNECTIONS: u32 = 16;

    type Settings = ();

    /// A `postgres:` or `postgresql:` URL, as sqlx reads it.
    fn connect_options(url: &str, _settings: &()) -> Result<PgConnectOptions, ConfigError> {
        // sqlx reads a `mysql://` URL as its own, and would try to log in.
        check_scheme(
            url,
            &["postgres", "postgresql"],
            "postgres://app@db.internal/app",
        )?;
        PgConnectOptions::from_str(url)
            .map_err(|e| ConfigError::with_source("invalid PostgreSQL URL", e))
    }

    /// PostgreSQL's SQLSTATE codes. Retryable only where a retry may get
    /// past it by itself: the same statement again, or on a new
    /// connection; everything else the same request meets again.
    fn judge(err: &dyn DatabaseError) -> Judged {
        let Some(code) = err.code() else {
            return Judged::kind(StoreErrorKind::Other);
        };
        let unavailable = Judged::kind(StoreErrorKind::Unavailable);
        match &*code {
            // Serialization failure, deadlock: rolled back, and a new try
            // runs against the winner's row.
            "40001" | "40P01" => unavailable,
            // Statement timeout or cancel request; lock timeout: the
            // holder of the lock may be done by the retry.
            "57014" => unavailable.hint("the statement timed out or was cancelled"),
            "55P03" => unavailable.hint("a lock wait timed out"),
            // Out of resources for now: disk, memory, connections. (53400,
            // a configured limit, is the same every time.)
            "53000" | "53100" | "53200" | "53300" => unavailable,
            // Starting up or shutting down.
            "57P03" => unavailable,
            // The server ended this connection (shutdown, crash, its idle
            // timeouts) or lost it: a new one may work.
            "57P01" | "57P02" | "57P05" | "25P03" => Judged::lost(),
            "08000" | "08001" | "08003" | "08006" | "08007" => Judged::lost(),
            // A read-only server: a standby (the URL still names the old
            // primary after a failover), or `default_transaction_read_only`.
            // The same server refuses every write again: permanent, so it
            // is seen; the connection is closed, as a new one may reach
            // the primary once the name follows.
            "25006" => Judged::kind(StoreErrorKind::Other)
                .hint("the server is read-only (a standby, or default_transaction_read_only)")
                .unfit(),
            // A protocol violation is a bug, met again; the server has
            // closed the connection.
            "08P01" => Judged::kind(StoreErrorKind::Other).unfit(),
            "42P01" => Judged::missing_table(),
            _ => Judged::kind(StoreErrorKind::Other),
        }
    }

    /// By `purge_after` (migration 7), which rotations seldom move: they
    /// stay HOT updates. `$1` twice: PostgreSQL numbers its parameters.
    fn purge_statement(t: &str) -> String {
        let least = "LEAST(idle_expires_at, absolute_expires_at)";
        format!("DELETE FROM {t} WHERE purge_after <= $1 AND {least} <= $1")
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    fn notify_statement(prefix: &str) -> Option<String> {
        Some(super::feed::notify_statement(prefix))
    }

    async fn subscribe(
        store: &PostgresStore,
    ) -> Result<Box<dyn RevocationSubscription>, StoreError> {
        super::feed::listen(store).await
    }

    /// A transaction-scoped advisory lock: released by the commit or
    /// rollback, so a runner that dies cannot leave it held.
    ///
    /// For the transaction only: no NOTICEs (the `IF NOT EXISTS` of every
    /// start says "already exists, skipping", which sqlx logs at INFO), and
    /// no statement timeout (a migration may rewrite a large table, or
    /// wait for another runner's).
    async fn begin_migration(
        pool: &PgPool,
        prefix: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        let mut tx = pool.begin().await?;
        sqlx::raw_sql("SET LOCAL client_min_messages = warning; SET LOCAL statement_timeout = 0")
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock_key(prefix))
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

/// The advisory lock key of the migrations of tables named with `prefix`:
/// runners for other prefixes need not wait for each other.
fn lock_key(prefix: &str) -> i64 {
    let digest = Sha256::digest(format!("jwt-rotate/migrate/{prefix}"));
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(key)
}

/// Sessions in PostgreSQL, shared by every instance of the service.
///
/// One row per session. A refresh is one `UPDATE ... RETURNING` statement:
/// one round trip, and the row lock makes concurrent refreshes of one
/// token take turns, so exactly one wins (at the default READ COMMITTED
/// isolation and above). Its URL is `postgres://` or `postgresql://`; a
/// URL of any other scheme is refused. Run [`migrate`](SqlStore::migrate)
/// once at start-up.
///
/// # Timeouts: the store's and the server's
///
/// Every call has a deadline, the call timeout (default 10 s, see
/// [`SqlStore`]'s "Deadlines"), which also covers a server that stopped
/// answering (frozen, or cut off without the connection closing). The
/// client gives up then; the server does not know, and a statement still
/// waiting there may commit later (a lost answer).
///
/// A lock is what a healthy server makes a call wait for: a transaction
/// elsewhere (a migration, a manual `UPDATE`, a long report taking
/// `FOR UPDATE`) holding a session's row makes every refresh of that
/// session wait as long as the lock is held, up to the call timeout, and
/// its statement keeps waiting on the server after it. Set the server's
/// `lock_timeout` below the call timeout (in the URL:
/// `?options[lock_timeout]=2s`, or `ALTER ROLE ... SET lock_timeout`): the
/// server then cancels the wait itself, the call fails sooner with a
/// retryable error, and nothing commits late. `statement_timeout` below
/// the call timeout does the same for any slow statement. Both are
/// retryable errors here (`55P03`, `57014`). The store sets neither, so
/// your role's or database's settings apply; `migrate` turns the
/// statement timeout off for its own transactions.
///
/// Instants are kept to the microsecond. Cloning is cheap and shares the
/// pool. Like sqlx, it needs a Tokio runtime with I/O and timers enabled
/// (as `#[tokio::main]` makes). TLS: sqlx is built without it here; add
/// `sqlx` with a `tls-*` feature to your own dependencies to turn it on.
///
/// ```no_run
/// use jwt_rotate::{Key, TokenService};
/// use jwt_rotate::store::PostgresStore;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PostgresStore::connect("postgres://app@db.internal/app").await?;
/// store.migrate().await?;
/// let service = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .access_key(Key::hs256(b"an access secret of at least 32 bytes")?)
///     .refresh_key(Key::hs256(b"another secret, for refresh tokens!!")?)
///     .build(store)?;
/// # let _ = service;
/// # Ok(())
/// # }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub type PostgresStore = SqlStore<Postgres>;

/// Options for a [`PostgresStore`]: those of every SQL store (see
/// [`SqlStoreBuilder`]).
///
/// ```no_run
/// use jwt_rotate::store::PostgresStore;
/// use time::Duration;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PostgresStore::builder()
///     .table_prefix("auth_")
///     .max_connections(20)
///     .acquire_timeout(Duration::seconds(2))
///     .call_timeout(Duration::seconds(5))
///     // The server's own lock timeout, below the call timeout.
///     .connect("postgres://app@db.internal/app?options[lock_timeout]=2s")
///     .await?;
/// store.migrate().await?;
/// assert_eq!(store.table(), "auth_sessions");
/// # Ok(())
/// # }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub type PostgresStoreBuilder = SqlStoreBuilder<Postgres>;

#[cfg(test)]
mod tests;
