//! One shard of `MemoryStore`: packed sessions in a slab, found by id
//! through one hash table and by subject through another.
//!
//! Both tables hold 4-byte slot numbers only (`hashbrown`'s `HashTable`,
//! hashing what the slot holds), so a table costs about 10 bytes per
//! session even just after it doubled, where a `HashMap` from id to record
//! costs the record's size again in empty buckets. The subject table holds
//! the first slot of each subject's list of live sessions; the slots link
//! to each other, so adding and removing one is O(1) and listing a subject
//! visits its own sessions only.
//!
//! Every method is synchronous and nothing in here panics: a slot number
//! that leads nowhere (which the invariants rule out) reads as "no such
//! session", so a shard stays usable even after a panic elsewhere poisoned
//! its lock.

use std::hash::{BuildHasher, RandomState};
use std::ops::Range;

use hashbrown::HashTable;
use time::OffsetDateTime;

use super::packed::{NIL, Slot, Stamp};
use super::slab::Slab;
use crate::error::{StoreError, StoreErrorKind};
use crate::session::{Revocation, SessionId, SessionRecord};
use crate::store::{ExpectedGeneration, RotationUpdate};

#[derive(Default)]
pub(super) struct Shard {
    slots: Slab<Slot>,
    /// Slot numbers by session id.
    ids: HashTable<u32>,
    /// The first slot of each subject's list of live (non-revoked)
    /// sessions, by subject.
    subjects: HashTable<u32>,
    hasher: RandomState,
}

impl Shard {
    /// Inserts `record` with `status_index` in place of its own;
    /// `AlreadyExists` if its id is taken.
    pub(super) fn create(
        &mut self,
        record: &SessionRecord,
        status_index: Option<u64>,
    ) -> Result<(), StoreError> {
        if self.find(&record.id).is_some() {
            return Err(StoreError::new(
                StoreErrorKind::AlreadyExists,
                "session id already exists",
            ));
        }
        let n = self.slots.insert(Slot::new(record, status_index)?)?;
        let Self {
            slots, ids, hasher, ..
        } = self;
        let rehash = |&m: &u32| slots.get(m).map_or(0, |s| hasher.hash_one(s.id));
        ids.insert_unique(hasher.hash_one(record.id), n, rehash);
        if record.revoked.is_none() {
            self.link(n);
        }
        Ok(())
    }

