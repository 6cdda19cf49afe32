//! Looking behind the store: the cluster's nodes, their slots and
//! processes, and putting the cluster back after a test killed a node.

use std::process::Command;
use std::time::{Duration, Instant};

use jwt_rotate::redis::{self, aio::MultiplexedConnection};

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) id: String,
    /// `host:port`.
    pub(crate) addr: String,
    pub(crate) primary: bool,
    /// A replica's primary.
    pub(crate) replica_of: Option<String>,
    pub(crate) failed: bool,
    pub(crate) slots: Vec<(u16, u16)>,
}

impl Node {
    pub(crate) fn serves(&self, slot: u16) -> bool {
        self.slots.iter().any(|&(a, b)| (a..=b).contains(&slot))
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }
}

fn parse(text: &str) -> Vec<Node> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 8 {
                return None;
            }
            let addr = f[1].split('@').next()?.to_owned();
            let slots = f[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => s.parse().ok().map(|a| (a, a)),
                })
                .collect();
            Some(Node {
                id: f[0].to_owned(),
                addr,
                primary: f[2].contains("master"),
                replica_of: (f[3] != "-").then(|| f[3].to_owned()),
                failed: f[2].contains("fail") || f[2].contains("noaddr"),
                slots,
            })
        })
        .collect()
}

/// The nodes as the first of `urls` that answers sees them.
pub(crate) fn topology(urls: &[String]) -> Vec<Node> {
    for url in urls {
        let text: Result<String, _> = redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(1)))
            .and_then(|mut c| redis::cmd("CLUSTER").arg("NODES").query(&mut c));
        if let Ok(text) = text {
            return parse(&text);
        }
    }
    panic!("no node of {urls:?} answers CLUSTER NODES")
}

/// The primary that serves `slot`.
pub(crate) fn owner(nodes: &[Node], slot: u16) -> &Node {
    let mut owners = nodes.iter().filter(|n| n.primary && n.serves(slot));
    owners.next().expect("every slot is served")
}

/// A connection to one node.
pub(crate) async fn conn(url: &str) -> MultiplexedConnection {
    let client = redis::Client::open(url).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

/// The slot of `key`, as the cluster computes it.
pub(crate) async fn slot(conn: &mut MultiplexedConnection, key: &str) -> u16 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(conn)
        .await
        .unwrap()
}

/// A field of a node's `INFO server`.
pub(crate) fn info_server(url: &str, field: &str) -> String {
    let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
    let info: String = redis::cmd("INFO").arg("server").query(&mut conn).unwrap();
    let prefix = format!("{field}:");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("INFO server has no {field}"))
        .trim()
        .to_owned()
}

/// Sends `signal` (`KILL`, `STOP`, `CONT`) to the process `pid`: a node
/// of the test cluster.
pub(crate) fn signal(pid: &str, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid)
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// Deletes every key matching `pattern` on every node (best effort: used
/// in `Drop`).
pub(crate) fn delete_keys(urls: &[String], pattern: &str) {
    let nodes = std::panic::catch_unwind(|| topology(urls)).unwrap_or_default();
    for node in nodes.iter().filter(|n| n.primary && !n.failed) {
        let Ok(mut conn) = redis::Client::open(node.url()).and_then(|c| c.get_connection()) else {
            continue;
        };
        let mut cursor = 0_u64;
        loop {
            let scanned: Result<(u64, Vec<Vec<u8>>), _> = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query(&mut conn);
            let Ok((next, keys)) = scanned else { break };
            let mut pipe = redis::pipe();
            for key in keys {
                // One key per DEL: keys of many slots.
                pipe.cmd("DEL").arg(key).ignore();
            }
            let _: Result<(), _> = pipe.query(&mut conn);
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
}

/// Whether the cluster is whole: every node up with the state ok, three
/// primaries serving slots, three replicas in sync. (A node that came back
/// may stay flagged `fail` in others' views for a while: that is not
/// checked.)
pub(crate) fn healthy(urls: &[String]) -> bool {
    let Ok(nodes) = std::panic::catch_unwind(|| topology(urls)) else {
        return false;
    };
    let serving = nodes.iter().filter(|n| n.primary && !n.slots.is_empty());
    if serving.filter(|p| !p.failed).count() != 3 || nodes.len() != 6 {
        return false;
    }
    let mut synced = 0;
    for node in &nodes {
        let Ok(mut conn) = redis::Client::open(node.url()).and_then(|c| c.get_connection()) else {
            return false;
        };
        let cluster: Result<String, _> = redis::cmd("CLUSTER").arg("INFO").query(&mut conn);
        if !cluster.is_ok_and(|i| i.contains("cluster_state:ok")) {
            return false;
        }
        let info: Result<String, _> = redis::cmd("INFO").arg("replication").query(&mut conn);
        synced += usize::from(info.is_ok_and(|i| i.contains("master_link_status:up")));
    }
    synced == 3
}

/// Waits (polling, up to `limit`) until `ready` holds; panics with `what`.
pub(crate) fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Nodes a test may stop or kill, resumed or started again (from their
/// config files) on drop, so the cluster is whole for the next test even
/// when this one fails.
pub(crate) struct Restore {
    urls: Vec<String>,
    nodes: Vec<Process>,
}

/// What it takes to bring back one node.
pub(crate) struct Process {
    pub(crate) url: String,
    pub(crate) pid: String,
    config_file: String,
}

impl Restore {
    /// Notes what it takes to bring back the nodes at `node_urls`.
    pub(crate) fn of(urls: &[String], node_urls: &[String]) -> Self {
        let nodes = node_urls
            .iter()
            .map(|url| Process {
                config_file: info_server(url, "config_file"),
                pid: info_server(url, "process_id"),
                url: url.clone(),
            })
            .collect();
        Self {
            urls: urls.to_vec(),
            nodes,
        }
    }

    /// The process of the `i`th node.
    pub(crate) fn pid(&self, i: usize) -> &str {
        &self.nodes[i].pid
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        for node in &self.nodes {
            // Resumed if stopped; started again if killed. Errors are fine:
            // one of the two applies.
            let _ = Command::new("kill")
                .arg("-CONT")
                .arg(&node.pid)
                .stderr(std::process::Stdio::null())
                .status();
            let answers = redis::Client::open(node.url.as_str())
                .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(500)))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .is_ok();
            if !answers {
                let _ = Command::new("redis-server").arg(&node.config_file).status();
            }
        }
        let urls = &self.urls;
        wait_until(
            "the cluster to be whole again",
            Duration::from_secs(90),
            || healthy(urls),
        );
    }
}
