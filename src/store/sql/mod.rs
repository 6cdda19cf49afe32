//! What `SqliteStore` and `PostgresStore` share: the table prefix, the
//! statements (one text for both databases but for two spellings), row
//! encoding and decoding, error mapping, and the migration runner's parts.
//!
//! Both drivers take `$1`-style parameters (sqlx's SQLite driver reads `$N`
//! as the N-th argument), so each statement is written once here.

use std::borrow::Cow;
use std::sync::Arc;

use sqlx::error::DatabaseError;
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use crate::error::{ConfigError, StoreError, StoreErrorKind};

pub(super) mod migrate;
mod refresh_store;
pub(super) mod row;

pub(super) use refresh_store::impl_refresh_store;

/// The table prefix when none is set.
pub(super) const DEFAULT_PREFIX: &str = "jwt_rotate_";

/// The longest prefix accepted: PostgreSQL truncates identifiers past 63
/// bytes, and the longest name derived from it adds 16.
const MAX_PREFIX: usize = 40;

/// The columns of a session row, in the order [`row::decode`] reads them.
const COLUMNS: &str = "id, subject, generation, secret_hash, \
    prev_generation, prev_secret_hash, prev_rotated_at, prev_wrapped_secret, \
    created_at, refreshed_at, idle_expires_at, absolute_expires_at, \
    revoked_at, revoked_reason, claims, user_agent, ip, label";

/// Where the two databases spell a statement differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    /// SQLite 3.35 or newer (for `RETURNING`).
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite,
    /// PostgreSQL.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
}

impl Dialect {
    /// The backend's name, for error messages.
    pub(super) const fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// The smaller of two values (an expression the purge index is built on).
    const fn least(self) -> &'static str {
        match self {
            Self::Sqlite => "min",
            Self::Postgres => "LEAST",
        }
    }

    /// A null-safe `<>`: true when the right side is NULL.
    const fn distinct(self) -> &'static str {
        match self {
            Self::Sqlite => "IS NOT",
            Self::Postgres => "IS DISTINCT FROM",
        }
    }
}

/// A valid table prefix: lowercase ASCII letters, digits and `_`, not
/// starting with a digit, at most 40 bytes; empty is allowed.
///
/// It is pasted into SQL as part of identifiers, so nothing else may pass.
pub(super) fn check_prefix(prefix: &str) -> Result<(), ConfigError> {
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if prefix.len() > MAX_PREFIX {
        return Err(ConfigError::new("table prefix longer than 40 bytes"));
    }
    if !prefix.chars().all(valid_char) || prefix.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(ConfigError::new(
            "table prefix must be lowercase ASCII letters, digits and `_`, not starting with a digit",
        ));
    }
    Ok(())
}

/// The statements of one store, built once for its prefix.
#[derive(Debug)]
pub(super) struct Queries {
    pub(super) prefix: String,
    pub(super) table: String,
    pub(super) insert: SqlStr,
    pub(super) get: SqlStr,
    pub(super) rotate: SqlStr,
    pub(super) revoke: SqlStr,
    pub(super) revoke_subject: SqlStr,
    pub(super) sessions: SqlStr,
    pub(super) purge: SqlStr,
}

