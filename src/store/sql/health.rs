//! Which pooled connections to test before lending them: those left idle
//! since before a call found its connection lost.
//!
//! `connect` turns off sqlx's ping before each use, so that a refresh is
//! one round trip. But when the server restarts, every idle connection of
//! the pool is dead, and each would fail the call it is lent to: up to
//! `max_connections` failed calls for one restart. So the first call that
//! finds its connection lost records when, and from then on the pool pings
//! a connection before lending it if it has been idle since before that
//! instant: a dead one is closed and replaced, and no other call fails.
//! Connections used since are known good and go out unpinged, so the happy
//! path stays one round trip.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sqlx::pool::PoolConnectionMetadata;
use sqlx::{Connection, Database};

use super::driver::BoxFuture;

/// When a call of this store last found its connection lost.
#[derive(Debug)]
pub(super) struct Health {
    /// What the instants below count from.
    origin: Instant,
    /// Nanoseconds from `origin` to the last loss, plus one; zero: never.
    lost_at: AtomicU64,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            lost_at: AtomicU64::new(0),
        }
    }
}

impl Health {
    /// Nanoseconds since `origin` (plus one, so that zero means never).
    fn now(&self) -> u64 {
        let nanos = self.origin.elapsed().as_nanos();
        u64::try_from(nanos).unwrap_or(u64::MAX - 1) + 1
    }

    /// Records that a call found its connection lost, now.
    pub(super) fn lost(&self) {
        self.lost_at.fetch_max(self.now(), Ordering::Relaxed);
    }

    /// Whether a connection idle for `idle_for` went idle before the last
    /// loss, so may have ended with it.
    fn suspect(&self, idle_for: std::time::Duration) -> bool {
        suspect(self.lost_at.load(Ordering::Relaxed), self.now(), idle_for)
    }

    /// The pool's `before_acquire` hook: pings a suspect connection, and
    /// has the pool close it (and lend another) if the ping fails.
    pub(super) fn before_acquire<DB: Database>(
        self: &Arc<Self>,
    ) -> impl for<'c> Fn(
        &'c mut DB::Connection,
        PoolConnectionMetadata,
    ) -> BoxFuture<'c, Result<bool, sqlx::Error>>
    + Send
    + Sync
    + 'static {
        let health = Arc::clone(self);
        move |connection, meta| {
            let suspect = health.suspect(meta.idle_for);
            Box::pin(async move {
                if !suspect {
                    return Ok(true);
                }
                Ok(connection.ping().await.is_ok())
            })
        }
    }
}

/// Whether a connection idle for `idle_for` at `now` went idle before
/// `lost_at` (both counted as in [`Health`]; `lost_at` zero: never).
fn suspect(lost_at: u64, now: u64, idle_for: std::time::Duration) -> bool {
    let idle = u64::try_from(idle_for.as_nanos()).unwrap_or(u64::MAX);
    lost_at != 0 && now.saturating_sub(idle) <= lost_at
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn only_connections_idle_since_before_a_loss_are_suspect() {
        let ms = |n: u64| Duration::from_millis(n);
        let at = |n: u64| n * 1_000_000 + 1;
        assert!(!suspect(0, at(9), ms(9)), "nothing lost yet");
        assert!(suspect(at(5), at(9), ms(6)), "idle since before the loss");
        assert!(suspect(at(5), at(9), ms(4)), "idle since the loss");
        assert!(!suspect(at(5), at(9), ms(3)), "used after the loss");
        assert!(suspect(at(5), at(9), Duration::MAX), "idle for ever");
        let health = Health::default();
        assert!(!health.suspect(ms(1)));
        health.lost();
        assert!(health.suspect(Duration::from_secs(3600)));
    }
}
