//! [`Verifier::follow`]: the task that keeps the revocation view in step
//! with the feed (tokio).

use std::future::Future;
use std::sync::{Arc, Weak};

use crate::store::{FeedMessage, RevocationSubscription};

use super::{Inner, Verifier};

impl<C: Send + 'static> Verifier<C> {
    /// The task that keeps the revocation view current: subscribes to the
    /// feed, catches up with [`sync_revocations`](Self::sync_revocations),
    /// then applies pushed events as they come, and calls `since` again at
    /// least every third of `max_staleness` (which confirms the view is
    /// current) and whenever the subscription lagged. On a feed failure it
    /// waits (1 s, doubling up to a third of `max_staleness`) and
    /// subscribes again, catching up from its cursor, so nothing is missed.
    /// Ends when the last clone of the verifier is dropped; does nothing
    /// without a feed. Spawn it: `tokio::spawn(verifier.follow())`.
    pub fn follow(&self) -> impl Future<Output = ()> + Send + 'static {
        let weak = Arc::downgrade(&self.inner);
        async move {
            let mut backoff = std::time::Duration::from_secs(1);
            loop {
                let Some(heartbeat) = heartbeat(&weak) else {
                    return;
                };
                match run(&weak, heartbeat).await {
                    Ok(()) => return,
                    Err(error) => {
                        tracing::warn!(%error, "revocation feed failed; resubscribing");
                        tokio::time::sleep(backoff.min(heartbeat)).await;
                        backoff = (backoff * 2).min(heartbeat);
                    }
                }
            }
        }
    }
}

/// A third of `max_staleness`, at least 100 ms; `None` when the verifier
/// is gone or has no feed.
fn heartbeat(weak: &Weak<Inner>) -> Option<std::time::Duration> {
    let inner = weak.upgrade()?;
    let staleness = inner.revocations.as_ref()?.max_staleness / 3;
    let staleness = std::time::Duration::try_from(staleness).unwrap_or_default();
    Some(staleness.max(std::time::Duration::from_millis(100)))
}

/// One subscription's life: `Ok` when the verifier is gone, `Err` when the
/// feed failed.
async fn run(weak: &Weak<Inner>, heartbeat: std::time::Duration) -> Result<(), crate::Error> {
    let mut subscription: Box<dyn RevocationSubscription> = {
        let Some(verifier) = upgrade(weak) else {
            return Ok(());
        };
        let Some(source) = &verifier.inner.revocations else {
            return Ok(());
        };
        let feed = Arc::clone(&source.feed);
        drop(verifier);
        feed.subscribe().await?
    };
    loop {
        let Some(verifier) = upgrade(weak) else {
            return Ok(());
        };
        verifier.sync_revocations().await?;
        drop(verifier);
        let deadline = tokio::time::Instant::now() + heartbeat;
        loop {
            let message = tokio::time::timeout_at(deadline, subscription.next()).await;
            let Some(verifier) = upgrade(weak) else {
                return Ok(());
            };
            match message {
                // The heartbeat: `since` again, which confirms currency.
                Err(_elapsed) => break,
                Ok(message) => match message? {
                    FeedMessage::Event(event) => verifier.apply(&event),
                    FeedMessage::Current(cursor) => verifier.confirm(cursor),
                    FeedMessage::Lagged => break,
                },
            }
        }
    }
}

fn upgrade(weak: &Weak<Inner>) -> Option<Verifier<()>> {
    weak.upgrade().map(|inner| Verifier {
        inner,
        claims: std::marker::PhantomData,
    })
}
