//! Connections kept between calls, out of the pool, so that a call costs
//! one round trip instead of two.
//!
//! sqlx tests every connection given back to its pool with a ping, in a
//! task of its own: a second round trip per call, which cost PostgreSQL
//! refreshes up to a third of their throughput under load (issue 16). The ping is there for a
//! connection whose statement was cut short; a call that succeeded read
//! its statement's answer to the end, so its connection is known to be
//! idle and sound. Such a connection waits here for the next call, most
//! recently used first (the warmest). A call that failed, or was cut
//! short, gives its connection back to the pool as before.
//!
//! Kept connections still belong to the pool (they count towards its
//! `max_connections`), so the pool's own rules reach them a little late,
//! and this bounds how late: a connection idle here for [`IDLE`] goes back
//! (the pool's idle timeout and other users of a shared pool see it then),
//! as does one out of the pool for [`LEASE`] (its `max_lifetime` is checked
//! then), and every one when a call finds its connection lost (the server
//! restarted: the pool's health check then tests them). A task of the
//! store's (spawned at the first keep, ended with the store) gives back
//! the idle ones when no call comes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use sqlx::pool::{CloseEvent, PoolConnection};
use sqlx::{Database, Pool};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
// Tokio's clock, which tests can stop and move on.
use tokio::time::Instant;

/// How long a connection may wait here unused.
pub(super) const IDLE: Duration = Duration::from_secs(1);

/// How long a connection may stay out of the pool, in use or kept. Short
/// enough that when calls keep every connection busy, one still goes
/// back to the pool every `LEASE / max_connections` or so, for others
/// waiting on a shared pool (which lends in turn); long enough that the
/// ping it then gets is one in thousands of calls.
pub(super) const LEASE: Duration = Duration::from_secs(5);

/// A connection lent by the pool, and since when.
pub(super) struct Lent<DB: Database> {
    pub(super) connection: PoolConnection<DB>,
    /// When the pool lent it.
    pub(super) since: Instant,
}

/// A kept connection, and since when it waits.
struct Kept<DB: Database> {
    lent: Lent<DB>,
    idle_since: Instant,
}

/// The connections kept between calls (see the module's documentation).
pub(super) struct Warm<DB: Database> {
    /// Oldest first: the next call takes the last.
    kept: Mutex<Vec<Kept<DB>>>,
    /// One permit per connection of the pool, held by each call while it
    /// has one: a call waits here, in turn, for one that ends, and takes
    /// the connection it kept. (Waiting in the pool instead, it would
    /// wait for a connection that no call gives back while calls keep
    /// coming.)
    calls: Arc<Semaphore>,
    /// Wakes the sweeper: something to give back later, or the end.
    wake: Arc<Notify>,
    /// Whether the sweeper runs.
    sweeping: AtomicBool,
}

impl<DB: Database> Warm<DB> {
    /// Room for as many calls at once as `pool` has connections.
    pub(super) fn new(pool: &Pool<DB>) -> Self {
        let connections = pool.options().get_max_connections();
        Self {
            kept: Mutex::new(Vec::new()),
            calls: Arc::new(Semaphore::new(connections.try_into().unwrap_or(usize::MAX))),
            wake: Arc::new(Notify::new()),
            sweeping: AtomicBool::new(false),
        }
    }

