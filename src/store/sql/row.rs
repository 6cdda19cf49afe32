//! Sessions to SQL values and back, for every dialect.
//!
//! Instants are integer microseconds since the Unix epoch (what the
//! databases' own time types keep; finer parts are dropped), ids and hashes
//! raw bytes, the generation a signed 64-bit integer: the same in every
//! dialect so far, so nothing here asks the dialect but its name. Reading
//! checks every column a constraint does not, so a damaged row is
//! `Corrupt`, never a panic and never a wrong session.

use sqlx::Database;
use time::OffsetDateTime;

use super::Dialect;
use super::driver::{Driver, Statement};
use super::error::{corrupt, unwritable};
use crate::error::StoreError;
use crate::session::{GraceData, Revocation, SessionId, SessionInfo, SessionRecord};
use crate::session::{Jkt, LastSeen, SecretHash, WrappedSecret};
use crate::store::{ExpectedGeneration, RotationUpdate};

/// A statement for `D`'s database.
type For<D> = Statement<<D as Dialect>::Database>;

/// An instant as integer microseconds since the epoch (rounded down).
///
/// # Errors
/// An instant too far from 1970 for 64 bits of microseconds (only possible
/// with `time`'s `large-dates`).
pub(super) fn micros<D: Dialect>(at: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1000))
        .map_err(|_| unwritable::<D>("an instant that far from 1970"))
}

/// A generation as the signed integer the databases keep.
///
/// # Errors
/// A generation above `i64::MAX`.
pub(super) fn generation<D: Dialect>(generation: u64) -> Result<i64, StoreError> {
    i64::try_from(generation).map_err(|_| unwritable::<D>("a generation above 2^63 - 1"))
}

fn instant<D: Dialect>(column: &'static str, us: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|_| corrupt::<D>(column))
}

/// Binds every column of `record` but its status index, in the order of
/// `INSERT`'s `$1..$22`.
///
/// # Errors
/// A value this store cannot write (see [`micros`], [`generation`]).
pub(super) fn bind_record<D: Dialect>(
    statement: For<D>,
    record: &SessionRecord,
) -> Result<For<D>, StoreError> {
    let us = micros::<D>;
    let previous = record.previous.as_ref();
    let prev_generation = match previous {
        Some(p) => Some(generation::<D>(p.generation)?),
        None => None,
    };
    let prev_rotated_at = previous.map(|p| us(p.rotated_at)).transpose()?;
    let revoked_at = record.revoked.map(|r| us(r.at)).transpose()?;
    let info = &record.info;
    let ip = info.ip.map(|ip| ip.to_string());
    let auth = record.auth.as_ref().map(json);
    let seen = (record.last_seen != LastSeen::default()).then(|| json(&record.last_seen));
    let jkt = record.jkt.map(|jkt| jkt.to_bytes());
    Ok(statement
        .bind(&record.id.as_bytes()[..])
        .bind(record.subject.as_str())
        .bind(generation::<D>(record.generation)?)
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
        .bind(ip.as_deref())
        .bind(info.label.as_deref())
        .bind(info.kind.as_deref())
        .bind(auth.as_deref())
        .bind(seen.as_deref())
        .bind(jkt.as_ref().map(|jkt| &jkt[..])))
}

/// `value` as JSON: strings, numbers and an address, which cannot fail.
fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".into())
}

/// Binds the default rotate statement's `$1..$14`: the id, what is
/// expected, and the change.
///
/// # Errors
/// A value this store cannot write. A stored row can never hold an
/// expected generation above `i64::MAX`: the caller answers "no match".
pub(super) fn bind_rotation<D: Dialect>(
    statement: For<D>,
    id: &SessionId,
    expected: &ExpectedGeneration,
    next: &RotationUpdate,
) -> Result<For<D>, StoreError> {
    let us = micros::<D>;
    let previous = &next.previous;
    let (seen, auth) = (
        next.last_seen.as_ref().map(json),
        next.auth.as_ref().map(json),
    );
    Ok(statement
        .bind(&id.as_bytes()[..])
        .bind(generation::<D>(expected.generation)?)
        .bind(&expected.secret_hash.as_bytes()[..])
        .bind(us(next.refreshed_at)?)
        .bind(generation::<D>(next.generation)?)
        .bind(&next.secret_hash.as_bytes()[..])
        .bind(generation::<D>(previous.generation)?)
        .bind(&previous.secret_hash.as_bytes()[..])
        .bind(us(previous.rotated_at)?)
        .bind(&previous.wrapped_secret.as_bytes()[..])
        .bind(us(next.idle_expires_at)?)
        .bind(next.claims_json.as_deref())
        .bind(seen.as_deref())
        .bind(auth.as_deref()))
}

