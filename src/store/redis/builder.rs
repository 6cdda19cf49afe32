//! [`RedisStoreBuilder`], and the ways to make a [`RedisStore`].

use redis::Client;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use time::Duration;

use super::RedisStore;
use super::error::store_error;
use super::keys::Keys;
use crate::error::{ConfigError, Error};

/// Options of a [`RedisStore`], validated by [`build`](Self::build) and
/// [`connect`](Self::connect).
#[derive(Debug, Clone)]
pub struct RedisStoreBuilder {
    key_prefix: String,
    retention: Duration,
    call_timeout: Duration,
}

impl Default for RedisStoreBuilder {
    fn default() -> Self {
        Self {
            key_prefix: "jwt-rotate".to_owned(),
            retention: Duration::hours(1),
            call_timeout: Duration::seconds(2),
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

    /// A store on `connection`.
    ///
    /// # Errors
    /// A prefix or retention outside the bounds its setter states.
    pub fn build(self, connection: ConnectionManager) -> Result<RedisStore, ConfigError> {
        let (keys, retention_ms) = self.validate()?;
        Ok(RedisStore {
            conn: connection,
            keys,
            retention_ms,
        })
    }

    fn validate(&self) -> Result<(Keys, i64), ConfigError> {
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
        // At most 30 days: far inside an i64.
        Ok((keys, self.retention.whole_milliseconds() as i64))
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
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| store_error(e, "connecting to Redis"))?;
        Ok(self.build(connection)?)
    }
}

impl RedisStore {
    /// Options: key prefix, retention, call timeout.
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
        let (keys, retention_ms) = RedisStoreBuilder::default()
            .validate()
            .expect("the default options are valid");
        Self {
            conn: connection,
            keys,
            retention_ms,
        }
    }

    /// The prefix of this store's keys.
    pub fn key_prefix(&self) -> &str {
        self.keys.prefix()
    }
}
