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
    /// What it says of the connection it happened on.
    pub link: Link,
}

/// What a failure says of the connection it happened on: whether the pool
/// may lend it again, and whether its other connections may be dead too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The connection is fine: the statement failed, not the connection.
    Sound,
    /// Close it: its state is unknown (a call cut short), or it reaches a
    /// server that will refuse the same again (a read-only standby), where
    /// a new connection may reach another.
    Unfit,
    /// The server ended it or the line dropped (a restart, a crash, an
    /// idle timeout): close it, and test the pool's connections that were
    /// idle meanwhile before lending them again, as they likely ended too.
    Lost,
}

impl Judged {
    /// A judgement without a hint, on a sound connection.
    pub const fn kind(kind: StoreErrorKind) -> Self {
        Self {
            kind,
            hint: None,
            link: Link::Sound,
        }
    }

    /// A lost connection: retryable, on a new one.
    pub const fn lost() -> Self {
        Self {
            kind: StoreErrorKind::Unavailable,
            hint: None,
            link: Link::Lost,
        }
    }

    /// The judgement of an error that says the sessions table is missing.
    pub const fn missing_table() -> Self {
        Self::kind(StoreErrorKind::Other).hint("the table is missing; run `migrate()`")
    }

    /// This judgement with `hint` for the message.
    pub const fn hint(self, hint: &'static str) -> Self {
        Self {
            hint: Some(hint),
            ..self
        }
    }

    /// This judgement, with the connection to be closed.
    pub const fn unfit(self) -> Self {
        Self {
            link: Link::Unfit,
            ..self
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
    InsertDpopJti,
    Connect,
    Migrate,
    /// Reading the revocation feed (`since`, `subscribe`).
    Feed,
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
            Self::InsertDpopJti => "insert_dpop_jti",
            Self::Connect => "connect",
            Self::Migrate => "migrate",
            Self::Feed => "revocation feed",
        }
    }
}

/// A [`StoreError`] for a failed sqlx call on `D`'s database, keeping the
/// sqlx error as its source.
pub(super) fn store_error<D: Dialect>(op: Op, err: sqlx::Error) -> StoreError {
    let judged = judge::<D>(op, &err);
    describe(D::NAME, op, judged, err)
}

/// What a failed sqlx call on `D`'s database means.
pub(super) fn judge<D: Dialect>(op: Op, err: &sqlx::Error) -> Judged {
    classify(op, err, D::judge)
}

/// [`judge`] with the dialect's judge passed in, for tests that need no
/// database.
fn classify(op: Op, err: &sqlx::Error, judge: fn(&dyn DatabaseError) -> Judged) -> Judged {
    use sqlx::Error as E;
    match err {
        E::Database(db) if op == Op::Create && db.is_unique_violation() => {
            Judged::kind(StoreErrorKind::AlreadyExists)
        }
        E::Database(db) => judge(db.as_ref()),
        // The line or the worker thread, not the statement: a new
        // connection may work.
        E::Io(_) | E::WorkerCrashed => Judged::lost(),
        // No connection to be had now; later may work (a closed pool
        // means this instance is shutting down: another may answer).
        E::PoolTimedOut | E::PoolClosed => Judged::kind(StoreErrorKind::Unavailable),
        // sqlx raises these for certificates and TLS settings it cannot
        // use, which every retry meets again; a line cut mid-handshake is
        // `Io`.
        E::Tls(_) => Judged::kind(StoreErrorKind::Other).hint("TLS failed; check its settings"),
        // A message sqlx did not expect: a bug, and the connection's state
        // is unknown.
        E::Protocol(_) => Judged::kind(StoreErrorKind::Other).unfit(),
        E::ColumnDecode { .. } | E::Decode(_) => Judged::kind(StoreErrorKind::Corrupt),
        _ => Judged::kind(StoreErrorKind::Other),
    }
}

/// The [`StoreError`] for `err`, judged as `judged`, in `op` on `backend`.
pub(super) fn describe(backend: &str, op: Op, judged: Judged, err: sqlx::Error) -> StoreError {
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

/// A call of `op` on `D`'s database that passed its deadline, `after`:
/// retryable, as a frozen server or a held lock may be gone by the retry.
pub(super) fn timed_out<D: Dialect>(op: Op, after: std::time::Duration) -> StoreError {
    StoreError::unavailable(format!(
        "{} {} timed out after {after:?}",
        D::NAME,
        op.name()
    ))
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

    fn error(op: Op, err: sqlx::Error, judge: fn(&dyn DatabaseError) -> Judged) -> StoreError {
        let judged = classify(op, &err, judge);
        describe("sqlite", op, judged, err)
    }

    #[test]
    fn pool_and_connection_failures_are_retryable_with_the_source_kept() {
        let io = || std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        for err in [sqlx::Error::PoolTimedOut, sqlx::Error::Io(io())] {
            let e = error(Op::Rotate, err, never);
            assert!(e.is_retryable(), "{e}");
            let source = std::error::Error::source(&e).expect("sqlx error kept");
            assert!(source.downcast_ref::<sqlx::Error>().is_some());
        }
        assert_eq!(
            classify(Op::Get, &sqlx::Error::Io(io()), never).link,
            Link::Lost
        );
        assert_eq!(
            classify(Op::Get, &sqlx::Error::PoolTimedOut, never).link,
            Link::Sound
        );
        let e = error(Op::Get, sqlx::Error::RowNotFound, never);
        assert_eq!(e.kind(), StoreErrorKind::Other);
        assert_eq!(e.to_string(), "sqlite get failed");
    }

    #[test]
    fn tls_and_protocol_failures_are_permanent() {
        let tls = sqlx::Error::Tls("invalid certificate".into());
        let e = error(Op::Connect, tls, never);
        assert!(!e.is_retryable(), "{e}");
        let protocol = sqlx::Error::Protocol("unexpected message".into());
        let judged = classify(Op::Get, &protocol, never);
        assert_eq!(
            (judged.kind, judged.link),
            (StoreErrorKind::Other, Link::Unfit)
        );
    }

    #[test]
    fn a_judged_hint_ends_the_message() {
        let judge = |_: &dyn DatabaseError| Judged::missing_table();
        let e = error(Op::Get, fake::error("1", "x"), judge);
        assert_eq!(e.kind(), StoreErrorKind::Other);
        assert_eq!(
            e.to_string(),
            "sqlite get failed: the table is missing; run `migrate()`"
        );
    }
}
