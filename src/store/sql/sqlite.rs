//! [`Sqlite`], the SQLite dialect, and [`SqliteStore`] with its builder
//! (feature `sqlite`).

use std::str::FromStr;

use sqlx::error::DatabaseError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteQueryResult,
};
use time::Duration;

use super::dialect::{Spelling, sealed};
use super::error::{Judged, Op, store_error};
use super::migrate::Migration;
use super::options::{DEFAULT_PREFIX, check_prefix, pool_limits, std_duration};
use super::{Dialect, SqlStore};
use crate::error::{ConfigError, Error, StoreErrorKind};

/// SQLite 3.35 or newer (for `RETURNING`), as the [`Dialect`] of
/// [`SqliteStore`].
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Sqlite;

impl sealed::Sealed for Sqlite {}

impl Dialect for Sqlite {
    type Database = sqlx::Sqlite;

    const NAME: &'static str = "sqlite";

    const SPELLING: Spelling = Spelling {
        least: "min",
        null_safe_eq: "IS",
        integer: "INTEGER",
        bytes: "BLOB",
        table_options: " STRICT",
    };

    const MIGRATIONS: &'static [Migration] = &[Migration::new(
        1,
        "sessions",
        include_str!("../../../migrations/sqlite/0001_sessions.sql"),
    )];

    /// SQLite's result codes: the primary code is the low byte.
    fn judge(err: &dyn DatabaseError) -> Judged {
        const BUSY: i32 = 5;
        const LOCKED: i32 = 6;
        const ERROR: i32 = 1;
        let code = err.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
        match code & 0xff {
            // Another connection holds the lock past the busy timeout.
            BUSY | LOCKED => Judged::kind(StoreErrorKind::Unavailable),
            ERROR if err.message().starts_with("no such table") => Judged::missing_table(),
            _ => Judged::kind(StoreErrorKind::Other),
        }
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    /// IMMEDIATE takes the write lock before the migration record is read,
    /// so a concurrent runner waits here and then sees the migration
    /// applied. The lock is the whole file's, whatever the prefix.
    async fn begin_migration(
        pool: &SqlitePool,
        _prefix: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }
}

/// Sessions in a SQLite database: embedded, persistent, shared by every
/// process that opens the file.
///
/// One row per session. A refresh is one `UPDATE ... RETURNING` statement,
/// so concurrent refreshes of one token, from any number of connections or
/// processes, have exactly one winner. [`connect`](Self::connect) opens the
/// file in WAL mode (readers never wait for the writer) with a busy timeout
/// (a writer waits for another instead of failing at once) and creates it
/// if missing. Run [`migrate`](SqlStore::migrate) once at start-up.
///
/// Instants are kept to the microsecond. Cloning is cheap and shares the
/// pool. Like sqlx, it needs a Tokio runtime with timers enabled (as
/// `#[tokio::main]` makes).
///
/// ```
/// use jwt_rotate::{Key, NoClaims, SessionInfo, TokenService};
/// use jwt_rotate::store::SqliteStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = SqliteStore::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// let service = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .access_key(Key::hs256(b"an access secret of at least 32 bytes")?)
///     .refresh_key(Key::hs256(b"another secret, for refresh tokens!!")?)
///     .build(store)?;
/// let login = service.issue("user-42", NoClaims {}, SessionInfo::default()).await?;
/// service.refresh(&login.refresh_token).await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub type SqliteStore = SqlStore<Sqlite>;

impl SqlStore<Sqlite> {
    /// Opens the database at `url` with the defaults of [`SqliteStoreBuilder`].
    ///
    /// `url` is `sqlite://path/to/file.db` (created if missing unless the
    /// URL says `mode=`), or `sqlite::memory:` for a database that lives as
    /// long as the store.
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed URL; [`Error::Store`] if the file
    /// cannot be opened.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::builder().connect(url).await
    }

    /// Options: table prefix, pool size, timeouts.
    pub fn builder() -> SqliteStoreBuilder {
        SqliteStoreBuilder::default()
    }
}

/// Options for a [`SqliteStore`], checked when it connects or is built.
///
/// ```
/// use jwt_rotate::store::SqliteStore;
/// use time::Duration;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = SqliteStore::builder()
///     .table_prefix("auth_")
///     .busy_timeout(Duration::seconds(2))
///     .connect("sqlite::memory:")
///     .await?;
/// store.migrate().await?;
/// assert_eq!(store.table(), "auth_sessions");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
#[derive(Debug, Clone)]
pub struct SqliteStoreBuilder {
    prefix: String,
    max_connections: u32,
    busy_timeout: Duration,
    acquire_timeout: Duration,
}

