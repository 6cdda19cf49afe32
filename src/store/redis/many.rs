//! The calls on many sessions: by subject, through its index, and the
//! purge, through SCAN of every primary.

use std::collections::HashMap;

use redis::{RedisError, Value};
use time::OffsetDateTime;

use super::connection::Call;
use super::keys::scripts;
use super::record::{self, instant};
use super::scan::Node;
use super::{BATCH, RedisStore};
use crate::error::{StoreError, StoreErrorKind};
use crate::session::{Revocation, SessionId, SessionRecord};

impl RedisStore {
    /// `revoke_subject`: on one server, one script on every session in the
    /// index and the feed, so the revocations and their event happen
    /// together; on a cluster (no feed), one script per session.
    pub(super) async fn revoke_indexed(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        let doing = "revoking a subject's sessions";
        let ids: Vec<SessionId> = self.indexed(subject).await?;
        let ids: Vec<SessionId> = ids.into_iter().filter(|id| Some(id) != except).collect();
        let script = &scripts().revoke_subject;
        let at = instant(why.at);
        let (capacity, except) = match &self.feed {
            Some(feed) => (feed.capacity.to_string(), except.map(SessionId::to_string)),
            None => (String::new(), None),
        };
        let groups: Vec<&[SessionId]> = match &self.feed {
            Some(_) => vec![&ids],
            None => ids.chunks(1).collect(),
        };
        let (mut revoked, mut stale, mut short) = (0, Vec::new(), None);
        for batch in groups.chunks(BATCH) {
            let calls: Vec<_> = batch
                .iter()
                .map(|group| {
                    let mut call = script.prepare_invoke();
                    for id in *group {
                        call.key(self.keys.session(id));
                    }
                    if let Some(feed) = &self.feed {
                        call.key(&feed.stream);
                    }
                    call.arg(subject)
                        .arg(why.reason.as_str())
                        .arg(&at)
                        .arg(&capacity)
                        .arg(except.as_deref().unwrap_or(""));
                    Call::Script(call)
                })
                .collect();
            let outcomes = self
                .conn
                .each(Some(script), calls, self.wait)
                .await
                .map_err(self.failed(doing))?;
            for (group, outcome) in batch.iter().zip(outcomes) {
                let reply = outcome.reply.map_err(self.failed(doing))?;
                let replies = match reply {
                    Value::Array(replies) if replies.len() == group.len() => replies,
                    _ => return Err(StoreError::other("unexpected reply to the revoke script")),
                };
                // With a feed, the event is a write whatever else changed.
                let mut wrote = self.feed.is_some();
                for (id, reply) in group.iter().zip(replies) {
                    let Value::Int(reply) = reply else {
                        return Err(StoreError::other("unexpected reply to the revoke script"));
                    };
                    if reply == 1 {
                        revoked += 1;
                        wrote = true;
                    }
                    if reply >= 0 {
                        stale.push(*id);
                    }
                }
                // Every session is revoked before a shortfall is told.
                if wrote && let Err(e) = self.check_replicated(outcome.acknowledged, doing) {
                    short.get_or_insert(e);
                }
            }
        }
        self.unindex(subject, &stale).await;
        match short {
            Some(error) => Err(error),
            None => Ok(revoked),
        }
    }

    /// `sessions`: the index, then the records (in one pipeline on one
    /// server).
    pub(super) async fn read_indexed(
        &self,
        subject: &str,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let doing = "reading a subject's sessions";
        let ids = self.indexed(subject).await?;
        let (mut found, mut stale) = (Vec::new(), Vec::new());
        for chunk in ids.chunks(BATCH) {
            let calls = chunk
                .iter()
                .map(|id| Call::Command(redis::cmd("HGETALL").arg(self.keys.session(id)).clone()))
                .collect();
            let outcomes = self
                .conn
                .each(None, calls, None)
                .await
                .map_err(self.failed(doing))?;
            for (id, outcome) in chunk.iter().zip(outcomes) {
                let reply = outcome.reply.map_err(self.failed(doing))?;
                // A missing record keeps its entry: its create may be under
                // way (the index is written first).
                let Some(record) = record::decode(*id, reply)? else {
                    continue;
                };
                if record.subject == subject && record.revoked.is_none() {
                    found.push(record);
                } else {
                    stale.push(*id);
                }
            }
        }
        self.unindex(subject, &stale).await;
        Ok(found)
    }

