//! The shipped migrations and what both runners share.
//!
//! sqlx's own migrator embeds fixed SQL at compile time, but the table
//! prefix is chosen at run time, so the stores run their own: each
//! migration is a file under `migrations/{sqlite,postgres}/` with a
//! `{prefix}` placeholder; a runner applies, in version order, every one not
//! yet recorded in `{prefix}migrations`, each in its own transaction
//! together with its record, while holding the database's write lock
//! (SQLite) or an advisory lock (PostgreSQL), so that concurrent runners
//! (several instances starting at once) apply each migration exactly once.
//! A recorded migration whose text has changed since is refused.

use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use super::Dialect;
use crate::error::StoreError;

/// One versioned migration.
#[derive(Debug)]
pub(in crate::store) struct Migration {
    /// Applied in increasing order; never reused.
    pub(in crate::store) version: i64,
    /// A word for humans, recorded with it.
    pub(in crate::store) description: &'static str,
    /// The SQL, with `{prefix}` where the table prefix goes.
    template: &'static str,
}

impl Migration {
    /// The SQL to run for tables named with `prefix`.
    pub(in crate::store) fn sql(&self, prefix: &str) -> SqlStr {
        AssertSqlSafe(self.template.replace("{prefix}", prefix)).into_sql_str()
    }

    /// SHA-256 of the template, line endings normalized (a checkout on
    /// Windows must not look like an edited migration).
    pub(in crate::store) fn checksum(&self) -> Vec<u8> {
        Sha256::digest(self.template.replace("\r\n", "\n")).to_vec()
    }
}

/// SQLite's migrations, in order.
#[cfg(feature = "sqlite")]
pub(in crate::store) const SQLITE: &[Migration] = &[Migration {
    version: 1,
    description: "sessions",
    template: include_str!("../../../migrations/sqlite/0001_sessions.sql"),
}];

/// PostgreSQL's migrations, in order.
#[cfg(feature = "postgres")]
pub(in crate::store) const POSTGRES: &[Migration] = &[Migration {
    version: 1,
    description: "sessions",
    template: include_str!("../../../migrations/postgres/0001_sessions.sql"),
}];

/// The table recording applied migrations.
pub(in crate::store) fn version_table(dialect: Dialect, prefix: &str) -> SqlStr {
    let (int, bytes, strict) = match dialect {
        Dialect::Sqlite => ("INTEGER", "BLOB", " STRICT"),
        Dialect::Postgres => ("BIGINT", "BYTEA", ""),
    };
    AssertSqlSafe(format!(
        "CREATE TABLE IF NOT EXISTS {prefix}migrations (\
         version {int} NOT NULL PRIMARY KEY, description TEXT NOT NULL, \
         checksum {bytes} NOT NULL, applied_at {int} NOT NULL){strict}"
    ))
    .into_sql_str()
}

/// Reads the checksum recorded for version `$1`.
pub(in crate::store) fn recorded(prefix: &str) -> SqlStr {
    AssertSqlSafe(format!(
        "SELECT checksum FROM {prefix}migrations WHERE version = $1"
    ))
    .into_sql_str()
}

/// Records version `$1` as applied.
pub(in crate::store) fn record(prefix: &str) -> SqlStr {
    AssertSqlSafe(format!(
        "INSERT INTO {prefix}migrations (version, description, checksum, applied_at) \
         VALUES ($1, $2, $3, $4)"
    ))
    .into_sql_str()
}

/// Whether `migration` still needs applying, given the checksum recorded
/// for its version.
///
/// # Errors
/// A recorded checksum that differs: the shipped migration was edited after
/// this database applied it, and running on would leave the schema unknown.
pub(in crate::store) fn pending(
    dialect: Dialect,
    migration: &Migration,
    recorded: Option<&[u8]>,
) -> Result<bool, StoreError> {
    match recorded {
        None => Ok(true),
        Some(sum) if sum == migration.checksum() => Ok(false),
        Some(_) => Err(StoreError::other(format!(
            "{} migration {} ({}) differs from the one this database applied",
            dialect.name(),
            migration.version,
            migration.description
        ))),
    }
}

/// The PostgreSQL advisory lock key of the migrations of tables named with
/// `prefix`: runners for other prefixes need not wait for each other.
#[cfg(feature = "postgres")]
pub(in crate::store) fn lock_key(prefix: &str) -> i64 {
    let digest = Sha256::digest(format!("jwt-rotate/migrate/{prefix}"));
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(key)
}

/// Writes a SQL store's `apply`: one migration, in the transaction the
/// store's `begin_migration` opens (which holds the database's migration
/// lock), recorded with its checksum, skipped if already recorded. The
/// two stores differ only in how that transaction begins and in the pool's
/// type, which a generic function would have to spell out as sqlx bounds.
macro_rules! impl_apply_migration {
    () => {
        async fn apply(
            &self,
            migration: &$crate::store::sql::migrate::Migration,
        ) -> Result<(), $crate::store::StoreError> {
            use $crate::store::sql::migrate;
            use $crate::store::sql::{Op, row::micros};
            let prefix = &self.queries.prefix;
            let err = |e| self.error(Op::Migrate, e);
            let mut tx = self.begin_migration().await?;
            let recorded: Option<Vec<u8>> = sqlx::query_scalar(migrate::recorded(prefix))
                .bind(migration.version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
            if !migrate::pending(D, migration, recorded.as_deref())? {
                return tx.rollback().await.map_err(err);
            }
            sqlx::raw_sql(migration.sql(prefix))
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            sqlx::query(migrate::record(prefix))
                .bind(migration.version)
                .bind(migration.description)
                .bind(migration.checksum())
                .bind(micros(D, time::OffsetDateTime::now_utc())?)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            tx.commit().await.map_err(err)
        }
    };
}

pub(in crate::store) use impl_apply_migration;

#[cfg(all(test, feature = "sqlite", feature = "postgres"))]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_and_both_databases_have_the_same_ones() {
        for list in [SQLITE, POSTGRES] {
            assert!(list.windows(2).all(|w| w[0].version < w[1].version));
            assert!(list.iter().all(|m| m.version > 0));
        }
        let versions = |l: &[Migration]| l.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(versions(SQLITE), versions(POSTGRES));
    }

    #[test]
    fn the_prefix_is_substituted_everywhere() {
        for m in SQLITE.iter().chain(POSTGRES) {
            let sql = m.sql("app_");
            assert!(!sql.as_str().contains("{prefix}"));
            assert!(
                sql.as_str()
                    .contains("CREATE TABLE IF NOT EXISTS app_sessions (")
            );
        }
    }

    #[test]
    fn an_edited_migration_is_refused_and_line_endings_do_not_count() {
        let m = &SQLITE[0];
        let sum = m.checksum();
        assert!(pending(Dialect::Sqlite, m, None).unwrap());
        assert!(!pending(Dialect::Sqlite, m, Some(&sum)).unwrap());
        let err = pending(Dialect::Sqlite, m, Some(&[0; 32])).unwrap_err();
        assert!(err.to_string().contains("migration 1 (sessions) differs"));
        let crlf = Migration {
            template: Box::leak(m.template.replace('\n', "\r\n").into_boxed_str()),
            ..*m
        };
        assert_eq!(crlf.checksum(), sum);
    }

    #[test]
    fn lock_keys_differ_by_prefix() {
        assert_eq!(lock_key("a_"), lock_key("a_"));
        assert_ne!(lock_key("a_"), lock_key("b_"));
    }
}
