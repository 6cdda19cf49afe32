//! Reading the feed: the head, the last id trimmed, the latest instant
//! trimmed, and the entries after a cursor, in one statement.

use sqlx::Database;
use time::OffsetDateTime;

use super::super::driver::{Driver, Statement};
use super::super::error::Op;
use super::super::{Dialect, SqlStore};
use crate::error::{StoreError, StoreErrorKind};
use crate::session::SessionId;
use crate::store::{CatchUp, Cursor, RevocationEvent, Revoked};

/// What one read of the feed found.
#[derive(Debug)]
pub(super) struct Read {
    pub(super) head: Cursor,
    trimmed: Cursor,
    /// The latest instant of an entry trimmed; `None` before any trim.
    trimmed_at: Option<OffsetDateTime>,
    events: Vec<RevocationEvent>,
}

impl Read {
    /// The answer to `since(cursor)`: too old when entries after it were
    /// trimmed (missed until the latest instant trimmed), or when it is
    /// past the head (no cursor this feed gave: no bound).
    pub(super) fn answer(self, cursor: Cursor) -> CatchUp {
        let head = self.head;
        if cursor > head {
            CatchUp::TooOld {
                head,
                missed_until: None,
            }
        } else if cursor < self.trimmed {
            CatchUp::TooOld {
                head,
                missed_until: self.trimmed_at,
            }
        } else {
            CatchUp::Events {
                events: self.events,
                head,
            }
        }
    }
}

/// Reads the feed after `cursor`.
///
/// # Errors
/// Past the call timeout; any failure of the database; `Corrupt` for an
/// unreadable entry; the head row missing (run `migrate`).
pub(super) async fn read<D: Dialect>(
    store: &SqlStore<D>,
    cursor: Cursor,
) -> Result<Read, StoreError> {
    // A cursor past what the column holds reads nothing, and is past the head.
    let after = i64::try_from(cursor.get()).unwrap_or(i64::MAX);
    let statement = store.statement(&store.feed.since).bind(after);
    let rows = store
        .call(Op::Feed, statement, Statement::fetch_all)
        .await?;
    let Some(first) = rows.first() else {
        return Err(StoreError::other(format!(
            "{} revocation feed: the head row is missing; run `migrate()`",
            D::NAME
        )));
    };
    let head = position::<D>(D::Database::int(first, 0), "head")?;
    let trimmed = position::<D>(D::Database::int(first, 1), "trimmed")?;
    let trimmed_at = D::Database::int(first, 2)
        .map_err(|e| bad::<D>("trimmed_at", e))?
        .map(|us| instant::<D>(Some(us), "trimmed_at"))
        .transpose()?;
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        if let Some(event) = event::<D>(row)? {
            events.push(event);
        }
    }
    Ok(Read {
        head,
        trimmed,
        trimmed_at,
        events,
    })
}

/// The entry in `row`, if the join found one.
fn event<D: Dialect>(
    row: &<D::Database as Database>::Row,
) -> Result<Option<RevocationEvent>, StoreError> {
    let read = |e| bad::<D>("row", e);
    let Some(id) = D::Database::int(row, 3).map_err(read)? else {
        return Ok(None);
    };
    let cursor = position::<D>(Ok(Some(id)), "id")?;
    let session = D::Database::bytes(row, 4).map_err(read)?;
    let subject = D::Database::text(row, 5).map_err(read)?;
    let except = D::Database::bytes(row, 6).map_err(read)?;
    let at = D::Database::int(row, 7).map_err(read)?;
    let revoked = match (session, subject) {
        (Some(id), None) if except.is_none() => Revoked::Session(session_id::<D>(id)?),
        (None, Some(subject)) => Revoked::Subject {
            subject: subject.to_owned(),
            except: except.map(session_id::<D>).transpose()?,
        },
        _ => return Err(corrupt::<D>("session_id")),
    };
    let at = instant::<D>(at, "at")?;
    Ok(Some(RevocationEvent {
        revoked,
        at,
        cursor,
    }))
}

fn position<D: Dialect>(
    value: Result<Option<i64>, sqlx::Error>,
    column: &'static str,
) -> Result<Cursor, StoreError> {
    match value {
        Ok(Some(n)) => u64::try_from(n)
            .map(Cursor::new)
            .map_err(|_| corrupt::<D>(column)),
        Ok(None) => Err(corrupt::<D>(column)),
        Err(e) => Err(bad::<D>(column, e)),
    }
}

/// The instant of a column of microseconds.
fn instant<D: Dialect>(
    micros: Option<i64>,
    column: &'static str,
) -> Result<OffsetDateTime, StoreError> {
    micros
        .and_then(|us| OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000).ok())
        .ok_or_else(|| corrupt::<D>(column))
}

fn session_id<D: Dialect>(bytes: &[u8]) -> Result<SessionId, StoreError> {
    <[u8; 16]>::try_from(bytes)
        .map(SessionId::from_bytes)
        .map_err(|_| corrupt::<D>("session_id"))
}

fn corrupt<D: Dialect>(column: &'static str) -> StoreError {
    StoreError::new(
        StoreErrorKind::Corrupt,
        format!("{} revocation row has an invalid `{column}`", D::NAME),
    )
}

fn bad<D: Dialect>(column: &'static str, err: sqlx::Error) -> StoreError {
    corrupt::<D>(column).with_source(err)
}
