//! [`PostgresStore`]: sessions in PostgreSQL (feature `postgres`).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use sqlx::Transaction;
use sqlx::error::DatabaseError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, Postgres};
use time::Duration;

use super::sql::migrate;
use super::sql::{self, DEFAULT_PREFIX, Dialect, Judged, Op, Queries, std_duration};
use crate::error::{ConfigError, Error, StoreError, StoreErrorKind};

const D: Dialect = Dialect::Postgres;

/// Sessions in PostgreSQL, shared by every instance of the service.
///
/// One row per session. A refresh is one `UPDATE ... RETURNING` statement:
/// one round trip, and the row lock makes concurrent refreshes of one
/// token take turns, so exactly one wins (at the default READ COMMITTED
/// isolation and above). Run [`migrate`](Self::migrate) once at start-up.
///
/// Instants are kept to the microsecond. Cloning is cheap and shares the
/// pool. Like sqlx, it needs a Tokio runtime with I/O and timers enabled
/// (as `#[tokio::main]` makes). TLS: sqlx is built without it here; add `sqlx` with a `tls-*`
/// feature to your own dependencies to turn it on.
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
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    queries: Arc<Queries>,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`)
    /// with the defaults of [`PostgresStoreBuilder`].
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed URL; [`Error::Store`] if the
    /// server cannot be reached (retryable) or refuses the login.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::builder().connect(url).await
    }

    /// A store over a pool you configured, with the default table prefix
    /// `jwt_rotate_`.
    ///
    /// sqlx's pools ping every connection before lending it
    /// (`test_before_acquire`), a second round trip per call;
    /// [`connect`](Self::connect) turns that off.
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            queries: Queries::new(D, DEFAULT_PREFIX),
        }
    }

    /// Options: table prefix, pool size, timeout.
    pub fn builder() -> PostgresStoreBuilder {
        PostgresStoreBuilder::default()
    }

    /// Creates or updates the schema: applies every shipped migration this
    /// database has not recorded, each in one transaction holding an
    /// advisory lock. Safe to run at every start, from several instances
    /// at once.
    ///
    /// # Errors
    /// Any failure of the database; a recorded migration whose text differs
    /// from the shipped one.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let prefix = &self.queries.prefix;
        let err = |e| self.error(Op::Migrate, e);
        // Under the lock: concurrent `CREATE TABLE IF NOT EXISTS` can
        // still collide in the catalog.
        let mut tx = self.begin_migration().await?;
        sqlx::query(migrate::version_table(D, prefix))
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        for migration in migrate::POSTGRES {
            self.apply(migration).await?;
        }
        Ok(())
    }

    /// A transaction holding this prefix's migration lock until it ends.
    async fn begin_migration(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        let err = |e| self.error(Op::Migrate, e);
        let mut tx = self.pool.begin().await.map_err(err)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(migrate::lock_key(&self.queries.prefix))
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        Ok(tx)
    }

    super::sql::migrate::impl_apply_migration!();

    /// The pool, to share it or to close it.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The sessions table's name: the prefix and `sessions`.
    pub fn table(&self) -> &str {
        &self.queries.table
    }

    fn error(&self, op: Op, err: sqlx::Error) -> StoreError {
        sql::store_error(D, op, err, judge)
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("table", &self.queries.table)
            .finish_non_exhaustive()
    }
}

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
        "42P01" => Judged {
            kind: StoreErrorKind::Other,
            hint: Some("the table is missing; run `migrate()`"),
        },
        _ => Judged::kind(StoreErrorKind::Other),
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
        sql::check_prefix(&self.prefix)?;
        let acquire = std_duration(self.acquire_timeout, "acquire_timeout")?;
        if self.max_connections == 0 || acquire.is_zero() {
            return Err(
                ConfigError::new("max_connections and acquire_timeout must be positive").into(),
            );
        }
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| ConfigError::with_source("invalid PostgreSQL URL", e))?;
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(acquire)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| sql::store_error(D, Op::Connect, e, judge))?;
        Ok(PostgresStore {
            pool,
            queries: Queries::new(D, &self.prefix),
        })
    }

    /// A store over `pool` (see [`PostgresStore::from_pool`]) with this
    /// table prefix; the pool keeps its own settings.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid prefix.
    pub fn build(self, pool: PgPool) -> Result<PostgresStore, Error> {
        sql::check_prefix(&self.prefix)?;
        Ok(PostgresStore {
            pool,
            queries: Queries::new(D, &self.prefix),
        })
    }
}

super::sql::impl_refresh_store!(PostgresStore);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::fake;

    fn kind(op: Op, err: sqlx::Error) -> StoreErrorKind {
        sql::store_error(D, op, err, judge).kind()
    }

    #[test]
    fn transient_server_states_are_retryable() {
        let transient = [
            "40001", "40P01", "08000", "08006", "53300", "57P01", "57P03", "57014", "55P03",
            "25006",
        ];
        for code in transient {
            let e = sql::store_error(D, Op::Rotate, fake::error(code, "x"), judge);
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
        let e = sql::store_error(D, Op::Sessions, err, judge);
        assert_eq!(
            e.to_string(),
            "postgres sessions failed: the table is missing; run `migrate()`"
        );
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
