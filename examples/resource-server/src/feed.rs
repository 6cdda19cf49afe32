//! [`revocation_feed`]: the revocation feed of the session store a URL
//! names.

use std::sync::Arc;

use jwt_rotate::store::{MySqlStore, PostgresStore, RedisStore, RevocationFeed};

use crate::BoxError;

/// The revocation feed of the store at `url`: the auth server's session
/// store, as its `SESSIONS_DB` names it. `postgres://` (pushed by
/// `NOTIFY`), `mysql://` (polled), or `redis://` (a stream) under the key
/// prefix `redis_prefix` (default: the store's). Nothing is written or
/// migrated: the auth server owns the schema, and until it has made it
/// the follower retries.
///
/// # Errors
/// A URL of another kind or malformed, a server that cannot be reached.
pub async fn revocation_feed(
    url: &str,
    redis_prefix: Option<&str>,
) -> Result<Arc<dyn RevocationFeed>, BoxError> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme);
    Ok(match scheme.map(str::to_ascii_lowercase).as_deref() {
        // Two connections: the subscription's own, and one for catch-up.
        Some("postgres" | "postgresql") => Arc::new(
            PostgresStore::builder()
                .max_connections(2)
                .connect(url)
                .await?,
        ),
        Some("mysql" | "mariadb") => Arc::new(
            MySqlStore::builder()
                .max_connections(2)
                .connect(url)
                .await?,
        ),
        Some("redis") => {
            let builder = RedisStore::builder();
            let builder = match redis_prefix {
                Some(prefix) => builder.key_prefix(prefix),
                None => builder,
            };
            Arc::new(builder.connect(url).await?)
        }
        _ => {
            return Err(
                "DATABASE_URL must be a postgres:// or mysql:// URL, REDIS_URL a redis:// URL"
                    .into(),
            );
        }
    })
}
