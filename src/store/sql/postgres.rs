//! [`Postgres`], the PostgreSQL dialect, and [`PostgresStore`] with its
//! builder (feature `postgres`).

use std::str::FromStr;

use sha2::{Digest, Sha256};
use sqlx::error::DatabaseError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult};
use time::Duration;

use super::dialect::{Spelling, sealed};
use super::error::{Judged, Op, store_error};
use super::migrate::Migration;
use super::options::{DEFAULT_PREFIX, check_prefix, pool_limits};
use super::{Dialect, SqlStore};
use crate::error::{ConfigError, Error, StoreErrorKind};

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
    };

    const MIGRATIONS: &'static [Migration] = &[Migration::new(
        1,
        "sessions",
        include_str!("../../../migrations/postgres/0001_sessions.sql"),
    )];

    /// PostgreSQL's SQLSTATE codes: which ones a retry may get past.
    fn judge(err: &dyn DatabaseError) -> Judged {
        let Some(code) = err.code() else {
            return Judged::kind(StoreErrorKind::Other);
        };
        let retryable = matches!(
            &*code,
            // serialization failure, deadlock
            "40001" | "40P01"
            // admin or crash shutdown, cannot connect now
            | "57P01" | "57P02" | "57P03"
            // statement or lock timeout
            | "57014" | "55P03"
            // a read-only transaction: connected to a standby after a failover
            | "25006"
        ) || code.starts_with("08") // connection exception
            || code.starts_with("53"); // insufficient resources (too many connections...)
        match &*code {
            _ if retryable => Judged::kind(StoreErrorKind::Unavailable),
            "42P01" => Judged::missing_table(),
            _ => Judged::kind(StoreErrorKind::Other),
        }
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    /// A transaction-scoped advisory lock: released by the commit or
    /// rollback, so a runner that dies cannot leave it held.
    async fn begin_migration(
        pool: &PgPool,
        prefix: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        let mut tx = pool.begin().await?;
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
/// isolation and above). Run [`migrate`](SqlStore::migrate) once at
/// start-up.
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

impl SqlStore<Postgres> {
    /// Connects to `url` (`postgres://user:password@host:port/database`)
    /// with the defaults of [`PostgresStoreBuilder`].
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed URL; [`Error::Store`] if the
    /// server cannot be reached (retryable) or refuses the login.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::builder().connect(url).await
    }

    /// Options: table prefix, pool size, timeout.
    pub fn builder() -> PostgresStoreBuilder {
        PostgresStoreBuilder::default()
    }
}

/// Options for a [`PostgresStore`], checked when it connects or is built.
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
///     .connect("postgres://app@db.internal/app")
///     .await?;
/// store.migrate().await?;
/// assert_eq!(store.table(), "auth_sessions");
/// # Ok(())
/// # }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
#[derive(Debug, Clone)]
pub struct PostgresStoreBuilder {
    prefix: String,
    max_connections: u32,
    acquire_timeout: Duration,
}

impl Default for PostgresStoreBuilder {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            max_connections: 10,
            acquire_timeout: Duration::seconds(5),
        }
    }
}

