//! The `RefreshStore` methods, written once for both SQL stores.
//!
//! The two differ only in their pool's type, so the methods are the same
//! text; a macro stamps it out for each (a generic impl would need a bound
//! for every sqlx trait each call touches). The store type must have
//! `pool`, `queries: Arc<Queries>` and `fn error(&self, Op, sqlx::Error)`,
//! and a `D: Dialect` constant in scope.

/// Implements [`RefreshStore`](crate::RefreshStore) for a SQL store type.
macro_rules! impl_refresh_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::RefreshStore for $store {
            async fn create(
                &self,
                session: &$crate::store::SessionRecord,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::{Op, row};
                let query = sqlx::query(self.queries.insert.clone());
                row::bind_record(D, query, session)?
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.error(Op::Create, e))?;
                Ok(())
            }

            async fn get(
                &self,
                id: &$crate::SessionId,
            ) -> Result<Option<$crate::store::SessionRecord>, $crate::store::StoreError> {
                use $crate::store::sql::{Op, row};
                let found = sqlx::query(self.queries.get.clone())
                    .bind(&id.as_bytes()[..])
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| self.error(Op::Get, e))?;
                found.map(|r| row::decode(D, &r)).transpose()
            }

            async fn rotate(
                &self,
                id: &$crate::SessionId,
                expected: &$crate::store::ExpectedGeneration,
                next: &$crate::store::RotationUpdate,
            ) -> Result<Option<$crate::store::SessionRecord>, $crate::store::StoreError> {
                use $crate::store::sql::{Op, row};
                if i64::try_from(expected.generation).is_err() {
                    // No row can be at a generation the column cannot hold.
                    return Ok(None);
                }
                let query = sqlx::query(self.queries.rotate.clone());
                let updated = row::bind_rotation(D, query, id, expected, next)?
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| self.error(Op::Rotate, e))?;
                updated.map(|r| row::decode(D, &r)).transpose()
            }

            async fn revoke(
                &self,
                id: &$crate::SessionId,
                why: &$crate::store::Revocation,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::sql::{Op, row};
                let done = sqlx::query(self.queries.revoke.clone())
                    .bind(&id.as_bytes()[..])
                    .bind(row::micros(D, why.at)?)
                    .bind(why.reason.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.error(Op::Revoke, e))?;
                Ok(done.rows_affected() > 0)
            }

            async fn revoke_subject(
                &self,
                subject: &str,
                except: Option<&$crate::SessionId>,
                why: &$crate::store::Revocation,
            ) -> Result<u64, $crate::store::StoreError> {
                use $crate::store::sql::{Op, row};
                let done = sqlx::query(self.queries.revoke_subject.clone())
                    .bind(subject)
                    .bind(except.map(|id| &id.as_bytes()[..]))
                    .bind(row::micros(D, why.at)?)
                    .bind(why.reason.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.error(Op::RevokeSubject, e))?;
                Ok(done.rows_affected())
            }

            async fn sessions(
                &self,
                subject: &str,
            ) -> Result<Vec<$crate::store::SessionRecord>, $crate::store::StoreError> {
                use $crate::store::sql::{Op, row};
                let rows = sqlx::query(self.queries.sessions.clone())
                    .bind(subject)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.error(Op::Sessions, e))?;
                rows.iter().map(|r| row::decode(D, r)).collect()
            }

            async fn purge_expired(
                &self,
                now: time::OffsetDateTime,
            ) -> Result<u64, $crate::store::StoreError> {
                use $crate::store::sql::{Op, row};
                let done = sqlx::query(self.queries.purge.clone())
                    .bind(row::micros(D, now)?)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.error(Op::Purge, e))?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(in crate::store) use impl_refresh_store;
