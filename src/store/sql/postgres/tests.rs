//! The PostgreSQL dialect's unit tests: error codes, spellings, options.

use super::*;
use crate::error::Error;
use crate::store::sql::error::{Op, judge, store_error};
use crate::store::sql::fake;
use crate::store::sql::queries::Queries;
use time::Duration;

fn kind(op: Op, err: sqlx::Error) -> StoreErrorKind {
    store_error::<Postgres>(op, err).kind()
}

fn link(code: &'static str) -> Link {
    judge::<Postgres>(Op::Rotate, &fake::error(code, "x")).link
}

#[test]
fn only_states_a_retry_may_get_past_are_retryable() {
    let transient = [
        "40001", "40P01", "08000", "08001", "08003", "08006", "08007", "53000", "53100", "53200",
        "53300", "57P01", "57P02", "57P03", "57P05", "25P03", "57014", "55P03",
    ];
    for code in transient {
        let e = store_error::<Postgres>(Op::Rotate, fake::error(code, "x"));
        assert!(e.is_retryable(), "{code}");
        assert!(
            e.to_string().starts_with("postgres unavailable (rotate)"),
            "{e}"
        );
        let source = std::error::Error::source(&e).expect("the sqlx error");
        assert!(source.to_string().contains(code));
    }
    // Met again by the same request: a value refused, a constraint,
    // a syntax error, an internal error, a configured limit, a
    // read-only server, a protocol violation, a rejected login, a
    // dropped database.
    let permanent = [
        "22021", "23514", "42601", "XX000", "53400", "25006", "08P01", "08004", "28P01", "57P04",
    ];
    for code in permanent {
        let e = store_error::<Postgres>(Op::Rotate, fake::error(code, "x"));
        assert_eq!(e.kind(), StoreErrorKind::Other, "{code}");
    }
    assert!(
        store_error::<Postgres>(Op::Rotate, fake::error("25006", "x"))
            .to_string()
            .contains("read-only")
    );
}

#[test]
fn a_lost_connection_is_told_from_an_unfit_one() {
    for code in ["57P01", "57P02", "57P05", "08006"] {
        assert_eq!(link(code), Link::Lost, "{code}");
    }
    for code in ["25006", "08P01"] {
        assert_eq!(link(code), Link::Unfit, "{code}");
    }
    for code in ["40001", "57014", "55P03", "22021"] {
        assert_eq!(link(code), Link::Sound, "{code}");
    }
}

#[test]
fn a_taken_id_is_already_exists_only_on_create() {
    assert_eq!(
        kind(Op::Create, fake::unique("23505")),
        StoreErrorKind::AlreadyExists
    );
    assert_eq!(
        kind(Op::Revoke, fake::unique("23505")),
        StoreErrorKind::Other
    );
}

#[test]
fn a_missing_table_says_to_migrate() {
    let err = fake::error("42P01", "relation does not exist");
    let e = store_error::<Postgres>(Op::Sessions, err);
    assert_eq!(
        e.to_string(),
        "postgres sessions failed: the table is missing; run `migrate()`"
    );
}

#[test]
fn statements_use_postgres_spellings() {
    let q = Queries::new::<Postgres>("app_");
    assert!(q.purge.as_str().contains("purge_after <= $1 AND LEAST("));
    assert!(
        q.revoke_subject
            .as_str()
            .contains("NOT (id IS NOT DISTINCT FROM $4)")
    );
}

#[test]
fn lock_keys_differ_by_prefix() {
    assert_eq!(lock_key("a_"), lock_key("a_"));
    assert_ne!(lock_key("a_"), lock_key("b_"));
}

#[tokio::test]
async fn invalid_options_are_configuration_errors() {
    let url = "postgres://nobody@127.0.0.1:1/none";
    let bad = [
        PostgresStore::builder().table_prefix("x;drop table users;"),
        PostgresStore::builder().max_connections(0),
        PostgresStore::builder().acquire_timeout(Duration::seconds(-5)),
        PostgresStore::builder().call_timeout(Duration::ZERO),
        PostgresStore::builder().call_timeout(Duration::days(2)),
    ];
    for builder in bad {
        let result = builder.connect(url).await;
        assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
    }
    let result = PostgresStore::connect("postgres://host:not-a-port/db").await;
    assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
    for wrong in ["mysql://nobody@127.0.0.1:1/none", "sqlite://sessions.db"] {
        let result = PostgresStore::connect(wrong).await;
        assert!(
            matches!(result, Err(Error::Config(_))),
            "{wrong}: {result:?}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_store_error() {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let result = PostgresStore::builder()
        .acquire_timeout(Duration::milliseconds(200))
        .connect("postgres://nobody@127.0.0.1:1/none")
        .await;
    match result {
        Err(Error::Store(e)) => {
            assert!(e.is_retryable(), "{e:?}");
            // The cause, not sqlx's "pool timed out".
            let source = std::error::Error::source(&e).expect("the sqlx error");
            let refused = match source.downcast_ref::<sqlx::Error>() {
                Some(sqlx::Error::Io(io)) => io.kind() == std::io::ErrorKind::ConnectionRefused,
                _ => false,
            };
            assert!(
                refused,
                "expected connection refused as the source, got {source:?}"
            );
        }
        other => panic!("expected a retryable store error, got {other:?}"),
    }
}
