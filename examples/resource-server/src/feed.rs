//! [`revocation_feed`]: the revocation feed of the session store a URL
//! names.

use std::sync::Arc;

use jwt_rotate::store::RevocationFeed;

use crate::BoxError;

/// The revocation feed of the store at `url`: the auth server's session
/// store, as its `SESSIONS_DB` names it (`postgres://` or `redis://`).
///
/// # Errors
/// A URL of another kind, a store that cannot be reached, or a store whose
/// feed this build does not have yet.
pub async fn revocation_feed(url: &str) -> Result<Arc<dyn RevocationFeed>, BoxError> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme);
    match scheme.map(str::to_ascii_lowercase).as_deref() {
        // The PostgreSQL feed (LISTEN/NOTIFY over the revocations table)
        // and the Redis one (a stream) are being written; until they land
        // the server says so rather than run without revocations.
        Some("postgres" | "postgresql") => {
            Err("this build has no PostgreSQL revocation feed yet".into())
        }
        Some("redis") => Err("this build has no Redis revocation feed yet".into()),
        _ => Err("DATABASE_URL must be a postgres:// URL, REDIS_URL a redis:// URL".into()),
    }
}