impl Queries {
    /// The statements for tables named with `prefix`, which must have passed
    /// [`check_prefix`].
    pub(super) fn new(dialect: Dialect, prefix: &str) -> Arc<Self> {
        let t = format!("{prefix}sessions");
        let sql = |text: String| AssertSqlSafe(Arc::<str>::from(text)).into_sql_str();
        let insert = sql(format!(
            "INSERT INTO {t} ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ));
        let get = sql(format!("SELECT {COLUMNS} FROM {t} WHERE id = $1"));
        // The whole compare-and-swap in one statement: one round trip, and
        // the database's row lock makes concurrent ones take turns (the
        // losers re-check the WHERE against the winner's row and match
        // nothing).
        let rotate = sql(format!(
            "UPDATE {t} SET generation = $5, secret_hash = $6, \
             prev_generation = $7, prev_secret_hash = $8, prev_rotated_at = $9, \
             prev_wrapped_secret = $10, refreshed_at = $4, idle_expires_at = $11, \
             claims = COALESCE($12, claims) \
             WHERE id = $1 AND generation = $2 AND secret_hash = $3 AND revoked_at IS NULL \
             AND idle_expires_at > $4 AND absolute_expires_at > $4 \
             RETURNING {COLUMNS}"
        ));
        let revoke = sql(format!(
            "UPDATE {t} SET revoked_at = $2, revoked_reason = $3 \
             WHERE id = $1 AND revoked_at IS NULL"
        ));
        let revoke_subject = sql(format!(
            "UPDATE {t} SET revoked_at = $3, revoked_reason = $4 \
             WHERE subject = $1 AND revoked_at IS NULL AND id {} $2",
            dialect.distinct()
        ));
        let sessions = sql(format!(
            "SELECT {COLUMNS} FROM {t} WHERE subject = $1 AND revoked_at IS NULL"
        ));
        let purge = sql(format!(
            "DELETE FROM {t} WHERE {}(idle_expires_at, absolute_expires_at) <= $1",
            dialect.least()
        ));
        Arc::new(Self {
            prefix: prefix.to_owned(),
            table: t,
            insert,
            get,
            rotate,
            revoke,
            revoke_subject,
            sessions,
            purge,
        })
    }
}

/// What a database error means for the caller, as a backend judges it.
pub(super) struct Judged {
    pub(super) kind: StoreErrorKind,
    /// A hint for the message, e.g. that the table is missing.
    pub(super) hint: Option<&'static str>,
}

impl Judged {
    pub(super) const fn kind(kind: StoreErrorKind) -> Self {
        Self { kind, hint: None }
    }
}

/// The store operation that failed, for the error message; `Create` also
/// turns a unique violation into `AlreadyExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Create,
    Get,
    Rotate,
    Revoke,
    RevokeSubject,
    Sessions,
    Purge,
    Connect,
    Migrate,
}

impl Op {
    const fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Get => "get",
            Self::Rotate => "rotate",
            Self::Revoke => "revoke",
            Self::RevokeSubject => "revoke_subject",
            Self::Sessions => "sessions",
            Self::Purge => "purge_expired",
            Self::Connect => "connect",
            Self::Migrate => "migrate",
        }
    }
}

/// A [`StoreError`] for a failed sqlx call, keeping the sqlx error as its
/// source. `judge` classifies the database's own error codes.
pub(super) fn store_error(
    dialect: Dialect,
    op: Op,
    err: sqlx::Error,
    judge: fn(&dyn DatabaseError) -> Judged,
) -> StoreError {
    use sqlx::Error as E;
    let judged = match &err {
        E::Database(db) if op == Op::Create && db.is_unique_violation() => {
            Judged::kind(StoreErrorKind::AlreadyExists)
        }
        E::Database(db) => judge(db.as_ref()),
        // The connection or the pool, not the statement: later may work.
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
            Judged::kind(StoreErrorKind::Unavailable)
        }
        E::ColumnDecode { .. } | E::Decode(_) => Judged::kind(StoreErrorKind::Corrupt),
        _ => Judged::kind(StoreErrorKind::Other),
    };
    let backend = dialect.name();
    let what = op.name();
    let mut message: Cow<'static, str> = match judged.kind {
        StoreErrorKind::AlreadyExists => "session id already exists".into(),
        StoreErrorKind::Unavailable => format!("{backend} unavailable ({what})").into(),
        StoreErrorKind::Corrupt => {
            format!("{backend} returned an unreadable session ({what})").into()
        }
        _ => format!("{backend} {what} failed").into(),
    };
    if let Some(hint) = judged.hint {
        message = format!("{message}: {hint}").into();
    }
    StoreError::new(judged.kind, message).with_source(err)
}

/// A `time` duration as the `std` one sqlx takes.
///
/// # Errors
/// A negative duration.
pub(super) fn std_duration(
    duration: time::Duration,
    name: &'static str,
) -> Result<std::time::Duration, ConfigError> {
    std::time::Duration::try_from(duration)
        .map_err(|_| ConfigError::new(format!("{name} must not be negative")))
}

