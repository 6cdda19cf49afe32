//! The statements of a SQL store, written once for every dialect.
//!
//! Each is written with `$1`, `$2`... numbered in order of appearance, each
//! once, and goes through the dialect's `placeholders`, so that a database
//! with positional `?` placeholders binds the same values in the same order.
//! Only the rotate statement, which a dialect may replace, repeats one.

use std::sync::Arc;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use super::Dialect;
use super::dialect::Spelling;

/// The columns of a session row, in the order `row::decode` reads them
/// and `INSERT` writes them.
pub(super) const COLUMNS: &str = "id, subject, generation, secret_hash, \
    prev_generation, prev_secret_hash, prev_rotated_at, prev_wrapped_secret, \
    created_at, refreshed_at, idle_expires_at, absolute_expires_at, \
    revoked_at, revoked_reason, claims, user_agent, ip, label, \
    kind, auth, last_seen, jkt";

/// [`COLUMNS`] as a `SELECT` reads them: `subject` through the dialect's
/// `Spelling::subject`.
pub(super) fn selected(spelling: &Spelling) -> String {
    COLUMNS.replacen("subject", spelling.subject, 1)
}

/// Statement text as sqlx takes it. Every caller builds the text from
/// constants and a prefix that passed `check_prefix`.
pub(super) fn sql(text: String) -> SqlStr {
    AssertSqlSafe(Arc::<str>::from(text)).into_sql_str()
}

/// A shared statement in `D`'s spelling of placeholders.
pub(super) fn shared<D: Dialect>(text: String) -> SqlStr {
    sql(D::placeholders(text))
}

/// The statements of one store, built once for its prefix.
#[derive(Debug)]
pub(super) struct Queries {
    pub(super) prefix: String,
    pub(super) table: String,
    pub(super) insert: SqlStr,
    pub(super) get: SqlStr,
    pub(super) rotate: SqlStr,
    pub(super) revoke: SqlStr,
    pub(super) revoke_subject: SqlStr,
    pub(super) sessions: SqlStr,
    pub(super) purge: SqlStr,
    /// `insert_dpop_jti`: a row back when the key was remembered.
    pub(super) dpop_insert: SqlStr,
    pub(super) dpop_purge: SqlStr,
}

impl Queries {
    /// `D`'s statements for tables named with `prefix`, which must have
    /// passed `check_prefix`.
    pub(super) fn new<D: Dialect>(prefix: &str) -> Arc<Self> {
        let t = format!("{prefix}sessions");
        let spelling = &D::SPELLING;
        let selected = selected(spelling);
        let insert = shared::<D>(format!(
            "INSERT INTO {t} ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22)"
        ));
        let get = shared::<D>(format!("SELECT {selected} FROM {t} WHERE id = $1"));
        let revoke = shared::<D>(format!(
            "UPDATE {t} SET revoked_at = $1, revoked_reason = $2 \
             WHERE id = $3 AND revoked_at IS NULL"
        ));
        // A NULL `except` must match no id, hence the null-safe comparison.
        let revoke_subject = shared::<D>(format!(
            "UPDATE {t} SET revoked_at = $1, revoked_reason = $2 \
             WHERE subject = $3 AND revoked_at IS NULL AND NOT (id {} $4)",
            spelling.null_safe_eq
        ));
        let sessions = shared::<D>(format!(
            "SELECT {selected} FROM {t} WHERE subject = $1 AND revoked_at IS NULL"
        ));
        let purge = sql(D::purge_statement(&t));
        let replay = format!("{prefix}dpop_replay");
        let dpop_insert = shared::<D>(D::dpop_insert_statement(&replay));
        let dpop_purge = shared::<D>(format!("DELETE FROM {replay} WHERE expires_at <= $1"));
        Arc::new(Self {
            prefix: prefix.to_owned(),
            dpop_insert,
            dpop_purge,
            rotate: sql(D::rotate_statement(&t)),
            table: t,
            insert,
            get,
            revoke,
            revoke_subject,
            sessions,
            purge,
        })
    }
}

