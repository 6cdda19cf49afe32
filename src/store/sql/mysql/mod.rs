//! [`MySql`], the MySQL and MariaDB dialect, and [`MySqlStore`] with its
//! builder (feature `mysql`).

use std::str::FromStr;

use sqlx::error::DatabaseError;
use sqlx::mysql::{
    MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlPool, MySqlQueryResult,
};
use sqlx::{ConnectOptions as _, MySqlExecutor};

mod judge;

use super::dialect::{Spelling, sealed};
use super::error::{Judged, Link, Op, store_error};
use super::migrate::Migration;
use super::options::check_scheme;
use super::{Dialect, SqlStore, SqlStoreBuilder};
use crate::error::{ConfigError, StoreError, StoreErrorKind};
use judge::judge_number;

/// MySQL 8.0.16 or newer, or MariaDB 10.6 or newer, as the [`Dialect`] of
/// [`MySqlStore`].
///
/// # Rotation in one round trip
///
/// MySQL has no `UPDATE ... RETURNING`, and a prepared statement is one
/// statement. The migration therefore creates a stored procedure,
/// `{prefix}sessions_rotate`, and a rotation is one `CALL` of it (one
/// prepared statement, one round trip). In one transaction it runs the
/// compare-and-swap `UPDATE` (by primary key, at the expected generation
/// and secret hash, unrevoked and unexpired) and, only if that changed the
/// row, selects it; so a successful rotation returns the whole record, as
/// [`RefreshStore::rotate`](crate::store::RefreshStore::rotate) must (the
/// service signs the new tokens from its subject, claims and expiries,
/// which the caller does not know), and a refused one returns no row,
/// after which the service reads the session as with any store. The
/// `UPDATE` locks the row until the commit, so concurrent rotations of one
/// token take turns and the losers, re-reading the winner's row, match
/// nothing: exactly one wins, at READ COMMITTED and at REPEATABLE READ
/// (an `UPDATE` reads the latest committed row, whatever the isolation).
///
/// Affected rows: MySQL counts changed rows unless the client asks for
/// found rows; sqlx asks (`CLIENT_FOUND_ROWS`), and every statement of the
/// store changes each row it matches anyway (the generation, or the unset
/// `revoked_at`), so the counts are the same either way.
///
/// # Schema
///
/// Instants are `BIGINT` microseconds, as in the other SQL stores, so the
/// range and precision are theirs (`DATETIME(6)` would stop at the year
/// 9999 and a `TIMESTAMP` at 2038). The subject is kept as bytes and
/// compared byte for byte: MySQL's text collations ignore case, or trailing
/// spaces (`utf8mb4_bin` is PAD SPACE), which could make `alice ` match
/// `alice`. The migration needs the `CREATE ROUTINE` privilege; the
/// application's user needs `EXECUTE` on the procedure (it runs with the
/// caller's rights, `SQL SECURITY INVOKER`).
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MySql;

impl sealed::Sealed for MySql {}

impl Dialect for MySql {
    type Database = sqlx::MySql;

    const NAME: &'static str = "mysql";

    const SPELLING: Spelling = Spelling {
        least: "LEAST",
        null_safe_eq: "<=>",
        integer: "BIGINT",
        bytes: "BLOB",
        // A transactional engine whatever the server's default, and text
        // that holds any Unicode.
        table_options: " ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
        subject: "CONVERT(subject USING utf8mb4)",
    };

