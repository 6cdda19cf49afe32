//! A store wrapper for tests: fails the operations it is told to, writes
//! down every call, and can hold creates at a barrier.

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use jwt_rotate::SessionId;
use jwt_rotate::store::{
    ExpectedGeneration, RefreshStore, Revocation, RotationUpdate, SessionRecord, StoreError,
};
use time::OffsetDateTime;
use tokio::sync::Barrier;

pub const CREATE: u32 = 1 << 0;
pub const GET: u32 = 1 << 1;
pub const ROTATE: u32 = 1 << 2;
pub const REVOKE: u32 = 1 << 3;
pub const REVOKE_SUBJECT: u32 = 1 << 4;
pub const SESSIONS: u32 = 1 << 5;
pub const PURGE: u32 = 1 << 6;

const NAMES: [(u32, &str); 7] = [
    (CREATE, "create"),
    (GET, "get"),
    (ROTATE, "rotate"),
    (REVOKE, "revoke"),
    (REVOKE_SUBJECT, "revoke_subject"),
    (SESSIONS, "sessions"),
    (PURGE, "purge_expired"),
];

/// Wraps a store; the operations in `fail` fail before reaching it, those
/// in `fail_after` reach it and then report failure (a lost response).
/// Every call is written down.
pub struct FailingStore<S> {
    pub inner: S,
    fail: AtomicU32,
    fail_after: AtomicU32,
    calls: Mutex<Vec<&'static str>>,
    create_gate: Option<Barrier>,
}

impl<S> FailingStore<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            fail: AtomicU32::new(0),
            fail_after: AtomicU32::new(0),
            calls: Mutex::new(Vec::new()),
            create_gate: None,
        }
    }

    /// Every successful `create` waits, after inserting, until `n` creates
    /// have got that far: `n` logins whose records all exist before any of
    /// them goes on (to enforce the session limit, say).
    pub fn gate_creates(mut self, n: usize) -> Self {
        self.create_gate = Some(Barrier::new(n));
        self
    }

    pub fn fail(&self, ops: u32) {
        self.fail.store(ops, Ordering::SeqCst);
    }

    pub fn fail_after(&self, ops: u32) {
        self.fail_after.store(ops, Ordering::SeqCst);
    }

    pub fn heal(&self) {
        self.fail(0);
        self.fail_after(0);
    }

    /// The calls made since the last `take_calls`.
    pub fn take_calls(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    fn outage() -> StoreError {
        StoreError::unavailable("injected outage").with_source(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "connection refused",
        ))
    }

    fn before(&self, op: u32) -> Result<(), StoreError> {
        let name = NAMES.iter().find(|(bit, _)| *bit == op).unwrap().1;
        self.calls.lock().unwrap().push(name);
        if self.fail.load(Ordering::SeqCst) & op != 0 {
            Err(Self::outage())
        } else {
            Ok(())
        }
    }

    fn after<T>(&self, op: u32, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if self.fail_after.load(Ordering::SeqCst) & op != 0 {
            Err(Self::outage())
        } else {
            result
        }
    }
}

#[async_trait]
impl<S: RefreshStore> RefreshStore for FailingStore<S> {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.before(CREATE)?;
        let result = self.inner.create(session).await;
        if let (Ok(()), Some(gate)) = (&result, &self.create_gate) {
            gate.wait().await;
        }
        self.after(CREATE, result)
    }
    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.before(GET)?;
        let result = self.inner.get(id).await;
        self.after(GET, result)
    }
    async fn rotate(
        &self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.before(ROTATE)?;
        let result = self.inner.rotate(id, expected, next).await;
        self.after(ROTATE, result)
    }
    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
        self.before(REVOKE)?;
        let result = self.inner.revoke(id, why).await;
        self.after(REVOKE, result)
    }
    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        self.before(REVOKE_SUBJECT)?;
        let result = self.inner.revoke_subject(subject, except, why).await;
        self.after(REVOKE_SUBJECT, result)
    }
    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
        self.before(SESSIONS)?;
        let result = self.inner.sessions(subject).await;
        self.after(SESSIONS, result)
    }
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.before(PURGE)?;
        let result = self.inner.purge_expired(now).await;
        self.after(PURGE, result)
    }
}
