//! Outages that lose a rotation's answer: the store wrote the rotation, the
//! caller heard a failure, and the client retries, as told, after the
//! outage. With the token the failure handed it (`Error::RotationInDoubt`),
//! no outage shorter than `outage_tolerance` logs anyone out; with its old
//! token, only the grace window helps, as before. Run on every store: the
//! in-memory one and SQLite here, PostgreSQL and Redis when their URLs are
//! set (`-- --include-ignored`).
#![cfg(feature = "testing")]

mod common;

use common::outage::{Outcome, assert_promises, faulty_service, lost_answer, table};
use jwt_rotate::testing::{Calls, Fault};
use jwt_rotate::{Error, ManualClock, MemoryStore};
use time::Duration;

#[tokio::test]
async fn memory_store_keeps_everyone_in_through_outages_within_the_tolerance() {
    let clock = ManualClock::new(common::start());
    let rows = table(MemoryStore::new, &clock).await;
    assert_promises(&rows);
}

#[tokio::test]
async fn a_thief_replaying_the_plain_token_is_still_caught() {
    let clock = ManualClock::new(common::start());
    let service = faulty_service(MemoryStore::new(), &clock, Duration::seconds(10));
    let stolen = common::login(&service, "alice").await;
    // The user's rotation answers fine; the thief replays the spent token
    // a minute later: no retry token, so it is reuse, as it always was.
    clock.advance(Duration::minutes(20));
    let user = service.refresh(&stolen.refresh_token).await.unwrap();
    clock.advance(Duration::minutes(1));
    let err = service.refresh(&stolen.refresh_token).await.unwrap_err();
    assert!(matches!(err, Error::ReuseDetected), "{err:?}");
    common::assert_revoked(&service, &user).await;
}

#[tokio::test]
async fn a_retry_token_covers_only_its_holders_own_attempts() {
    let clock = ManualClock::new(common::start());
    let service = faulty_service(MemoryStore::new(), &clock, Duration::seconds(10));
    // One clean outage: the retry token gets the successor.
    assert_eq!(
        lost_answer(&service, &clock, Duration::seconds(40)).await,
        Outcome::KeptIn
    );
    // The user's attempt fails before the store: nothing was written.
    let stolen = common::login(&service, "bob").await;
    clock.advance(Duration::minutes(20));
    service.store().inject(Calls::All, Fault::Fail);
    let Err(Error::RotationInDoubt { retry_with, .. }) =
        service.refresh(&stolen.refresh_token).await
    else {
        panic!("a failed rotate is in doubt");
    };
    service.store().heal();
    // A thief with the plain token rotates it, 30 s later.
    clock.advance(Duration::seconds(30));
    service.refresh(&stolen.refresh_token).await.unwrap();
    // The user's retry names only its own attempt, not the thief's
    // rotation: past the grace window, it is reuse.
    clock.advance(Duration::seconds(30));
    let err = service.refresh(&retry_with).await.unwrap_err();
    assert!(matches!(err, Error::ReuseDetected), "{err:?}");
}

#[tokio::test]
async fn sqlite_keeps_everyone_in_through_outages_within_the_tolerance() {
    #[cfg(feature = "sqlite")]
    {
        use jwt_rotate::store::SqliteStore;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("outage.db").display());
        let store = SqliteStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let clock = ManualClock::new(common::start());
        let rows = table(|| store.clone(), &clock).await;
        assert_promises(&rows);
    }
}

#[cfg(feature = "postgres")]
#[tokio::test]
#[ignore = "needs DATABASE_URL (PostgreSQL)"]
async fn postgres_keeps_everyone_in_through_outages_within_the_tolerance() {
    use jwt_rotate::store::PostgresStore;
    let url = common::server_url("DATABASE_URL");
    let prefix = format!("outage_{:08x}_", rand::random::<u32>());
    let store = PostgresStore::builder()
        .table_prefix(prefix)
        .max_connections(2)
        .connect(&url)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let clock = ManualClock::new(common::start());
    let rows = table(|| store.clone(), &clock).await;
    assert_promises(&rows);
}

#[cfg(feature = "redis")]
#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn redis_keeps_everyone_in_through_outages_within_the_tolerance() {
    use jwt_rotate::store::RedisStore;
    let url = common::server_url("REDIS_URL");
    let store = RedisStore::builder()
        .key_prefix(format!("jwt-rotate-test:{:016x}", rand::random::<u64>()))
        .connect(&url)
        .await
        .unwrap();
    let clock = ManualClock::new(common::start());
    let rows = table(|| store.clone(), &clock).await;
    assert_promises(&rows);
}

/// Operators hear of every rotation in doubt: many at once mean the store
/// is failing under the service.
#[tokio::test]
async fn a_rotation_in_doubt_is_an_event() {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Heard(Arc<Mutex<Vec<String>>>);
    impl jwt_rotate::Hooks<jwt_rotate::NoClaims> for Heard {
        fn on_event(&self, event: &jwt_rotate::Event<'_>) {
            if let jwt_rotate::Event::RotationInDoubt { generation, .. } = event {
                let subject = event.subject().unwrap_or_default();
                self.0
                    .lock()
                    .unwrap()
                    .push(format!("{subject} {generation}"));
            }
        }
    }
    let clock = ManualClock::new(common::start());
    let heard = Heard::default();
    let service = common::builder(&clock)
        .hooks(heard.clone())
        .build(jwt_rotate::testing::FaultyStore::new(MemoryStore::new()))
        .unwrap();
    let login = common::login(&service, "alice").await;
    service.store().inject(Calls::All, Fault::FailAfter);
    let err = service.refresh(&login.refresh_token).await.unwrap_err();
    assert!(matches!(err, Error::RotationInDoubt { .. }), "{err:?}");
    assert_eq!(*heard.0.lock().unwrap(), ["alice 0"]);
}
