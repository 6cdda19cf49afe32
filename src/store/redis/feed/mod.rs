//! [`RedisStore`]'s [`RevocationFeed`]: a stream that the revoking scripts
//! append to in the same script as the revocation (`feed.lua`), on one
//! server.
//!
//! The cursor is the `<n>` of the entry id `<n>-0`: the scripts choose the
//! ids themselves (the server's millisecond, or one past the last entry's
//! when that is later), so the cursor maps to the id exactly, with no bits
//! to overflow, and rises even across a clock that steps back or a stream
//! made again. Each entry carries the `<n>` of the one before it: a reader
//! that does not find the entry after its cursor pointing back at its
//! cursor has missed something (trimmed by `MAXLEN`, or lost in a
//! failover), and says so rather than skip it. Each entry also carries the
//! latest instant of it and every entry before it: where entries were
//! trimmed, the first one left bounds what was missed.

mod subscription;

use std::fmt;

use async_trait::async_trait;
use redis::{Client, Value};
use time::OffsetDateTime;

use self::subscription::Subscription;
use super::RedisStore;
use super::connection::Topology;
use super::record::Fields;
use crate::error::{StoreError, StoreErrorKind};
use crate::store::feed::{
    CatchUp, Cursor, RevocationEvent, RevocationFeed, RevocationSubscription, Revoked,
};

/// Entries a stream keeps by default.
pub(super) const DEFAULT_CAPACITY: u64 = 100_000;

/// The feed of a store on one server.
#[derive(Clone)]
pub(super) struct Feed {
    /// The stream's key.
    pub(super) stream: String,
    /// Entries kept (`MAXLEN`, exact).
    pub(super) capacity: u64,
    /// What subscriptions open their own connections with: a blocking read
    /// on the store's shared connection would hold up every other call.
    /// `None` for a store made with `build` and no `feed_client`.
    pub(super) client: Option<Client>,
    /// The deadline of a subscription's connection attempt, and its margin
    /// on each blocking read.
    pub(super) call_timeout: std::time::Duration,
}

// The client's Debug shows its address and options.
impl fmt::Debug for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feed")
            .field("stream", &self.stream)
            .field("capacity", &self.capacity)
            .field("subscribable", &self.client.is_some())
            .finish()
    }
}

/// The source of the error that [`RedisStore`]'s [`RevocationFeed`]
/// methods return on a Redis Cluster, whose stores publish no feed: a
/// script may touch the keys of one slot only, each session has a slot of
/// its own, so no script could revoke a session and append to one stream
/// at once. See SECURITY.md for what to use instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("RedisStore publishes no revocation feed on a Redis Cluster")]
#[non_exhaustive]
pub struct ClusterFeedUnsupported;

/// One stream entry, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    /// The cursor of the entry before it when it was added (0: none).
    pub(super) previous: u64,
    /// The latest instant of this entry and every one before it.
    pub(super) latest: OffsetDateTime,
    pub(super) event: RevocationEvent,
}

impl RedisStore {
    /// The feed, or the error a store on a cluster gives.
    fn feed(&self) -> Result<&Feed, StoreError> {
        match (&self.feed, self.conn.topology()) {
            (Some(feed), _) => Ok(feed),
            (None, Topology::Cluster) => Err(StoreError::other(
                "RedisStore on a Redis Cluster has no revocation feed",
            )
            .with_source(ClusterFeedUnsupported)),
            (None, Topology::Single) => Err(StoreError::other("RedisStore has no revocation feed")),
        }
    }
}

#[async_trait]
impl RevocationFeed for RedisStore {
    async fn since(&self, cursor: Cursor) -> Result<CatchUp, StoreError> {
        let feed = self.feed()?;
        let from = cursor.get().saturating_add(1);
        // One transaction: the head is the head of the range read.
        let (range, last): (Value, Value) = redis::pipe()
            .atomic()
            .cmd("XRANGE")
            .arg(&feed.stream)
            .arg(format!("{from}-0"))
            .arg("+")
            .cmd("XREVRANGE")
            .arg(&feed.stream)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut self.conn())
            .await
            .map_err(self.failed("reading the revocation feed"))?;
        let head = head(last)?;
        Ok(catch_up(cursor, entries(range)?, head))
    }

    async fn subscribe(&self) -> Result<Box<dyn RevocationSubscription>, StoreError> {
        let feed = self.feed()?;
        let subscription = Subscription::open(feed).await?;
        Ok(Box::new(subscription))
    }
}

