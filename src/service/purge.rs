//! [`TokenService::spawn_purge`]: deleting dead sessions in the background.

use std::fmt;
use std::time::Duration;

use super::TokenService;
use crate::error::{ConfigError, Error};
use crate::store::RefreshStore;
use crate::token::AppClaims;

/// Longer intervals are cut to this (about 31 years).
const LONGEST: Duration = Duration::from_secs(1 << 30);

/// The background task of [`TokenService::spawn_purge`]. Dropping it lets
/// the task run on (until the runtime shuts down); [`abort`](Self::abort)
/// stops it.
pub struct PurgeTask {
    handle: tokio::task::JoinHandle<()>,
}

impl PurgeTask {
    /// Stops the task; a purge under way is cut short, which the store's
    /// atomic deletes make harmless.
    pub fn abort(self) {
        self.handle.abort();
    }

    /// Whether the task has ended (aborted, or its runtime shut down).
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

impl fmt::Debug for PurgeTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PurgeTask")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<S: RefreshStore, C: AppClaims> TokenService<S, C> {
    /// Calls [`purge_expired`](Self::purge_expired) every `every` on the
    /// current tokio runtime (feature `tokio`), first right away, like
    /// tower-sessions' `continuously_delete_expired`. A failed purge is
    /// logged (`tracing`, warn) and retried at the next tick; ticks missed
    /// while a purge ran are skipped, not bunched.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
    /// use std::time::Duration;
    /// use jwt_rotate::{Key, MemoryStore, TokenService};
    ///
    /// let service = TokenService::builder()
    ///     .issuer("https://auth.example.com")
    ///     .audience("api.example.com")
    ///     .access_key(Key::hs256([1u8; 32])?)
    ///     .refresh_key(Key::hs256([2u8; 32])?)
    ///     .build(MemoryStore::new())?;
    /// let purge = service.spawn_purge(Duration::from_secs(3600))?;
    /// purge.abort();
    /// # Ok::<(), jwt_rotate::Error>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] if `every` is zero, or there is no current tokio
    /// runtime (the runtime also needs its time driver).
    pub fn spawn_purge(&self, every: Duration) -> Result<PurgeTask, Error> {
        if every.is_zero() {
            return Err(ConfigError::new("the purge interval must be positive").into());
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| ConfigError::with_source("spawn_purge needs a tokio runtime", e))?;
        // A period past the timer's range would overflow its deadlines.
        let every = every.min(LONGEST);
        let service = self.clone();
        let handle = runtime.spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match service.purge_expired().await {
                    Ok(purged) => tracing::debug!(purged, "purged expired sessions"),
                    Err(err) => tracing::warn!(error = %err, "purging expired sessions failed"),
                }
            }
        });
        Ok(PurgeTask { handle })
    }
}
