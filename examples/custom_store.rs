//! Writing your own session store, and proving it with the conformance suite.
//!
//! A store for another database follows the same shape: keep records, make
//! `rotate` and the revocations atomic (here one mutex; in SQL one
//! `UPDATE ... WHERE generation = $1 AND secret_hash = $2 AND revoked_at IS
//! NULL AND ...`), and let `testing::run_all` check the rest.
//!
//! Run with `cargo run --example custom_store --features conformance`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use jwt_rotate::SessionId;
use jwt_rotate::store::{
    ExpectedGeneration, RefreshStore, Replay, ReplayKey, Revocation, RotationUpdate, SessionRecord,
    StoreError, StoreErrorKind,
};
use jwt_rotate::testing;
use time::OffsetDateTime;

/// Sessions in a `BTreeMap`, with an index by subject.
#[derive(Default)]
struct BTreeStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    sessions: BTreeMap<SessionId, SessionRecord>,
    by_subject: BTreeMap<String, BTreeSet<SessionId>>,
    /// DPoP proofs remembered, with their expiry.
    proofs: BTreeMap<[u8; 32], OffsetDateTime>,
}

impl BTreeStore {
    fn lock(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        // A panic elsewhere while the lock was held: report it as a store
        // failure rather than panicking in every later call.
        self.inner
            .lock()
            .map_err(|_| StoreError::other("session store lock poisoned"))
    }
}

#[async_trait]
impl RefreshStore for BTreeStore {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        if inner.sessions.contains_key(&session.id) {
            return Err(StoreError::new(
                StoreErrorKind::AlreadyExists,
                "session exists",
            ));
        }
        let ids = inner.by_subject.entry(session.subject.clone()).or_default();
        ids.insert(session.id);
        inner.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.lock()?.sessions.get(id).cloned())
    }

    async fn rotate(
        &self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let mut inner = self.lock()?;
        let Some(session) = inner.sessions.get_mut(id) else {
            return Ok(None);
        };
        if session.generation != expected.generation
            || session.secret_hash != expected.secret_hash
            || session.revoked.is_some()
            || session.idle_expires_at <= next.refreshed_at
            || session.absolute_expires_at <= next.refreshed_at
        {
            return Ok(None);
        }
        session.generation = next.generation;
        session.secret_hash = next.secret_hash;
        session.previous = Some(next.previous.clone());
        session.refreshed_at = next.refreshed_at;
        session.idle_expires_at = next.idle_expires_at;
        if let Some(claims) = &next.claims_json {
            session.claims_json = claims.clone();
        }
        Ok(Some(session.clone()))
    }

    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
        let mut inner = self.lock()?;
        match inner.sessions.get_mut(id) {
            Some(session) if session.revoked.is_none() => {
                session.revoked = Some(*why);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        let Inner {
            sessions,
            by_subject,
            ..
        } = &mut *inner;
        let mut revoked = 0;
        for id in by_subject.get(subject).into_iter().flatten() {
            if Some(id) == except {
                continue;
            }
            if let Some(session) = sessions.get_mut(id)
                && session.revoked.is_none()
            {
                session.revoked = Some(*why);
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
        let inner = self.lock()?;
        let ids = inner.by_subject.get(subject).into_iter().flatten();
        Ok(ids
            .filter_map(|id| inner.sessions.get(id))
            .filter(|session| session.revoked.is_none())
            .cloned()
            .collect())
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        inner.proofs.retain(|_, expires_at| *expires_at > now);
        let expired: Vec<(SessionId, String)> = inner
            .sessions
            .values()
            .filter(|s| s.idle_expires_at <= now || s.absolute_expires_at <= now)
            .map(|s| (s.id, s.subject.clone()))
            .collect();
        for (id, subject) in &expired {
            inner.sessions.remove(id);
            if let Some(ids) = inner.by_subject.get_mut(subject) {
                ids.remove(id);
                if ids.is_empty() {
                    inner.by_subject.remove(subject);
                }
            }
        }
        Ok(expired.len() as u64)
    }

    // Optional: without it, DPoP replays cannot be remembered in this
    // store (the default refuses every proof).
    async fn insert_dpop_jti(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, StoreError> {
        let mut inner = self.lock()?;
        match inner.proofs.get(key.as_bytes()) {
            Some(expiry) if *expiry > now => Ok(Replay::Seen),
            _ => {
                inner.proofs.insert(*key.as_bytes(), expires_at);
                Ok(Replay::Fresh)
            }
        }
    }
}

fn main() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()?;
    let store = Arc::new(BTreeStore::default());
    // Panics with the broken rule if the store gets anything wrong.
    runtime.block_on(testing::run_all(&store));
    println!("BTreeStore passed the jwt-rotate conformance suite");
    Ok(())
}
