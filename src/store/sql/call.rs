//! One store call: a connection from the pool, one statement, a deadline,
//! and what a failure says of the connection.

use sqlx::Database;

use super::driver::{BoxFuture, On, Statement};
use super::error::{Link, Op, describe, judge, timed_out};
use super::warm::Lent;
use super::{Dialect, SqlStore};
use crate::error::StoreError;

/// How a statement is run and read: `Statement::execute` or
/// `Statement::fetch_all`.
pub(super) type Run<DB, T> =
    for<'c> fn(Statement<DB>, On<'c, DB>) -> BoxFuture<'c, Result<T, sqlx::Error>>;

impl<D: Dialect> SqlStore<D> {
    /// Runs `statement` for `op` with `run`, within the store's call
    /// timeout: waiting for a connection, the statement and its answer.
    ///
    /// # Errors
    /// `Unavailable`, saying it timed out, past the deadline; any failure
    /// of the database, judged by the dialect.
    pub(super) async fn call<T>(
        &self,
        op: Op,
        statement: Statement<D::Database>,
        run: Run<D::Database, T>,
    ) -> Result<T, StoreError> {
        // Dropping the attempt drops its lease, which closes a connection
        // cut short mid-statement (see `Lease`).
        self.call_with(op, move |c| run(statement, On::Connection(c)))
            .await
    }

    /// Runs `work` for `op` on one connection from the pool, within the
    /// store's call timeout, as [`call`](Self::call) runs a statement: a
    /// transaction of several statements (the revocations, which write the
    /// feed's entry with them).
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub(super) async fn call_with<T, W>(&self, op: Op, work: W) -> Result<T, StoreError>
    where
        W: for<'c> FnOnce(
                &'c mut <D::Database as Database>::Connection,
            ) -> BoxFuture<'c, Result<T, sqlx::Error>>
            + Send,
    {
        let within = self.call_timeout;
        match tokio::time::timeout(within, self.attempt(op, work)).await {
            Ok(result) => result,
            Err(elapsed) => Err(timed_out::<D>(op, within).with_source(elapsed)),
        }
    }

    /// [`call_with`](Self::call_with) without the deadline.
    async fn attempt<T, W>(&self, op: Op, work: W) -> Result<T, StoreError>
    where
        W: for<'c> FnOnce(
                &'c mut <D::Database as Database>::Connection,
            ) -> BoxFuture<'c, Result<T, sqlx::Error>>
            + Send,
    {
        let (turn, lent) = self
            .warm
            .lend(&self.pool)
            .await
            .map_err(|e| self.error(op, e))?;
        let mut lease = Lease {
            lent: None,
            link: D::CUT_SHORT,
        };
        let connection = &mut *lease.lent.insert(lent).connection;
        let result = match work(connection).await {
            Ok(done) => {
                lease.link = Link::Sound;
                if let Some(lent) = lease.lent.take() {
                    self.warm.keep(&self.pool, lent);
                }
                Ok(done)
            }
            Err(err) => {
                let judged = judge::<D>(op, &err);
                lease.link = judged.link;
                if judged.link == Link::Lost {
                    self.health.lost();
                    // The server may have restarted: every kept connection
                    // goes back to the pool, which tests them.
                    self.warm.give_back_all();
                }
                Err(describe(D::NAME, op, judged, err))
            }
        };
        // The connection first (kept, or given back to the pool), then the
        // turn: the next call in line takes it.
        drop(lease);
        drop(turn);
        result
    }
}

/// A pooled connection lent to one call: kept for the next call when
/// sound (see `warm`), given back to the pool when failed but sound,
/// closed otherwise.
///
/// Until the statement ends, the connection is as the dialect judges a
/// call cut short (by its deadline, or by its caller dropping it):
/// PostgreSQL's is closed, as sqlx would ping it to give it back, which
/// waits for the statement's answer from a server that may be frozen.
struct Lease<DB: Database> {
    /// Taken out when kept.
    lent: Option<Lent<DB>>,
    /// What is known of the connection so far.
    link: Link,
}

impl<DB: Database> Drop for Lease<DB> {
    fn drop(&mut self) {
        if let Some(lent) = &mut self.lent
            && self.link != Link::Sound
        {
            lent.connection.close_on_drop();
        }
    }
}
