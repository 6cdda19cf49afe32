//! Sessions to SQL values and back, for both databases.
//!
//! Instants are integer microseconds since the Unix epoch (what both
//! databases' own time types keep; finer parts are dropped), ids and hashes
//! raw bytes, the generation a signed 64-bit integer. Reading checks every
//! column a constraint does not, so a damaged row is `Corrupt`, never a
//! panic and never a wrong session.

use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Row, Type};
use time::OffsetDateTime;

use super::{Dialect, corrupt, unwritable};
use crate::error::StoreError;
use crate::session::{GraceData, Revocation, SessionId, SessionInfo, SessionRecord};
use crate::session::{SecretHash, WrappedSecret};
use crate::store::{ExpectedGeneration, RotationUpdate};

/// An instant as integer microseconds since the epoch (rounded down).
///
/// # Errors
/// An instant too far from 1970 for 64 bits of microseconds (only possible
/// with `time`'s `large-dates`).
pub(in crate::store) fn micros(dialect: Dialect, at: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1000))
        .map_err(|_| unwritable(dialect, "an instant that far from 1970"))
}

/// A generation as the signed integer both databases keep.
///
/// # Errors
/// A generation above `i64::MAX`.
pub(in crate::store) fn generation(dialect: Dialect, generation: u64) -> Result<i64, StoreError> {
    i64::try_from(generation).map_err(|_| unwritable(dialect, "a generation above 2^63 - 1"))
}

fn instant(dialect: Dialect, column: &'static str, us: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|_| corrupt(dialect, column))
}

/// Binds every column of `record`, in the order of `INSERT`'s `$1..$18`.
///
/// # Errors
/// A value this store cannot write (see [`micros`], [`generation`]).
pub(in crate::store) fn bind_record<'q, DB>(
    dialect: Dialect,
    query: Query<'q, DB, DB::Arguments>,
    record: &SessionRecord,
) -> Result<Query<'q, DB, DB::Arguments>, StoreError>
where
    DB: Database,
    i64: for<'a> Encode<'a, DB> + Type<DB>,
    Option<i64>: for<'a> Encode<'a, DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a [u8]>: Encode<'a, DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    String: Type<DB>,
    Option<String>: for<'a> Encode<'a, DB>,
{
    let us = |at| micros(dialect, at);
    let previous = record.previous.as_ref();
    let prev_generation = match previous {
        Some(p) => Some(generation(dialect, p.generation)?),
        None => None,
    };
    let prev_rotated_at = previous.map(|p| us(p.rotated_at)).transpose()?;
    let revoked_at = record.revoked.map(|r| us(r.at)).transpose()?;
    let info = &record.info;
    Ok(query
        .bind(&record.id.as_bytes()[..])
        .bind(record.subject.as_str())
        .bind(generation(dialect, record.generation)?)
        .bind(&record.secret_hash.as_bytes()[..])
        .bind(prev_generation)
        .bind(previous.map(|p| &p.secret_hash.as_bytes()[..]))
        .bind(prev_rotated_at)
        .bind(previous.map(|p| &p.wrapped_secret.as_bytes()[..]))
        .bind(us(record.created_at)?)
        .bind(us(record.refreshed_at)?)
        .bind(us(record.idle_expires_at)?)
        .bind(us(record.absolute_expires_at)?)
        .bind(revoked_at)
        .bind(record.revoked.map(|r| r.reason.as_str()))
        .bind(record.claims_json.as_str())
        .bind(info.user_agent.as_deref())
        .bind(info.ip.map(|ip| ip.to_string()))
        .bind(info.label.as_deref()))
}

/// Binds `rotate`'s `$1..$12`: the id, what is expected, and the change.
///
/// # Errors
/// A value this store cannot write. A stored row can never hold an
/// expected generation above `i64::MAX`: the caller answers "no match".
pub(in crate::store) fn bind_rotation<'q, DB>(
    dialect: Dialect,
    query: Query<'q, DB, DB::Arguments>,
    id: &SessionId,
    expected: &ExpectedGeneration,
    next: &RotationUpdate,
) -> Result<Query<'q, DB, DB::Arguments>, StoreError>
where
    DB: Database,
    i64: for<'a> Encode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
{
    let us = |at| micros(dialect, at);
    let previous = &next.previous;
    Ok(query
        .bind(&id.as_bytes()[..])
        .bind(generation(dialect, expected.generation)?)
        .bind(&expected.secret_hash.as_bytes()[..])
        .bind(us(next.refreshed_at)?)
        .bind(generation(dialect, next.generation)?)
        .bind(&next.secret_hash.as_bytes()[..])
        .bind(generation(dialect, previous.generation)?)
        .bind(&previous.secret_hash.as_bytes()[..])
        .bind(us(previous.rotated_at)?)
        .bind(&previous.wrapped_secret.as_bytes()[..])
        .bind(us(next.idle_expires_at)?)
        .bind(next.claims_json.as_deref()))
}

