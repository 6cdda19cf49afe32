//! A subscription to [`RedisStore`](super::RedisStore)'s feed: `XREAD
//! BLOCK` on a connection of its own.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Value};

use super::{Entry, Feed, chain_len, corrupt, entries, head};
use crate::error::StoreError;
use crate::store::feed::{Cursor, FeedMessage, RevocationEvent, RevocationSubscription};
use crate::store::redis::connection::Topology;
use crate::store::redis::error::store_error;

/// How long one read blocks: with nothing new by then, the subscription
/// says [`FeedMessage::Current`].
pub(super) const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);

/// Entries asked of one read.
const BATCH: usize = 256;

/// A read under way, kept across a cancelled `next` so that the next call
/// waits for it rather than queue another read behind it.
type Pending = Pin<Box<dyn Future<Output = Result<Read, StoreError>> + Send>>;

/// What one read found.
enum Read {
    /// Entries after the cursor it read from.
    Entries(Vec<Entry>),
    /// Nothing for a heartbeat; the stream's last cursor then.
    Quiet(Cursor),
}

pub(super) struct Subscription {
    conn: MultiplexedConnection,
    stream: String,
    /// The last cursor delivered (or where it started).
    at: Cursor,
    /// Entries read and not delivered yet.
    ready: VecDeque<RevocationEvent>,
    pending: Option<Pending>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("stream", &self.stream)
            .field("at", &self.at)
            .field("ready", &self.ready.len())
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// Opens the subscription's connection, and starts it at the stream's
    /// last entry.
    pub(super) async fn open(feed: &Feed) -> Result<Self, StoreError> {
        let Some(client) = &feed.client else {
            return Err(StoreError::other(
                "this RedisStore cannot subscribe to its feed: it was made with `build` \
                 and no `feed_client`",
            ));
        };
        let doing = "opening a revocation feed subscription";
        // The reply to a blocking read may take the heartbeat and then some.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(feed.call_timeout))
            .set_response_timeout(Some(HEARTBEAT + feed.call_timeout));
        let mut conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| store_error(e, doing, Topology::Single))?;
        let at = last(&mut conn, &feed.stream).await?;
        Ok(Self {
            conn,
            stream: feed.stream.clone(),
            at,
            ready: VecDeque::new(),
            pending: None,
        })
    }
}

/// What a read after `at` found: the events of the entries that chain on
/// from `at`, or, when the first does not (the ones between were trimmed
/// or lost), `Err` with the newest cursor read, to go on from after a
/// `Lagged`. A break further on is found by the next read, which starts
/// there.
pub(super) fn chained(at: Cursor, entries: Vec<Entry>) -> Result<Vec<RevocationEvent>, Cursor> {
    let newest = entries.last().map_or(at, |e| e.event.cursor);
    let chained = chain_len(at, &entries);
    if chained == 0 && !entries.is_empty() {
        return Err(newest);
    }
    Ok(entries.into_iter().take(chained).map(|e| e.event).collect())
}

#[async_trait]
impl RevocationSubscription for Subscription {
    async fn next(&mut self) -> Result<FeedMessage, StoreError> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                self.at = event.cursor;
                return Ok(FeedMessage::Event(event));
            }
            let (conn, stream, at) = (&self.conn, &self.stream, self.at);
            let pending = self
                .pending
                .get_or_insert_with(|| Box::pin(read(conn.clone(), stream.clone(), at)));
            let found = pending.await;
            self.pending = None;
            match found? {
                Read::Entries(entries) => match chained(self.at, entries) {
                    Ok(events) => self.ready.extend(events),
                    Err(newest) => {
                        self.at = newest;
                        return Ok(FeedMessage::Lagged);
                    }
                },
                Read::Quiet(head) if head == self.at => return Ok(FeedMessage::Current(head)),
                // An entry came after the read gave up: read again.
                Read::Quiet(head) if head > self.at => {}
                // The stream is behind us: made again, or its last
                // entries lost in a failover.
                Read::Quiet(head) => {
                    self.at = head;
                    return Ok(FeedMessage::Lagged);
                }
            }
        }
    }
}

/// One blocking read after `at`; with nothing new, the stream's last
/// cursor.
async fn read(
    mut conn: MultiplexedConnection,
    stream: String,
    at: Cursor,
) -> Result<Read, StoreError> {
    let reply: Value = redis::cmd("XREAD")
        .arg("COUNT")
        .arg(BATCH)
        .arg("BLOCK")
        .arg(HEARTBEAT.as_millis() as u64)
        .arg("STREAMS")
        .arg(&stream)
        .arg(format!("{}-0", at.get()))
        .query_async(&mut conn)
        .await
        .map_err(|e| store_error(e, "reading the revocation feed", Topology::Single))?;
    match stream_entries(reply)? {
        Some(found) => Ok(Read::Entries(found)),
        None => Ok(Read::Quiet(last(&mut conn, &stream).await?)),
    }
}

/// The entries of an `XREAD` reply on one stream; `None` when it timed out.
fn stream_entries(reply: Value) -> Result<Option<Vec<Entry>>, StoreError> {
    let streams: Vec<Value> = match reply {
        Value::Nil => return Ok(None),
        // RESP2: [[key, entries]]; RESP3: {key: entries}.
        Value::Array(streams) => streams
            .into_iter()
            .map(|s| match s {
                Value::Array(pair) => pair.into_iter().nth(1).unwrap_or(Value::Nil),
                _ => Value::Nil,
            })
            .collect(),
        Value::Map(streams) => streams.into_iter().map(|(_, entries)| entries).collect(),
        _ => return Err(corrupt("a stream read reply that is not a list")),
    };
    let mut found = Vec::new();
    for list in streams {
        found.extend(entries(list)?);
    }
    Ok((!found.is_empty()).then_some(found))
}

/// The stream's last cursor ([`Cursor::START`] if it has no entry).
async fn last(conn: &mut MultiplexedConnection, stream: &str) -> Result<Cursor, StoreError> {
    let reply: Value = redis::cmd("XREVRANGE")
        .arg(stream)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(conn)
        .await
        .map_err(|e| store_error(e, "reading the revocation feed", Topology::Single))?;
    head(reply)
}