    pub(super) fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.find(id)
            .and_then(|n| self.slots.get(n))
            .map(Slot::record)
            .transpose()
    }

    /// The compare-and-swap; `claims` is `next.claims_json`, boxed before
    /// the lock was taken.
    pub(super) fn rotate(
        &mut self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
        claims: Option<Box<str>>,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let Some(slot) = self.find(id).and_then(|n| self.slots.get_mut(n)) else {
            return Ok(None);
        };
        if !slot.accepts(expected, next) {
            return Ok(None);
        }
        slot.apply(next, claims);
        slot.record().map(Some)
    }

    /// Revokes one live session; whether it changed anything.
    pub(super) fn revoke(&mut self, id: &SessionId, why: &Revocation) -> bool {
        match self.find(id) {
            Some(n) => self.revoke_slot(n, why),
            None => false,
        }
    }

    /// Revokes every live session of `subject` but `except`; how many.
    pub(super) fn revoke_subject(
        &mut self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> u64 {
        let mut revoked = 0;
        let mut n = self.head(subject);
        while let Some(slot) = self.slots.get(n) {
            let (this, spared) = (n, except == Some(&slot.id));
            n = slot.next;
            if !spared && self.revoke_slot(this, why) {
                revoked += 1;
            }
        }
        revoked
    }

    /// Appends the live sessions of `subject` to `found`.
    pub(super) fn sessions(
        &self,
        subject: &str,
        found: &mut Vec<SessionRecord>,
    ) -> Result<(), StoreError> {
        let mut n = self.head(subject);
        while let Some(slot) = self.slots.get(n) {
            found.push(slot.record()?);
            n = slot.next;
        }
        Ok(())
    }

    /// Deletes the sessions expired at `now`; how many.
    pub(super) fn purge_expired(&mut self, now: OffsetDateTime) -> u64 {
        let now = Stamp::new(now);
        let mut purged = 0;
        for n in 0..self.slots.end() {
            let Some(slot) = self.slots.get(n).filter(|s| s.expired(now)) else {
                continue;
            };
            let (id, live) = (slot.id, !slot.is_revoked());
            if live {
                self.unlink(n);
            }
            if let Ok(entry) = self.ids.find_entry(self.hasher.hash_one(id), |&m| m == n) {
                entry.remove();
            }
            self.slots.remove(n);
            purged += 1;
        }
        purged
    }

    /// Adds to `out` the status indexes within `range` of the revoked
    /// sessions, in slot order.
    pub(super) fn revoked_status_indexes(&self, range: &Range<u64>, out: &mut Vec<u64>) {
        let slots = (0..self.slots.end()).filter_map(|n| self.slots.get(n));
        out.extend(
            slots
                .filter(|s| s.is_revoked())
                .filter_map(Slot::status_index)
                .filter(|i| range.contains(i)),
        );
    }

    fn find(&self, id: &SessionId) -> Option<u32> {
        let is = |&n: &u32| self.slots.get(n).is_some_and(|s| s.id == *id);
        self.ids.find(self.hasher.hash_one(id), is).copied()
    }

    /// The first slot of `subject`'s live list, or [`NIL`].
    fn head(&self, subject: &str) -> u32 {
        let is = |&n: &u32| self.slots.get(n).is_some_and(|s| &*s.subject == subject);
        let hash = self.hasher.hash_one(subject);
        self.subjects.find(hash, is).copied().unwrap_or(NIL)
    }

    fn revoke_slot(&mut self, n: u32, why: &Revocation) -> bool {
        match self.slots.get_mut(n) {
            Some(slot) if !slot.is_revoked() => {
                slot.revoke(why);
                self.unlink(n);
                true
            }
            _ => false,
        }
    }

    /// Puts slot `n` first in its subject's list.
    fn link(&mut self, n: u32) {
        let Self {
            slots,
            subjects,
            hasher,
            ..
        } = self;
        let Some(subject) = slots.get(n).map(|s| &*s.subject) else {
            return;
        };
        let hash = hasher.hash_one(subject);
        let is = |&m: &u32| slots.get(m).is_some_and(|s| &*s.subject == subject);
        let old_head = match subjects.find_mut(hash, is) {
            Some(head) => std::mem::replace(head, n),
            None => {
                let rehash = |&m: &u32| slots.get(m).map_or(0, |s| hasher.hash_one(&*s.subject));
                subjects.insert_unique(hash, n, rehash);
                NIL
            }
        };
        if let Some(old) = slots.get_mut(old_head) {
            old.prev = n;
        }
        if let Some(slot) = slots.get_mut(n) {
            (slot.prev, slot.next) = (NIL, old_head);
        }
    }

    /// Takes slot `n` out of its subject's list.
    fn unlink(&mut self, n: u32) {
        let Some(slot) = self.slots.get_mut(n) else {
            return;
        };
        let (prev, next) = (slot.prev, slot.next);
        (slot.prev, slot.next) = (NIL, NIL);
        let hash = self.hasher.hash_one(&*slot.subject);
        if let Some(prev) = self.slots.get_mut(prev) {
            prev.next = next;
        } else if let Ok(mut head) = self.subjects.find_entry(hash, |&m| m == n) {
            // `n` was first: its successor is now, or the subject has none.
            if next == NIL {
                head.remove();
            } else {
                *head.get_mut() = next;
            }
        }
        if let Some(next) = self.slots.get_mut(next) {
            next.prev = prev;
        }
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::session::SecretHash;
    use crate::session::{RevocationReason, SessionInfo};

    fn at() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("valid")
    }

    fn record(n: u16, subject: &str) -> SessionRecord {
        let [a, b] = n.to_le_bytes();
        SessionRecord {
            id: SessionId::from_bytes([a, b, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
            subject: subject.into(),
            generation: 0,
            secret_hash: SecretHash::from_bytes([a; 32]),
            jkt: None,
            previous: None,
            created_at: at(),
            refreshed_at: at(),
            idle_expires_at: at() + Duration::days(2),
            absolute_expires_at: at() + Duration::days(1) + Duration::minutes(n.into()),
            revoked: None,
            claims_json: "{}".into(),
            info: SessionInfo::default(),
            auth: None,
            last_seen: Default::default(),
            status_index: None,
        }
    }

    const WHY: Revocation = Revocation {
        reason: RevocationReason::Logout,
        at: OffsetDateTime::UNIX_EPOCH,
    };

    fn listed(shard: &Shard, subject: &str) -> Vec<u16> {
        let mut found = Vec::new();
        shard.sessions(subject, &mut found).unwrap();
        let n = |r: &SessionRecord| u16::from_le_bytes([r.id.as_bytes()[0], r.id.as_bytes()[1]]);
        found.iter().map(n).collect()
    }

    /// Every link of every list agrees with its neighbours, and the subject
    /// table points at exactly the list heads.
    fn check_links(shard: &Shard) {
        let mut heads = 0;
        for n in 0..shard.slots.end() {
            let Some(slot) = shard.slots.get(n) else {
                continue;
            };
            if let Some(next) = shard.slots.get(slot.next) {
                assert_eq!(next.prev, n);
            }
            match shard.slots.get(slot.prev) {
                Some(prev) => assert_eq!(prev.next, n),
                None if slot.is_revoked() => assert_eq!(slot.next, NIL),
                None => {
                    assert_eq!(shard.head(&slot.subject), n);
                    heads += 1;
                }
            }
        }
        assert_eq!(shard.subjects.len(), heads);
    }

    #[test]
    fn lists_hold_exactly_the_live_sessions() {
        let mut shard = Shard::default();
        for n in 0..6 {
            shard.create(&record(n, "ann"), None).unwrap();
        }
        shard.create(&record(6, "bo"), None).unwrap();
        assert_eq!(listed(&shard, "ann"), [5, 4, 3, 2, 1, 0], "newest first");
        // The middle, the head, the tail.
        for (n, left) in [
            (3, &[5, 4, 2, 1, 0][..]),
            (5, &[4, 2, 1, 0]),
            (0, &[4, 2, 1]),
        ] {
            assert!(shard.revoke(&record(n, "ann").id, &WHY));
            assert_eq!(listed(&shard, "ann"), left);
            check_links(&shard);
        }
        assert!(!shard.revoke(&record(3, "ann").id, &WHY), "already revoked");
        let except = record(2, "ann").id;
        assert_eq!(shard.revoke_subject("ann", Some(&except), &WHY), 2);
        assert_eq!(listed(&shard, "ann"), [2]);
        assert_eq!(shard.revoke_subject("ann", None, &WHY), 1);
        assert!(listed(&shard, "ann").is_empty());
        assert_eq!(listed(&shard, "bo"), [6]);
        check_links(&shard);
        assert_eq!(shard.subjects.len(), 1, "only bo is left in the index");
    }

    #[test]
    fn a_revoked_record_is_stored_but_never_listed() {
        let mut shard = Shard::default();
        let mut revoked = record(1, "ann");
        revoked.revoked = Some(WHY);
        shard.create(&revoked, None).unwrap();
        assert!(listed(&shard, "ann").is_empty());
        assert_eq!(shard.get(&revoked.id).unwrap(), Some(revoked));
        check_links(&shard);
    }

    #[test]
    fn purge_frees_slots_for_reuse_and_unlinks() {
        let mut shard = Shard::default();
        for n in 0..600 {
            shard
                .create(&record(n, if n % 2 == 0 { "ann" } else { "bo" }), None)
                .unwrap();
        }
        shard.revoke(&record(1, "bo").id, &WHY);
        // Absolute expiry is a day plus n minutes: purge the first 100.
        let cutoff = at() + Duration::days(1) + Duration::minutes(100);
        assert_eq!(shard.purge_expired(cutoff), 101);
        check_links(&shard);
        assert_eq!(shard.ids.len(), 499);
        assert_eq!(listed(&shard, "ann").len(), 249);
        assert!(shard.get(&record(50, "ann").id).unwrap().is_none());
        for n in 1000..1101 {
            shard.create(&record(n, "cy"), None).unwrap();
        }
        assert_eq!(shard.slots.end(), 600, "freed slots were used again");
        assert_eq!(listed(&shard, "cy").len(), 101);
        check_links(&shard);
        let everything = at() + Duration::days(365);
        assert_eq!(shard.purge_expired(everything), 600);
        assert!(shard.ids.is_empty() && shard.subjects.is_empty());
    }

    #[test]
    fn a_taken_id_is_refused_and_changes_nothing() {
        let mut shard = Shard::default();
        shard.create(&record(1, "ann"), None).unwrap();
        let error = shard.create(&record(1, "bo"), None).unwrap_err();
        assert_eq!(error.kind(), StoreErrorKind::AlreadyExists);
        assert_eq!(listed(&shard, "ann"), [1]);
        assert!(listed(&shard, "bo").is_empty());
        assert_eq!(
            shard.get(&record(1, "x").id).unwrap().unwrap().subject,
            "ann"
        );
    }
}
