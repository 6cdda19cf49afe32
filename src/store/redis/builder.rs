//! [`RedisStoreBuilder`], and the ways to make a [`RedisStore`].

use redis::Client;
use redis::aio::ConnectionManager;
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
}

impl Default for RedisStoreBuilder {
    fn default() -> Self {
        Self {
            key_prefix: "jwt-rotate".to_owned(),
            retention: Duration::hours(1),
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
        // At most 30 days: far inside an i64.
        Ok((keys, self.retention.whole_milliseconds() as i64))
    }

    /// Connects to the server at `url` (`redis://[:password@]host[:port][/db]`,
    /// or `rediss://` with a TLS feature of the `redis` crate) and builds
    /// the store.
    ///
    /// A refused first connection is retried with exponential backoff (the
    /// `redis` crate's default: 6 retries, about 10 s in all); for other
    /// settings (timeouts, retries), make a [`ConnectionManager`] with its
    /// `ConnectionManagerConfig` and pass it to [`build`](Self::build).
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
        let connection = ConnectionManager::new(client)
            .await
            .map_err(|e| store_error(e, "connecting to Redis"))?;
        Ok(self.build(connection)?)
    }
}

impl RedisStore {
    /// Options: key prefix and retention.
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
