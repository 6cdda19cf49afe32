//! Status indexes (for token status lists): given out by a counter,
//! recorded in a sorted set by index, and read back by range.
//!
//! The sorted set is written after the session, so an entry whose session
//! is gone belongs to a session purged or dropped by its TTL: the range
//! read removes such entries as it meets them. Scores are doubles, exact
//! up to 2^53 indexes.

use std::ops::Range;

use redis::Value;

use super::RedisStore;
use super::connection::Call;
use crate::error::StoreError;
use crate::session::SessionId;

/// Entries read per page of the sorted set.
const PAGE: usize = 1000;

impl RedisStore {
    /// The next status index: `INCR` of the counter, less one.
    pub(super) async fn next_status_index(&self) -> Result<u64, StoreError> {
        let [counter, _] = self.keys.status();
        let count: u64 = redis::cmd("INCR")
            .arg(counter)
            .query_async(&mut self.conn())
            .await
            .map_err(self.failed("giving out a status index"))?;
        Ok(count.saturating_sub(1))
    }

    /// Records that session `id` has status `index`.
    pub(super) async fn record_status_index(
        &self,
        id: &SessionId,
        index: u64,
    ) -> Result<(), StoreError> {
        let [_, ids] = self.keys.status();
        redis::cmd("ZADD")
            .arg(ids)
            .arg(index)
            .arg(id.to_string())
            .exec_async(&mut self.conn())
            .await
            .map_err(self.failed("recording a status index"))
    }

    /// `revoked_status_indexes`: the set's entries in `range`, a page at a
    /// time, each checked against its session's own `sidx` and revocation
    /// (one pipeline per page on one server).
    pub(super) async fn revoked_in(&self, range: Range<u64>) -> Result<Vec<u64>, StoreError> {
        let doing = "reading revoked status indexes";
        let [_, ids_key] = self.keys.status();
        let (mut revoked, mut stale) = (Vec::new(), Vec::new());
        let mut from = range.start;
        while from < range.end {
            let page: Vec<(String, f64)> = redis::cmd("ZRANGEBYSCORE")
                .arg(&ids_key)
                .arg(from)
                .arg(range.end - 1)
                .arg("WITHSCORES")
                .arg("LIMIT")
                .arg(0)
                .arg(PAGE)
                .query_async(&mut self.conn())
                .await
                .map_err(self.failed(doing))?;
            // An entry that is not a session id reads as a missing session.
            let calls = page
                .iter()
                .map(|(id, _)| {
                    let key = id.parse().map(|id| self.keys.session(&id));
                    let key = key.unwrap_or_default();
                    Call::Command(
                        redis::cmd("HMGET")
                            .arg(key)
                            .arg("sidx")
                            .arg("rreason")
                            .clone(),
                    )
                })
                .collect();
            let outcomes = self
                .conn
                .each(None, calls, None)
                .await
                .map_err(self.failed(doing))?;
            for ((id, score), outcome) in page.iter().zip(outcomes) {
                // Integral scores, written from u64s.
                let index = *score as u64;
                match outcome.reply.map_err(self.failed(doing))? {
                    Value::Array(fields) => match fields.as_slice() {
                        [Value::BulkString(sidx), rreason]
                            if *sidx == index.to_string().as_bytes() =>
                        {
                            if !matches!(rreason, Value::Nil) {
                                revoked.push(index);
                            }
                        }
                        _ => stale.push(id.clone()),
                    },
                    _ => stale.push(id.clone()),
                }
            }
            match page.last() {
                Some((_, last)) if page.len() == PAGE => from = *last as u64 + 1,
                _ => break,
            }
        }
        self.drop_stale_status(&ids_key, stale).await;
        Ok(revoked)
    }

    /// Drops entries of sessions that are gone; a failure only leaves them
    /// for the next read.
    async fn drop_stale_status(&self, ids_key: &str, stale: Vec<String>) {
        for chunk in stale.chunks(PAGE) {
            let done: Result<(), redis::RedisError> = redis::cmd("ZREM")
                .arg(ids_key)
                .arg(chunk)
                .exec_async(&mut self.conn())
                .await;
            if let Err(error) = done {
                tracing::warn!(%error, "redis store: could not drop stale status entries");
                return;
            }
        }
    }
}
