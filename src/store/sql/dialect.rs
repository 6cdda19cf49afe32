//! [`Dialect`]: what differs between the databases a [`SqlStore`] runs on.

use std::fmt;
use std::future::Future;

use sqlx::error::DatabaseError;
use sqlx::{Database, Pool, Transaction};

use super::driver::{ConnectOptions, Driver};
use super::error::{Judged, Link};
use super::feed;
use super::migrate::Migration;
use super::store::SqlStore;
use super::{queries, refresh_store};
use crate::error::{ConfigError, StoreError};
use crate::session::{SessionId, SessionRecord};
use crate::store::{ExpectedGeneration, RevocationSubscription, RotationUpdate};

/// A database a [`SqlStore`] keeps sessions in: a unit type per database,
/// `Sqlite` (feature `sqlite`), `Postgres` (feature `postgres`) or `MySql`
/// (feature `mysql`).
///
/// The store is written once, generic over its dialect; a dialect says
/// only what differs: the sqlx driver, how a few statements are spelled,
/// which error codes a retry may get past, how a migration takes its lock,
/// and the shipped migrations. Apart from [`Database`](Self::Database) and
/// [`NAME`](Self::NAME), its items are hidden: they are the crate's
/// internal contract with each database, not an API.
///
/// The trait is sealed: a dialect's statements, error codes and migrations
/// are written and tested together with the store, so only this crate adds
/// dialects. To keep sessions in another database, implement
/// [`RefreshStore`](crate::store::RefreshStore) instead.
///
/// # Adding a dialect
///
/// One new file beside `sqlite.rs`, with its migrations under
/// `migrations/` and its `mod` and `pub use` lines: the unit type, this
/// trait's impl (which reads the URL into the database's connect options)
/// and the aliases `...Store` and `...StoreBuilder`, with any setting only
/// this database has as an `impl SqlStoreBuilder<ItsType>` block. The
/// store, its builder, deadlines and pool handling are written once for
/// every dialect. Everything with a default fits databases with `UPDATE
/// ... RETURNING`, `$1`-style placeholders and transactional DDL. MySQL and
/// MariaDB have none of them: their dialect overrides `placeholders` (each
/// `$N` becomes `?`: the shared statements number their parameters in
/// order of appearance, each once, so this is a plain replacement),
/// `rotate_statement` (one `CALL` of a stored procedure its migration
/// creates, which updates the row and selects it, still one round trip)
/// and `lock_migrations` (a named lock held across the whole run).
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql")))
)]
pub trait Dialect: sealed::Sealed + Sized + fmt::Debug + Send + Sync + 'static {
    /// The sqlx database: `sqlx::Sqlite`, `sqlx::Postgres` or `sqlx::MySql`.
    ///
    /// Its bound, `Driver`, is the crate's own: the sqlx calls the store
    /// makes, implemented for every sqlx database whose driver has them.
    type Database: Driver;

    /// The database's name in error messages: `sqlite`, `postgres` or `mysql`.
    const NAME: &'static str;

    /// How this database spells what the shared statements cannot write
    /// one way.
    #[doc(hidden)]
    const SPELLING: Spelling;

    /// The shipped migrations, in increasing version order.
    #[doc(hidden)]
    const MIGRATIONS: &'static [Migration];

    /// What a call cut short mid-statement (its deadline passed, or its
    /// caller dropped it) leaves of its connection: `Unfit` to close it,
    /// `Sound` to give it back (sqlx pings it first, which waits for the
    /// statement to end).
    #[doc(hidden)]
    const CUT_SHORT: Link;

    /// The builder's `max_connections` when none is set.
    #[doc(hidden)]
    const MAX_CONNECTIONS: u32;

    /// The builder settings only this database has (SQLite's busy
    /// timeout), with their defaults.
    #[doc(hidden)]
    type Settings: Default + Clone + fmt::Debug + Send + Sync + 'static;

    /// The options to open connections to `url` with, and `settings`.
    ///
    /// # Errors
    /// A URL that is not this database's, or that sqlx cannot read; an
    /// invalid setting.
    #[doc(hidden)]
    fn connect_options(
        url: &str,
        settings: &Self::Settings,
    ) -> Result<ConnectOptions<Self::Database>, ConfigError>;

    /// What a database error means for the caller, from the database's
    /// own error codes. Unique violations and connection failures are
    /// judged before this is asked.
    #[doc(hidden)]
    fn judge(err: &dyn DatabaseError) -> Judged;

    /// How many rows a statement changed (sqlx has no trait for it).
    #[doc(hidden)]
    fn rows_affected(done: &<Self::Database as Database>::QueryResult) -> u64;

    /// Opens the transaction a migration runs in, holding until it ends
    /// the lock that keeps concurrent runners for tables named with
    /// `prefix` from applying a migration twice.
    #[doc(hidden)]
    fn begin_migration(
        pool: &Pool<Self::Database>,
        prefix: &str,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Database>, sqlx::Error>> + Send;

    /// Takes, for a whole `migrate` run, the lock that keeps concurrent
    /// runners for tables named with `prefix` apart, when a migration's
    /// transaction cannot hold it: MySQL commits around every DDL
    /// statement. The lock is held by a connection of its own, outside the
    /// pool, until `migrate` closes it (or drops it, on failure: the server
    /// releases the lock with the connection). The default takes none, as
    /// [`begin_migration`](Self::begin_migration) takes the lock.
    ///
    /// # Errors
    /// Any failure of the database; the lock not had in time.
    #[doc(hidden)]
    fn lock_migrations(
        pool: &Pool<Self::Database>,
        prefix: &str,
    ) -> impl Future<Output = Result<Option<<Self::Database as Database>::Connection>, StoreError>> + Send
    {
        let _ = (pool, prefix);
        std::future::ready(Ok(None))
    }

    /// This database's spelling of a shared statement, written with `$1`,
    /// `$2`... in order of appearance, each once. The default keeps them:
    /// sqlx's SQLite and PostgreSQL drivers both read `$N`.
    #[doc(hidden)]
    fn placeholders(statement: String) -> String {
        statement
    }

    /// The statement [`rotate`](Self::rotate) runs on the sessions table
    /// `table`. The default is one `UPDATE ... RETURNING`.
    #[doc(hidden)]
    fn rotate_statement(table: &str) -> String {
        queries::update_returning(table, &Self::SPELLING)
    }

    /// The statement [`purge_expired`](crate::store::RefreshStore::purge_expired)
    /// runs on the sessions table `table`, with the instant as `$1`. The
    /// default deletes by the earlier expiry, which the purge index of
    /// migration 1 covers.
    #[doc(hidden)]
    fn purge_statement(table: &str) -> String {
        Self::placeholders(queries::purge_by_expiry(table, &Self::SPELLING))
    }

    /// The compare-and-swap of `RefreshStore::rotate`, one round trip when
    /// it succeeds; `expected.generation` fits an `i64`. The default runs
    /// [`rotate_statement`](Self::rotate_statement) with the id, what is
    /// expected and the change bound as `row::bind_rotation` binds them,
    /// and reads the row it returns, if any: the default statement's
    /// `UPDATE ... RETURNING`, or MySQL's `CALL`.
    #[doc(hidden)]
    fn rotate(
        store: &SqlStore<Self>,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send {
        refresh_store::update_returning(store, id, expected, next)
    }

    /// The statement that wakes the revocation feed's subscribers, run in
    /// the revoking transaction after its entry is written (the feed's
    /// tables are named with `prefix`); `None` where subscriptions poll.
    /// The default is `None`: PostgreSQL's is a `pg_notify`.
    #[doc(hidden)]
    fn notify_statement(prefix: &str) -> Option<String> {
        let _ = prefix;
        None
    }

    /// A subscription to `store`'s revocation feed, starting at its head.
    /// The default polls the revocations table every
    /// `feed_poll_interval`; PostgreSQL's listens for the notifications of
    /// [`notify_statement`](Self::notify_statement).
    ///
    /// # Errors
    /// Any failure of the database.
    #[doc(hidden)]
    fn subscribe(
        store: &SqlStore<Self>,
    ) -> impl Future<Output = Result<Box<dyn RevocationSubscription>, StoreError>> + Send {
        feed::poll(store)
    }

    /// The statement of `RefreshStore::insert_dpop_jti` on the replay
    /// table `table`, with `$1` the key, `$2` its expiry and `$3` now: it
    /// returns a row only when it remembered the key. The default is one
    /// `INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING`.
    #[doc(hidden)]
    fn dpop_insert_statement(table: &str) -> String {
        queries::upsert_returning(table)
    }
}

/// How a dialect spells what the shared statements cannot write one way.
#[derive(Debug)]
pub struct Spelling {
    /// The function for the smaller of two values: `min`, `LEAST`.
    pub least: &'static str,
    /// An `=` that is true for two NULLs and false for one.
    pub null_safe_eq: &'static str,
    /// The column type of a 64-bit integer.
    pub integer: &'static str,
    /// The column type of a byte string.
    pub bytes: &'static str,
    /// What follows a `CREATE TABLE`'s column list (SQLite's ` STRICT`).
    pub table_options: &'static str,
    /// How a `SELECT` reads the `subject` column as text: `subject`, or
    /// MySQL's conversion of the bytes it keeps there.
    pub subject: &'static str,
}

pub(super) mod sealed {
    /// Keeps [`Dialect`](super::Dialect) implementable only in this crate.
    pub trait Sealed {}
}