    /// A connection for one call, and its turn: the warmest kept one, or
    /// one from `pool`. Waits for its turn for the pool's acquire timeout
    /// at most.
    ///
    /// # Errors
    /// `PoolTimedOut` past the acquire timeout; whatever `pool.acquire`
    /// returns.
    pub(super) async fn lend(
        &self,
        pool: &Pool<DB>,
    ) -> Result<(OwnedSemaphorePermit, Lent<DB>), sqlx::Error> {
        if pool.is_closed() {
            // Kept connections would still work: a closed pool lends none.
            self.give_back_all();
            return Err(sqlx::Error::PoolClosed);
        }
        let wait = pool.options().get_acquire_timeout();
        let turn = Arc::clone(&self.calls).acquire_owned();
        let turn = match tokio::time::timeout(wait, turn).await {
            Ok(Ok(turn)) => turn,
            // The semaphore is never closed.
            Ok(Err(_)) => return Err(sqlx::Error::PoolClosed),
            Err(_) => return Err(sqlx::Error::PoolTimedOut),
        };
        let lent = match self.take() {
            Some(lent) => lent,
            None => Lent {
                connection: pool.acquire().await?,
                since: Instant::now(),
            },
        };
        Ok((turn, lent))
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Vec<Kept<DB>>> {
        // A panic cannot leave the list half-changed: each change is one
        // push, pop or drain.
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The warmest kept connection, if any.
    fn take(&self) -> Option<Lent<DB>> {
        self.kept().pop().map(|kept| kept.lent)
    }

    /// Keeps `lent`, whose call succeeded, for the next call: unless it
    /// has been out of `pool` for [`LEASE`], the pool is closed, or no
    /// runtime can run the sweeper; then it goes back to the pool. Gives
    /// back the connections idle for [`IDLE`] on the way.
    pub(super) fn keep(self: &Arc<Self>, pool: &Pool<DB>, lent: Lent<DB>) {
        let now = Instant::now();
        if now.saturating_duration_since(lent.since) >= LEASE
            || pool.is_closed()
            || !self.sweeper_runs(pool)
        {
            return; // dropped: back to the pool
        }
        let stale = {
            let mut kept = self.kept();
            kept.push(Kept {
                lent,
                idle_since: now,
            });
            split_stale(&mut kept, now)
        };
        drop(stale); // outside the lock: each drop spawns the pool's ping
        self.wake.notify_one();
    }

    /// Gives every kept connection back to the pool.
    pub(super) fn give_back_all(&self) {
        let all = std::mem::take(&mut *self.kept());
        drop(all);
    }

    /// Starts the sweeper if it does not run yet; whether it runs.
    fn sweeper_runs(self: &Arc<Self>, pool: &Pool<DB>) -> bool {
        if self.sweeping.load(Ordering::Acquire) {
            return true;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        if self.sweeping.swap(true, Ordering::AcqRel) {
            return true;
        }
        let closed = pool.close_event();
        runtime.spawn(sweep(Arc::downgrade(self), Arc::clone(&self.wake), closed));
        true
    }

    /// Gives back the connections idle for [`IDLE`] at `now`; when the
    /// next one will be, if any is kept.
    fn sweep_once(&self, now: Instant) -> Option<Instant> {
        let (stale, next) = {
            let mut kept = self.kept();
            let stale = split_stale(&mut kept, now);
            (stale, kept.first().map(|k| k.idle_since + IDLE))
        };
        drop(stale);
        next
    }
}

impl<DB: Database> Drop for Warm<DB> {
    fn drop(&mut self) {
        // The sweeper waits on `wake`: let it find the store gone and end.
        self.wake.notify_one();
    }
}

/// Takes out of `kept` (oldest first) the connections idle for [`IDLE`]
/// at `now`.
fn split_stale<DB: Database>(kept: &mut Vec<Kept<DB>>, now: Instant) -> Vec<Kept<DB>> {
    let fresh = kept
        .iter()
        .position(|k| now.saturating_duration_since(k.idle_since) < IDLE)
        .unwrap_or(kept.len());
    kept.drain(..fresh).collect()
}

/// The sweeper: gives back idle connections when no call comes to do it,
/// and all of them when the pool closes (whose `close` waits for them);
/// ends when the store is gone.
async fn sweep<DB: Database>(warm: Weak<Warm<DB>>, wake: Arc<Notify>, closed: CloseEvent) {
    let mut closed = std::pin::pin!(closed);
    loop {
        let Some(next) = warm.upgrade().map(|w| w.sweep_once(Instant::now())) else {
            return;
        };
        let idle = async {
            match next {
                // A keep meanwhile only adds later deadlines: sleep on.
                Some(at) => tokio::time::sleep_until(at).await,
                None => wake.notified().await,
            }
        };
        tokio::select! {
            () = idle => {}
            () = closed.as_mut() => {
                if let Some(warm) = warm.upgrade() {
                    warm.give_back_all();
                }
                return;
            }
        }
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests;