/// A session row the store cannot read back: `Corrupt`, naming the column.
pub(super) fn corrupt(dialect: Dialect, column: &'static str) -> StoreError {
    StoreError::new(
        StoreErrorKind::Corrupt,
        format!("{} session row has an invalid `{column}`", dialect.name()),
    )
}

/// A value this store cannot write (bad input; nothing was changed).
pub(super) fn unwritable(dialect: Dialect, what: &'static str) -> StoreError {
    StoreError::other(format!("{} cannot store {what}", dialect.name()))
}

/// A database error made up for tests of the backends' `judge`.
#[cfg(test)]
pub(super) mod fake {
    use std::borrow::Cow;
    use std::error::Error as StdError;
    use std::fmt;

    use sqlx::error::{DatabaseError, ErrorKind};

    #[derive(Debug)]
    struct Fake {
        code: &'static str,
        message: &'static str,
        kind: ErrorKind,
    }

    impl fmt::Display for Fake {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{} ({})", self.message, self.code)
        }
    }

    impl StdError for Fake {}

    impl DatabaseError for Fake {
        fn message(&self) -> &str {
            self.message
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(self.code.into())
        }
        fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            match self.kind {
                ErrorKind::UniqueViolation => ErrorKind::UniqueViolation,
                _ => ErrorKind::Other,
            }
        }
    }

    /// A database error with this code and message.
    pub(in crate::store) fn error(code: &'static str, message: &'static str) -> sqlx::Error {
        let kind = ErrorKind::Other;
        sqlx::Error::Database(Box::new(Fake {
            code,
            message,
            kind,
        }))
    }

    /// A unique violation with this code.
    pub(in crate::store) fn unique(code: &'static str) -> sqlx::Error {
        let kind = ErrorKind::UniqueViolation;
        let message = "duplicate key";
        sqlx::Error::Database(Box::new(Fake {
            code,
            message,
            kind,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_that_could_change_the_sql_are_refused() {
        for good in ["", "jwt_rotate_", "app1_", "_x", "a"] {
            assert!(check_prefix(good).is_ok(), "{good:?}");
        }
        let long = "a".repeat(MAX_PREFIX + 1);
        for bad in [
            "Jwt_", "1app_", "app-", "app.", "a b", "x;drop", "é_", "a\"", &long,
        ] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
        assert!(check_prefix(&"a".repeat(MAX_PREFIX)).is_ok());
    }

    #[test]
    fn statements_name_the_prefixed_table() {
        let q = Queries::new(Dialect::Postgres, "app_");
        assert_eq!(q.table, "app_sessions");
        assert!(q.rotate.as_str().starts_with("UPDATE app_sessions SET"));
        assert!(q.purge.as_str().contains("LEAST("));
        assert!(q.revoke_subject.as_str().contains("IS DISTINCT FROM $2"));
        let q = Queries::new(Dialect::Sqlite, "");
        assert!(q.get.as_str().ends_with("FROM sessions WHERE id = $1"));
        assert!(q.purge.as_str().contains("min("));
        assert!(q.revoke_subject.as_str().contains("id IS NOT $2"));
    }

    #[test]
    fn pool_and_connection_failures_are_retryable_with_the_source_kept() {
        fn never(_: &dyn DatabaseError) -> Judged {
            unreachable!("not a database error")
        }
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        for err in [sqlx::Error::PoolTimedOut, sqlx::Error::Io(io)] {
            let e = store_error(Dialect::Postgres, Op::Rotate, err, never);
            assert!(e.is_retryable(), "{e}");
            let source = std::error::Error::source(&e).expect("sqlx error kept");
            assert!(source.downcast_ref::<sqlx::Error>().is_some());
        }
        let e = store_error(Dialect::Sqlite, Op::Get, sqlx::Error::RowNotFound, never);
        assert_eq!(e.kind(), StoreErrorKind::Other);
        assert_eq!(e.to_string(), "sqlite get failed");
    }
}