impl PostgresStoreBuilder {
    /// Names the tables `{prefix}sessions` and `{prefix}migrations` (in
    /// the connection's `search_path`). Default `jwt_rotate_`; lowercase
    /// ASCII letters, digits and `_`, at most 40 bytes, not starting with a
    /// digit (it is pasted into SQL).
    pub fn table_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The most connections [`connect`](Self::connect) opens. Default 10.
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max;
        self
    }

    /// How long a call waits for a free connection before failing with a
    /// retryable error. Default 5 s. Used by [`connect`](Self::connect).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Connects to `url` (see [`PostgresStore::connect`]) with these
    /// options.
    ///
    /// Connections are not pinged before each use: a refresh stays one
    /// round trip. A connection the server dropped fails one call with a
    /// retryable error and is replaced.
    ///
    /// # Errors
    /// [`Error::Config`] for invalid options or a malformed URL;
    /// [`Error::Store`] if the server cannot be reached or refuses the login.
    pub async fn connect(self, url: &str) -> Result<PostgresStore, Error> {
        check_prefix(&self.prefix)?;
        let acquire = pool_limits(self.max_connections, self.acquire_timeout)?;
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| ConfigError::with_source("invalid PostgreSQL URL", e))?;
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(acquire)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| store_error::<Postgres>(Op::Connect, e))?;
        Ok(SqlStore::with_prefix(pool, &self.prefix))
    }

    /// A store over `pool` (see [`SqlStore::from_pool`]) with this table
    /// prefix; the pool keeps its own settings.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid prefix.
    pub fn build(self, pool: PgPool) -> Result<PostgresStore, Error> {
        check_prefix(&self.prefix)?;
        Ok(SqlStore::with_prefix(pool, &self.prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::fake;
    use crate::store::sql::queries::Queries;

    fn kind(op: Op, err: sqlx::Error) -> StoreErrorKind {
        store_error::<Postgres>(op, err).kind()
    }

    #[test]
    fn transient_server_states_are_retryable() {
        let transient = [
            "40001", "40P01", "08000", "08006", "53300", "57P01", "57P03", "57014", "55P03",
            "25006",
        ];
        for code in transient {
            let e = store_error::<Postgres>(Op::Rotate, fake::error(code, "x"));
            assert!(e.is_retryable(), "{code}");
            assert_eq!(e.to_string(), "postgres unavailable (rotate)");
            let source = std::error::Error::source(&e).expect("the sqlx error");
            assert!(source.to_string().contains(code));
        }
        for code in ["22021", "23514", "42601", "XX000"] {
            assert_eq!(
                kind(Op::Rotate, fake::error(code, "x")),
                StoreErrorKind::Other
            );
        }
    }

    #[test]
    fn a_taken_id_is_already_exists_only_on_create() {
        assert_eq!(
            kind(Op::Create, fake::unique("23505")),
            StoreErrorKind::AlreadyExists
        );
        assert_eq!(
            kind(Op::Revoke, fake::unique("23505")),
            StoreErrorKind::Other
        );
    }

    #[test]
    fn a_missing_table_says_to_migrate() {
        let err = fake::error("42P01", "relation does not exist");
        let e = store_error::<Postgres>(Op::Sessions, err);
        assert_eq!(
            e.to_string(),
            "postgres sessions failed: the table is missing; run `migrate()`"
        );
    }

    #[test]
    fn statements_use_postgres_spellings() {
        let q = Queries::new::<Postgres>("app_");
        assert!(q.purge.as_str().contains("LEAST("));
        assert!(
            q.revoke_subject
                .as_str()
                .contains("NOT (id IS NOT DISTINCT FROM $4)")
        );
    }

    #[test]
    fn lock_keys_differ_by_prefix() {
        assert_eq!(lock_key("a_"), lock_key("a_"));
        assert_ne!(lock_key("a_"), lock_key("b_"));
    }

    #[tokio::test]
    async fn invalid_options_are_configuration_errors() {
        let url = "postgres://nobody@127.0.0.1:1/none";
        let bad = [
            PostgresStore::builder().table_prefix("x;drop table users;"),
            PostgresStore::builder().max_connections(0),
            PostgresStore::builder().acquire_timeout(Duration::seconds(-5)),
        ];
        for builder in bad {
            let result = builder.connect(url).await;
            assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
        }
        let result = PostgresStore::connect("postgres://host:not-a-port/db").await;
        assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_retryable_store_error() {
        // Port 1 on loopback: nothing listens, the connection is refused.
        let result = PostgresStore::builder()
            .acquire_timeout(Duration::milliseconds(200))
            .connect("postgres://nobody@127.0.0.1:1/none")
            .await;
        match result {
            Err(Error::Store(e)) => assert!(e.is_retryable(), "{e:?}"),
            other => panic!("expected a retryable store error, got {other:?}"),
        }
    }
}
