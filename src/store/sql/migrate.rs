//! The migration runner, written once for every dialect.
//!
//! sqlx's own migrator embeds fixed SQL at compile time, but the table
//! prefix is chosen at run time, so the stores run their own: each
//! migration is a file under `migrations/<dialect>/` with a `{prefix}`
//! placeholder; the runner applies, in version order, every one not yet
//! recorded in `{prefix}migrations`, each in its own transaction together
//! with its record, while holding the dialect's migration lock (SQLite's
//! write lock, a PostgreSQL advisory lock, a MySQL named lock held for the
//! whole run), so that concurrent runners (several instances starting at
//! once) apply each migration exactly once. MySQL commits around each DDL
//! statement, so there a migration and its record are not one transaction:
//! its migrations are written so that running one again does no harm.
//! A recorded migration whose text has changed since is refused.

use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Connection as _, SqlSafeStr, SqlStr, Transaction};
use time::OffsetDateTime;

use super::driver::{Driver, On, Statement};
use super::error::Op;
use super::queries::shared;
use super::row::micros;
use super::{Dialect, SqlStore};
use crate::error::StoreError;

/// One versioned migration.
///
/// `pub` because the sealed `Dialect::MIGRATIONS` lists them; its module
/// is private.
#[derive(Debug)]
pub struct Migration {
    /// Applied in increasing order; never reused.
    version: i64,
    /// A word for humans, recorded with it.
    description: &'static str,
    /// The SQL, with `{prefix}` where the table prefix goes.
    template: &'static str,
}

impl Migration {
    /// Migration `version`, named `description`, running `template` (SQL
    /// with `{prefix}` where the table prefix goes).
    pub const fn new(version: i64, description: &'static str, template: &'static str) -> Self {
        Self {
            version,
            description,
            template,
        }
    }

    /// The SQL to run for tables named with `prefix`.
    fn sql(&self, prefix: &str) -> SqlStr {
        AssertSqlSafe(self.template.replace("{prefix}", prefix)).into_sql_str()
    }

    /// SHA-256 of the template, line endings normalized (a checkout on
    /// Windows must not look like an edited migration).
    fn checksum(&self) -> Vec<u8> {
        Sha256::digest(self.template.replace("\r\n", "\n")).to_vec()
    }
}

/// The table recording applied migrations.
fn version_table<D: Dialect>(prefix: &str) -> SqlStr {
    let s = &D::SPELLING;
    let (int, bytes, options) = (s.integer, s.bytes, s.table_options);
    shared::<D>(format!(
        "CREATE TABLE IF NOT EXISTS {prefix}migrations (\
         version {int} NOT NULL PRIMARY KEY, description TEXT NOT NULL, \
         checksum {bytes} NOT NULL, applied_at {int} NOT NULL){options}"
    ))
}

/// Reads the checksum recorded for version `$1`.
fn recorded<D: Dialect>(prefix: &str) -> SqlStr {
    shared::<D>(format!(
        "SELECT checksum FROM {prefix}migrations WHERE version = $1"
    ))
}

/// Records version `$1` as applied.
fn record<D: Dialect>(prefix: &str) -> SqlStr {
    shared::<D>(format!(
        "INSERT INTO {prefix}migrations (version, description, checksum, applied_at) \
         VALUES ($1, $2, $3, $4)"
    ))
}

