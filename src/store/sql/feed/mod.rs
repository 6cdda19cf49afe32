//! The SQL stores' [`RevocationFeed`]: a revocations table that the
//! revoking transactions write, read by `since`, and pushed to subscribers
//! by PostgreSQL's `NOTIFY` or found by polling (SQLite, MySQL).
//!
//! # Why a transaction, not a trigger
//!
//! `revoke` and `revoke_subject` run one transaction each: take the next
//! id from the one-row `{prefix}revocations_head` (an `UPDATE`, which
//! locks the row until the commit), revoke, write the entry (PostgreSQL:
//! and `pg_notify`), commit; a `revoke` that changed nothing rolls back
//! and publishes nothing. So there is no revocation without its entry and
//! no entry without its revocation, and:
//!
//! - **Ids commit in order.** The head row's lock is held from the id's
//!   allocation to the commit, and released only once the commit is
//!   visible, so the next revoker gets its id after the previous one's
//!   entry can be read: a reader never sees id 7 while id 6 may still
//!   appear, and a follower that read up to 7 has missed nothing. (A
//!   sequence or `AUTO_INCREMENT` would hand out ids before the commit, in
//!   an order the commits need not follow; reading only below the oldest
//!   running transaction's snapshot `xmin` would fix PostgreSQL's reads,
//!   but hold every follower back behind any long transaction in the
//!   cluster, and MySQL has nothing like it.) Ids have no gaps: a
//!   transaction that fails rolls its id back with it.
//! - **No deadlocks between revokers.** The head row is locked before any
//!   session row, by every revoker and by trimming; rotations never take
//!   it. A row trigger would lock the head after the session rows, and
//!   `revoke_subject` could deadlock with a `revoke` of one of its
//!   sessions.
//! - **One statement set for three databases, and one `Subject` event per
//!   `revoke_subject`** (with the spared session), as MemoryStore
//!   publishes, even when no session was live: a purged session's tokens
//!   may still be out there. Triggers differ in each database (MySQL's
//!   has no `WHEN` nor `UPDATE OF`, so it would run on every rotation) and
//!   could only write one event per session row.
//!
//! The cost: a revocation is a transaction of five or six round trips
//! instead of one statement, and revocations take turns on the head row;
//! they are rare next to refreshes, which are untouched. A revocation
//! written by hand in SQL bypasses the feed.
//!
//! # Retention
//!
//! `purge_expired(now)` also trims the entries whose instant is at or
//! before `now - feed_retention`, as a prefix of the feed, and records the
//! last id trimmed and the latest instant trimmed: a `since` from before
//! it is [`CatchUp::TooOld`], never a silent gap, and says the instant up
//! to which the follower may have missed revocations.

use std::collections::VecDeque;

use async_trait::async_trait;

mod options;
mod publish;
mod read;
mod subscribe;

pub(super) use options::{Feed, FeedOptions};
pub(super) use subscribe::poll;
#[cfg(feature = "postgres")]
pub(super) use subscribe::{listen, notify_statement};

use super::{Dialect, SqlStore};
use crate::error::StoreError;
use crate::store::{CatchUp, Cursor, FeedMessage, RevocationFeed, RevocationSubscription};

#[async_trait]
impl<D: Dialect> RevocationFeed for SqlStore<D> {
    async fn since(&self, cursor: Cursor) -> Result<CatchUp, StoreError> {
        let read = read::read(self, cursor).await?;
        Ok(read.answer(cursor))
    }

    async fn subscribe(&self) -> Result<Box<dyn RevocationSubscription>, StoreError> {
        D::subscribe(self).await
    }
}

/// A subscription's position and the messages it has yet to deliver.
#[derive(Debug)]
struct Pending {
    /// The last cursor delivered (or queued).
    at: Cursor,
    ready: VecDeque<FeedMessage>,
}

impl Pending {
    /// Queues what the feed holds after `at`: its events, then
    /// `Current(head)`; or `Lagged` if they were trimmed.
    async fn catch_up<D: Dialect>(&mut self, store: &SqlStore<D>) -> Result<(), StoreError> {
        match store.since(self.at).await? {
            CatchUp::Events { events, head } => {
                self.ready
                    .extend(events.into_iter().map(FeedMessage::Event));
                self.ready.push_back(FeedMessage::Current(head));
                self.at = head;
            }
            CatchUp::TooOld { head, .. } => {
                self.ready.push_back(FeedMessage::Lagged);
                self.at = head;
            }
        }
        Ok(())
    }
}
