//! A MySQL database of its own for each test.

use jwt_rotate::SessionId;
use jwt_rotate::sqlx::mysql::{MySqlConnection, MySqlPool, MySqlPoolOptions};
use jwt_rotate::sqlx::{self, AssertSqlSafe, Connection, Executor};
use jwt_rotate::store::MySqlStore;

use crate::common;

/// The transaction isolation of a pool's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isolation {
    ReadCommitted,
    RepeatableRead,
}

impl Isolation {
    /// The statement that sets it for a connection's session.
    fn set(self) -> &'static str {
        match self {
            Self::ReadCommitted => "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            Self::RepeatableRead => "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        }
    }

    /// How the server names it (`@@transaction_isolation`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::ReadCommitted => "READ-COMMITTED",
            Self::RepeatableRead => "REPEATABLE-READ",
        }
    }
}

/// A database of its own for one test, dropped with it (even when the test
/// panics).
pub(crate) struct TestDb {
    server: String,
    name: String,
    /// The URL of the test database.
    pub url: String,
}

impl TestDb {
    /// A fresh database on the `MYSQL_URL` server.
    ///
    /// # Panics
    /// When `MYSQL_URL` is unset (see [`common::server_url`]), or the
    /// server refuses.
    pub(crate) async fn create() -> Self {
        let server = common::server_url("MYSQL_URL");
        let random = SessionId::random();
        let hex: String = random.as_bytes()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let name = format!("jwt_rotate_test_{hex}");
        let mut admin = MySqlConnection::connect(&server)
            .await
            .expect("connect to MYSQL_URL");
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
    pub(crate) async fn store(&self, connections: u32) -> MySqlStore {
        let store = MySqlStore::builder()
            .max_connections(connections)
            .connect(&self.url)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate");
        store
    }

    /// A pool of `connections` whose sessions each run `setup` first
    /// (e.g. `SET SESSION innodb_lock_wait_timeout = 1`).
    pub(crate) fn pool(&self, connections: u32, setup: &'static str) -> MySqlPool {
        MySqlPoolOptions::new()
            .max_connections(connections)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    connection.execute(setup).await?;
                    Ok(())
                })
            })
            .connect_lazy(&self.url)
            .expect("a MySQL URL")
    }

    /// A migrated store over a pool of one connection at `isolation`.
    pub(crate) async fn store_at(&self, isolation: Isolation) -> MySqlStore {
        let store = MySqlStore::from_pool(self.pool(1, isolation.set()));
        store.migrate().await.expect("migrate");
        store
    }

    /// A plain connection to the test database, for what stores don't do.
    pub(crate) async fn connection(&self) -> MySqlConnection {
        MySqlConnection::connect(&self.url).await.expect("connect")
    }

    /// A connection of its own inside a transaction holding the row lock
    /// of session `id` (in the default table), as a slow writer would, until
    /// it commits or rolls back.
    pub(crate) async fn lock_session_row(&self, id: &SessionId) -> MySqlConnection {
        let mut other = self.connection().await;
        sqlx::raw_sql("BEGIN").execute(&mut other).await.unwrap();
        sqlx::query("SELECT 1 FROM jwt_rotate_sessions WHERE id = ? FOR UPDATE")
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
                let mut admin = MySqlConnection::connect(&server).await?;
                let drop = format!("DROP DATABASE IF EXISTS {name}");
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

/// The transaction isolation of the session `store`'s connection runs at,
/// as the server names it (MySQL 8 and MariaDB 11.1 call the variable
/// `transaction_isolation`, older MariaDB `tx_isolation`).
pub(crate) async fn isolation_of(store: &MySqlStore) -> String {
    for variable in ["@@transaction_isolation", "@@tx_isolation"] {
        let sql = format!("SELECT {variable}");
        let found: Result<String, _> = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(store.pool())
            .await;
        if let Ok(name) = found {
            return name;
        }
    }
    panic!("the server names no isolation variable")
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
