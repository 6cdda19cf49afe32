//! [`RedisStoreBuilder`], and the ways to make a [`RedisStore`].

use redis::Client;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use time::Duration;

use super::RedisStore;
use super::connection::{Connection, Topology};
use super::error::store_error;
use super::feed::{self, Feed};
use super::keys::Keys;
use super::wait::WaitFor;
use crate::error::{ConfigError, Error};

/// Options of a [`RedisStore`], validated by [`build`](Self::build) and
/// [`connect`](Self::connect).
#[derive(Debug, Clone)]
pub struct RedisStoreBuilder {
    key_prefix: String,
    retention: Duration,
    call_timeout: Duration,
    wait_for_replicas: Option<(u32, Duration)>,
    feed_capacity: u64,
    feed_client: Option<Client>,
}

impl Default for RedisStoreBuilder {
    fn default() -> Self {
        Self {
            key_prefix: "jwt-rotate".to_owned(),
            retention: Duration::hours(1),
            call_timeout: Duration::seconds(2),
            wait_for_replicas: None,
            feed_capacity: feed::DEFAULT_CAPACITY,
            feed_client: None,
        }
    }
}

impl RedisStoreBuilder {
    /// The shortest retention: the service's largest leeway.
    pub const MIN_RETENTION: Duration = Duration::minutes(5);
    /// The longest retention.
    pub const MAX_RETENTION: Duration = Duration::days(30);

    /// The prefix of every key (default `"jwt-rotate"`): give each
    /// application sharing a database its own. 1 to 128 bytes of printable
    /// ASCII without spaces or any of `{ } * ? [ ] \`.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// How long a record stays after its session's expiry (default 1 hour;
    /// from 5 minutes to 30 days). See [`RedisStore`]'s `# Expiry`.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// The deadline of every call, and of each connection attempt, made by
    /// a store [`connect`](Self::connect) opens (default 2 s; from 1 ms to
    /// 1 minute): past it the call fails with a retryable error, also when
    /// the server keeps the connection open but silent (frozen, paused).
    /// A script the server runs after the deadline may still take effect:
    /// a lost answer, which the service reports as a rotation in doubt.
    /// A store made with [`build`](Self::build) uses its connection's own
    /// timeouts instead (the `redis` crate's default response timeout is
    /// 500 ms).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// After each rotation and revocation, wait until `replicas` replicas
    /// of the primary that made it have it, for up to `timeout` (Redis
    /// `WAIT`). Default: off (no wait).
    ///
    /// `replicas` from 1 to 64; `timeout` from 1 ms to below
    /// [`call_timeout`](Self::call_timeout). The write and the `WAIT` go in
    /// one pipeline on the same connection (on a cluster, to the key's
    /// primary). If fewer replicas acknowledge in time, the call fails with
    /// a retryable error whose source is a
    /// [`ReplicationShortfall`](crate::store::ReplicationShortfall): the
    /// write stands on the primary but could still be lost in a failover,
    /// and the service reports a rotation that ends so as
    /// [`Error::RotationInDoubt`](crate::Error::RotationInDoubt). The cost
    /// is one replication round trip per write, during which the
    /// connection (shared by the store's clones) answers nothing else; see
    /// the README's failover section for what it buys and the figures.
    pub fn wait_for_replicas(mut self, replicas: u32, timeout: Duration) -> Self {
        self.wait_for_replicas = Some((replicas, timeout));
        self
    }

    /// How many revocations the [revocation feed](crate::store::RevocationFeed)
    /// keeps (default 100,000; from 1 to 100,000,000): its stream,
    /// `<prefix>:feed`, is trimmed to exactly this many entries (`MAXLEN`)
    /// at each revocation, about 100 bytes each (see the README). A
    /// follower further behind than this many revocations gets
    /// [`CatchUp::TooOld`](crate::store::CatchUp::TooOld) and resyncs,
    /// refusing the tokens issued up to the latest instant trimmed. One
    /// server only: on a cluster the store publishes no feed
    /// ([`ClusterFeedUnsupported`](crate::store::ClusterFeedUnsupported)).
    pub fn feed_capacity(mut self, entries: u64) -> Self {
        self.feed_capacity = entries;
        self
    }

