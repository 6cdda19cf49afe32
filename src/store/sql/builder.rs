//! [`SqlStoreBuilder`]: the options every SQL store has, and opening its
//! pool.

use std::sync::Arc;

use sqlx::pool::PoolOptions;
use sqlx::{ConnectOptions as _, Connection as _, Pool};
use time::Duration;
use tokio::time::Instant;

use super::driver::ConnectOptions;
use super::error::{Op, store_error, timed_out};
use super::feed::FeedOptions;
use super::health::Health;
use super::options::{DEFAULT_PREFIX, check_prefix, pool_limits, positive};
use super::{Dialect, SqlStore};
use crate::error::{Error, StoreError};

/// Options for a [`SqlStore`], checked when it connects or is built.
/// Applications name the aliases, `SqliteStoreBuilder` (feature `sqlite`),
/// `PostgresStoreBuilder` (feature `postgres`) and `MySqlStoreBuilder`
/// (feature `mysql`), which the stores' `builder()` returns.
///
/// The setters below are those of every database; a database's own (such
/// as SQLite's `busy_timeout`) follow, in the block for its dialect.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use jwt_rotate::store::SqliteStore;
/// use time::Duration;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = SqliteStore::builder()
///     .table_prefix("auth_")
///     .call_timeout(Duration::seconds(2))
///     .busy_timeout(Duration::seconds(1))
///     .connect("sqlite::memory:")
///     .await?;
/// store.migrate().await?;
/// assert_eq!(store.table(), "auth_sessions");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql")))
)]
#[derive(Debug, Clone)]
pub struct SqlStoreBuilder<D: Dialect> {
    prefix: String,
    max_connections: u32,
    acquire_timeout: Duration,
    call_timeout: Duration,
    /// The revocation feed's settings.
    pub(super) feed: FeedOptions,
    /// The settings only `D`'s database has.
    pub(super) settings: D::Settings,
}

impl<D: Dialect> Default for SqlStoreBuilder<D> {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            max_connections: D::MAX_CONNECTIONS,
            acquire_timeout: Duration::seconds(5),
            call_timeout: Duration::seconds(10),
            feed: FeedOptions::default(),
            settings: D::Settings::default(),
        }
    }
}

