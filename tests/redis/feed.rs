//! RedisStore's revocation feed against a real server: one event per
//! revocation, in order; catch-up after a disconnect; `TooOld` and
//! `Lagged` after trimming; a subscription woken by the revocation; a
//! `Verifier` following the feed.

use std::sync::Arc;
use std::time::Instant;

use jwt_rotate::redis;
use jwt_rotate::store::{
    CatchUp, Cursor, FeedMessage, RedisStore, RefreshStore, RevocationEvent, RevocationFeed,
    RevocationSubscription, Revoked, SessionRecord,
};
use jwt_rotate::testing::{Following, sample_record, unique_subject};
use jwt_rotate::{RevocationReason, SessionId};
use time::{Duration, OffsetDateTime};

use super::Fixture;

/// A revocation at `at`.
fn why(at: OffsetDateTime) -> jwt_rotate::store::Revocation {
    jwt_rotate::store::Revocation {
        reason: RevocationReason::Revoked,
        at,
    }
}

/// Creates a live session of `subject`.
async fn create(store: &RedisStore, subject: &str) -> SessionRecord {
    let record = sample_record(subject);
    store.create(&record).await.unwrap();
    record
}

/// The events after `cursor`, which must all still be there.
async fn events_since(store: &RedisStore, cursor: Cursor) -> Vec<RevocationEvent> {
    match store.since(cursor).await.unwrap() {
        CatchUp::Events { events, head } => {
            assert_eq!(head, events.last().map_or(cursor, |e| e.cursor));
            events
        }
        other => panic!("expected events after {cursor:?}, got {other:?}"),
    }
}

fn what(events: &[RevocationEvent]) -> Vec<Revoked> {
    events.iter().map(|e| e.revoked.clone()).collect()
}