    /// `purge_expired`: SCAN this prefix on every primary, one script per
    /// key.
    pub(super) async fn purge_scanned(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let nodes = self
            .conn
            .nodes()
            .await
            .map_err(self.failed("listing the cluster's primaries"))?;
        let mut purged = 0;
        for node in nodes {
            purged += self.purge_node(node, now).await?;
        }
        Ok(purged)
    }

    /// `purge_expired` on the keys of one server.
    async fn purge_node(&self, node: Node, now: OffsetDateTime) -> Result<u64, StoreError> {
        let doing = "purging expired sessions";
        let script = &scripts().purge;
        let (pattern, now) = (self.keys.session_pattern(), instant(now));
        let (mut cursor, mut purged) = (0_u64, 0);
        loop {
            let (next, keys) = self
                .conn
                .scan(node, cursor, &pattern, BATCH)
                .await
                .map_err(self.failed("listing sessions to purge"))?;
            let calls: Vec<_> = keys
                .iter()
                .map(|key| {
                    let mut call = script.key(key.as_slice());
                    call.arg(&now);
                    Call::Script(call)
                })
                .collect();
            if !calls.is_empty() {
                // Per-call results, so one corrupt record cannot stop the purge.
                let outcomes = self
                    .conn
                    .each(Some(script), calls, None)
                    .await
                    .map_err(self.failed(doing))?;
                let mut deleted: HashMap<String, Vec<SessionId>> = HashMap::new();
                for (key, outcome) in keys.iter().zip(outcomes) {
                    match outcome.reply {
                        Ok(Value::Nil) => {}
                        Ok(Value::BulkString(subject)) => {
                            purged += 1;
                            let subject = String::from_utf8_lossy(&subject).into_owned();
                            let id = self.keys.session_id(key);
                            deleted.entry(subject).or_default().extend(id);
                        }
                        Err(e) if e.code() == Some("CORRUPT") => {
                            tracing::warn!(key = %String::from_utf8_lossy(key), "redis store: skipped a corrupt session in purge_expired");
                        }
                        Err(e) => return Err(self.failed(doing)(e)),
                        Ok(_) => {
                            return Err(StoreError::new(
                                StoreErrorKind::Other,
                                "unexpected reply to the purge script",
                            ));
                        }
                    }
                }
                for (subject, ids) in deleted {
                    self.unindex(&subject, &ids).await;
                }
            }
            if next == 0 {
                return Ok(purged);
            }
            cursor = next;
        }
    }

    /// The ids in `subject`'s index.
    async fn indexed(&self, subject: &str) -> Result<Vec<SessionId>, StoreError> {
        let members: Vec<Vec<u8>> = redis::cmd("ZRANGE")
            .arg(self.keys.subject(subject))
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn())
            .await
            .map_err(self.failed("reading a subject's index"))?;
        members
            .iter()
            .map(|m| {
                let id = std::str::from_utf8(m).ok().and_then(|m| m.parse().ok());
                id.ok_or_else(|| {
                    StoreError::new(StoreErrorKind::Corrupt, "corrupt subject index entry")
                })
            })
            .collect()
    }

    /// Drops `ids` from `subject`'s index: entries of sessions that are
    /// revoked, deleted or another subject's. Best effort: a stale entry
    /// costs a read, never a wrong answer, so a failure is only logged.
    async fn unindex(&self, subject: &str, ids: &[SessionId]) {
        if ids.is_empty() {
            return;
        }
        let ids: Vec<String> = ids.iter().map(SessionId::to_string).collect();
        let done: Result<(), RedisError> = redis::cmd("ZREM")
            .arg(self.keys.subject(subject))
            .arg(ids)
            .exec_async(&mut self.conn())
            .await;
        if let Err(error) = done {
            tracing::warn!(%error, "redis store: could not drop stale index entries");
        }
    }
}
