//! The `RefreshStore` methods, written once for every dialect.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::driver::Statement;
use super::error::Op;
use super::row::{self, micros};
use super::{Dialect, SqlStore};
use crate::error::StoreError;
use crate::session::{Revocation, SessionId, SessionRecord};
use crate::store::{ExpectedGeneration, RefreshStore, Replay, ReplayKey, Revoked, RotationUpdate};

#[async_trait]
impl<D: Dialect> RefreshStore for SqlStore<D> {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let statement = row::bind_record::<D>(self.statement(&self.queries.insert), session)?;
        self.execute(Op::Create, statement).await?;
        Ok(())
    }

    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let statement = self.statement(&self.queries.get).bind(&id.as_bytes()[..]);
        self.fetch_one_or_none(Op::Get, statement).await
    }

    async fn rotate(
        &self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> Result<Option<SessionRecord>, StoreError> {
        if i64::try_from(expected.generation).is_err() {
            // No row can be at a generation the column cannot hold.
            return Ok(None);
        }
        D::rotate(self, id, expected, next).await
    }

    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
        let statement = self
            .statement(&self.queries.revoke)
            .bind(micros::<D>(why.at)?)
            .bind(why.reason.as_str())
            .bind(&id.as_bytes()[..]);
        let event = Revoked::Session(*id);
        Ok(self.publish(Op::Revoke, statement, &event, why.at).await? > 0)
    }

    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        let statement = self
            .statement(&self.queries.revoke_subject)
            .bind(micros::<D>(why.at)?)
            .bind(why.reason.as_str())
            .bind(subject)
            .bind(except.map(|id| &id.as_bytes()[..]));
        let event = Revoked::Subject {
            subject: subject.to_owned(),
            except: except.copied(),
        };
        self.publish(Op::RevokeSubject, statement, &event, why.at)
            .await
    }

    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
        let statement = self.statement(&self.queries.sessions).bind(subject);
        self.fetch_all(Op::Sessions, statement).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let now_micros = micros::<D>(now)?;
        let proofs = self.statement(&self.queries.dpop_purge).bind(now_micros);
        self.execute(Op::Purge, proofs).await?;
        let statement = self.statement(&self.queries.purge).bind(now_micros);
        let purged = self.execute(Op::Purge, statement).await?;
        self.trim_feed(now).await?;
        Ok(purged)
    }

    async fn insert_dpop_jti(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, StoreError> {
        let statement = self
            .statement(&self.queries.dpop_insert)
            .bind(&key.as_bytes()[..])
            .bind(micros::<D>(expires_at)?)
            .bind(micros::<D>(now)?);
        let rows = self
            .call(Op::InsertDpopJti, statement, Statement::fetch_all)
            .await?;
        Ok(if rows.is_empty() {
            Replay::Seen
        } else {
            Replay::Fresh
        })
    }
}

/// The rotate step of a database with `UPDATE ... RETURNING` (the default
/// `Dialect::rotate`): one statement, one round trip, the updated row back.
///
/// # Errors
/// A value the store cannot write; any failure of the database.
pub(super) async fn update_returning<D: Dialect>(
    store: &SqlStore<D>,
    id: &SessionId,
    expected: &ExpectedGeneration,
    next: &RotationUpdate,
) -> Result<Option<SessionRecord>, StoreError> {
    let statement = store.statement(&store.queries.rotate);
    let statement = row::bind_rotation::<D>(statement, id, expected, next)?;
    store.fetch_one_or_none(Op::Rotate, statement).await
}