/// The next message, which must come within `bound` (a subscription's
/// heartbeat is 1 s).
async fn next_within(
    subscription: &mut Box<dyn RevocationSubscription>,
    bound: std::time::Duration,
) -> FeedMessage {
    tokio::time::timeout(bound, subscription.next())
        .await
        .expect("the subscription said nothing in time")
        .unwrap()
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn every_revocation_is_published_once_in_order_and_no_op_is_not() {
    let fixture = Fixture::new().await;
    let store = &fixture.store;
    assert_eq!(
        store.since(Cursor::START).await.unwrap(),
        CatchUp::Events {
            events: vec![],
            head: Cursor::START
        }
    );
    let ann = unique_subject("ann");
    let one = create(store, &ann).await;
    let two = create(store, &ann).await;
    let three = create(store, &ann).await;
    let base = OffsetDateTime::now_utc();
    let at = |n: i64| base + Duration::nanoseconds(n);

    assert!(store.revoke(&one.id, &why(at(1))).await.unwrap());
    // No-ops: already revoked, and unknown.
    assert!(!store.revoke(&one.id, &why(at(2))).await.unwrap());
    let unknown = SessionId::random();
    assert!(!store.revoke(&unknown, &why(at(3))).await.unwrap());
    // "Log out other devices" from `three`, then everything.
    let revoked = store
        .revoke_subject(&ann, Some(&three.id), &why(at(4)))
        .await
        .unwrap();
    assert_eq!(revoked, 1);
    let revoked = store.revoke_subject(&ann, None, &why(at(5))).await.unwrap();
    assert_eq!(revoked, 1);

    let events = events_since(store, Cursor::START).await;
    assert_eq!(
        what(&events),
        [
            Revoked::Session(one.id),
            Revoked::Subject {
                subject: ann.clone(),
                except: Some(three.id)
            },
            Revoked::Subject {
                subject: ann.clone(),
                except: None
            },
        ]
    );
    // Each with the revocation's own instant, to the nanosecond.
    let instants: Vec<_> = events.iter().map(|e| e.at).collect();
    assert_eq!(instants, [at(1), at(4), at(5)]);
    assert!(events.windows(2).all(|w| w[0].cursor < w[1].cursor));
    // From any cursor: the rest.
    assert_eq!(events_since(store, events[0].cursor).await, events[1..]);
    assert_eq!(events_since(store, events[2].cursor).await, []);
    // Each event's revocation is visible.
    for record in [&one, &two, &three] {
        let found = store.get(&record.id).await.unwrap().unwrap();
        assert!(found.revoked.is_some(), "{:?}", record.id);
    }
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn a_revocation_and_its_event_happen_together_or_not_at_all() {
    let fixture = Fixture::new().await;
    let store = &fixture.store;
    let mut raw = fixture.raw().await;
    let subject = unique_subject("both");
    let live = create(store, &subject).await;
    let now = OffsetDateTime::now_utc;
    // A stray key in the subject's index that is no hash: the subject's
    // revocation fails whole, with no event and no session revoked.
    let stray = SessionId::random();
    let _: () = redis::pipe()
        .cmd("SET")
        .arg(format!("{}:s:{{{stray}}}", fixture.prefix))
        .arg("not a hash")
        .ignore()
        .cmd("ZADD")
        .arg(format!("{}:u:{{{subject}}}", fixture.prefix))
        .arg(i64::MAX)
        .arg(stray.to_string())
        .ignore()
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(
        store
            .revoke_subject(&subject, None, &why(now()))
            .await
            .is_err()
    );
    assert_eq!(events_since(store, Cursor::START).await, []);
    let found = store.get(&live.id).await.unwrap().unwrap();
    assert_eq!(found.revoked, None);
    // A feed that cannot be written to: no revocation either.
    let _: () = redis::cmd("SET")
        .arg(format!("{}:feed", fixture.prefix))
        .arg("not a stream")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(store.revoke(&live.id, &why(now())).await.is_err());
    let found = store.get(&live.id).await.unwrap().unwrap();
    assert_eq!(found.revoked, None);
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn a_follower_catches_up_after_a_disconnect_without_missing_anything() {
    let fixture = Fixture::new().await;
    let store = &fixture.store;
    let bound = std::time::Duration::from_secs(5);
    let subject = unique_subject("cat");
    let sessions = [
        create(store, &subject).await,
        create(store, &subject).await,
        create(store, &subject).await,
        create(store, &subject).await,
    ];
    let now = OffsetDateTime::now_utc;

    let mut subscription = store.subscribe().await.unwrap();
    assert!(store.revoke(&sessions[0].id, &why(now())).await.unwrap());
    let FeedMessage::Event(first) = next_within(&mut subscription, bound).await else {
        panic!("expected the first revocation");
    };
    assert_eq!(first.revoked, Revoked::Session(sessions[0].id));
    // Disconnected; two revocations meanwhile.
    drop(subscription);
    for session in &sessions[1..3] {
        assert!(store.revoke(&session.id, &why(now())).await.unwrap());
    }
    // Back: subscribe first, then catch up from the cursor held.
    let mut subscription = store.subscribe().await.unwrap();
    let missed = events_since(store, first.cursor).await;
    assert_eq!(
        what(&missed),
        [
            Revoked::Session(sessions[1].id),
            Revoked::Session(sessions[2].id)
        ]
    );
    assert!(store.revoke(&sessions[3].id, &why(now())).await.unwrap());
    let FeedMessage::Event(last) = next_within(&mut subscription, bound).await else {
        panic!("expected the last revocation");
    };
    assert_eq!(last.revoked, Revoked::Session(sessions[3].id));
    assert!(last.cursor > missed[1].cursor);
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn trimmed_events_make_a_cursor_too_old_and_a_subscription_lag() {
    let fixture = Fixture::with(|builder| builder.feed_capacity(3)).await;
    let store = &fixture.store;
    let bound = std::time::Duration::from_secs(5);
    let subject = unique_subject("trim");
    let mut subscription = store.subscribe().await.unwrap();
    let (mut ids, mut cursors) = (Vec::new(), vec![Cursor::START]);
    // Out of order, as revokers' clocks may be: the first is the latest.
    let start = OffsetDateTime::now_utc();
    let hours = [1, 3, 2, 2, 2];
    for hours in hours {
        let record = create(store, &subject).await;
        let at = start - Duration::hours(hours);
        assert!(store.revoke(&record.id, &why(at)).await.unwrap());
        let last = *cursors.last().unwrap();
        let event = events_since(store, last).await;
        assert_eq!(what(&event), [Revoked::Session(record.id)]);
        ids.push(record.id);
        cursors.push(event[0].cursor);
    }
    let mut raw = fixture.raw().await;
    let kept: u64 = redis::cmd("XLEN")
        .arg(format!("{}:feed", fixture.prefix))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(kept, 3);
    let head = cursors[5];
    // The first two are gone: from before either, too old, and missed
    // until the latest instant among them.
    let missed_until = Some(start - Duration::hours(1));
    for cursor in &cursors[..2] {
        assert_eq!(
            store.since(*cursor).await.unwrap(),
            CatchUp::TooOld { head, missed_until }
        );
    }
    // From the second on, nothing is missing.
    let rest = events_since(store, cursors[2]).await;
    assert_eq!(
        what(&rest),
        ids[2..]
            .iter()
            .map(|id| Revoked::Session(*id))
            .collect::<Vec<_>>()
    );
    // The subscription, made before, lost the first two; then goes on.
    assert_eq!(
        next_within(&mut subscription, bound).await,
        FeedMessage::Lagged
    );
    let record = create(store, &subject).await;
    let at = OffsetDateTime::now_utc();
    assert!(store.revoke(&record.id, &why(at)).await.unwrap());
    let FeedMessage::Event(event) = next_within(&mut subscription, bound).await else {
        panic!("expected the new revocation");
    };
    assert_eq!(event.revoked, Revoked::Session(record.id));
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn a_lost_stream_is_too_old_never_a_silent_gap() {
    let fixture = Fixture::new().await;
    let store = &fixture.store;
    let subject = unique_subject("lost");
    let (one, two) = (create(store, &subject).await, create(store, &subject).await);
    let now = OffsetDateTime::now_utc;
    assert!(store.revoke(&one.id, &why(now())).await.unwrap());
    let held = events_since(store, Cursor::START).await[0].cursor;
    // The stream's key is lost (a failover, an eviction), then written again.
    let mut raw = fixture.raw().await;
    let _: () = redis::cmd("DEL")
        .arg(format!("{}:feed", fixture.prefix))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(
        store.since(held).await.unwrap(),
        CatchUp::TooOld {
            head: Cursor::START,
            missed_until: None,
        }
    );
    assert!(store.revoke(&two.id, &why(now())).await.unwrap());
    // Nothing in the new stream bounds what the lost one held.
    let CatchUp::TooOld {
        head,
        missed_until: None,
    } = store.since(held).await.unwrap()
    else {
        panic!("the new stream does not go on from the cursor held");
    };
    assert!(head > held);
    assert_eq!(
        what(&events_since(store, Cursor::START).await),
        [Revoked::Session(two.id)]
    );
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn a_subscription_wakes_at_the_revocation_and_says_current_when_quiet() {
    let fixture = Fixture::new().await;
    let store = &fixture.store;
    let subject = unique_subject("wake");
    let mut subscription = store.subscribe().await.unwrap();
    // Quiet: a heartbeat after about a second, at the stream's head.
    let started = Instant::now();
    let message = next_within(&mut subscription, std::time::Duration::from_secs(5)).await;
    assert_eq!(message, FeedMessage::Current(Cursor::START));
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    // Reads given up half-way (a follower's own timeout) leave no read
    // queued behind another: the revocation still comes at once.
    for _ in 0..5 {
        let cut = tokio::time::timeout(std::time::Duration::from_millis(20), subscription.next());
        assert!(cut.await.is_err(), "nothing was revoked yet");
    }
    let record = create(store, &subject).await;
    store
        .revoke(&record.id, &why(OffsetDateTime::now_utc()))
        .await
        .unwrap();
    let revoked = Instant::now();
    // Well within the heartbeat: woken by the entry, not by a timeout.
    let message = next_within(&mut subscription, std::time::Duration::from_secs(5)).await;
    let woke = revoked.elapsed();
    let FeedMessage::Event(event) = message else {
        panic!("expected the revocation, got {message:?}");
    };
    assert_eq!(event.revoked, Revoked::Session(record.id));
    assert!(woke < std::time::Duration::from_millis(500), "{woke:?}");
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn a_store_built_on_a_connection_subscribes_only_with_a_client() {
    let fixture = Fixture::new().await;
    let client = redis::Client::open(fixture.url.as_str()).unwrap();
    let manager = redis::aio::ConnectionManager::new(client.clone())
        .await
        .unwrap();
    let prefix = format!("{}:built", fixture.prefix);
    let store = RedisStore::builder()
        .key_prefix(&prefix)
        .build(manager.clone())
        .unwrap();
    // It publishes, and catches up, on its shared connection.
    let record = create(&store, "ann").await;
    let at = OffsetDateTime::now_utc();
    assert!(store.revoke(&record.id, &why(at)).await.unwrap());
    assert_eq!(events_since(&store, Cursor::START).await.len(), 1);
    // Pushing needs a connection of its own.
    let error = store.subscribe().await.unwrap_err();
    assert_eq!(error.kind(), jwt_rotate::store::StoreErrorKind::Other);
    assert!(error.to_string().contains("feed_client"), "{error}");
    let store = RedisStore::builder()
        .key_prefix(&prefix)
        .feed_client(client)
        .build(manager)
        .unwrap();
    let mut subscription = store.subscribe().await.unwrap();
    let bound = std::time::Duration::from_secs(5);
    let head = events_since(&store, Cursor::START).await[0].cursor;
    assert_eq!(
        next_within(&mut subscription, bound).await,
        FeedMessage::Current(head)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs REDIS_URL"]
async fn passes_the_feed_conformance_suite() {
    const CAPACITY: u64 = 64;
    let fixture = Fixture::with(|builder| builder.feed_capacity(CAPACITY)).await;
    // Room for every check's events before the trimming one (a follower
    // that starts on a trimmed feed refuses every earlier token once);
    // trimming: as many new revocations as the stream keeps push the
    // check's old ones out.
    let trim = async |store: &RedisStore| {
        for _ in 0..CAPACITY {
            let record = create(store, &unique_subject("overflow")).await;
            let at = OffsetDateTime::now_utc();
            assert!(store.revoke(&record.id, &why(at)).await.unwrap());
        }
    };
    jwt_rotate::testing::run_feed(&Arc::new(fixture.store.clone()), trim).await;
}

/// A `Verifier` following the feed refuses each revoked session's token
/// well within the subscription's 1 s heartbeat: woken by the push. The
/// figures over 1,000 revocations come from `examples/feed_propagation.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs REDIS_URL"]
async fn a_following_verifier_refuses_revoked_sessions_at_the_push() {
    let fixture = Fixture::new().await;
    let following = Following::start(&Arc::new(fixture.store.clone())).await;
    for _ in 0..50 {
        let pair = following.login().await;
        let took = following.revoke_and_time(&pair).await;
        assert!(took < std::time::Duration::from_millis(500), "{took:?}");
    }
}
