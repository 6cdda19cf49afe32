//! The connections kept between calls, over SQLite in-memory pools.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use sqlx::Sqlite;
use sqlx::sqlite::SqlitePoolOptions;

use super::*;

/// A pool of `connections` to private in-memory databases.
fn pool(connections: u32) -> Pool<Sqlite> {
    SqlitePoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy("sqlite::memory:")
        .expect("a valid URL")
}

/// Polls `future` once: whether it is done.
fn ready<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Each in-memory connection's own database, told apart by a table.
async fn mark(lent: &mut Lent<Sqlite>, name: &str) {
    let create = format!("CREATE TABLE {name} (x)");
    sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(&mut *lent.connection)
        .await
        .expect("create");
}

async fn has(lent: &mut Lent<Sqlite>, name: &str) -> bool {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = ?")
        .bind(name)
        .fetch_one(&mut *lent.connection)
        .await
        .expect("select");
    count == 1
}

/// A pool of two connections, both lent to calls that ended and kept.
async fn two_kept() -> (Pool<Sqlite>, Arc<Warm<Sqlite>>) {
    let pool = pool(2);
    let warm = Arc::new(Warm::new(&pool));
    let (turn_a, a) = warm.lend(&pool).await.unwrap();
    let (turn_b, b) = warm.lend(&pool).await.unwrap();
    warm.keep(&pool, a);
    warm.keep(&pool, b);
    drop((turn_a, turn_b));
    assert_eq!(warm.kept().len(), 2);
    (pool, warm)
}

#[tokio::test]
async fn the_next_call_gets_the_warmest_kept_connection() {
    let pool = pool(2);
    let warm = Arc::new(Warm::new(&pool));
    let (first_turn, mut first) = warm.lend(&pool).await.unwrap();
    let (second_turn, mut second) = warm.lend(&pool).await.unwrap();
    mark(&mut first, "first").await;
    mark(&mut second, "second").await;
    warm.keep(&pool, first);
    warm.keep(&pool, second);
    drop((first_turn, second_turn));
    let (_turn, mut next) = warm.lend(&pool).await.unwrap();
    assert!(has(&mut next, "second").await, "the last kept goes first");
    assert_eq!(warm.kept().len(), 1);
    assert_eq!(pool.num_idle(), 0, "nothing went back to the pool");
}

#[tokio::test]
async fn a_waiting_call_gets_the_kept_connection_before_a_later_one() {
    let pool = pool(1);
    let warm = Arc::new(Warm::new(&pool));
    let (turn, lent) = warm.lend(&pool).await.unwrap();
    let mut waiting = pin!(warm.lend(&pool));
    assert!(ready(waiting.as_mut()).is_pending(), "one connection, lent");
    warm.keep(&pool, lent);
    drop(turn);
    let mut later = pin!(warm.lend(&pool));
    assert!(
        ready(later.as_mut()).is_pending(),
        "the turn is the waiting call's"
    );
    let Poll::Ready(Ok((turn, _lent))) = ready(waiting.as_mut()) else {
        panic!("the waiting call has its turn and the kept connection");
    };
    drop(turn);
}

#[tokio::test]
async fn connections_idle_too_long_go_back_to_the_pool() {
    let (_pool, warm) = two_kept().await;
    let kept_a = warm.kept()[0].idle_since;
    let kept_b = kept_a + IDLE / 2;
    warm.kept()[1].idle_since = kept_b;
    assert_eq!(warm.sweep_once(kept_a), Some(kept_a + IDLE));
    assert_eq!(warm.kept().len(), 2, "neither idle for long yet");
    assert_eq!(warm.sweep_once(kept_a + IDLE), Some(kept_b + IDLE));
    assert_eq!(warm.kept().len(), 1, "the older given back");
    assert_eq!(warm.sweep_once(kept_b + IDLE), None, "both given back");
    assert!(warm.kept().is_empty());
}

#[tokio::test]
async fn a_connection_out_for_its_lease_goes_back_to_the_pool() {
    let pool = pool(1);
    let warm = Arc::new(Warm::new(&pool));
    let (turn, lent) = warm.lend(&pool).await.unwrap();
    tokio::time::pause();
    tokio::time::advance(LEASE).await;
    warm.keep(&pool, lent);
    drop(turn);
    assert!(warm.kept().is_empty(), "not kept: back to the pool");
}

#[tokio::test]
async fn all_go_back_when_a_call_found_its_connection_lost() {
    let (_pool, warm) = two_kept().await;
    warm.give_back_all();
    assert!(warm.kept().is_empty());
}

#[tokio::test]
async fn the_sweeper_gives_back_idle_connections_when_no_call_comes() {
    let pool = pool(1);
    let warm = Arc::new(Warm::new(&pool));
    let (turn, lent) = warm.lend(&pool).await.unwrap();
    tokio::time::pause();
    warm.keep(&pool, lent);
    drop(turn);
    // Held by the store and by its sweeper.
    let wake = Arc::clone(&warm.wake);
    assert_eq!(Arc::strong_count(&wake), 3, "the sweeper runs");
    tokio::task::yield_now().await;
    assert_eq!(warm.kept().len(), 1, "not idle for long yet");
    // Tokio's timers fire on the millisecond after their instant.
    tokio::time::advance(IDLE + Duration::from_millis(1)).await;
    for _ in 0..100 {
        if warm.kept().is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(warm.kept().is_empty(), "given back by the sweeper");
    drop(warm);
    tokio::task::yield_now().await;
    assert_eq!(
        Arc::strong_count(&wake),
        1,
        "the sweeper ended with the store"
    );
}

#[tokio::test]
async fn a_closed_pool_lends_nothing_and_gets_its_connections_back() {
    let pool = pool(1);
    let warm = Arc::new(Warm::new(&pool));
    let (turn, lent) = warm.lend(&pool).await.unwrap();
    warm.keep(&pool, lent);
    drop(turn);
    // `close` waits for every connection, the kept one too: the
    // sweeper gives it back.
    tokio::time::timeout(Duration::from_secs(10), pool.close())
        .await
        .expect("the pool closes");
    assert!(warm.kept().is_empty());
    assert!(matches!(
        warm.lend(&pool).await,
        Err(sqlx::Error::PoolClosed)
    ));
}
