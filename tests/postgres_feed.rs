//! `PostgresStore`'s revocation feed against the `DATABASE_URL` server:
//! a revocation that takes its cursor while another is still uncommitted
//! waits for it, so a follower never sees a later cursor before an
//! earlier one (the feed conformance checks are in `postgres.rs`).
#![cfg(all(feature = "postgres", feature = "testing"))]

mod common;
mod sql;

use jwt_rotate::sqlx::{self, Connection};
use jwt_rotate::store::{
    CatchUp, Cursor, FeedMessage, RefreshStore, Revocation, RevocationFeed, RevocationReason,
    Revoked,
};
use jwt_rotate::{SessionId, testing};
use sql::pg::TestDb;
use time::OffsetDateTime;

fn why() -> Revocation {
    Revocation {
        reason: RevocationReason::Logout,
        at: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
    }
}

async fn since(store: &impl RevocationFeed, cursor: Cursor) -> Vec<(Cursor, Revoked)> {
    match store.since(cursor).await.unwrap() {
        CatchUp::Events { events, .. } => {
            events.into_iter().map(|e| (e.cursor, e.revoked)).collect()
        }
        other => panic!("since said {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn cursors_commit_in_order_so_no_follower_skips_one() {
    let db = TestDb::create().await;
    let store = db.store(2).await;
    let record = testing::sample_record(&testing::unique_subject("order"));
    store.create(&record).await.unwrap();
    let start = match store.since(Cursor::new(u64::MAX)).await.unwrap() {
        CatchUp::TooOld {
            head,
            missed_until: None,
        } => head,
        other => panic!("a cursor from the future: {other:?}"),
    };
    let mut subscription = store.subscribe().await.unwrap();

    // A slow revoker: it took the next cursor and wrote its entry, but has
    // not committed.
    let slow = SessionId::random();
    let mut other = db.connection().await;
    let mut tx = other.begin().await.unwrap();
    sqlx::query("UPDATE jwt_rotate_revocations_head SET head = head + 1 WHERE id = 1")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO jwt_rotate_revocations (id, session_id, at) \
         SELECT head, $1, 0 FROM jwt_rotate_revocations_head WHERE id = 1",
    )
    .bind(&slow.as_bytes()[..])
    .execute(&mut *tx)
    .await
    .unwrap();

    // The store's revocation waits for it, rather than committing a later
    // cursor first.
    let revoking = {
        let (store, id) = (store.clone(), record.id);
        tokio::spawn(async move { store.revoke(&id, &why()).await })
    };
    let mut watcher = db.connection().await;
    let waiting = "SELECT count(*) FROM pg_stat_activity \
                   WHERE datname = current_database() AND wait_event_type = 'Lock'";
    for turn in 0.. {
        let n: i64 = sqlx::query_scalar(waiting)
            .fetch_one(&mut watcher)
            .await
            .unwrap();
        if n > 0 {
            break;
        }
        assert!(
            turn < 30_000,
            "the revocation never waited for the slow one"
        );
        tokio::task::yield_now().await;
    }
    assert!(
        since(&store, start).await.is_empty(),
        "nothing is committed yet"
    );
    assert!(!revoking.is_finished());

    tx.commit().await.unwrap();
    assert!(revoking.await.unwrap().unwrap());
    let expected = vec![
        (Cursor::new(start.get() + 1), Revoked::Session(slow)),
        (Cursor::new(start.get() + 2), Revoked::Session(record.id)),
    ];
    assert_eq!(since(&store, start).await, expected);
    let mut pushed = Vec::new();
    while pushed.len() < 2 {
        if let FeedMessage::Event(e) = subscription.next().await.unwrap() {
            pushed.push((e.cursor, e.revoked));
        }
    }
    assert_eq!(pushed, expected, "the subscription delivers both, in order");
}
