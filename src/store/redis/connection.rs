//! The connection a [`RedisStore`](super::RedisStore) talks through: one
//! server, or a Redis Cluster.
//!
//! One enum rather than a generic parameter, so that `RedisStore` stays one
//! type (no `RedisStore<C>` in every signature of an application), and the
//! two differ only where Redis Cluster does: calls on many keys, which one
//! server takes in one pipeline while a cluster needs one call per slot,
//! and the list of servers a `SCAN` must visit.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Script, ScriptInvocation, Value};

use super::wait::{WaitFor, unexpected};

/// One server through a [`ConnectionManager`], or a cluster.
#[derive(Clone)]
pub(super) enum Connection {
    /// One server (a primary, or one found through Sentinel).
    Single(ConnectionManager),
    /// A cluster, through the `redis` crate's cluster client: it follows
    /// `MOVED`/`ASK`, waits out `TRYAGAIN`/`CLUSTERDOWN`, and finds the new
    /// primary after a failover.
    #[cfg(feature = "redis-cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

/// Whether a Cluster redirection can reach the store: on one server it is
/// a configuration mistake, on a cluster the client gave up following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Topology {
    /// One server.
    Single,
    /// A Redis Cluster (made only with feature `redis-cluster`; the
    /// error mapping knows it either way).
    #[cfg_attr(not(feature = "redis-cluster"), allow(dead_code))]
    Cluster,
}

impl Connection {
    pub(super) fn topology(&self) -> Topology {
        match self {
            Self::Single(_) => Topology::Single,
            #[cfg(feature = "redis-cluster")]
            Self::Cluster(_) => Topology::Cluster,
        }
    }
}

/// A call on one key, one of many that a call on many sessions makes.
pub(super) enum Call<'a> {
    /// A plain command (`HGETALL`).
    Command(Cmd),
    /// One of our scripts.
    Script(ScriptInvocation<'a>),
}

/// What one of many calls gave.
pub(super) struct Outcome {
    pub(super) reply: RedisResult<Value>,
    /// Replicas that acknowledged the writes made so far on the call's
    /// connection, when the batch waited for them.
    pub(super) acknowledged: Option<i64>,
}

impl Connection {
    /// Runs `calls`, each on one key, then `WAIT` if `wait` is set, and
    /// returns each call's outcome in order: a server error of one call (a
    /// corrupt record) is its own `Err`, not the whole batch's. `script` is
    /// the script the [`Call::Script`]s invoke, if any.
    ///
    /// On one server: one pipeline, the script loaded in the same round
    /// trip (a pipeline gets no `NOSCRIPT` retry), one `WAIT` at its end
    /// for all its writes. On a cluster: the keys lie in many slots, which
    /// no pipeline may span, so each call goes on its own to its slot's
    /// primary, all at once (the client pipelines the calls to each node by
    /// itself), each script call with the `NOSCRIPT` retry of a single
    /// call and its own `WAIT` after it.
    ///
    /// # Errors
    /// A failure of the connection, or of the pipeline as a whole.
    pub(super) async fn each(
        &self,
        script: Option<&Script>,
        calls: Vec<Call<'_>>,
        wait: Option<WaitFor>,
    ) -> RedisResult<Vec<Outcome>> {
        match self {
            Self::Single(conn) => {
                let mut pipe = redis::pipe();
                if let Some(script) = script {
                    pipe.load_script(script).ignore();
                }
                for call in &calls {
                    match call {
                        Call::Command(cmd) => pipe.add_command(cmd.clone()),
                        Call::Script(invocation) => pipe.invoke_script(invocation),
                    };
                }
                if let Some(wait) = wait {
                    pipe.cmd("WAIT").arg(wait.replicas).arg(wait.timeout_ms);
                }
                let mut replies: Vec<Value> =
                    pipe.ignore_errors().query_async(&mut conn.clone()).await?;
                let acknowledged = match (wait, replies.pop()) {
                    (None, last) => {
                        replies.extend(last);
                        None
                    }
                    (Some(_), Some(Value::Int(acknowledged))) => Some(acknowledged),
                    (Some(_), Some(Value::ServerError(e))) => return Err(e.into()),
                    (Some(_), _) => return Err(unexpected("WAIT")),
                };
                Ok(replies
                    .into_iter()
                    .map(|reply| Outcome {
                        reply: match reply {
                            Value::ServerError(error) => Err(error.into()),
                            reply => Ok(reply),
                        },
                        acknowledged,
                    })
                    .collect())
            }
            #[cfg(feature = "redis-cluster")]
            Self::Cluster(conn) => {
                let calls = calls.iter().map(|call| {
                    let mut conn = conn.clone();
                    async move {
                        match call {
                            Call::Command(cmd) => Outcome {
                                reply: cmd.query_async(&mut conn).await,
                                acknowledged: None,
                            },
                            Call::Script(invocation) => {
                                match Self::Cluster(conn).invoke(invocation, wait).await {
                                    Ok(reply) => Outcome {
                                        reply: Ok(reply.value),
                                        acknowledged: reply.acknowledged,
                                    },
                                    Err(e) => Outcome {
                                        reply: Err(e),
                                        acknowledged: None,
                                    },
                                }
                            }
                        }
                    }
                });
                Ok(futures_util::future::join_all(calls).await)
            }
        }
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            #[cfg(feature = "redis-cluster")]
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(cmd, offset, count),
            #[cfg(feature = "redis-cluster")]
            Self::Cluster(conn) => conn.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            #[cfg(feature = "redis-cluster")]
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}
