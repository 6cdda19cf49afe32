//! A PostgreSQL database of its own for each test.

use jwt_rotate::SessionId;
use jwt_rotate::sqlx::postgres::PgConnection;
use jwt_rotate::sqlx::{self, AssertSqlSafe, Connection};
use jwt_rotate::store::PostgresStore;

use crate::common;

/// A database of its own for one test, dropped with it (even when the test
/// panics).
pub(crate) struct TestDb {
    server: String,
    name: String,
    /// The URL of the test database.
    pub url: String,
}

impl TestDb {
    /// A fresh database on the `DATABASE_URL` server.
    ///
    /// # Panics
    /// When `DATABASE_URL` is unset (see [`common::server_url`]), or the
    /// server refuses.
    pub(crate) async fn create() -> Self {
        let server = common::server_url("DATABASE_URL");
        let random = SessionId::random();
        let hex: String = random.as_bytes()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let name = format!("jwt_rotate_test_{hex}");
        let mut admin = PgConnection::connect(&server)
            .await
            .expect("connect to DATABASE_URL");
        let create = format!("CREATE DATABASE {name}");
        sqlx::raw_sql(AssertSqlSafe(create))
            .execute(&mut admin)
            .await
            .expect("create a database");
        admin.close().await.expect("close");
        let url = with_database(&server, &name);
        Self { server, name, url }
    }

    /// A migrated store with `connections` connections.
    pub(crate) async fn store(&self, connections: u32) -> PostgresStore {
        let store = PostgresStore::builder()
            .max_connections(connections)
            .connect(&self.url)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate");
        store
    }

    /// The test database's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// A plain connection to the test database, for what stores don't do.
    pub(crate) async fn connection(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.expect("connect")
    }

    /// A connection of its own inside a transaction holding the row lock
    /// of session `id` (in the default table), as a slow writer would, until
    /// it commits or rolls back.
    pub(crate) async fn lock_session_row(&self, id: &jwt_rotate::SessionId) -> PgConnection {
        let mut other = self.connection().await;
        sqlx::raw_sql("BEGIN").execute(&mut other).await.unwrap();
        sqlx::query("SELECT 1 FROM jwt_rotate_sessions WHERE id = $1 FOR UPDATE")
            .bind(&id.as_bytes()[..])
            .execute(&mut other)
            .await
            .unwrap();
        other
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop runs inside the test's runtime (or while it unwinds), so the
        // drop gets a thread and a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&server).await?;
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::raw_sql(AssertSqlSafe(drop))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

/// `url` with its database replaced by `name`.
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..host_end])
}

/// `url` with its host and port replaced by `addr` (user, database and
/// parameters kept).
pub(crate) fn with_address(url: &str, addr: std::net::SocketAddr) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[authority_start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    let user = authority.rfind('@').map_or("", |i| &authority[..=i]);
    format!(
        "{}{user}{addr}{}",
        &url[..authority_start],
        &url[authority_end..]
    )
}

/// The address of the `DATABASE_URL` server.
pub(crate) async fn server_address() -> std::net::SocketAddr {
    use jwt_rotate::sqlx::postgres::PgConnectOptions;
    use std::str::FromStr;

    let url = common::server_url("DATABASE_URL");
    let options = PgConnectOptions::from_str(&url).expect("a PostgreSQL URL");
    let mut found = tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await
        .expect("the server's address");
    found.next().expect("an address")
}