/// Reads a row of the columns `COLUMNS` names, in that order.
///
/// # Errors
/// `Corrupt`, naming the column, for any value no session could have
/// written (wrong length, unknown reason, half-set grace data...).
pub(super) fn decode<D: Dialect>(
    row: &<D::Database as Database>::Row,
) -> Result<SessionRecord, StoreError> {
    let cols = Columns::<D> { row };
    let bytes16 = |i, name| -> Result<[u8; 16], StoreError> {
        <[u8; 16]>::try_from(cols.bytes(i, name)?).map_err(|_| corrupt::<D>(name))
    };
    let hash = |bytes: &[u8], name| -> Result<[u8; 32], StoreError> {
        <[u8; 32]>::try_from(bytes).map_err(|_| corrupt::<D>(name))
    };
    let at = |i, name| instant::<D>(name, cols.int(i, name)?);
    let gen_of = |n: i64, name| u64::try_from(n).map_err(|_| corrupt::<D>(name));

    let previous = match (
        cols.nullable_int(4, "prev_generation")?,
        cols.nullable_bytes(5, "prev_secret_hash")?,
        cols.nullable_int(6, "prev_rotated_at")?,
        cols.nullable_bytes(7, "prev_wrapped_secret")?,
    ) {
        (None, None, None, None) => None,
        (Some(g), Some(h), Some(t), Some(w)) => Some(GraceData {
            generation: gen_of(g, "prev_generation")?,
            secret_hash: SecretHash::from_bytes(hash(h, "prev_secret_hash")?),
            rotated_at: instant::<D>("prev_rotated_at", t)?,
            wrapped_secret: WrappedSecret::from_bytes(hash(w, "prev_wrapped_secret")?),
        }),
        _ => return Err(corrupt::<D>("prev_generation")),
    };
    let revoked = match (
        cols.nullable_int(12, "revoked_at")?,
        cols.nullable_text(13, "revoked_reason")?,
    ) {
        (None, None) => None,
        (Some(t), Some(reason)) => Some(Revocation {
            reason: reason.parse().map_err(|_| corrupt::<D>("revoked_reason"))?,
            at: instant::<D>("revoked_at", t)?,
        }),
        _ => return Err(corrupt::<D>("revoked_at")),
    };
    let ip = cols
        .nullable_text(16, "ip")?
        .map(|ip| ip.parse().map_err(|_| corrupt::<D>("ip")))
        .transpose()?;
    let info = SessionInfo {
        user_agent: cols.nullable_text(15, "user_agent")?.map(Into::into),
        ip,
        label: cols.nullable_text(17, "label")?.map(Into::into),
        kind: cols.nullable_text(18, "kind")?.map(Into::into),
    };
    let auth = cols
        .nullable_text(19, "auth")?
        .map(|text| serde_json::from_str(text).map_err(|e| corrupt::<D>("auth").with_source(e)))
        .transpose()?;
    let last_seen = cols
        .nullable_text(20, "last_seen")?
        .map(|text| {
            serde_json::from_str(text).map_err(|e| corrupt::<D>("last_seen").with_source(e))
        })
        .transpose()?
        .unwrap_or_default();

    Ok(SessionRecord {
        id: SessionId::from_bytes(bytes16(0, "id")?),
        subject: cols.text(1, "subject")?.to_owned(),
        generation: gen_of(cols.int(2, "generation")?, "generation")?,
        secret_hash: SecretHash::from_bytes(hash(cols.bytes(3, "secret_hash")?, "secret_hash")?),
        jkt: cols
            .nullable_bytes(21, "jkt")?
            .map(|j| hash(j, "jkt").map(Jkt::from_bytes))
            .transpose()?,
        previous,
        created_at: at(8, "created_at")?,
        refreshed_at: at(9, "refreshed_at")?,
        idle_expires_at: at(10, "idle_expires_at")?,
        absolute_expires_at: at(11, "absolute_expires_at")?,
        revoked,
        claims_json: cols.text(14, "claims")?.to_owned(),
        info,
        auth,
        last_seen,
        status_index: cols
            .nullable_int(22, "status_index")?
            .map(|i| u64::try_from(i).map_err(|_| corrupt::<D>("status_index")))
            .transpose()?,
    })
}

/// A status index as the signed integer the databases keep.
///
/// # Errors
/// An index above `i64::MAX`.
pub(super) fn status_index<D: Dialect>(index: u64) -> Result<i64, StoreError> {
    i64::try_from(index).map_err(|_| unwritable::<D>("a status index above 2^63 - 1"))
}

/// The status index in column `index` of `row`.
///
/// # Errors
/// `Corrupt` for a NULL, negative or unreadable value.
pub(super) fn read_status_index<D: Dialect>(
    row: &<D::Database as Database>::Row,
    index: usize,
) -> Result<u64, StoreError> {
    let cols = Columns::<D> { row };
    u64::try_from(cols.int(index, "status_index")?).map_err(|_| corrupt::<D>("status_index"))
}

/// A row of `D`'s database, to read columns with `Corrupt` errors naming
/// them.
struct Columns<'r, D: Dialect> {
    row: &'r <D::Database as Database>::Row,
}

impl<'r, D: Dialect> Columns<'r, D> {
    fn nullable_int(&self, index: usize, name: &'static str) -> Result<Option<i64>, StoreError> {
        D::Database::int(self.row, index).map_err(|e| corrupt::<D>(name).with_source(e))
    }

    fn nullable_bytes(
        &self,
        index: usize,
        name: &'static str,
    ) -> Result<Option<&'r [u8]>, StoreError> {
        D::Database::bytes(self.row, index).map_err(|e| corrupt::<D>(name).with_source(e))
    }

    fn nullable_text(
        &self,
        index: usize,
        name: &'static str,
    ) -> Result<Option<&'r str>, StoreError> {
        D::Database::text(self.row, index).map_err(|e| corrupt::<D>(name).with_source(e))
    }

    fn int(&self, index: usize, name: &'static str) -> Result<i64, StoreError> {
        self.nullable_int(index, name)?
            .ok_or_else(|| corrupt::<D>(name))
    }

    fn bytes(&self, index: usize, name: &'static str) -> Result<&'r [u8], StoreError> {
        self.nullable_bytes(index, name)?
            .ok_or_else(|| corrupt::<D>(name))
    }

    fn text(&self, index: usize, name: &'static str) -> Result<&'r str, StoreError> {
        self.nullable_text(index, name)?
            .ok_or_else(|| corrupt::<D>(name))
    }
}