/// The default rotate statement (`Dialect::rotate_statement`): the whole
/// compare-and-swap in one `UPDATE ... RETURNING`. One round trip, and the
/// database's row lock makes concurrent ones take turns (the losers
/// re-check the WHERE against the winner's row and match nothing).
pub(super) fn update_returning(table: &str, spelling: &Spelling) -> String {
    let selected = selected(spelling);
    format!(
        "UPDATE {table} SET generation = $5, secret_hash = $6, \
         prev_generation = $7, prev_secret_hash = $8, prev_rotated_at = $9, \
         prev_wrapped_secret = $10, refreshed_at = $4, idle_expires_at = $11, \
         claims = COALESCE($12, claims), last_seen = COALESCE($13, last_seen), \
         auth = COALESCE($14, auth) \
         WHERE id = $1 AND generation = $2 AND secret_hash = $3 AND revoked_at IS NULL \
         AND idle_expires_at > $4 AND absolute_expires_at > $4 \
         RETURNING {selected}"
    )
}

/// The default purge statement (`Dialect::purge_statement`): the sessions
/// whose earlier expiry is at or before `$1`, by the same expression as
/// the purge index's, so that it is used.
pub(super) fn purge_by_expiry(table: &str, spelling: &Spelling) -> String {
    format!(
        "DELETE FROM {table} WHERE {}(idle_expires_at, absolute_expires_at) <= $1",
        spelling.least
    )
}

/// The default `insert_dpop_jti` statement (`Dialect::dpop_insert_statement`)
/// on the replay table `table`: insert, or take over an expired row, and
/// return a row only then. One statement, so the database's unique index
/// makes concurrent ones take turns: exactly one of them returns a row.
pub(super) fn upsert_returning(table: &str) -> String {
    format!(
        "INSERT INTO {table} (jti_hash, expires_at) VALUES ($1, $2) \
         ON CONFLICT (jti_hash) DO UPDATE SET expires_at = excluded.expires_at \
         WHERE {table}.expires_at <= $3 RETURNING 1"
    )
}

/// The `$N` of a statement, in order of appearance.
#[cfg(test)]
pub(super) fn parameters(statement: &str) -> Vec<usize> {
    statement
        .split('$')
        .skip(1)
        .map_while(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<D: Dialect>() {
        let q = Queries::new::<D>("app_");
        assert_eq!(q.table, "app_sessions");
        assert!(q.rotate.as_str().starts_with("UPDATE app_sessions SET"));
        assert!(q.get.as_str().ends_with("FROM app_sessions WHERE id = $1"));
        let shared = [
            &q.insert,
            &q.get,
            &q.revoke,
            &q.revoke_subject,
            &q.sessions,
            &q.dpop_insert,
            &q.dpop_purge,
        ];
        for statement in shared {
            let numbers = parameters(statement.as_str());
            let in_order: Vec<usize> = (1..=numbers.len()).collect();
            assert_eq!(numbers, in_order, "{}", statement.as_str());
        }
        assert_eq!(parameters(q.insert.as_str()).len(), 22);
        // A dialect's own purge statement may repeat its one parameter.
        let purge = parameters(q.purge.as_str());
        assert!(
            !purge.is_empty() && purge.iter().all(|&n| n == 1),
            "{purge:?}"
        );
        let default = parameters(&purge_by_expiry("t", &D::SPELLING));
        assert_eq!(default, [1]);
        assert_eq!(selected(&D::SPELLING), COLUMNS);
    }

    #[test]
    fn shared_statements_number_parameters_in_order_each_once() {
        #[cfg(feature = "sqlite")]
        check::<crate::store::Sqlite>();
        #[cfg(feature = "postgres")]
        check::<crate::store::Postgres>();
    }

    #[test]
    fn parameters_are_read_in_order_of_appearance() {
        assert_eq!(parameters("a = $2 AND b = $10 OR $1"), [2, 10, 1]);
        assert!(parameters("no parameters").is_empty());
    }
}
