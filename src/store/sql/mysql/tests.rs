//! Unit tests of the MySQL dialect.

use super::*;
use crate::error::Error;
use crate::store::sql::error::judge;
use crate::store::sql::fake;
use crate::store::sql::queries::Queries;
use time::Duration;

#[test]
fn placeholders_become_question_marks_in_order() {
    assert_eq!(
        question_marks("a = $1 AND b = $2 OR c = $10 AND d = '$x' AND $"),
        "a = ? AND b = ? OR c = ? AND d = '$x' AND $"
    );
    let q = Queries::new::<MySql>("app_");
    let statements = [&q.insert, &q.get, &q.revoke, &q.revoke_subject, &q.purge];
    for statement in statements
        .into_iter()
        .chain([&q.insert_indexed, &q.revoked_indexes])
    {
        assert!(!statement.as_str().contains('$'), "{}", statement.as_str());
    }
    assert_eq!(q.insert.as_str().matches('?').count(), 23);
    assert_eq!(q.insert_indexed.as_str().matches('?').count(), 22);
    assert!(q.revoke_subject.as_str().contains("NOT (id <=> ?)"));
    assert!(
        q.get
            .as_str()
            .starts_with("SELECT id, CONVERT(subject USING utf8mb4), generation")
    );
}

#[test]
fn rotation_is_one_call_of_the_migrated_procedure() {
    let q = Queries::new::<MySql>("app_");
    assert_eq!(
        q.rotate.as_str(),
        "CALL app_sessions_rotate(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
}

#[test]
fn errors_of_other_databases_are_permanent() {
    // Not a MySQL error: nothing says a retry could pass it.
    let judged = judge::<MySql>(Op::Rotate, &fake::error("40001", "x"));
    assert_eq!(judged.kind, StoreErrorKind::Other);
    let unique = store_error::<MySql>(Op::Create, fake::unique("23000"));
    assert_eq!(unique.kind(), StoreErrorKind::AlreadyExists);
}

#[tokio::test]
async fn invalid_options_are_configuration_errors() {
    let url = "mysql://nobody@127.0.0.1:1/none";
    let bad = [
        MySqlStore::builder().table_prefix("x;drop table users;"),
        MySqlStore::builder().max_connections(0),
        MySqlStore::builder().acquire_timeout(Duration::seconds(-5)),
        MySqlStore::builder().call_timeout(Duration::ZERO),
    ];
    for builder in bad {
        let result = builder.connect(url).await;
        assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
    }
    for wrong in ["postgres://nobody@127.0.0.1:1/none", "sqlite://sessions.db"] {
        let result = MySqlStore::connect(wrong).await;
        assert!(
            matches!(result, Err(Error::Config(_))),
            "{wrong}: {result:?}"
        );
    }
    assert!(MySql::connect_options("mariadb://app@db/app", &()).is_ok());
    assert!(MySql::connect_options("mysql://app@db:port/app", &()).is_err());
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_store_error() {
    let result = MySqlStore::builder()
        .acquire_timeout(Duration::milliseconds(200))
        .connect("mysql://nobody@127.0.0.1:1/none")
        .await;
    match result {
        Err(Error::Store(e)) => assert!(e.is_retryable(), "{e:?}"),
        other => panic!("expected a retryable store error, got {other:?}"),
    }
}
