//! [`SqlStore`]: sessions in a SQL database, generic over its [`Dialect`].

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use sqlx::{Pool, SqlStr};

use super::Dialect;
use super::driver::Statement;
use super::error::{Op, corrupt, store_error};
use super::feed::Feed;
use super::health::Health;
use super::options::{DEFAULT_CALL_TIMEOUT, DEFAULT_PREFIX};
use super::queries::Queries;
use super::row;
use super::warm::Warm;
use crate::error::StoreError;
use crate::session::SessionRecord;

/// Sessions in a SQL database: one row per session, a refresh one
/// statement. `D` names the database; applications name the aliases,
/// `SqliteStore` (feature `sqlite`), `PostgresStore` (feature
/// `postgres`) and `MySqlStore` (feature `mysql`).
///
/// Make one with [`connect`](Self::connect) or [`builder`](Self::builder),
/// or over a pool of your own with [`from_pool`](Self::from_pool); run
/// [`migrate`](Self::migrate) once at start-up. Instants are kept to the
/// microsecond. Cloning is cheap and shares the pool. Like sqlx, it needs a
/// Tokio runtime with I/O and timers enabled (as `#[tokio::main]` makes).
///
/// # Deadlines
///
/// Every store call (one statement) must finish within the call timeout
/// ([`call_timeout`](super::SqlStoreBuilder::call_timeout), default
/// 10 s), waiting for a connection included; past it, it fails with a
/// retryable [`StoreError`] (`Unavailable`, "... timed out after ..."), so a
/// frozen server, a silent connection or a held lock never hangs a caller.
/// A PostgreSQL or MySQL connection is then closed, not reused; a SQLite one goes
/// back to the pool once SQLite stops waiting (within its busy timeout).
/// The database is not told: a
/// statement it is still running (waiting for a lock, or on a server that
/// was frozen and resumes) may still commit after the caller got the
/// error. For a rotation that is a lost answer: the client retries the
/// same refresh token and, within the service's grace window, gets the
/// successor that was written. `issue` may make two calls (the `create`,
/// then a cleanup `revoke` if it failed), so it may take twice the
/// timeout.
///
/// # Connections
///
/// A call is one round trip. sqlx tests a connection given back to its
/// pool with a ping, so a call that succeeded keeps its connection for the
/// next call instead. Kept connections count towards the pool's
/// `max_connections`, and go back to it after a second unused, five
/// seconds after the pool lent them, or when a call finds its connection
/// lost; calls beyond `max_connections` wait their turn, in order. So
/// other users of a pool shared with the store still get a connection
/// within seconds while the store keeps every one busy.
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql")))
)]
pub struct SqlStore<D: Dialect> {
    pub(super) pool: Pool<D::Database>,
    pub(super) queries: Arc<Queries>,
    /// The deadline of every call.
    pub(super) call_timeout: std::time::Duration,
    /// When a call last found its connection lost (see `health`).
    pub(super) health: Arc<Health>,
    /// The revocation feed's statements and settings.
    pub(super) feed: Arc<Feed>,
    /// Connections kept between calls.
    pub(super) warm: Arc<Warm<D::Database>>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> SqlStore<D> {
    /// A store over a pool you configured, with the default table prefix
    /// `jwt_rotate_` and call timeout (10 s).
    ///
    /// sqlx's pools ping every connection before lending it
    /// (`test_before_acquire`), a second round trip per call; `connect`
    /// turns that off, and tests idle connections only after a call found
    /// its connection lost (a restart), which a pool of your own does not.
    /// (Connections kept between calls skip it either way: see
    /// [Connections](Self#connections).)
    /// With SQLite, give the pool several connections for concurrency; WAL
    /// mode and a busy timeout are yours to set too (sqlx's default busy
    /// timeout is 5 s, its default journal is `DELETE`, under which readers
    /// wait for writers).
    pub fn from_pool(pool: Pool<D::Database>) -> Self {
        Self::new(pool, DEFAULT_PREFIX, DEFAULT_CALL_TIMEOUT, Arc::default())
    }

    /// A store over `pool` for tables named with `prefix`, which must have
    /// passed `check_prefix`, with this deadline per call and the health
    /// record the pool's `before_acquire` hook reads, if it has one.
    pub(super) fn new(
        pool: Pool<D::Database>,
        prefix: &str,
        call_timeout: std::time::Duration,
        health: Arc<Health>,
    ) -> Self {
        Self {
            warm: Arc::new(Warm::new(&pool)),
            pool,
            queries: Queries::new::<D>(prefix),
            call_timeout,
            health,
            feed: Arc::new(Feed::new::<D>(prefix, Default::default())),
            dialect: PhantomData,
        }
    }

    /// The pool, to share it or to close it.
    pub fn pool(&self) -> &Pool<D::Database> {
        &self.pool
    }

    /// The sessions table's name: the prefix and `sessions`.
    pub fn table(&self) -> &str {
        &self.queries.table
    }

    /// A statement of this store, to bind and run.
    pub(super) fn statement(&self, sql: &SqlStr) -> Statement<D::Database> {
        Statement::new(sql.clone())
    }

    /// The [`StoreError`] for a failed sqlx call in `op`.
    pub(super) fn error(&self, op: Op, err: sqlx::Error) -> StoreError {
        store_error::<D>(op, err)
    }

    /// Runs `statement` for `op`, returning how many rows it changed.
    ///
    /// # Errors
    /// Past the call timeout; any failure of the database, judged by the
    /// dialect.
    pub(super) async fn execute(
        &self,
        op: Op,
        statement: Statement<D::Database>,
    ) -> Result<u64, StoreError> {
        let done = self.call(op, statement, Statement::execute).await?;
        Ok(D::rows_affected(&done))
    }

    /// Runs `statement` for `op` to its end (see `Driver::fetch_all` for
    /// why never less), reading the one session it returns if any.
    ///
    /// # Errors
    /// Past the call timeout; any failure of the database; `Corrupt` for an
    /// unreadable row, or for more than one (the statements select by
    /// primary key).
    pub(super) async fn fetch_one_or_none(
        &self,
        op: Op,
        statement: Statement<D::Database>,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let rows = self.call(op, statement, Statement::fetch_all).await?;
        match rows.as_slice() {
            [] => Ok(None),
            [row] => row::decode::<D>(row).map(Some),
            [..] => Err(corrupt::<D>("id")),
        }
    }

    /// Runs `statement` for `op`, reading every session it returns.
    ///
    /// # Errors
    /// Past the call timeout; any failure of the database; `Corrupt` for an
    /// unreadable row.
    pub(super) async fn fetch_all(
        &self,
        op: Op,
        statement: Statement<D::Database>,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = self.call(op, statement, Statement::fetch_all).await?;
        rows.iter().map(row::decode::<D>).collect()
    }
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            queries: Arc::clone(&self.queries),
            call_timeout: self.call_timeout,
            health: Arc::clone(&self.health),
            feed: Arc::clone(&self.feed),
            warm: Arc::clone(&self.warm),
            dialect: PhantomData,
        }
    }
}

impl<D: Dialect> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &D::NAME)
            .field("table", &self.queries.table)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}
