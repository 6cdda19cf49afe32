//! `open_store`: each URL `SESSIONS_DB` may hold opens a store of that
//! kind, schema migrated, and anything else is refused. MySQL gets a
//! database of this run's own; on Redis nothing is written. Each test
//! needs its server and fails without its URL.

use jwt_rotate::sqlx::{self, AssertSqlSafe, Connection, mysql::MySqlConnection};
use jwt_rotate::{Error, SessionId};

use demo_support::open_store;

/// The URL in `var`; panics when it is unset: the test needs that server.
fn server_url(var: &str) -> String {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{var} is not set: this test needs that server (see CONTRIBUTING.md)"),
    }
}

/// Sixteen random hex digits, for names of this run's own.
fn unique() -> String {
    SessionId::random().as_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_url_of_no_known_store_is_refused() {
    for url in ["ftp://example.com/sessions", "not a url"] {
        let opened = open_store(url).await;
        assert!(matches!(opened, Err(Error::Config(_))), "{url}");
    }
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn a_redis_url_opens_a_redis_store() {
    let store = open_store(&server_url("REDIS_URL")).await.unwrap();
    let nobody = format!("resource-demo-test-nobody-{}", unique());
    assert!(store.sessions(&nobody).await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs MYSQL_URL"]
async fn a_mysql_url_opens_a_migrated_mysql_store() {
    let server = server_url("MYSQL_URL");
    let name = format!("demo_support_test_{}", unique());
    let mut admin = MySqlConnection::connect(&server).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    // The server's URL with the database replaced.
    let base = server
        .split_once('?')
        .map_or(server.as_str(), |(base, _)| base);
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    let url = format!("{}/{name}", &base[..path]);
    let opened = async {
        let store = open_store(&url).await?;
        // Only a migrated schema answers.
        store.sessions("nobody").await.map_err(Error::from)
    }
    .await;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    assert!(opened.unwrap().is_empty());
}
