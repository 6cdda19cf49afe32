//! The durability knob: `WAIT` for replicas after a rotation or revocation,
//! and the error for a write fewer replicas acknowledged than asked.

use redis::{RedisResult, ScriptInvocation, Value};

use super::connection::Connection;
use crate::error::StoreError;

/// `WAIT <replicas> <timeout>` after each write that must survive a
/// failover, as [`RedisStoreBuilder::wait_for_replicas`](super::RedisStoreBuilder::wait_for_replicas)
/// set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WaitFor {
    pub(super) replicas: u32,
    pub(super) timeout_ms: u64,
}

/// A write that the primary made but fewer replicas acknowledged than the
/// store was told to wait for, within its timeout: the source of the
/// retryable [`StoreError`] the store returns then.
///
/// The write is not undone (Redis cannot undo it): it holds on the primary,
/// is likely on its way to the replicas, and is lost only if the primary
/// fails before it gets there. The service treats a rotation that ends so as
/// in doubt ([`Error::RotationInDoubt`](crate::Error::RotationInDoubt)): the
/// client keeps a token that works whichever way the failover goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the write was acknowledged by {acknowledged} of the {required} replicas waited for")]
pub struct ReplicationShortfall {
    acknowledged: u64,
    required: u32,
}

impl ReplicationShortfall {
    /// How many replicas acknowledged the write before the timeout.
    pub fn acknowledged(&self) -> u64 {
        self.acknowledged
    }

    /// How many the store waited for.
    pub fn required(&self) -> u32 {
        self.required
    }
}

impl WaitFor {
    /// `Ok` if `acknowledged` replicas are enough, otherwise the retryable
    /// error of a write that is not durable yet.
    ///
    /// # Errors
    /// Fewer than the required replicas acknowledged.
    pub(super) fn check(&self, acknowledged: i64, doing: &'static str) -> Result<(), StoreError> {
        let acknowledged = u64::try_from(acknowledged).unwrap_or(0);
        if acknowledged >= u64::from(self.replicas) {
            return Ok(());
        }
        let shortfall = ReplicationShortfall {
            acknowledged,
            required: self.replicas,
        };
        Err(StoreError::unavailable(doing).with_source(shortfall))
    }
}

/// The reply to a script and, when asked for, to the `WAIT` after it.
pub(super) struct Reply {
    pub(super) value: Value,
    /// Replicas that acknowledged: `None` without a `WAIT`.
    pub(super) acknowledged: Option<i64>,
}

impl Connection {
    /// Runs the script `call`, then `WAIT` if `wait` is set.
    ///
    /// The two go in one pipeline: `WAIT` counts the replicas that have
    /// every write made on its own connection, so it must follow the
    /// script on the same connection with no reconnection in between (a
    /// fresh connection has made no write, and its `WAIT` would return at
    /// once). On a cluster, the pipeline goes to the primary of the call's
    /// key: `WAIT` is routed with it, not to every primary.
    ///
    /// # Errors
    /// The script's error, or a failure of the connection.
    pub(super) async fn invoke(
        &self,
        call: &ScriptInvocation<'_>,
        wait: Option<WaitFor>,
    ) -> RedisResult<Reply> {
        let Some(wait) = wait else {
            let value = call.invoke_async(&mut self.clone()).await?;
            return Ok(Reply {
                value,
                acknowledged: None,
            });
        };
        let mut pipe = redis::pipe();
        pipe.invoke_script(call)
            .cmd("WAIT")
            .arg(wait.replicas)
            .arg(wait.timeout_ms);
        let mut loaded = false;
        loop {
            let replies: Vec<Value> = pipe
                .clone()
                .ignore_errors()
                .query_async(&mut self.clone())
                .await?;
            let mut replies = replies.into_iter();
            let (Some(value), Some(acknowledged)) = (replies.next(), replies.next()) else {
                return Err(unexpected("a script and WAIT pipeline"));
            };
            match value {
                // A restarted or promoted server has no scripts: the script
                // did not run, so loading it and trying again is safe.
                Value::ServerError(e) if e.code() == "NOSCRIPT" && !loaded => {
                    call.load_async(&mut self.clone()).await?;
                    loaded = true;
                }
                Value::ServerError(e) => return Err(e.into()),
                value => {
                    let Value::Int(acknowledged) = acknowledged else {
                        return Err(unexpected("WAIT"));
                    };
                    return Ok(Reply {
                        value,
                        acknowledged: Some(acknowledged),
                    });
                }
            }
        }
    }
}

pub(super) fn unexpected(what: &'static str) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::UnexpectedReturnType,
        "unexpected reply to",
        what.to_owned(),
    ))
}

impl super::RedisStore {
    /// `Ok` unless this store waits for replicas and fewer acknowledged a
    /// write made while `doing` something.
    ///
    /// # Errors
    /// The retryable error of [`WaitFor::check`].
    pub(super) fn check_replicated(
        &self,
        acknowledged: Option<i64>,
        doing: &'static str,
    ) -> Result<(), StoreError> {
        match (self.wait, acknowledged) {
            (Some(wait), Some(acknowledged)) => wait.check(acknowledged, doing),
            _ => Ok(()),
        }
    }
}