    /// The client that feed subscriptions open their own connections with,
    /// for a store made with [`build`](Self::build) (default: none, and
    /// `subscribe` then fails; a store made with [`connect`](Self::connect)
    /// uses a client on the URL it was given). Each subscription blocks on
    /// its own connection (`XREAD BLOCK`), never on the store's shared one.
    pub fn feed_client(mut self, client: Client) -> Self {
        self.feed_client = Some(client);
        self
    }

    /// A store on `connection`, one server.
    ///
    /// # Errors
    /// An option outside the bounds its setter states.
    pub fn build(self, connection: ConnectionManager) -> Result<RedisStore, ConfigError> {
        self.finish(Connection::Single(connection))
    }

    /// Like [`build`](Self::build), subscriptions made with `client`.
    fn build_with_client(
        mut self,
        connection: ConnectionManager,
        client: Client,
    ) -> Result<RedisStore, ConfigError> {
        self.feed_client.get_or_insert(client);
        self.build(connection)
    }

    /// A store on `connection`, a Redis Cluster (feature `redis-cluster`).
    ///
    /// # Errors
    /// An option outside the bounds its setter states.
    #[cfg(feature = "redis-cluster")]
    pub fn build_cluster(
        self,
        connection: redis::cluster_async::ClusterConnection,
    ) -> Result<RedisStore, ConfigError> {
        self.finish(Connection::Cluster(connection))
    }

    fn finish(self, conn: Connection) -> Result<RedisStore, ConfigError> {
        let options = self.validate()?;
        // A script may touch one slot only, and each session has its own:
        // no script on a cluster could revoke and publish at once.
        let feed = match conn.topology() {
            Topology::Single => Some(Feed {
                stream: options.keys.feed(),
                capacity: self.feed_capacity,
                client: self.feed_client,
                call_timeout: options.call_timeout,
            }),
            Topology::Cluster => None,
        };
        Ok(RedisStore {
            conn,
            keys: options.keys,
            retention_ms: options.retention_ms,
            wait: options.wait,
            feed,
        })
    }

    fn validate(&self) -> Result<Options, ConfigError> {
        let keys = Keys::new(&self.key_prefix)?;
        if self.retention < Self::MIN_RETENTION || self.retention > Self::MAX_RETENTION {
            return Err(ConfigError::new(
                "Redis retention must be from 5 minutes to 30 days",
            ));
        }
        if self.call_timeout < Duration::milliseconds(1) || self.call_timeout > Duration::minutes(1)
        {
            return Err(ConfigError::new(
                "Redis call_timeout must be from 1 ms to 1 minute",
            ));
        }
        if !(1..=100_000_000).contains(&self.feed_capacity) {
            return Err(ConfigError::new(
                "Redis feed_capacity must be from 1 to 100,000,000 entries",
            ));
        }
        let wait = match self.wait_for_replicas {
            None => None,
            Some((replicas, timeout)) => {
                if !(1..=64).contains(&replicas) {
                    return Err(ConfigError::new(
                        "Redis wait_for_replicas must wait for 1 to 64 replicas",
                    ));
                }
                if timeout < Duration::milliseconds(1) || timeout >= self.call_timeout {
                    return Err(ConfigError::new(
                        "Redis wait_for_replicas timeout must be from 1 ms to below call_timeout",
                    ));
                }
                // Below call_timeout, so at most a minute.
                let timeout_ms = timeout.whole_milliseconds() as u64;
                Some(WaitFor {
                    replicas,
                    timeout_ms,
                })
            }
        };
        Ok(Options {
            keys,
            // At most 30 days: far inside an i64.
            retention_ms: self.retention.whole_milliseconds() as i64,
            wait,
            // Checked above: from 1 ms to a minute.
            call_timeout: std::time::Duration::try_from(self.call_timeout).unwrap_or_default(),
        })
    }