    const MIGRATIONS: &'static [Migration] = &[
        Migration::new(
            1,
            "sessions",
            include_str!("../../../../migrations/mysql/0001_sessions.sql"),
        ),
        Migration::new(
            2,
            "dpop",
            include_str!("../../../../migrations/mysql/0002_dpop.sql"),
        ),
        Migration::new(
            3,
            "auth_context",
            include_str!("../../../../migrations/mysql/0003_auth_context.sql"),
        ),
        Migration::new(
            4,
            "revocations",
            include_str!("../../../../migrations/mysql/0004_revocations.sql"),
        ),
        Migration::new(
            6,
            "dpop_replay",
            include_str!("../../../../migrations/mysql/0006_dpop_replay.sql"),
        ),
        Migration::new(
            7,
            "hot_rotations",
            include_str!("../../../../migrations/mysql/0007_hot_rotations.sql"),
        ),
    ];

    /// Closed: to give it back, sqlx would wait for the statement's answer,
    /// from a server that may be frozen or cut off.
    const CUT_SHORT: Link = Link::Unfit;

    /// See `SqlStoreBuilder::max_connections` for why 16.
    const MAX_CONNECTIONS: u32 = 16;

    type Settings = ();

    /// A `mysql:` or `mariadb:` URL, as sqlx reads it.
    fn connect_options(url: &str, _settings: &()) -> Result<MySqlConnectOptions, ConfigError> {
        check_scheme(url, &["mysql", "mariadb"], "mysql://app@db.internal/app")?;
        MySqlConnectOptions::from_str(url)
            .map_err(|e| ConfigError::with_source("invalid MySQL URL", e))
    }

    /// MySQL's and MariaDB's error numbers (see [`judge_number`]).
    fn judge(err: &dyn DatabaseError) -> Judged {
        match err.try_downcast_ref::<MySqlDatabaseError>() {
            Some(e) => judge_number(e.number()),
            None => Judged::kind(StoreErrorKind::Other),
        }
    }

    fn rows_affected(done: &MySqlQueryResult) -> u64 {
        done.rows_affected()
    }

    /// A plain transaction: MySQL commits around DDL, so the lock is
    /// [`lock_migrations`](Self::lock_migrations)'s, held for the run.
    async fn begin_migration(
        pool: &MySqlPool,
        _prefix: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::MySql>, sqlx::Error> {
        pool.begin().await
    }

    /// `GET_LOCK` on a connection of its own, outside the pool (a pool of
    /// one connection would otherwise wait for itself). Named locks are
    /// the server's, not the database's, so the name is a hash of the
    /// database and the prefix: 64 characters, MySQL's limit.
    async fn lock_migrations(
        pool: &MySqlPool,
        prefix: &str,
    ) -> Result<Option<MySqlConnection>, StoreError> {
        let err = |e| store_error::<Self>(Op::Migrate, e);
        let mut connection = pool.connect_options().connect().await.map_err(err)?;
        let got = take_lock(&mut connection, prefix).await.map_err(err)?;
        if got != Some(1) {
            return Err(StoreError::unavailable(format!(
                "mysql migrate: another runner held the migration lock for over {LOCK_WAIT_SECONDS} s"
            )));
        }
        Ok(Some(connection))
    }

    fn placeholders(statement: String) -> String {
        question_marks(&statement)
    }

    /// One `CALL` of the procedure the migration creates, with the
    /// parameters of the default statement (`$1..$14`) in their order.
    fn rotate_statement(table: &str) -> String {
        let parameters = ["?"; 14].join(", ");
        format!("CALL {table}_rotate({parameters})")
    }

    /// One `CALL` of the procedure migration 6 creates.
    fn dpop_insert_statement(table: &str) -> String {
        format!("CALL {table}_insert($1, $2, $3)")
    }
}

/// How long `migrate` waits for another runner's migration lock: a day,
/// as long as a call may be given.
const LOCK_WAIT_SECONDS: i64 = 86_400;

/// `GET_LOCK`'s answer: 1 got, 0 timed out, NULL on error.
async fn take_lock(on: impl MySqlExecutor<'_>, prefix: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT GET_LOCK(SHA2(CONCAT('jwt-rotate/migrate/', DATABASE(), '/', ?), 256), ?)",
    )
    .bind(prefix)
    .bind(LOCK_WAIT_SECONDS)
    .fetch_one(on)
    .await
}

