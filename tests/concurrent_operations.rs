//! Operations racing each other on one session or one subject: tabs
//! refreshing one token at once, refreshes of many sessions in parallel, a
//! thief and the user racing, revocations racing refreshes and logins, and
//! concurrent logins over the session limit.
//!
//! - `refresh_races`: refresh against refresh.
//! - `revocation_races`: `revoke`, `revoke_session`, `revoke_subject` and
//!   the session limit against refresh and login.
//!
//! Each race runs one of two ways. Free-running, on a multi-threaded
//! runtime, for many rounds. Or with the interleaving forced (feature
//! `testing`): a `FaultyStore` delay holds one call on tokio's paused clock
//! while the other lands first, or a `FaultyStore` gather holds calls until
//! all have reached the store, so each order runs every time.
//!
//! In strict mode (`reuse_grace(Duration::ZERO)`) two tabs racing with the
//! same refresh token kill their own session: one rotates, the other is
//! reuse. That is why the default grace window is 10 s: with it, every tab
//! gets the same successor and the session lives on.
//!
//! The guarantees about revocation these show are written in the rustdoc
//! of `TokenService::revoke`, `revoke_session` and `revoke_subject`.

mod common;
#[path = "concurrent_operations/refresh_races.rs"]
mod refresh_races;
#[path = "concurrent_operations/revocation_races.rs"]
mod revocation_races;

use std::sync::Arc;

use jwt_rotate::store::RefreshStore;
use jwt_rotate::{Error, TokenPair, TokenService};
use tokio::sync::Barrier;

const TABS: usize = 32;

/// `TABS` tasks present the same refresh token at once.
async fn race_refresh<S: RefreshStore>(
    service: &TokenService<S>,
    pair: &TokenPair,
) -> Vec<Result<TokenPair, Error>> {
    let barrier = Arc::new(Barrier::new(TABS));
    let tasks: Vec<_> = (0..TABS)
        .map(|_| {
            let service = service.clone();
            let token = pair.refresh_token.clone();
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                service.refresh(&token).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(TABS);
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

/// Forcing an interleaving with `FaultyStore` on tokio's paused clock.
#[cfg(feature = "testing")]
mod forced {
    use std::time::Duration as StdDuration;

    use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp};
    use jwt_rotate::{Error, ManualClock, MemoryStore, TokenPair, TokenService};
    use tokio::task::JoinHandle;

    use crate::common;

    pub(crate) type Service = TokenService<FaultyStore<MemoryStore>>;

    /// A service with the common settings over a healthy `FaultyStore`.
    pub(crate) fn service() -> (Service, ManualClock) {
        let clock = ManualClock::new(common::start());
        let store = FaultyStore::new(MemoryStore::new());
        (common::builder(&clock).build(store).unwrap(), clock)
    }

    /// Holds the next call of `op` for a second of (paused) tokio time.
    pub(crate) fn hold_next(service: &Service, op: StoreOp) {
        let second = Fault::Delay(StdDuration::from_secs(1));
        service.store().inject(Calls::NthOf(op, 1), second);
    }

    /// Starts `refresh(token)` and lets it run up to its first store call.
    pub(crate) async fn start_refresh(
        service: &Service,
        token: &TokenPair,
    ) -> JoinHandle<Result<TokenPair, Error>> {
        let (service, token) = (service.clone(), token.refresh_token.clone());
        let task = tokio::spawn(async move { service.refresh(&token).await });
        tokio::task::yield_now().await;
        task
    }
}
