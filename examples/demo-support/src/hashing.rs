//! A bound on password hashes running at once, and on those waiting.
//!
//! An argon2id hash takes tens of milliseconds of one core and 19 MiB, on
//! purpose. Without a bound, every login in flight runs one on tokio's
//! blocking pool (up to 512 threads): a burst of logins would exhaust the
//! server's memory and starve everything else. Here at most `slots` run;
//! up to `queue` more wait their turn (a short wait, bounded by the queue's
//! length rather than by a timer); beyond that a login is answered at once
//! with 503 and `Retry-After`.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many hashes run at once and how many wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// Hashes running at once. Default: the number of cores, at most 8
    /// (argon2id is CPU-bound: more at once only makes each slower, and
    /// holds 19 MiB each).
    pub slots: usize,
    /// Hashes waiting for a slot; past it, 503. Default: 4 per slot (a
    /// wait of a few hashes' time, well under a second).
    pub queue: usize,
}

impl Default for HashLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let slots = cores.clamp(1, 8);
        Self {
            slots,
            queue: 4 * slots,
        }
    }
}

/// The gate every password hash goes through. Cheap to clone.
#[derive(Clone)]
pub struct HashGate {
    /// Running and waiting hashes together.
    admitted: Arc<Semaphore>,
    /// Running hashes.
    running: Arc<Semaphore>,
}

/// No room to run or wait: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// The right to run one hash. Move it into the blocking task that hashes,
/// so that the slot is held until the hash ends, even if the request that
/// started it is dropped meanwhile.
pub struct HashPermit {
    _running: OwnedSemaphorePermit,
    _admitted: OwnedSemaphorePermit,
}

impl HashGate {
    /// A gate for `limits` (a zero `slots` is taken as 1).
    pub fn new(limits: HashLimits) -> Self {
        let slots = limits.slots.max(1);
        Self {
            admitted: Arc::new(Semaphore::new(slots.saturating_add(limits.queue))),
            running: Arc::new(Semaphore::new(slots)),
        }
    }

    /// Waits for a slot, if there is room to wait.
    ///
    /// # Errors
    /// [`Busy`] when `slots + queue` hashes are already running or waiting.
    pub async fn enter(&self) -> Result<HashPermit, Busy> {
        let admitted = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| Busy)?;
        let running = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(|_| Busy)?;
        Ok(HashPermit {
            _running: running,
            _admitted: admitted,
        })
    }

    /// A slot now, or [`Busy`] without waiting (tests hold slots with it).
    ///
    /// # Errors
    /// [`Busy`] when no slot is free.
    pub fn try_enter(&self) -> Result<HashPermit, Busy> {
        let admitted = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| Busy)?;
        let running = Arc::clone(&self.running)
            .try_acquire_owned()
            .map_err(|_| Busy)?;
        Ok(HashPermit {
            _running: running,
            _admitted: admitted,
        })
    }
}