impl<D: Dialect> SqlStoreBuilder<D> {
    /// Names the tables `{prefix}sessions`, `{prefix}migrations` and the
    /// revocation feed's `{prefix}revocations` and
    /// `{prefix}revocations_head` (with PostgreSQL, in the connection's
    /// `search_path`). Default
    /// `jwt_rotate_`; lowercase ASCII letters, digits and `_`, at most 40
    /// bytes, not starting with a digit (it is pasted into SQL).
    pub fn table_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The most connections [`connect`](Self::connect) opens; positive.
    /// Default 4 for SQLite (one writer at a time, so more mostly helps
    /// readers), 16 for PostgreSQL and MySQL.
    ///
    /// Why 16 there (sqlx's own default is 10): a refresh holds a
    /// connection for its one round trip, and sqlx's pool makes calls
    /// beyond `max` wait in line (first come, first served), each handed
    /// a connection only when another call gives one back; with 10
    /// connections, 32 concurrent refreshes lost 6-16 % of their
    /// throughput to that line. The pool opens connections only when
    /// calls need them and closes those idle for 10 minutes, so a larger
    /// limit costs nothing at low load; but each connection open is a
    /// process on a PostgreSQL server (a thread on MySQL) and counts
    /// against its `max_connections` (PostgreSQL's default 100, MySQL's
    /// 151), shared by every instance of your service. 16 lets half of
    /// 32 concurrent refreshes run at once rather than a third, and still
    /// lets five instances and an administrator share a default
    /// PostgreSQL. Set it to the refreshes you expect at once, at most the
    /// server's limit divided by your instances.
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max;
        self
    }

    /// How long a call waits for a free connection, and `connect` for the
    /// first one, before failing with a retryable error. Default 5 s;
    /// positive, at most a day. Used by [`connect`](Self::connect).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The deadline of every store call: waiting for a connection, the
    /// statement and its answer. Past it the call fails with a retryable
    /// error saying it timed out. Default 10 s; positive, at most a day.
    /// See [`SqlStore`]'s "Deadlines" for what the database may still do
    /// after it.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Connects to `url` with these options (see the store's `connect` for
    /// the URL).
    ///
    /// Connections are not pinged before each use: a refresh stays one
    /// round trip. When a call finds its connection lost (the server
    /// restarted), that call fails, retryably, and the connections idle
    /// since are pinged before their next use, so that no other call fails
    /// for it. The first connection is opened here, retried while the
    /// server refuses it (it may be starting) until the acquire timeout.
    ///
    /// # Errors
    /// [`Error::Config`] for invalid options, or a URL malformed or of
    /// another database; [`Error::Store`] if the server cannot be reached
    /// (retryable, the last cause as the source, e.g. connection refused)
    /// or refuses the login.
    pub async fn connect(self, url: &str) -> Result<SqlStore<D>, Error> {
        check_prefix(&self.prefix)?;
        let acquire = pool_limits(self.max_connections, self.acquire_timeout)?;
        let call = positive(self.call_timeout, "call_timeout")?;
        let feed = self.feed.check()?;
        let options = D::connect_options(url, &self.settings)?;
        first_connection::<D>(&options, acquire).await?;
        let health = Arc::new(Health::default());
        let pool = PoolOptions::<D::Database>::new()
            .max_connections(self.max_connections)
            .acquire_timeout(acquire)
            .test_before_acquire(false)
            .before_acquire(health.before_acquire::<D::Database>())
            .connect_lazy_with(options);
        Ok(SqlStore::new(pool, &self.prefix, call, health).with_feed(feed))
    }

    /// A store over `pool` (see [`SqlStore::from_pool`]) with this table
    /// prefix and call timeout; the pool keeps its own settings.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid prefix or call timeout.
    pub fn build(self, pool: Pool<D::Database>) -> Result<SqlStore<D>, Error> {
        check_prefix(&self.prefix)?;
        let call = positive(self.call_timeout, "call_timeout")?;
        let feed = self.feed.check()?;
        Ok(SqlStore::new(pool, &self.prefix, call, Arc::default()).with_feed(feed))
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Connects to `url` with the defaults of [`SqlStoreBuilder`].
    ///
    /// `url` is the database's: `sqlite://path/to/file.db` (created if
    /// missing unless the URL says `mode=`) or `sqlite::memory:` for
    /// SQLite; `postgres://user:password@host:port/database` for
    /// PostgreSQL; `mysql://` or `mariadb://user:password@host:port/database`
    /// for MySQL and MariaDB.
    ///
    /// # Errors
    /// [`Error::Config`] for a URL malformed or of another database;
    /// [`Error::Store`] if the database cannot be reached (retryable) or
    /// opened, or refuses the login.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::builder().connect(url).await
    }

    /// Options: table prefix, pool size, timeouts.
    pub fn builder() -> SqlStoreBuilder<D> {
        SqlStoreBuilder::default()
    }
}

/// Opens one connection to check that the database can be reached, and
/// closes it. Like sqlx's pool it retries, until `within`, while the
/// server refuses connections or says it is starting; unlike it, it then
/// reports why, not that the pool timed out.
///
/// # Errors
/// The last refusal once `within` is over; any other failure at once.
async fn first_connection<D: Dialect>(
    options: &ConnectOptions<D::Database>,
    within: std::time::Duration,
) -> Result<(), StoreError> {
    let deadline = Instant::now() + within;
    let mut pause = std::time::Duration::from_millis(10);
    let mut refused = None;
    while Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, options.connect()).await {
            Ok(Ok(connection)) => {
                // Only the check's connection: the pool opens its own.
                let _ = connection.close().await;
                return Ok(());
            }
            Ok(Err(err)) if transient(&err) => refused = Some(err),
            Ok(Err(err)) => return Err(store_error::<D>(Op::Connect, err)),
            Err(_) => break,
        }
        tokio::time::sleep_until(deadline.min(Instant::now() + pause)).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(1));
    }
    Err(match refused {
        Some(err) => store_error::<D>(Op::Connect, err),
        None => timed_out::<D>(Op::Connect, within),
    })
}

/// Whether a failure to connect may pass by itself: the server refused
/// the connection, or says it cannot take one yet (starting up, too many
/// connections). sqlx's pool retries the same.
fn transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
        sqlx::Error::Database(db) => db.is_transient_in_connect_phase(),
        _ => false,
    }
}
