//! [`RevocationFeed`]: a store's revocations, published in order with a
//! cursor, for resource servers that verify tokens without a store read.
//!
//! The shape fits every backend: a table of revocations with an increasing
//! id (PostgreSQL: `since` is a `SELECT ... WHERE id > $1`, `subscribe` a
//! `LISTEN` woken by a `NOTIFY` in the revoking transaction; MySQL and
//! SQLite: the same table, the subscription polls it), a Redis Stream
//! (`XADD` in the revoking script, `since` an `XRANGE`, the subscription
//! an `XREAD BLOCK`, the entry id the cursor), or MemoryStore's ring.

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::session::SessionId;

/// A position in a store's sequence of revocations: every event has one,
/// greater than every earlier event's. Opaque apart from its order;
/// [`Cursor::START`] is before every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cursor(u64);

impl Cursor {
    /// Before the first event.
    pub const START: Cursor = Cursor(0);

    /// A cursor from the number a store keeps (a table's id, a counter).
    pub fn new(position: u64) -> Self {
        Self(position)
    }

    /// The number this cursor stands for.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// What was revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revoked {
    /// One session (logout, reuse detected, an admin's revocation).
    Session(SessionId),
    /// Every session of a subject that existed at the event's instant, but
    /// `except` (a password change, "log out other devices").
    Subject {
        /// The user.
        subject: String,
        /// The session that was spared, if any.
        except: Option<SessionId>,
    },
}

/// One revocation, as a feed publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationEvent {
    /// What was revoked.
    pub revoked: Revoked,
    /// When: the revocation's own instant.
    pub at: OffsetDateTime,
    /// This event's place in the feed.
    pub cursor: Cursor,
}

/// The answer to [`RevocationFeed::since`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CatchUp {
    /// Every event after the cursor, in order, up to `head`: the feed as
    /// it stood when it answered.
    Events {
        /// The events after the cursor, in cursor order.
        events: Vec<RevocationEvent>,
        /// The feed's last cursor when it answered (the cursor itself when
        /// nothing happened since).
        head: Cursor,
    },
    /// The feed no longer holds every event after the cursor (they were
    /// trimmed): whoever follows it has missed some and must resync. `head`
    /// is where to follow from afterwards.
    TooOld {
        /// The feed's last cursor when it answered.
        head: Cursor,
        /// An upper bound on the instant ([`RevocationEvent::at`]) of every
        /// event the follower may have missed: a follower need only refuse
        /// tokens issued at or before it, and after a long retention that
        /// is nothing still valid. `None` when the feed cannot bound them
        /// (a cursor it never gave, a history rewritten): refuse every
        /// token issued up to now.
        missed_until: Option<OffsetDateTime>,
    },
}

/// What a [`RevocationSubscription`] delivers next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedMessage {
    /// A revocation, in order.
    Event(RevocationEvent),
    /// Nothing happened after this cursor up to now: the follower is
    /// current (a heartbeat; a feed may never send one).
    Current(Cursor),
    /// The subscription fell behind and dropped events: catch up with
    /// [`RevocationFeed::since`].
    Lagged,
}

/// A store's revocations, in order, for followers such as a
/// [`Verifier`](crate::Verifier).
///
/// # Contract
///
/// - Every successful revocation (`revoke` that changed a session, every
///   `revoke_subject`) is published exactly once, with a cursor greater
///   than every earlier event's, once the revocation is visible to `get`.
/// - `since(c)` returns every event with a cursor after `c` in order, or
///   says [`CatchUp::TooOld`] if some of them were trimmed; never a
///   partial answer. Its `missed_until`, when given, is at or after the
///   instant of every event it did not return.
/// - A subscription delivers, in order, every event published after it was
///   made, or [`FeedMessage::Lagged`] where it dropped some. A follower
///   subscribes first, then calls `since`, and skips the subscription's
///   events at or before the cursor it has: nothing falls between the two.
#[async_trait]
pub trait RevocationFeed: Send + Sync + 'static {
    /// The events after `cursor`.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn since(&self, cursor: Cursor) -> Result<CatchUp, StoreError>;

    /// Pushes the events published from now on.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be subscribed to.
    async fn subscribe(&self) -> Result<Box<dyn RevocationSubscription>, StoreError>;
}

/// A live subscription to a [`RevocationFeed`]; dropping it unsubscribes.
#[async_trait]
pub trait RevocationSubscription: Send + fmt::Debug {
    /// Waits for the next message.
    ///
    /// # Errors
    /// [`StoreError`] when the connection is lost: subscribe again, and
    /// catch up with `since`.
    async fn next(&mut self) -> Result<FeedMessage, StoreError>;
}

#[async_trait]
impl<T: RevocationFeed + ?Sized> RevocationFeed for std::sync::Arc<T> {
    async fn since(&self, cursor: Cursor) -> Result<CatchUp, StoreError> {
        (**self).since(cursor).await
    }

    async fn subscribe(&self) -> Result<Box<dyn RevocationSubscription>, StoreError> {
        (**self).subscribe().await
    }
}
