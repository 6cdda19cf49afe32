//! [`open_store`]: a demo server's session store from the URL in
//! `SESSIONS_DB`.

use std::sync::Arc;

use jwt_rotate::store::{Dialect, MySql, Postgres, RedisStore, SqlStore, Sqlite};

use crate::state::Store;

/// The store at `url`, ready to use: `sqlite://path` (created if missing),
/// `postgres://` (or `postgresql://`), `mysql://` (or `mariadb://`), each
/// with its schema migrated (safe at every start, from several servers at
/// once), or `redis://`, which needs no schema.
///
/// # Errors
/// A URL of another kind or malformed, a database that cannot be reached
/// or opened, a failed migration.
pub async fn open_store(url: &str) -> Result<Store, jwt_rotate::Error> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme);
    match scheme.map(str::to_ascii_lowercase).as_deref() {
        Some("redis") => Ok(Arc::new(RedisStore::connect(url).await?)),
        Some("postgres" | "postgresql") => sql::<Postgres>(url).await,
        Some("mysql" | "mariadb") => sql::<MySql>(url).await,
        // SQLx's own parser says what is wrong with anything else.
        _ => sql::<Sqlite>(url).await,
    }
}

/// A SQLite store at `url`, its schema migrated.
///
/// # Errors
/// A malformed URL, a file that cannot be opened, a failed migration.
pub async fn sqlite_store(url: &str) -> Result<Store, jwt_rotate::Error> {
    sql::<Sqlite>(url).await
}

async fn sql<D: Dialect>(url: &str) -> Result<Store, jwt_rotate::Error> {
    let store = SqlStore::<D>::connect(url).await?;
    store.migrate().await?;
    Ok(Arc::new(store))
}
