//! The test servers' store: a [`MemoryStore`] that can fail like a
//! database going away, and hold a login's write to force a race.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use jwt_rotate::store::{
    ExpectedGeneration, RefreshStore, Revocation, RotationUpdate, SessionRecord, StoreError,
};
use jwt_rotate::{MemoryStore, SessionId};
use time::OffsetDateTime;
use tokio::sync::Notify;

/// A [`MemoryStore`] that answers every call with a retryable failure
/// while it is down, like a database that went away.
#[derive(Default)]
pub struct Outage {
    inner: MemoryStore,
    down: AtomicBool,
    revoke_subject_down: AtomicBool,
    lose_rotate_answer: AtomicBool,
    hold_creates: AtomicBool,
    create_arrived: Notify,
    create_released: Notify,
}

impl Outage {
    pub fn fail(&self) {
        self.down.store(true, Ordering::SeqCst);
    }

    pub fn recover(&self) {
        self.down.store(false, Ordering::SeqCst);
        self.revoke_subject_down.store(false, Ordering::SeqCst);
    }

    /// Lets the next `rotate` through, then fails it: the rotation is
    /// written and its answer lost, as a timeout leaves it.
    pub fn lose_next_rotate_answer(&self) {
        self.lose_rotate_answer.store(true, Ordering::SeqCst);
    }

    /// Fails `revoke_subject` only, as a database that breaks in the middle
    /// of a request does.
    pub fn fail_revoke_subject(&self) {
        self.revoke_subject_down.store(true, Ordering::SeqCst);
    }

    /// Holds the next `create` (a login's session write) until
    /// [`Outage::release_create`]; [`Outage::create_held`] waits for it to
    /// arrive.
    pub fn hold_create(&self) {
        self.hold_creates.store(true, Ordering::SeqCst);
    }

    /// Returns once a held `create` is waiting.
    pub async fn create_held(&self) {
        self.create_arrived.notified().await;
    }

    /// Lets the held `create` through.
    pub fn release_create(&self) {
        self.hold_creates.store(false, Ordering::SeqCst);
        self.create_released.notify_one();
    }

    /// What a session write meets first: the outage, then the hold.
    async fn before_create(&self) -> Result<(), StoreError> {
        self.check()?;
        if self.hold_creates.load(Ordering::SeqCst) {
            self.create_arrived.notify_one();
            self.create_released.notified().await;
        }
        Ok(())
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::unavailable("connection refused (test outage)"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl RefreshStore for Outage {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.before_create().await?;
        self.inner.create(session).await
    }

    // The demos publish status lists, so their logins come here.
    async fn create_indexed(&self, session: &SessionRecord) -> Result<Option<u64>, StoreError> {
        self.before_create().await?;
        self.inner.create_indexed(session).await
    }

    async fn revoked_status_indexes(&self, range: Range<u64>) -> Result<Vec<u64>, StoreError> {
        self.check()?;
        self.inner.revoked_status_indexes(range).await
    }

    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.check()?;
        self.inner.get(id).await
    }

    async fn rotate(
        &self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.check()?;
        let rotated = self.inner.rotate(id, expected, next).await;
        if self.lose_rotate_answer.swap(false, Ordering::SeqCst) {
            return Err(StoreError::unavailable("answer lost (test outage)"));
        }
        rotated
    }

    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.revoke(id, why).await
    }

    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        self.check()?;
        if self.revoke_subject_down.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable(
                "revoke_subject failed (test outage)",
            ));
        }
        self.inner.revoke_subject(subject, except, why).await
    }

    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
        self.check()?;
        self.inner.sessions(subject).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.purge_expired(now).await
    }
}