    /// Connects to the server at `url` (`redis://[:password@]host[:port][/db]`,
    /// or `rediss://` with a TLS feature of the `redis` crate) and builds
    /// the store.
    ///
    /// A refused first connection is retried with exponential backoff (the
    /// `redis` crate's default: 6 retries, about 10 s in all); calls and
    /// connection attempts time out after
    /// [`call_timeout`](Self::call_timeout). For other settings, make a
    /// [`ConnectionManager`] with its `ConnectionManagerConfig` and pass it
    /// to [`build`](Self::build).
    ///
    /// # Errors
    /// [`Error::Config`] for invalid options or URL (nothing is contacted);
    /// [`Error::Store`] if the server cannot be reached (retryable) or
    /// refuses the connection.
    pub async fn connect(self, url: &str) -> Result<RedisStore, Error> {
        // Checked first, so bad options never wait on the network.
        self.validate()?;
        let client =
            Client::open(url).map_err(|e| ConfigError::with_source("invalid Redis URL", e))?;
        // Checked by `validate`: from 1 ms to a minute.
        let timeout = std::time::Duration::try_from(self.call_timeout).ok();
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(timeout)
            .set_connection_timeout(timeout);
        let connection = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| store_error(e, "connecting to Redis", Topology::Single))?;
        Ok(self.build_with_client(connection, client)?)
    }

    /// Connects to the Redis Cluster that `urls` are nodes of (feature
    /// `redis-cluster`; `redis://[:password@]host:port` each, a few
    /// primaries suffice: the client learns the rest) and builds the store.
    ///
    /// Calls time out after [`call_timeout`](Self::call_timeout), retries
    /// included: within it the client follows `MOVED` and `ASK`, waits out
    /// `TRYAGAIN` and `CLUSTERDOWN` (from 100 ms between tries), and finds
    /// the new primary after a failover. For other settings, make a
    /// `ClusterConnection` with `ClusterClientBuilder` and pass it to
    /// [`build_cluster`](Self::build_cluster).
    ///
    /// # Errors
    /// [`Error::Config`] for invalid options or URLs (nothing is
    /// contacted); [`Error::Store`] if no node can be reached (retryable)
    /// or the cluster refuses the connection.
    #[cfg(feature = "redis-cluster")]
    pub async fn connect_cluster<U: AsRef<str>>(
        self,
        urls: impl IntoIterator<Item = U>,
    ) -> Result<RedisStore, Error> {
        self.validate()?;
        let urls: Vec<String> = urls.into_iter().map(|u| u.as_ref().to_owned()).collect();
        if urls.is_empty() {
            return Err(ConfigError::new("Redis Cluster needs at least one node URL").into());
        }
        // Checked by `validate`: from 1 ms to a minute.
        let timeout = std::time::Duration::try_from(self.call_timeout)
            .map_err(|e| ConfigError::with_source("invalid call_timeout", e))?;
        let client = redis::cluster::ClusterClientBuilder::new(urls)
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .min_retry_wait(100)
            .max_retry_wait(1_000)
            .build()
            .map_err(|e| ConfigError::with_source("invalid Redis Cluster URLs", e))?;
        let connection = client
            .get_async_connection()
            .await
            .map_err(|e| store_error(e, "connecting to Redis Cluster", Topology::Cluster))?;
        Ok(self.build_cluster(connection)?)
    }
}

/// The options, checked.
struct Options {
    keys: Keys,
    retention_ms: i64,
    wait: Option<WaitFor>,
    call_timeout: std::time::Duration,
}

impl RedisStore {
    /// Options: key prefix, retention, call timeout, replicas to wait for,
    /// the feed's capacity.
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::default()
    }

    /// A store with the default options on the server at `url`.
    ///
    /// # Errors
    /// As [`RedisStoreBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::builder().connect(url).await
    }

    /// A store with the default options on an existing connection.
    pub fn new(connection: ConnectionManager) -> Self {
        RedisStoreBuilder::default()
            .build(connection)
            .expect("the default options are valid")
    }

    /// The prefix of this store's keys.
    pub fn key_prefix(&self) -> &str {
        self.keys.prefix()
    }
}
