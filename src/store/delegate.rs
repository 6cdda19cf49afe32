//! `RefreshStore` for `Arc<T>` and `Box<T>`, so that `Arc<dyn RefreshStore>`
//! is a store.
//!
//! Every method is written out: a method left to its default here would
//! silently skip the wrapped store's own version of it. Clippy's
//! `missing_trait_methods` holds us to that when the trait grows.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{ExpectedGeneration, RefreshStore, Replay, ReplayKey, RotationUpdate};
use crate::error::StoreError;
use crate::session::{Revocation, SessionId, SessionRecord};

#[async_trait]
#[warn(clippy::missing_trait_methods)]
impl<T: RefreshStore + ?Sized> RefreshStore for Arc<T> {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        (**self).create(session).await
    }

    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        (**self).get(id).await
    }

    async fn rotate(
        &self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> Result<Option<SessionRecord>, StoreError> {
        (**self).rotate(id, expected, next).await
    }

    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
        (**self).revoke(id, why).await
    }

    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        (**self).revoke_subject(subject, except, why).await
    }

    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
        (**self).sessions(subject).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        (**self).purge_expired(now).await
    }

    async fn insert_dpop_jti(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, StoreError> {
        (**self).insert_dpop_jti(key, now, expires_at).await
    }
}

#[async_trait]
#[warn(clippy::missing_trait_methods)]
impl<T: RefreshStore + ?Sized> RefreshStore for Box<T> {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        (**self).create(session).await
    }

    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        (**self).get(id).await
    }

    async fn rotate(
        &self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> Result<Option<SessionRecord>, StoreError> {
        (**self).rotate(id, expected, next).await
    }

    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
        (**self).revoke(id, why).await
    }

    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        (**self).revoke_subject(subject, except, why).await
    }

    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
        (**self).sessions(subject).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        (**self).purge_expired(now).await
    }

    async fn insert_dpop_jti(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, StoreError> {
        (**self).insert_dpop_jti(key, now, expires_at).await
    }
}
