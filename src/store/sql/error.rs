//! Store errors from sqlx errors: which failures a retry may get past, and
//! what the message says.

use std::borrow::Cow;

use sqlx::error::DatabaseError;

use super::Dialect;
use crate::error::{StoreError, StoreErrorKind};

/// What a database error means for the caller, as a dialect judges it.
///
/// `pub` because the sealed `Dialect::judge` returns it; its module is
/// private.
#[derive(Debug)]
pub struct Judged {
    /// Whether a retry may get past it, or what else it is.
    pub kind: StoreErrorKind,
    /// A hint for the message, e.g. that the table is missing.
    pub hint: Option<&'static str>,
}

impl Judged {
    /// A judgement without a hint.
    pub const fn kind(kind: StoreErrorKind) -> Self {
        Self { kind, hint: None }
    }

    /// The judgement of an error that says the sessions table is missing.
    pub const fn missing_table() -> Self {
        Self {
            kind: StoreErrorKind::Other,
            hint: Some("the table is missing; run `migrate()`"),
        }
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

/// A [`StoreError`] for a failed sqlx call on `D`'s database, keeping the
/// sqlx error as its source.
pub(super) fn store_error<D: Dialect>(op: Op, err: sqlx::Error) -> StoreError {
    classify(D::NAME, op, err, D::judge)
}

/// [`store_error`] with the dialect's parts spelled out, for tests that
/// need no database.
fn classify(
    backend: &str,
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

/// A session row the store cannot read back: `Corrupt`, naming the column.
pub(super) fn corrupt<D: Dialect>(column: &'static str) -> StoreError {
    StoreError::new(
        StoreErrorKind::Corrupt,
        format!("{} session row has an invalid `{column}`", D::NAME),
    )
}

/// A value this store cannot write (bad input; nothing was changed).
pub(super) fn unwritable<D: Dialect>(what: &'static str) -> StoreError {
    StoreError::other(format!("{} cannot store {what}", D::NAME))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::fake;

    fn never(_: &dyn DatabaseError) -> Judged {
        unreachable!("not a database error")
    }

    #[test]
    fn pool_and_connection_failures_are_retryable_with_the_source_kept() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        for err in [sqlx::Error::PoolTimedOut, sqlx::Error::Io(io)] {
            let e = classify("postgres", Op::Rotate, err, never);
            assert!(e.is_retryable(), "{e}");
            let source = std::error::Error::source(&e).expect("sqlx error kept");
            assert!(source.downcast_ref::<sqlx::Error>().is_some());
        }
        let e = classify("sqlite", Op::Get, sqlx::Error::RowNotFound, never);
        assert_eq!(e.kind(), StoreErrorKind::Other);
        assert_eq!(e.to_string(), "sqlite get failed");
    }

    #[test]
    fn a_judged_hint_ends_the_message() {
        let judge = |_: &dyn DatabaseError| Judged::missing_table();
        let e = classify("sqlite", Op::Get, fake::error("1", "x"), judge);
        assert_eq!(e.kind(), StoreErrorKind::Other);
        assert_eq!(
            e.to_string(),
            "sqlite get failed: the table is missing; run `migrate()`"
        );
    }
}
