//! One session as `MemoryStore` keeps it: a [`SessionRecord`] packed into
//! 248 bytes, because an idle session should cost little more than its
//! secrets and its times.
//!
//! Where a `SessionRecord` (about 350 bytes, plus a heap block for each of
//! its strings) spends bytes, a [`Slot`] does not:
//! - instants are Unix seconds and nanoseconds in 12 bytes
//!   ([`OffsetDateTime`] takes 16 for an offset that instants ignore: they
//!   compare equal whatever their offset). The store returns them in UTC;
//! - the subject is a `Box<str>`, not a `String` with spare capacity;
//! - claims, device info, last seen and the authentication context,
//!   usually empty (`{}`, defaults, and an authentication at the login's
//!   second with no `amr`/`acr`), live in one box that exists only when
//!   one of them is not: the common session allocates nothing for them.
//!
//! The grace data stays inline: every session refreshed at least once has
//! it, and most idle sessions have been.

use std::num::{NonZeroU32, NonZeroU64};

use time::OffsetDateTime;

use crate::error::{StoreError, StoreErrorKind};
use crate::session::{AuthContext, Jkt, LastSeen, SessionRecord};
use crate::session::{GraceData, Revocation, RevocationReason, SessionId, SessionInfo};
use crate::session::{SecretHash, WrappedSecret};
use crate::store::{ExpectedGeneration, RotationUpdate};

/// No slot: the end of a subject's list.
pub(super) const NIL: u32 = u32::MAX;

/// An instant in 12 bytes with a niche, so that `Option<Stamp>` (and a
/// struct holding one) costs no tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    // The seconds as two halves: an `i64` field would align the struct to
    // 8 bytes and pad it to 16.
    secs_low: u32,
    secs_high: i32,
    // Nanoseconds + 1: never zero, which is the niche.
    nanos: NonZeroU32,
}

impl Stamp {
    pub(super) fn new(instant: OffsetDateTime) -> Self {
        let secs = instant.unix_timestamp();
        Self {
            secs_low: secs as u32,
            secs_high: (secs >> 32) as i32,
            nanos: NonZeroU32::MIN.saturating_add(instant.nanosecond()),
        }
    }

    fn secs(self) -> i64 {
        (i64::from(self.secs_high) << 32) | i64::from(self.secs_low)
    }

    fn key(self) -> (i64, u32) {
        (self.secs(), self.nanos.get())
    }

    /// The instant, in UTC.
    ///
    /// # Errors
    /// Only if the stamp was not made by [`Stamp::new`] (it cannot be).
    pub(super) fn get(self) -> Result<OffsetDateTime, StoreError> {
        OffsetDateTime::from_unix_timestamp(self.secs())
            .and_then(|t| t.replace_nanosecond(self.nanos.get() - 1))
            .map_err(|_| StoreError::new(StoreErrorKind::Corrupt, "instant out of range"))
    }

    /// Whether `self` is strictly before `other`.
    pub(super) fn before(self, other: Stamp) -> bool {
        self.key() < other.key()
    }
}

/// [`GraceData`], with its instant packed.
struct Grace {
    generation: u64,
    secret_hash: SecretHash,
    wrapped_secret: WrappedSecret,
    rotated_at: Stamp,
}

/// What few sessions have (see the module's docs).
struct Extras {
    claims_json: Box<str>,
    info: SessionInfo,
    auth: Option<AuthContext>,
    last_seen: LastSeen,
    jkt: Option<Jkt>,
}

/// The authentication context of a plain login created at `created_at`.
fn login_auth(created_at: OffsetDateTime) -> Option<AuthContext> {
    let second = created_at.replace_nanosecond(0).unwrap_or(created_at);
    Some(AuthContext::new(second, Vec::new(), None))
}

/// The claims every session without claims of its own has.
const NO_CLAIMS: &str = "{}";

/// One session, packed, with its links in its subject's list of live
/// sessions (see the shard).
pub(super) struct Slot {
    pub(super) id: SessionId,
    pub(super) subject: Box<str>,
    generation: u64,
    secret_hash: SecretHash,
    created_at: Stamp,
    refreshed_at: Stamp,
    idle_expires_at: Stamp,
    absolute_expires_at: Stamp,
    revoked: Option<(RevocationReason, Stamp)>,
    previous: Option<Grace>,
    extras: Option<Box<Extras>>,
    /// The status index + 1, so that `None` costs no tag.
    status_index: Option<NonZeroU64>,
    /// The neighbours in the subject's list, or [`NIL`]; both `NIL` while
    /// revoked (a revoked session is in no list).
    pub(super) prev: u32,
    pub(super) next: u32,
}

