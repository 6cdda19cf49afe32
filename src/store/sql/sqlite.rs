//! [`Sqlite`], the SQLite dialect, and [`SqliteStore`] with its builder
//! (feature `sqlite`).

use std::str::FromStr;

use sqlx::error::DatabaseError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteQueryResult};
use time::Duration;

use super::dialect::{Spelling, sealed};
use super::error::{Judged, Link};
use super::migrate::Migration;
use super::options::{check_scheme, std_duration};
use super::{Dialect, SqlStore, SqlStoreBuilder};
use crate::error::{ConfigError, StoreErrorKind};

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
        subject: "subject",
    };

    const MIGRATIONS: &'static [Migration] = &[
        Migration::new(
            1,
            "sessions",
            include_str!("../../../migrations/sqlite/0001_sessions.sql"),
        ),
        Migration::new(
            2,
            "dpop",
            include_str!("../../../migrations/sqlite/0002_dpop.sql"),
        ),
        Migration::new(
            3,
            "auth_context",
            include_str!("../../../migrations/sqlite/0003_auth_context.sql"),
        ),
        Migration::new(
            4,
            "revocations",
            include_str!("../../../migrations/sqlite/0004_revocations.sql"),
        ),
        Migration::new(
            6,
            "dpop_replay",
            include_str!("../../../migrations/sqlite/0006_dpop_replay.sql"),
        ),
        Migration::new(
            7,
            "hot_rotations",
            include_str!("../../../migrations/sqlite/0007_hot_rotations.sql"),
        ),
    ];

    /// Given back: the statement runs on the connection's own thread and
    /// ends within the busy timeout, which sqlx's ping waits for; closing
    /// the last connection to a `sqlite::memory:` database would drop the
    /// database.
    const CUT_SHORT: Link = Link::Sound;

    const MAX_CONNECTIONS: u32 = 4;

    type Settings = SqliteSettings;

    /// A `sqlite:` URL, opened in WAL mode with the busy timeout, the file
    /// created if missing unless the URL says `mode=`.
    fn connect_options(
        url: &str,
        settings: &SqliteSettings,
    ) -> Result<SqliteConnectOptions, ConfigError> {
        // sqlx reads any other string as a file name, and would create it.
        check_scheme(url, &["sqlite"], "sqlite://sessions.db")?;
        let busy = std_duration(settings.busy_timeout, "busy_timeout")?;
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| ConfigError::with_source("invalid SQLite URL", e))?
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(busy);
        Ok(if url.contains("mode=") {
            options
        } else {
            options.create_if_missing(true)
        })
    }

    /// SQLite's result codes: the primary code is the low byte. Only a
    /// lock is worth retrying; the rest (a read-only file, a full disk, an
    /// I/O error, a constraint) is met again or needs a person.
    fn judge(err: &dyn DatabaseError) -> Judged {
        const ERROR: i32 = 1;
        const BUSY: i32 = 5;
        const LOCKED: i32 = 6;
        const READONLY: i32 = 8;
        let code = err.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
        match code & 0xff {
            // Another connection holds the lock past the busy timeout.
            BUSY | LOCKED => Judged::kind(StoreErrorKind::Unavailable),
            ERROR if err.message().starts_with("no such table") => Judged::missing_table(),
            READONLY => Judged::kind(StoreErrorKind::Other).hint("the database is read-only"),
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
/// if missing; its URL is `sqlite://path/to/file.db` or `sqlite::memory:`
/// (a database that lives as long as the store), and a URL of any other
/// scheme is refused. Run [`migrate`](SqlStore::migrate) once at start-up.
///
/// Every call has a deadline, the call timeout (default 10 s, see
/// [`SqlStore`]'s "Deadlines"): a write lock another connection or process
/// holds longer than the busy timeout fails the call with a retryable
/// error; past the call timeout the call fails even if SQLite is still
/// waiting for the lock, and the statement may then still commit when it
/// gets it (a lost answer, which the grace window covers).
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

/// Options for a [`SqliteStore`]: those of every SQL store, and SQLite's
/// [`busy_timeout`](SqlStoreBuilder::busy_timeout).
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub type SqliteStoreBuilder = SqlStoreBuilder<Sqlite>;

/// The settings only SQLite's builder has.
///
/// `pub` because the sealed `Dialect::Settings` names it; its module is
/// private.
#[derive(Debug, Clone)]
pub struct SqliteSettings {
    busy_timeout: Duration,
}

impl Default for SqliteSettings {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::seconds(5),
        }
    }
}

impl SqlStoreBuilder<Sqlite> {
    /// How long a statement waits for another connection's write lock
    /// before failing with a retryable error. Default 5 s; zero fails at
    /// once; at most a day. Used by [`connect`](Self::connect). The call
    /// timeout still bounds the whole call: past it the call fails even if
    /// SQLite goes on waiting, and may still commit when it gets the lock.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.settings.busy_timeout = timeout;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::store::sql::error::{Op, store_error};
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
            SqliteStore::builder().busy_timeout(Duration::days(2)),
            SqliteStore::builder().call_timeout(Duration::ZERO),
        ];
        for builder in bad {
            let result = builder.connect("sqlite::memory:").await;
            assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
        }
        for wrong in [
            "postgres://nobody@127.0.0.1:1/none",
            "/nonexistent/sessions.db",
        ] {
            let result = SqliteStore::connect(wrong).await;
            assert!(
                matches!(result, Err(Error::Config(_))),
                "{wrong}: {result:?}"
            );
        }
        let pool = SqlitePool::connect_lazy("sqlite::memory:").expect("lazy pool");
        let built = SqliteStore::builder().table_prefix("9x").build(pool);
        assert!(matches!(built, Err(Error::Config(_))));
    }
}