/// Whether `migration` still needs applying, given the checksum recorded
/// for its version.
///
/// # Errors
/// A recorded checksum that differs: the shipped migration was edited after
/// this database applied it, and running on would leave the schema unknown.
fn pending<D: Dialect>(migration: &Migration, recorded: Option<&[u8]>) -> Result<bool, StoreError> {
    match recorded {
        None => Ok(true),
        Some(sum) if sum == migration.checksum() => Ok(false),
        Some(_) => Err(StoreError::other(format!(
            "{} migration {} ({}) differs from the one this database applied",
            D::NAME,
            migration.version,
            migration.description
        ))),
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Creates or updates the schema: applies every shipped migration this
    /// database has not recorded, each in one transaction holding the
    /// database's migration lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an
    /// advisory lock per table prefix; MySQL, whose DDL statements commit
    /// by themselves: a named lock per database and table prefix, held for
    /// the whole run). Safe to run at every start, from several processes
    /// at once.
    ///
    /// # Errors
    /// Any failure of the database; a recorded migration whose text differs
    /// from the shipped one.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let err = |e| self.error(Op::Migrate, e);
        // MySQL's named lock, for the whole run; dropped on failure, which
        // closes its connection and so releases it.
        let lock = D::lock_migrations(&self.pool, &self.queries.prefix).await?;
        // Under the lock: concurrent `CREATE TABLE IF NOT EXISTS` can
        // still collide in PostgreSQL's catalog.
        let mut tx = self.begin_migration().await?;
        Statement::new(version_table::<D>(&self.queries.prefix))
            .execute(On::Transaction(&mut tx))
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        for migration in D::MIGRATIONS {
            self.apply(migration).await?;
        }
        if let Some(lock) = lock {
            // Closing releases the lock; if the close fails, the dropped
            // socket releases it as well, and the migration is done.
            let _ = lock.close().await;
        }
        Ok(())
    }

    /// A transaction holding this prefix's migration lock until it ends.
    async fn begin_migration(&self) -> Result<Transaction<'static, D::Database>, StoreError> {
        D::begin_migration(&self.pool, &self.queries.prefix)
            .await
            .map_err(|e| self.error(Op::Migrate, e))
    }

    /// Applies `migration` unless already recorded, recording it with its
    /// checksum in the same transaction.
    async fn apply(&self, migration: &Migration) -> Result<(), StoreError> {
        let prefix = &self.queries.prefix;
        let err = |e| self.error(Op::Migrate, e);
        let mut tx = self.begin_migration().await?;
        // At most one row (the version is the key), read to its end.
        let found = Statement::new(recorded::<D>(prefix))
            .bind(migration.version)
            .fetch_all(On::Transaction(&mut tx))
            .await
            .map_err(err)?;
        // The column is NOT NULL; were it NULL, it would differ from any
        // checksum, and `pending` refuses that.
        let sum = match found.first() {
            Some(row) => Some(D::Database::bytes(row, 0).map_err(err)?.unwrap_or_default()),
            None => None,
        };
        match pending::<D>(migration, sum) {
            Ok(true) => {}
            Ok(false) => return tx.rollback().await.map_err(err),
            Err(refused) => {
                // Now, not when the pool next lends the connection: until
                // then MySQL would keep the migrations table locked
                // against DDL (a `DROP DATABASE` waits for it).
                let _ = tx.rollback().await;
                return Err(refused);
            }
        }
        D::Database::execute_script(migration.sql(prefix), On::Transaction(&mut tx))
            .await
            .map_err(err)?;
        let checksum = migration.checksum();
        Statement::new(record::<D>(prefix))
            .bind(migration.version)
            .bind(migration.description)
            .bind(&checksum[..])
            .bind(micros::<D>(OffsetDateTime::now_utc())?)
            .execute(On::Transaction(&mut tx))
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::queries::parameters;

    fn check<D: Dialect>() {
        let list = D::MIGRATIONS;
        // Increasing; gaps are allowed (a version kept for a change still
        // under way), the runner applies whatever is not recorded.
        assert!(list.windows(2).all(|w| w[0].version < w[1].version));
        assert!(list.iter().all(|m| m.version > 0));
        for m in list {
            let sql = m.sql("app_");
            assert!(!sql.as_str().contains("{prefix}"));
            assert!(sql.as_str().contains("app_sessions") || sql.as_str().contains("app_dpop_"));
        }
        let first = list[0].sql("app_");
        assert!(
            first
                .as_str()
                .contains("CREATE TABLE IF NOT EXISTS app_sessions (")
        );
        for statement in [recorded::<D>("app_"), record::<D>("app_")] {
            let numbers = parameters(statement.as_str());
            assert_eq!(numbers, (1..=numbers.len()).collect::<Vec<_>>());
        }
        assert!(
            version_table::<D>("app_")
                .as_str()
                .contains("app_migrations (")
        );

        let m = &list[0];
        let sum = m.checksum();
        assert!(pending::<D>(m, None).unwrap());
        assert!(!pending::<D>(m, Some(&sum)).unwrap());
        let err = pending::<D>(m, Some(&[0; 32])).unwrap_err();
        assert!(err.to_string().contains("migration 1 (sessions) differs"));
        let crlf = Migration {
            template: Box::leak(m.template.replace('\n', "\r\n").into_boxed_str()),
            ..*m
        };
        assert_eq!(crlf.checksum(), sum);
    }

    #[test]
    fn migrations_are_ordered_prefixed_and_checked() {
        #[cfg(feature = "sqlite")]
        check::<crate::store::Sqlite>();
        #[cfg(feature = "postgres")]
        check::<crate::store::Postgres>();
        #[cfg(feature = "mysql")]
        check::<crate::store::MySql>();
    }

    #[cfg(all(feature = "sqlite", feature = "postgres"))]
    #[test]
    fn both_databases_have_the_same_versions() {
        use crate::store::{Postgres, Sqlite};
        let versions = |l: &[Migration]| l.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(versions(Sqlite::MIGRATIONS), versions(Postgres::MIGRATIONS));
    }

    #[cfg(all(feature = "sqlite", feature = "mysql"))]
    #[test]
    fn mysql_has_the_same_versions() {
        use crate::store::{MySql, Sqlite};
        let versions = |l: &[Migration]| l.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(versions(Sqlite::MIGRATIONS), versions(MySql::MIGRATIONS));
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn the_mysql_procedure_takes_the_rotation_parameters() {
        use crate::store::MySql;
        // The latest procedure is the one a migrated database runs.
        let migration = MySql::MIGRATIONS
            .iter()
            .rev()
            .map(|m| m.template)
            .find(|t| t.contains("CREATE PROCEDURE {prefix}sessions_rotate("))
            .unwrap_or_default();
        // It returns the columns `row::decode` reads.
        assert!(migration.contains("kind, auth, last_seen, jkt\n"));
        // The fourteen `bind_rotation` binds, in its order.
        let declared: Vec<&str> = migration
            .lines()
            .filter_map(|l| l.trim().strip_prefix("IN p_"))
            .map(|l| l.split_whitespace().next().unwrap_or_default())
            .collect();
        assert_eq!(
            declared,
            [
                "id",
                "generation",
                "secret_hash",
                "now",
                "next_generation",
                "next_secret_hash",
                "prev_generation",
                "prev_secret_hash",
                "prev_rotated_at",
                "prev_wrapped_secret",
                "idle_expires_at",
                "claims",
                "last_seen",
                "auth"
            ]
        );
    }
}
