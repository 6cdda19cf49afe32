//! The SQL stores: one [`SqlStore`], generic over a [`Dialect`] per
//! database.
//!
//! Written once for every dialect: the statements (`queries`), the
//! `RefreshStore` methods (`refresh_store`), one call with its deadline
//! and connection (`call`), the connections kept between calls (`warm`),
//! which pooled connections to test after a lost one (`health`), row binding and reading (`row`), error mapping
//! (`error`), the migration runner (`migrate`), the builder (`builder`)
//! and its checks (`options`). What differs, each dialect says in its own
//! file, with any builder setting only it has (`sqlite`, `postgres`,
//! `mysql`). The
//! sqlx bounds that generic code needs are written once, in `driver`. The
//! revocation feed (`feed`): a table the revoking transactions write,
//! read by `since`, pushed by PostgreSQL's `NOTIFY` or polled.

mod builder;
mod call;
mod dialect;
mod driver;
mod error;
#[cfg(test)]
mod fake;
mod feed;
mod health;
mod migrate;
#[cfg(feature = "mysql")]
mod mysql;
mod options;
#[cfg(feature = "postgres")]
mod postgres;
mod queries;
mod refresh_store;
mod row;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
mod warm;

pub use builder::SqlStoreBuilder;
pub use dialect::Dialect;
#[cfg(feature = "mysql")]
pub use mysql::{MySql, MySqlStore, MySqlStoreBuilder};
#[cfg(feature = "postgres")]
pub use postgres::{Postgres, PostgresStore, PostgresStoreBuilder};
#[cfg(feature = "sqlite")]
pub use sqlite::{Sqlite, SqliteStore, SqliteStoreBuilder};
pub use store::SqlStore;