impl Default for SqliteStoreBuilder {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            max_connections: 4,
            busy_timeout: Duration::seconds(5),
            acquire_timeout: Duration::seconds(5),
        }
    }
}

impl SqliteStoreBuilder {
    /// Names the tables `{prefix}sessions` and `{prefix}migrations`.
    /// Default `jwt_rotate_`; lowercase ASCII letters, digits and `_`, at
    /// most 40 bytes, not starting with a digit (it is pasted into SQL).
    pub fn table_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The most connections [`connect`](Self::connect) opens. Default 4:
    /// SQLite has one writer at a time, so more mostly helps readers.
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max;
        self
    }

    /// How long a statement waits for another connection's write lock
    /// before failing with a retryable error. Default 5 s; zero fails at
    /// once. Used by [`connect`](Self::connect).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How long a call waits for a free connection before failing with a
    /// retryable error. Default 5 s. Used by [`connect`](Self::connect).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Opens the database at `url` (see [`SqliteStore::connect`]) in WAL
    /// mode with these options.
    ///
    /// # Errors
    /// [`Error::Config`] for invalid options or a malformed URL;
    /// [`Error::Store`] if the file cannot be opened.
    pub async fn connect(self, url: &str) -> Result<SqliteStore, Error> {
        check_prefix(&self.prefix)?;
        let busy = std_duration(self.busy_timeout, "busy_timeout")?;
        let acquire = pool_limits(self.max_connections, self.acquire_timeout)?;
        let mut options = SqliteConnectOptions::from_str(url)
            .map_err(|e| ConfigError::with_source("invalid SQLite URL", e))?
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(busy);
        if !url.contains("mode=") {
            options = options.create_if_missing(true);
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(acquire)
            // A local file cannot drop the line; a ping would only cost time.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| store_error::<Sqlite>(Op::Connect, e))?;
        Ok(SqlStore::with_prefix(pool, &self.prefix))
    }

    /// A store over `pool` (see [`SqlStore::from_pool`]) with this table
    /// prefix; the pool keeps its own settings.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid prefix.
    pub fn build(self, pool: SqlitePool) -> Result<SqliteStore, Error> {
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
        store_error::<Sqlite>(op, err).kind()
    }

    #[test]
    fn locks_held_past_the_busy_timeout_are_retryable() {
        // BUSY, BUSY_SNAPSHOT, LOCKED, LOCKED_SHAREDCACHE
        for code in ["5", "517", "6", "262"] {
            let err = fake::error(code, "database is locked");
            assert_eq!(kind(Op::Rotate, err), StoreErrorKind::Unavailable, "{code}");
        }
        // CONSTRAINT_CHECK, IOERR, CORRUPT
        for code in ["275", "10", "11"] {
            assert_eq!(
                kind(Op::Rotate, fake::error(code, "x")),
                StoreErrorKind::Other
            );
        }
    }

    #[test]
    fn a_taken_id_is_already_exists_only_on_create() {
        assert_eq!(
            kind(Op::Create, fake::unique("1555")),
            StoreErrorKind::AlreadyExists
        );
        assert_eq!(
            kind(Op::Rotate, fake::unique("1555")),
            StoreErrorKind::Other
        );
    }

    #[test]
    fn a_missing_table_says_to_migrate() {
        let err = fake::error("1", "no such table: jwt_rotate_sessions");
        let e = store_error::<Sqlite>(Op::Get, err);
        assert_eq!(e.kind(), StoreErrorKind::Other);
        assert_eq!(
            e.to_string(),
            "sqlite get failed: the table is missing; run `migrate()`"
        );
    }

    #[test]
    fn statements_use_sqlite_spellings() {
        let q = Queries::new::<Sqlite>("");
        assert!(q.get.as_str().ends_with("FROM sessions WHERE id = $1"));
        assert!(q.purge.as_str().contains("min("));
        assert!(q.revoke_subject.as_str().contains("NOT (id IS $4)"));
    }

    #[tokio::test]
    async fn invalid_options_are_configuration_errors() {
        let bad = [
            SqliteStore::builder().table_prefix("Bad-Prefix"),
            SqliteStore::builder().max_connections(0),
            SqliteStore::builder().busy_timeout(Duration::seconds(-1)),
            SqliteStore::builder().acquire_timeout(Duration::ZERO),
        ];
        for builder in bad {
            let result = builder.connect("sqlite::memory:").await;
            assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
        }
        let pool = SqlitePool::connect_lazy("sqlite::memory:").expect("lazy pool");
        let built = SqliteStore::builder().table_prefix("9x").build(pool);
        assert!(matches!(built, Err(Error::Config(_))));
    }
}