/// `statement` with each `$N` replaced by `?`: the shared statements use
/// each parameter once, in order, so positions line up.
fn question_marks(statement: &str) -> String {
    let mut out = String::with_capacity(statement.len());
    let mut chars = statement.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.next_if(char::is_ascii_digit).is_some() {}
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Sessions in MySQL or MariaDB, shared by every instance of the service.
///
/// One row per session. A refresh is one `CALL` of a stored procedure the
/// migration creates: one round trip, and exactly one of any number of
/// concurrent refreshes of one token wins (see [`MySql`] for how). Its URL
/// is `mysql://` or `mariadb://`; a URL of any other scheme is refused.
/// Run [`migrate`](SqlStore::migrate) once at start-up. Tested on MariaDB
/// 10.11; written for MySQL 8.0.16+ (enforced `CHECK`s) and MariaDB 10.6+.
///
/// # Timeouts: the store's and the server's
///
/// Every call has a deadline, the call timeout (default 10 s, see
/// [`SqlStore`]'s "Deadlines"), which also covers a server that stopped
/// answering. The client gives up then; the server does not know, and a
/// statement still waiting there may commit later (a lost answer, which
/// the grace window covers).
///
/// A transaction elsewhere holding a session's row lock makes refreshes of
/// that session wait up to `innodb_lock_wait_timeout`, 50 s by default:
/// longer than the call timeout. Set it below the call timeout (`SET
/// GLOBAL innodb_lock_wait_timeout = 5`, or per connection in a pool of
/// your own, see [`from_pool`](SqlStore::from_pool)): the server then ends
/// the wait itself, the call fails sooner with a retryable error, and
/// nothing commits late. Lock wait timeouts and deadlocks (1205, 1213) are
/// retryable errors here, as are statement timeouts (MySQL's
/// `max_execution_time`, MariaDB's `max_statement_time`).
///
/// Instants are kept to the microsecond. Cloning is cheap and shares the
/// pool. Like sqlx, it needs a Tokio runtime with I/O and timers enabled.
/// TLS: sqlx is built without it here; add `sqlx` with a `tls-*` feature to
/// your own dependencies to turn it on.
///
/// ```no_run
/// use jwt_rotate::{Key, TokenService};
/// use jwt_rotate::store::MySqlStore;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MySqlStore::connect("mysql://app:secret@db.internal/app").await?;
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
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub type MySqlStore = SqlStore<MySql>;

/// Options for a [`MySqlStore`]: those of every SQL store (see
/// [`SqlStoreBuilder`]).
///
/// ```no_run
/// use jwt_rotate::store::MySqlStore;
/// use time::Duration;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MySqlStore::builder()
///     .table_prefix("auth_")
///     .max_connections(20)
///     .call_timeout(Duration::seconds(5))
///     .connect("mariadb://app:secret@db.internal/app")
///     .await?;
/// store.migrate().await?;
/// assert_eq!(store.table(), "auth_sessions");
/// # Ok(())
/// # }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub type MySqlStoreBuilder = SqlStoreBuilder<MySql>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::store::sql::error::judge;
    use crate::store::sql::fake;
    use crate::store::sql::queries::Queries;
    use time::Duration;

    #[test]
    fn placeholders_become_question_marks_in_order() {
        assert_eq!(
            question_marks("a = $1 AND b = $2 OR c = $10 AND d = '$x' AND $"),
            "a = ? AND b = ? OR c = ? AND d = '$x' AND $"
        );
        let q = Queries::new::<MySql>("app_");
        for statement in [&q.insert, &q.get, &q.revoke, &q.revoke_subject, &q.purge] {
            assert!(!statement.as_str().contains('$'), "{}", statement.as_str());
        }
        assert_eq!(q.insert.as_str().matches('?').count(), 22);
        assert!(q.revoke_subject.as_str().contains("NOT (id <=> ?)"));
        assert!(
            q.get
                .as_str()
                .starts_with("SELECT id, CONVERT(subject USING utf8mb4), generation")
        );
    }

    #[test]
    fn rotation_is_one_call_of_the_migrated_procedure() {
        let q = Queries::new::<MySql>("app_");
        assert_eq!(
            q.rotate.as_str(),
            "CALL app_sessions_rotate(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
    }

    #[test]
    fn errors_of_other_databases_are_permanent() {
        // Not a MySQL error: nothing says a retry could pass it.
        let judged = judge::<MySql>(Op::Rotate, &fake::error("40001", "x"));
        assert_eq!(judged.kind, StoreErrorKind::Other);
        let unique = store_error::<MySql>(Op::Create, fake::unique("23000"));
        assert_eq!(unique.kind(), StoreErrorKind::AlreadyExists);
    }

    #[tokio::test]
    async fn invalid_options_are_configuration_errors() {
        let url = "mysql://nobody@127.0.0.1:1/none";
        let bad = [
            MySqlStore::builder().table_prefix("x;drop table users;"),
            MySqlStore::builder().max_connections(0),
            MySqlStore::builder().acquire_timeout(Duration::seconds(-5)),
            MySqlStore::builder().call_timeout(Duration::ZERO),
        ];
        for builder in bad {
            let result = builder.connect(url).await;
            assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
        }
        for wrong in ["postgres://nobody@127.0.0.1:1/none", "sqlite://sessions.db"] {
            let result = MySqlStore::connect(wrong).await;
            assert!(
                matches!(result, Err(Error::Config(_))),
                "{wrong}: {result:?}"
            );
        }
        assert!(MySql::connect_options("mariadb://app@db/app", &()).is_ok());
        assert!(MySql::connect_options("mysql://app@db:port/app", &()).is_err());
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_retryable_store_error() {
        let result = MySqlStore::builder()
            .acquire_timeout(Duration::milliseconds(200))
            .connect("mysql://nobody@127.0.0.1:1/none")
            .await;
        match result {
            Err(Error::Store(e)) => assert!(e.is_retryable(), "{e:?}"),
            other => panic!("expected a retryable store error, got {other:?}"),
        }
    }
}