/// Reads a row of the columns `COLUMNS` names, in that order.
///
/// # Errors
/// `Corrupt`, naming the column, for any value no session could have
/// written (wrong length, unknown reason, half-set grace data...).
pub(in crate::store) fn decode<'r, R>(
    dialect: Dialect,
    row: &'r R,
) -> Result<SessionRecord, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    &'r [u8]: Decode<'r, R::Database> + Type<R::Database>,
    &'r str: Decode<'r, R::Database> + Type<R::Database>,
{
    let cols = Columns { dialect, row };
    let bytes16 = |i, name| -> Result<[u8; 16], StoreError> {
        <[u8; 16]>::try_from(cols.get::<&[u8]>(i, name)?).map_err(|_| corrupt(dialect, name))
    };
    let hash = |bytes: &[u8], name| -> Result<[u8; 32], StoreError> {
        <[u8; 32]>::try_from(bytes).map_err(|_| corrupt(dialect, name))
    };
    let at = |i, name| instant(dialect, name, cols.get::<i64>(i, name)?);
    let gen_of = |n: i64, name| u64::try_from(n).map_err(|_| corrupt(dialect, name));

    let previous = match (
        cols.get::<Option<i64>>(4, "prev_generation")?,
        cols.get::<Option<&[u8]>>(5, "prev_secret_hash")?,
        cols.get::<Option<i64>>(6, "prev_rotated_at")?,
        cols.get::<Option<&[u8]>>(7, "prev_wrapped_secret")?,
    ) {
        (None, None, None, None) => None,
        (Some(g), Some(h), Some(t), Some(w)) => Some(GraceData {
            generation: gen_of(g, "prev_generation")?,
            secret_hash: SecretHash::from_bytes(hash(h, "prev_secret_hash")?),
            rotated_at: instant(dialect, "prev_rotated_at", t)?,
            wrapped_secret: WrappedSecret::from_bytes(hash(w, "prev_wrapped_secret")?),
        }),
        _ => return Err(corrupt(dialect, "prev_generation")),
    };
    let revoked = match (
        cols.get::<Option<i64>>(12, "revoked_at")?,
        cols.get::<Option<&str>>(13, "revoked_reason")?,
    ) {
        (None, None) => None,
        (Some(t), Some(reason)) => Some(Revocation {
            reason: reason
                .parse()
                .map_err(|_| corrupt(dialect, "revoked_reason"))?,
            at: instant(dialect, "revoked_at", t)?,
        }),
        _ => return Err(corrupt(dialect, "revoked_at")),
    };
    let ip = cols
        .get::<Option<&str>>(16, "ip")?
        .map(|ip| ip.parse().map_err(|_| corrupt(dialect, "ip")))
        .transpose()?;
    let info = SessionInfo {
        user_agent: cols.get::<Option<&str>>(15, "user_agent")?.map(Into::into),
        ip,
        label: cols.get::<Option<&str>>(17, "label")?.map(Into::into),
    };

    Ok(SessionRecord {
        id: SessionId::from_bytes(bytes16(0, "id")?),
        subject: cols.get::<&str>(1, "subject")?.to_owned(),
        generation: gen_of(cols.get(2, "generation")?, "generation")?,
        secret_hash: SecretHash::from_bytes(hash(cols.get(3, "secret_hash")?, "secret_hash")?),
        previous,
        created_at: at(8, "created_at")?,
        refreshed_at: at(9, "refreshed_at")?,
        idle_expires_at: at(10, "idle_expires_at")?,
        absolute_expires_at: at(11, "absolute_expires_at")?,
        revoked,
        claims_json: cols.get::<&str>(14, "claims")?.to_owned(),
        info,
    })
}

/// A row and the backend it came from, to read columns with `Corrupt` errors.
struct Columns<'r, R> {
    dialect: Dialect,
    row: &'r R,
}

impl<'r, R: Row> Columns<'r, R>
where
    usize: ColumnIndex<R>,
{
    fn get<T>(&self, index: usize, name: &'static str) -> Result<T, StoreError>
    where
        T: Decode<'r, R::Database> + Type<R::Database>,
    {
        self.row
            .try_get(index)
            .map_err(|e| corrupt(self.dialect, name).with_source(e))
    }
}