/// The answer to `since(cursor)`, given the entries after it and the
/// stream's last cursor: `TooOld` unless the entries chain back to the
/// cursor without a gap.
fn catch_up(cursor: Cursor, entries: Vec<Entry>, head: Cursor) -> CatchUp {
    // A cursor past the head: the stream was made again, or its last
    // entries were lost in a failover; nothing bounds what they held.
    if head < cursor {
        return CatchUp::TooOld {
            head,
            missed_until: None,
        };
    }
    let chained = chain_len(cursor, &entries);
    if let Some(first) = entries.get(chained) {
        let before = chained
            .checked_sub(1)
            .and_then(|i| entries.get(i))
            .map_or(cursor.get(), |e| e.event.cursor.get());
        // Entries trimmed between `before` and `first` are in `first`'s
        // history, so its latest instant bounds theirs; one that points
        // back before `before` has another history than the one read.
        let missed_until = (first.previous > before).then_some(first.latest);
        return CatchUp::TooOld { head, missed_until };
    }
    let events = entries.into_iter().map(|e| e.event).collect();
    CatchUp::Events { events, head }
}

/// How many of `entries` (read after `cursor`, in order) follow on from
/// it without a gap: each names the one before it as its previous.
fn chain_len(cursor: Cursor, entries: &[Entry]) -> usize {
    let mut previous = cursor.get();
    entries
        .iter()
        .take_while(|entry| {
            let follows = entry.previous == previous;
            previous = entry.event.cursor.get();
            follows
        })
        .count()
}

/// The cursor of the entry an `XREVRANGE ... COUNT 1` gave, or
/// [`Cursor::START`] for an empty or missing stream.
pub(super) fn head(reply: Value) -> Result<Cursor, StoreError> {
    Ok(entries(reply)?
        .last()
        .map_or(Cursor::START, |e| e.event.cursor))
}

/// The entries of an `XRANGE` reply (or of one stream in an `XREAD`).
pub(super) fn entries(reply: Value) -> Result<Vec<Entry>, StoreError> {
    match reply {
        Value::Nil => Ok(Vec::new()),
        Value::Array(items) => items.into_iter().map(entry).collect(),
        _ => Err(corrupt("a stream reply that is not a list")),
    }
}

fn entry(item: Value) -> Result<Entry, StoreError> {
    let Value::Array(parts) = item else {
        return Err(corrupt("a stream entry that is not a list"));
    };
    let [id, fields] = <[Value; 2]>::try_from(parts)
        .map_err(|_| corrupt("a stream entry that is not an id and its fields"))?;
    let cursor = match id {
        Value::BulkString(id) => parse_id(&id),
        Value::SimpleString(id) => parse_id(id.as_bytes()),
        _ => None,
    }
    .ok_or_else(|| corrupt("a stream entry id that is no cursor"))?;
    let fields = Fields::from_reply(fields)?;
    let previous = fields
        .text("p")?
        .parse()
        .map_err(|_| corrupt("a stream entry with a bad 'p'"))?;
    let at = fields.instant("at")?;
    // Written only when an earlier entry was later than this one.
    let latest = match fields.get("m") {
        None => at,
        Some(_) => fields.instant("m")?,
    };
    let revoked = match fields.text("t")? {
        "s" => Revoked::Session(session_id(fields.text("id")?)?),
        "u" => Revoked::Subject {
            subject: fields.text("sub")?.to_owned(),
            except: match fields.get("ex") {
                None => None,
                Some(_) => Some(session_id(fields.text("ex")?)?),
            },
        },
        _ => return Err(corrupt("a stream entry of an unknown type")),
    };
    Ok(Entry {
        previous,
        latest,
        event: RevocationEvent {
            revoked,
            at,
            cursor: Cursor::new(cursor),
        },
    })
}

/// The `<n>` of an id `<n>-0`, as the scripts write them; nothing else.
fn parse_id(id: &[u8]) -> Option<u64> {
    let n = std::str::from_utf8(id).ok()?.strip_suffix("-0")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

fn session_id(text: &str) -> Result<crate::session::SessionId, StoreError> {
    text.parse()
        .map_err(|_| corrupt("a stream entry with a bad session id"))
}

fn corrupt(what: &'static str) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, "corrupt revocation feed").with_source(Bad(what))
}

/// What was wrong with the stream.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Bad(&'static str);

#[cfg(test)]
mod tests;
