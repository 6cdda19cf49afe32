//! Writing the feed: the revoking transaction, and trimming.

use sqlx::{Connection as _, Database};
use time::OffsetDateTime;

use super::super::driver::{On, Statement};
use super::super::error::Op;
use super::super::row::micros;
use super::super::{Dialect, SqlStore};
use crate::error::StoreError;
use crate::store::Revoked;

type Conn<D> = <<D as Dialect>::Database as Database>::Connection;

impl<D: Dialect> SqlStore<D> {
    /// Runs `revoke` (a statement of `op` that revokes sessions) in one
    /// transaction with the feed's entry for `event` at `at`, returning
    /// how many sessions it revoked. A session revocation that changed
    /// nothing rolls back and publishes nothing; a subject revocation is
    /// published whatever it changed.
    ///
    /// # Errors
    /// A value the store cannot write; past the call timeout; any failure
    /// of the database (the transaction is then rolled back).
    pub(in crate::store::sql) async fn publish(
        &self,
        op: Op,
        revoke: Statement<D::Database>,
        event: &Revoked,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let feed = &self.feed;
        let (session, subject, except) = match event {
            Revoked::Session(id) => (Some(id), None, None),
            Revoked::Subject { subject, except } => (None, Some(subject.as_str()), except.as_ref()),
        };
        let insert = self
            .statement(&feed.insert)
            .bind(session.map(|id| &id.as_bytes()[..]))
            .bind(subject)
            .bind(except.map(|id| &id.as_bytes()[..]))
            .bind(micros::<D>(at)?);
        let notify = feed.notify.as_ref().map(|s| self.statement(s));
        let steps = Steps {
            lock: self.statement(&feed.take_id),
            change: revoke,
            then: std::iter::once(insert).chain(notify).collect(),
            always: subject.is_some(),
        };
        self.call_with(op, move |c| Box::pin(transaction::<D>(c, steps)))
            .await
    }

    /// Trims the entries revoked at or before `now - feed_retention`, as a
    /// prefix of the feed, recording the last id trimmed and the latest
    /// instant trimmed.
    ///
    /// # Errors
    /// Past the call timeout; any failure of the database.
    pub(in crate::store::sql) async fn trim_feed(
        &self,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let feed = &self.feed;
        let Some(cutoff) = now.checked_sub(feed.retention) else {
            return Ok(());
        };
        let steps = Steps {
            lock: self.statement(&feed.lock),
            change: self.statement(&feed.mark).bind(micros::<D>(cutoff)?),
            then: vec![self.statement(&feed.mark_at), self.statement(&feed.trim)],
            always: true,
        };
        self.call_with(Op::Purge, move |c| Box::pin(transaction::<D>(c, steps)))
            .await
            .map(drop)
    }
}

/// The statements of one feed transaction, in order.
struct Steps<D: Dialect> {
    /// Locks the head row (taking the next id).
    lock: Statement<D::Database>,
    /// Changes the sessions (or marks the trim).
    change: Statement<D::Database>,
    /// Writes the entry and wakes subscribers (or records the instant
    /// trimmed and deletes the trimmed entries).
    then: Vec<Statement<D::Database>>,
    /// Whether to go on when `change` changed nothing.
    always: bool,
}

/// Runs `steps` in a transaction on `c`: the count `change` changed, once
/// committed; rolled back, with nothing published, when it changed nothing
/// and `always` is false.
async fn transaction<D: Dialect>(c: &mut Conn<D>, steps: Steps<D>) -> Result<u64, sqlx::Error> {
    let mut tx = c.begin().await?;
    match run::<D>(&mut tx, steps).await {
        Ok(Some(changed)) => {
            tx.commit().await?;
            Ok(changed)
        }
        Ok(None) => {
            tx.rollback().await?;
            Ok(0)
        }
        Err(err) => {
            // The error is what the caller needs; a rollback that fails
            // too leaves the connection to the lease's judgement.
            let _ = tx.rollback().await;
            Err(err)
        }
    }
}

async fn run<D: Dialect>(c: &mut Conn<D>, steps: Steps<D>) -> Result<Option<u64>, sqlx::Error> {
    let locked = steps.lock.execute(On::Connection(c)).await?;
    if D::rows_affected(&locked) != 1 {
        // The head row is missing: the migration was not run, or undone.
        return Err(sqlx::Error::RowNotFound);
    }
    let changed = D::rows_affected(&steps.change.execute(On::Connection(c)).await?);
    if changed == 0 && !steps.always {
        return Ok(None);
    }
    for statement in steps.then {
        statement.execute(On::Connection(c)).await?;
    }
    Ok(Some(changed))
}
