//! 32 refreshes of one token at once, over 32 server sessions, at READ
//! COMMITTED and at REPEATABLE READ: strict, exactly one winner; inside
//! the grace window, every racer gets the same successor.

use jwt_rotate::ManualClock;
use jwt_rotate::store::MySqlStore;
use time::Duration;

use super::db::{Isolation, TestDb, isolation_of};
use crate::{common, sql};

/// 32 stores with one connection each, at `isolation`: 32 separate server
/// sessions.
async fn racing_stores(db: &TestDb, isolation: Isolation) -> Vec<MySqlStore> {
    let mut stores = Vec::new();
    for _ in 0..sql::RACERS {
        let store = db.store_at(isolation).await;
        assert_eq!(isolation_of(&store).await, isolation.name());
        stores.push(store);
    }
    stores
}

async fn races_at(isolation: Isolation) {
    let db = TestDb::create().await;
    let stores = racing_stores(&db, isolation).await;
    let clock = ManualClock::new(common::start());
    let strict = sql::services(stores.clone(), &clock, Duration::ZERO);
    assert_eq!(sql::exactly_one_winner(&strict).await, sql::TRIALS);
    let tabs = sql::services(stores.clone(), &clock, Duration::seconds(10));
    assert_eq!(sql::all_get_the_same_successor(&tabs).await, sql::TRIALS);
    for store in stores {
        store.pool().close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_racing_refreshes_at_read_committed() {
    races_at(Isolation::ReadCommitted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
#[ignore = "needs MySQL: set MYSQL_URL"]
async fn mysql_racing_refreshes_at_repeatable_read() {
    races_at(Isolation::RepeatableRead).await;
}
