//! [`SqlStore`]: sessions in a SQL database, generic over its [`Dialect`].

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use sqlx::{Pool, SqlStr};

use super::Dialect;
use super::driver::{On, Statement};
use super::error::{Op, corrupt, store_error};
use super::options::DEFAULT_PREFIX;
use super::queries::Queries;
use super::row;
use crate::error::StoreError;
use crate::session::SessionRecord;

/// Sessions in a SQL database: one row per session, a refresh one
/// statement. `D` names the database; applications name the aliases,
/// `SqliteStore` (feature `sqlite`) and `PostgresStore` (feature
/// `postgres`), which add `connect` and `builder`.
///
/// Run [`migrate`](Self::migrate) once at start-up. Instants are kept to
/// the microsecond. Cloning is cheap and shares the pool. Like sqlx, it
/// needs a Tokio runtime with I/O and timers enabled (as `#[tokio::main]`
/// makes).
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub struct SqlStore<D: Dialect> {
    pub(super) pool: Pool<D::Database>,
    pub(super) queries: Arc<Queries>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> SqlStore<D> {
    /// A store over a pool you configured, with the default table prefix
    /// `jwt_rotate_`.
    ///
    /// sqlx's pools ping every connection before lending it
    /// (`test_before_acquire`), a second round trip per call; `connect`
    /// turns that off. With SQLite, give the pool several connections for
    /// concurrency; WAL mode and a busy timeout are yours to set too
    /// (sqlx's default busy timeout is 5 s, its default journal is
    /// `DELETE`, under which readers wait for writers).
    pub fn from_pool(pool: Pool<D::Database>) -> Self {
        Self::with_prefix(pool, DEFAULT_PREFIX)
    }

    /// A store over `pool` for tables named with `prefix`, which must have
    /// passed `check_prefix`.
    pub(super) fn with_prefix(pool: Pool<D::Database>, prefix: &str) -> Self {
        Self {
            pool,
            queries: Queries::new::<D>(prefix),
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
    /// Any failure of the database, judged by the dialect.
    pub(super) async fn execute(
        &self,
        op: Op,
        statement: Statement<D::Database>,
    ) -> Result<u64, StoreError> {
        let done = statement
            .execute(On::Pool(&self.pool))
            .await
            .map_err(|e| self.error(op, e))?;
        Ok(D::rows_affected(&done))
    }

    /// Runs `statement` for `op` to its end (see `Driver::fetch_all` for
    /// why never less), reading the one session it returns if any.
    ///
    /// # Errors
    /// Any failure of the database; `Corrupt` for an unreadable row, or for
    /// more than one (the statements select by primary key).
    pub(super) async fn fetch_one_or_none(
        &self,
        op: Op,
        statement: Statement<D::Database>,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let rows = statement
            .fetch_all(On::Pool(&self.pool))
            .await
            .map_err(|e| self.error(op, e))?;
        match rows.as_slice() {
            [] => Ok(None),
            [row] => row::decode::<D>(row).map(Some),
            [..] => Err(corrupt::<D>("id")),
        }
    }

    /// Runs `statement` for `op`, reading every session it returns.
    ///
    /// # Errors
    /// Any failure of the database; `Corrupt` for an unreadable row.
    pub(super) async fn fetch_all(
        &self,
        op: Op,
        statement: Statement<D::Database>,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = statement
            .fetch_all(On::Pool(&self.pool))
            .await
            .map_err(|e| self.error(op, e))?;
        rows.iter().map(row::decode::<D>).collect()
    }
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            queries: Arc::clone(&self.queries),
            dialect: PhantomData,
        }
    }
}

impl<D: Dialect> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &D::NAME)
            .field("table", &self.queries.table)
            .finish_non_exhaustive()
    }
}
