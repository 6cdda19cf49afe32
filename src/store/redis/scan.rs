//! `SCAN` over every primary: what `purge_expired` walks.

use redis::{RedisResult, Value};

use super::connection::Connection;

/// A server whose keys one `SCAN` walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Node {
    /// The one server of a single-server store.
    Only,
    /// The primary that serves this slot (one slot per primary), found
    /// through the cluster client's slot map at each call, so a failover
    /// between two steps sends the next one to the new primary.
    #[cfg_attr(not(feature = "redis-cluster"), allow(dead_code))]
    Serving(u16),
}

impl Connection {
    /// The servers that together hold every key: the one server, or one
    /// slot of each cluster primary that serves slots.
    ///
    /// # Errors
    /// The cluster's `CLUSTER SLOTS` failed or gave an unexpected reply.
    pub(super) async fn nodes(&self) -> RedisResult<Vec<Node>> {
        match self {
            Self::Single(_) => Ok(vec![Node::Only]),
            #[cfg(feature = "redis-cluster")]
            Self::Cluster(_) => {
                let reply: Value = redis::cmd("CLUSTER")
                    .arg("SLOTS")
                    .query_async(&mut self.clone())
                    .await?;
                primaries(reply).ok_or_else(|| super::wait::unexpected("CLUSTER SLOTS"))
            }
        }
    }

    /// One `SCAN` step on `node`: the next cursor, and the keys matching
    /// `pattern`.
    ///
    /// # Errors
    /// A failure of the connection or of the server.
    pub(super) async fn scan(
        &self,
        node: Node,
        cursor: u64,
        pattern: &str,
        count: usize,
    ) -> RedisResult<(u64, Vec<Vec<u8>>)> {
        let mut scan = redis::cmd("SCAN");
        scan.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(count);
        match (self, node) {
            #[cfg(feature = "redis-cluster")]
            (Self::Cluster(conn), Node::Serving(slot)) => {
                use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
                let route = Route::new(slot, SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                let reply = conn.clone().route_command(scan, routing).await?;
                Ok(redis::FromRedisValue::from_redis_value(reply)?)
            }
            _ => scan.query_async(&mut self.clone()).await,
        }
    }
}

/// The first slot of each primary in a `CLUSTER SLOTS` reply (entries of
/// start, end, primary as [host, port, id, ...], replicas...); `None` if
/// the reply is not one.
#[cfg_attr(not(feature = "redis-cluster"), allow(dead_code))]
fn primaries(reply: Value) -> Option<Vec<Node>> {
    let Value::Array(ranges) = reply else {
        return None;
    };
    let mut seen: Vec<(Vec<u8>, u16)> = Vec::new();
    for range in ranges {
        let Value::Array(range) = range else {
            return None;
        };
        let (Some(Value::Int(start)), Some(Value::Array(primary))) = (range.first(), range.get(2))
        else {
            return None;
        };
        let start = u16::try_from(*start).ok()?;
        // The id (third item), else the address: one entry per primary.
        let id = match (primary.get(2), primary.first(), primary.get(1)) {
            (Some(Value::BulkString(id)), _, _) => id.clone(),
            (_, Some(Value::BulkString(host)), Some(Value::Int(port))) => {
                [host.as_slice(), b":", port.to_string().as_bytes()].concat()
            }
            _ => return None,
        };
        match seen.iter_mut().find(|(seen, _)| *seen == id) {
            Some((_, slot)) => *slot = (*slot).min(start),
            None => seen.push((id, start)),
        }
    }
    Some(
        seen.into_iter()
            .map(|(_, slot)| Node::Serving(slot))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    fn range(start: i64, end: i64, primary: &str, port: i64) -> Value {
        Value::Array(vec![
            Value::Int(start),
            Value::Int(end),
            Value::Array(vec![bulk("127.0.0.1"), Value::Int(port), bulk(primary)]),
            Value::Array(vec![
                bulk("127.0.0.1"),
                Value::Int(port + 3),
                bulk("replica"),
            ]),
        ])
    }

    #[test]
    fn one_slot_per_primary_whatever_its_ranges() {
        let reply = Value::Array(vec![
            range(5461, 10922, "b", 7102),
            range(0, 5460, "a", 7101),
            range(12000, 16383, "c", 7103),
            range(10923, 11999, "a", 7101),
        ]);
        let nodes = primaries(reply).expect("a CLUSTER SLOTS reply");
        assert_eq!(
            nodes,
            [Node::Serving(5461), Node::Serving(0), Node::Serving(12000)]
        );
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(primaries(Value::Nil), None);
        assert_eq!(primaries(Value::Array(vec![Value::Int(1)])), None);
        let no_primary = Value::Array(vec![Value::Array(vec![Value::Int(0), Value::Int(1)])]);
        assert_eq!(primaries(no_primary), None);
        assert_eq!(primaries(Value::Array(vec![])), Some(vec![]));
    }
}
