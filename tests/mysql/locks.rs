//! Row locks held elsewhere, and damaged rows: a lock wait past
//! `innodb_lock_wait_timeout` is a retryable error that leaves nothing
//! behind; damage the schema lets through is `Corrupt`, the rest refused.

use jwt_rotate::sqlx::{self, AssertSqlSafe};
use jwt_rotate::store::{MySqlStore, RefreshStore, StoreErrorKind};
use jwt_rotate::testing;
use jwt_rotate::{Error, ManualClock, RevocationReason};

use super::db::TestDb;
use crate::common;

/// A store of one connection that waits at most a second for a row lock.
async fn impatient_store(db: &TestDb) -> MySqlStore {
    let pool = db.pool(1, "SET SESSION innodb_lock_wait_timeout = 1");
    let store = MySqlStore::from_pool(pool);
    store.migrate().await.expect("migrate");
    store
}

/// A refresh behind another transaction's row lock fails once the server
/// ends the wait: retryable (the client keeps its token), nothing
/// written, nothing revoked, and the connection is left outside any
/// transaction (the rotate procedure rolls back before it re-raises), so
/// the next call on it commits by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_a_lock_wait_timeout_is_retryable_and_leaves_no_transaction() {
    let db = TestDb::create().await;
    let store = impatient_store(&db).await;
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(store.clone()).unwrap();
    let login = common::login(&service, "waiting").await;
    let bystander = common::login(&service, "bystander").await;

    let mut holder = db.lock_session_row(&login.session_id).await;
    let refreshed = service.refresh(&login.refresh_token).await;
    match &refreshed {
        Err(Error::RotationInDoubt { source, .. }) => {
            assert!(source.is_retryable(), "{source:?}");
            assert!(source.to_string().contains("lock wait"), "{source}");
        }
        other => panic!("expected a rotation in doubt, got {other:?}"),
    }
    let why = jwt_rotate::store::Revocation {
        reason: RevocationReason::Logout,
        at: common::start(),
    };
    let err = store.revoke(&login.session_id, &why).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unavailable, "{err}");

    // The same (only) connection revokes another session: seen at once by
    // another connection, so it was committed, not left in a transaction.
    assert!(store.revoke(&bystander.session_id, &why).await.unwrap());
    let mut observer = db.connection().await;
    let revoked: Option<i64> =
        sqlx::query_scalar("SELECT revoked_at FROM jwt_rotate_sessions WHERE id = ?")
            .bind(&bystander.session_id.as_bytes()[..])
            .fetch_one(&mut observer)
            .await
            .unwrap();
    assert!(revoked.is_some());

    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    let record = common::record(&service, &login.session_id).await;
    assert_eq!((record.generation, record.revoked), (0, None));
    let next = service.refresh(&login.refresh_token).await;
    assert!(next.is_ok(), "{next:?}");
}

/// Damage the schema lets through is caught when read; the rest the
/// schema refuses.
#[tokio::test]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_damaged_rows_are_corrupt_errors() {
    let db = TestDb::create().await;
    let store = db.store(1).await;
    let damage = |change: &'static str| {
        let store = store.clone();
        async move {
            let record = testing::sample_record(&testing::unique_subject("damaged"));
            store.create(&record).await.unwrap();
            let sql = format!("UPDATE jwt_rotate_sessions SET {change} WHERE id = ?");
            let update = sqlx::query(AssertSqlSafe(sql)).bind(&record.id.as_bytes()[..]);
            (record, update.execute(store.pool()).await)
        }
    };
    for change in [
        "revoked_at = 1, revoked_reason = 'exploded'",
        "ip = 'not an address'",
        "created_at = 9223372036854775807",
    ] {
        let (record, updated) = damage(change).await;
        updated.unwrap_or_else(|e| panic!("{change}: {e}"));
        let err = store.get(&record.id).await.unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{change}: {err}");
        if !change.starts_with("revoked") {
            let err = store.sessions(&record.subject).await.unwrap_err();
            assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{change}: {err}");
        }
    }
    for change in [
        "prev_generation = 1",
        "generation = -1",
        "secret_hash = x'00'",
        "id = x'0102'",
        "revoked_at = 1",
    ] {
        let (_, updated) = damage(change).await;
        let err = updated.expect_err(change);
        assert!(err.to_string().contains("CONSTRAINT"), "{change}: {err}");
    }
}
