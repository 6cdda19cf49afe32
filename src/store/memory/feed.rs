//! MemoryStore's [`RevocationFeed`]: a bounded ring of the latest events,
//! which is the broadcast too: each subscription reads the ring at its own
//! cursor, and one that falls out of the ring's back has lagged.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::store::feed::{
    CatchUp, Cursor, FeedMessage, RevocationEvent, RevocationSubscription, Revoked,
};

/// Events kept by default: at a revocation a second, over an hour's worth.
pub(super) const DEFAULT_CAPACITY: usize = 4096;

/// The ring, shared by the store and its subscriptions.
#[derive(Debug)]
pub(super) struct Feed {
    ring: Mutex<Ring>,
}

#[derive(Debug)]
struct Ring {
    events: VecDeque<RevocationEvent>,
    capacity: usize,
    /// The last cursor handed out.
    last: u64,
    /// The latest instant of an event dropped from the ring: every event
    /// a `since` can no longer return happened at or before it.
    dropped_until: Option<OffsetDateTime>,
    /// Subscriptions waiting for the next event.
    waiting: Vec<Waker>,
}

impl Feed {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            ring: Mutex::new(Ring {
                events: VecDeque::with_capacity(capacity.min(DEFAULT_CAPACITY)),
                capacity: capacity.max(1),
                last: 0,
                dropped_until: None,
                waiting: Vec::new(),
            }),
        }
    }

    fn ring(&self) -> MutexGuard<'_, Ring> {
        // Nothing under this lock panics short of an allocation failure.
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an event; the caller still holds the lock under which the
    /// revocation was made, so the feed's order is the revocations' order.
    pub(super) fn publish(&self, revoked: Revoked, at: OffsetDateTime) {
        let mut ring = self.ring();
        ring.last += 1;
        let cursor = Cursor::new(ring.last);
        if ring.events.len() == ring.capacity
            && let Some(dropped) = ring.events.pop_front()
        {
            // A maximum: instants come from callers' clocks, not in order.
            ring.dropped_until = ring.dropped_until.max(Some(dropped.at));
        }
        ring.events.push_back(RevocationEvent {
            revoked,
            at,
            cursor,
        });
        for waker in ring.waiting.drain(..) {
            waker.wake();
        }
    }

    pub(super) fn since(&self, cursor: Cursor) -> CatchUp {
        let ring = self.ring();
        let head = Cursor::new(ring.last);
        match ring.after(cursor) {
            Some(start) => CatchUp::Events {
                events: ring.events.range(start..).cloned().collect(),
                head,
            },
            // A cursor from the future was never ours: no bound.
            None if cursor > head => CatchUp::TooOld {
                head,
                missed_until: None,
            },
            None => CatchUp::TooOld {
                head,
                missed_until: ring.dropped_until,
            },
        }
    }

    pub(super) fn subscribe(self: &Arc<Self>) -> Subscription {
        let at = Cursor::new(self.ring().last);
        Subscription {
            feed: Arc::clone(self),
            at,
        }
    }
}

impl Ring {
    /// The index of the first event after `cursor`, if the ring still holds
    /// every event after it (a cursor from the future, which this store
    /// never handed out, holds nothing).
    fn after(&self, cursor: Cursor) -> Option<usize> {
        let next = cursor.get().checked_add(1)?;
        let oldest = self
            .events
            .front()
            .map_or(self.last + 1, |e| e.cursor.get());
        if next < oldest || cursor.get() > self.last {
            return None;
        }
        usize::try_from(next - oldest).ok()
    }
}

/// A subscription to MemoryStore's feed.
#[derive(Debug)]
pub(super) struct Subscription {
    feed: Arc<Feed>,
    /// The last cursor delivered.
    at: Cursor,
}

#[async_trait]
impl RevocationSubscription for Subscription {
    async fn next(&mut self) -> Result<FeedMessage, StoreError> {
        Ok(poll_fn(|cx| {
            let mut ring = self.feed.ring();
            match ring.after(self.at) {
                None => {
                    self.at = Cursor::new(ring.last);
                    Poll::Ready(FeedMessage::Lagged)
                }
                Some(index) => match ring.events.get(index) {
                    Some(event) => {
                        self.at = event.cursor;
                        Poll::Ready(FeedMessage::Event(event.clone()))
                    }
                    None => {
                        if !ring.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                            ring.waiting.push(cx.waker().clone());
                        }
                        Poll::Pending
                    }
                },
            }
        })
        .await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionId;

    fn session(n: u8) -> Revoked {
        Revoked::Session(SessionId::from_bytes([n; 16]))
    }

    #[test]
    fn since_answers_from_the_ring_or_says_too_old() {
        let feed = Feed::new(2);
        let at = |n: i64| OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(n);
        let empty = CatchUp::Events {
            events: vec![],
            head: Cursor::START,
        };
        assert_eq!(feed.since(Cursor::START), empty);
        // Out of order: the bound is the latest dropped, not the last.
        for (n, second) in [(1, 5), (2, 1), (3, 7), (4, 9)] {
            feed.publish(session(n), at(second));
        }
        let head = Cursor::new(4);
        let missed_until = Some(at(5));
        assert_eq!(
            feed.since(Cursor::START),
            CatchUp::TooOld { head, missed_until }
        );
        let CatchUp::Events { events, .. } = feed.since(Cursor::new(2)) else {
            panic!("cursor 2 is still covered");
        };
        assert_eq!(
            events.iter().map(|e| e.cursor.get()).collect::<Vec<_>>(),
            [3, 4]
        );
        assert_eq!(
            feed.since(head),
            CatchUp::Events {
                events: vec![],
                head
            }
        );
        let missed_until = None;
        assert_eq!(
            feed.since(Cursor::new(9)),
            CatchUp::TooOld { head, missed_until }
        );
    }
}
