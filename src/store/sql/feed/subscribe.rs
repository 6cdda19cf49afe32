//! Subscriptions: polling the table (the default), or woken by
//! PostgreSQL's `NOTIFY`.

use std::collections::VecDeque;

use async_trait::async_trait;

use super::super::{Dialect, SqlStore};
use super::Pending;
use super::read::read;
use crate::error::StoreError;
use crate::store::{Cursor, FeedMessage, RevocationSubscription};

/// A subscription starting at the feed's head now.
async fn pending<D: Dialect>(store: &SqlStore<D>) -> Result<Pending, StoreError> {
    let head = read(store, Cursor::new(u64::MAX)).await?.head;
    Ok(Pending {
        at: head,
        ready: VecDeque::new(),
    })
}

/// A subscription that reads the table every `feed_poll_interval`,
/// sending `Current(head)` after each read as a heartbeat.
#[derive(Debug)]
struct Polling<D: Dialect> {
    store: SqlStore<D>,
    pending: Pending,
}

/// Subscribes to `store`'s feed by polling (the default `subscribe`).
///
/// # Errors
/// Any failure of the database.
pub(in crate::store::sql) async fn poll<D: Dialect>(
    store: &SqlStore<D>,
) -> Result<Box<dyn RevocationSubscription>, StoreError> {
    Ok(Box::new(Polling {
        store: store.clone(),
        pending: pending(store).await?,
    }))
}

#[async_trait]
impl<D: Dialect> RevocationSubscription for Polling<D> {
    async fn next(&mut self) -> Result<FeedMessage, StoreError> {
        loop {
            if let Some(message) = self.pending.ready.pop_front() {
                return Ok(message);
            }
            tokio::time::sleep(self.store.feed.poll_interval).await;
            self.pending.catch_up(&self.store).await?;
        }
    }
}

#[cfg(feature = "postgres")]
pub(in crate::store::sql) use self::postgres::{listen, notify_statement};

#[cfg(feature = "postgres")]
mod postgres {
    use std::fmt;

    use sqlx::pool::PoolOptions;
    use sqlx::postgres::PgListener;

    use super::*;
    use crate::store::sql::Postgres;
    use crate::store::sql::error::{Op, timed_out};

    /// The statement that wakes subscribers: the new entry's id on the
    /// channel named as the table, sent by PostgreSQL at the commit.
    pub(in crate::store::sql) fn notify_statement(prefix: &str) -> String {
        format!(
            "SELECT pg_notify('{prefix}revocations', head::text) \
             FROM {prefix}revocations_head WHERE id = 1"
        )
    }

    /// A subscription woken by `NOTIFY` on a connection of its own, which
    /// reads the new entries by id (`since`) when woken.
    struct Listening {
        store: SqlStore<Postgres>,
        listener: PgListener,
        pending: Pending,
    }

    impl fmt::Debug for Listening {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Listening")
                .field("channel", &self.store.feed.channel)
                .field("pending", &self.pending)
                .finish_non_exhaustive()
        }
    }

    /// Subscribes to `store`'s feed with `LISTEN`, on a connection outside
    /// the store's pool (held as long as the subscription).
    ///
    /// # Errors
    /// Past the call timeout; any failure of the database.
    pub(in crate::store::sql) async fn listen(
        store: &SqlStore<Postgres>,
    ) -> Result<Box<dyn RevocationSubscription>, StoreError> {
        let within = store.call_timeout;
        let connect = async {
            // A pool of one, which PgListener uses to reconnect.
            let pool = PoolOptions::<sqlx::Postgres>::new()
                .max_connections(1)
                .max_lifetime(None)
                .idle_timeout(None)
                .acquire_timeout(within)
                .connect_lazy_with((*store.pool.connect_options()).clone());
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.ignore_pool_close_event(true);
            listener.listen(&store.feed.channel).await?;
            Ok(listener)
        };
        let listener = match tokio::time::timeout(within, connect).await {
            Ok(listener) => listener.map_err(|e| store.error(Op::Feed, e))?,
            Err(elapsed) => {
                return Err(timed_out::<Postgres>(Op::Feed, within).with_source(elapsed));
            }
        };
        // Listening before the head is read: nothing falls between.
        Ok(Box::new(Listening {
            store: store.clone(),
            listener,
            pending: pending(store).await?,
        }))
    }

    #[async_trait]
    impl RevocationSubscription for Listening {
        async fn next(&mut self) -> Result<FeedMessage, StoreError> {
            loop {
                if let Some(message) = self.pending.ready.pop_front() {
                    return Ok(message);
                }
                match self.listener.try_recv().await {
                    Ok(Some(notification)) => {
                        let id = notification.payload().parse::<u64>();
                        if id.is_ok_and(|id| Cursor::new(id) <= self.pending.at) {
                            // Read already, with an earlier wake-up.
                            continue;
                        }
                        // One read covers every wake-up already here.
                        while self.listener.next_buffered().is_some() {}
                    }
                    // The connection was lost, and is listening again:
                    // what was published meanwhile is read now.
                    Ok(None) => {}
                    Err(e) => return Err(self.store.error(Op::Feed, e)),
                }
                self.pending.catch_up(&self.store).await?;
            }
        }
    }
}