impl Slot {
    /// `record`, packed, in no list yet, with `status_index` in place of
    /// the record's.
    ///
    /// # Errors
    /// [`StoreErrorKind::Other`] for the status index `u64::MAX`.
    pub(super) fn new(
        record: &SessionRecord,
        status_index: Option<u64>,
    ) -> Result<Self, StoreError> {
        let status_index = match status_index {
            Some(n) => Some(
                NonZeroU64::MIN
                    .checked_add(n)
                    .ok_or_else(|| StoreError::other("status index out of range"))?,
            ),
            None => None,
        };
        let extras = (record.claims_json != NO_CLAIMS
            || record.info != SessionInfo::default()
            || record.auth != login_auth(record.created_at)
            || record.last_seen != LastSeen::default()
            || record.jkt.is_some())
        .then(|| {
            Box::new(Extras {
                claims_json: record.claims_json.as_str().into(),
                info: record.info.clone(),
                auth: record.auth.clone(),
                last_seen: record.last_seen.clone(),
                jkt: record.jkt,
            })
        });
        Ok(Self {
            id: record.id,
            subject: record.subject.as_str().into(),
            generation: record.generation,
            secret_hash: record.secret_hash,
            created_at: Stamp::new(record.created_at),
            refreshed_at: Stamp::new(record.refreshed_at),
            idle_expires_at: Stamp::new(record.idle_expires_at),
            absolute_expires_at: Stamp::new(record.absolute_expires_at),
            revoked: record.revoked.map(|r| (r.reason, Stamp::new(r.at))),
            previous: record.previous.as_ref().map(Grace::new),
            extras,
            status_index,
            prev: NIL,
            next: NIL,
        })
    }

    /// The session's status index, if it has one.
    pub(super) fn status_index(&self) -> Option<u64> {
        self.status_index.map(|n| n.get() - 1)
    }

    /// The record as it was given, and as rotations changed it (instants
    /// in UTC).
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`] only if a stamp is broken (it cannot be).
    pub(super) fn record(&self) -> Result<SessionRecord, StoreError> {
        let created_at = self.created_at.get()?;
        let extras = self.extras.as_deref();
        Ok(SessionRecord {
            id: self.id,
            subject: self.subject.to_string(),
            generation: self.generation,
            secret_hash: self.secret_hash,
            jkt: extras.and_then(|e| e.jkt),
            previous: self.previous.as_ref().map(Grace::get).transpose()?,
            created_at,
            refreshed_at: self.refreshed_at.get()?,
            idle_expires_at: self.idle_expires_at.get()?,
            absolute_expires_at: self.absolute_expires_at.get()?,
            revoked: self
                .revoked
                .map(|(reason, at)| at.get().map(|at| Revocation { reason, at }))
                .transpose()?,
            claims_json: extras.map_or(NO_CLAIMS, |e| &e.claims_json).to_owned(),
            info: extras.map(|e| e.info.clone()).unwrap_or_default(),
            auth: extras.map_or_else(|| login_auth(created_at), |e| e.auth.clone()),
            last_seen: extras.map(|e| e.last_seen.clone()).unwrap_or_default(),
            status_index: self.status_index(),
        })
    }

    pub(super) fn is_revoked(&self) -> bool {
        self.revoked.is_some()
    }

    /// Marks the session revoked; the caller unlinks it from its list.
    pub(super) fn revoke(&mut self, why: &Revocation) {
        self.revoked = Some((why.reason, Stamp::new(why.at)));
    }

    /// Whether either expiry is at or before `now`.
    pub(super) fn expired(&self, now: Stamp) -> bool {
        !now.before(self.idle_expires_at) || !now.before(self.absolute_expires_at)
    }

    /// The compare of the compare-and-swap: at `expected`, not revoked,
    /// both expiries after the rotation instant.
    pub(super) fn accepts(&self, expected: &ExpectedGeneration, next: &RotationUpdate) -> bool {
        self.generation == expected.generation
            && self.secret_hash == expected.secret_hash
            && !self.is_revoked()
            && !self.expired(Stamp::new(next.refreshed_at))
    }

    /// The swap. `claims` is `next.claims_json`, already boxed.
    pub(super) fn apply(&mut self, next: &RotationUpdate, claims: Option<Box<str>>) {
        self.generation = next.generation;
        self.secret_hash = next.secret_hash;
        self.previous = Some(Grace::new(&next.previous));
        self.refreshed_at = Stamp::new(next.refreshed_at);
        self.idle_expires_at = Stamp::new(next.idle_expires_at);
        let plain = claims.as_deref().is_none_or(|c| c == NO_CLAIMS)
            && next.last_seen.is_none()
            && next.auth.is_none();
        if self.extras.is_none() && plain {
            return;
        }
        let auth = self.created_at.get().ok().and_then(login_auth);
        let extras = self.extras.get_or_insert_with(|| {
            let (claims_json, info) = (NO_CLAIMS.into(), SessionInfo::default());
            let last_seen = LastSeen::default();
            Box::new(Extras {
                claims_json,
                info,
                auth,
                last_seen,
                jkt: None,
            })
        });
        if let Some(claims) = claims {
            extras.claims_json = claims;
        }
        if let Some(seen) = &next.last_seen {
            extras.last_seen = seen.clone();
        }
        if let Some(auth) = &next.auth {
            extras.auth = Some(auth.clone());
        }
    }
}

impl Grace {
    fn new(grace: &GraceData) -> Self {
        Self {
            generation: grace.generation,
            secret_hash: grace.secret_hash,
            wrapped_secret: grace.wrapped_secret.clone(),
            rotated_at: Stamp::new(grace.rotated_at),
        }
    }

    fn get(&self) -> Result<GraceData, StoreError> {
        Ok(GraceData {
            generation: self.generation,
            secret_hash: self.secret_hash,
            rotated_at: self.rotated_at.get()?,
            wrapped_secret: self.wrapped_secret.clone(),
        })
    }
}

#[cfg(test)]
mod tests;
