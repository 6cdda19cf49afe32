//! The calls on many sessions, whose keys lie on every primary: the
//! subject index (one slot) names sessions in many slots, and the purge
//! walks every primary.

use std::collections::BTreeSet;

use jwt_rotate::store::{RefreshStore, SessionRecord};
use jwt_rotate::testing::{sample_record, unique_subject};
use jwt_rotate::{SessionId, SessionInfo};
use time::{Duration, OffsetDateTime};

use crate::nodes::{self, Node};
use crate::{Fixture, common};

/// Sessions per test: enough that every primary gets some (the chance
/// that one of three gets none of 30 random ids is about 1 in 60 000).
const SESSIONS: usize = 30;

/// The primaries (addresses) holding the keys of `ids`.
async fn primaries_of(fixture: &Fixture, ids: &[SessionId]) -> BTreeSet<String> {
    let topology: Vec<Node> = nodes::topology(&fixture.urls);
    let mut conn = nodes::conn(&fixture.urls[0]).await;
    let mut found = BTreeSet::new();
    for id in ids {
        let slot = nodes::slot(&mut conn, &fixture.session_key(id)).await;
        found.insert(nodes::owner(&topology, slot).addr.clone());
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_subject_index_reaches_sessions_on_every_primary() {
    let fixture = Fixture::new().await;
    let service = fixture.service();
    let subject = unique_subject("devices");
    let mut pairs = Vec::new();
    for i in 0..SESSIONS {
        let info = SessionInfo::default().with_label(format!("device {i}"));
        let pair = service
            .issue(&subject, jwt_rotate::NoClaims {}, info)
            .await
            .unwrap();
        pairs.push(pair);
    }
    let ids: Vec<SessionId> = pairs.iter().map(|p| p.session_id).collect();
    assert_eq!(
        primaries_of(&fixture, &ids).await.len(),
        3,
        "the sessions should lie on all three primaries"
    );

    let listed: BTreeSet<SessionId> = common::session_ids(&service, &subject)
        .await
        .into_iter()
        .collect();
    assert_eq!(listed, ids.iter().copied().collect(), "sessions()");

    // "Log out other devices" from the first one: every other session, on
    // every primary, is revoked.
    let keep = ids[0];
    let revoked = service.revoke_subject(&subject, Some(&keep)).await.unwrap();
    assert_eq!(revoked, (SESSIONS - 1) as u64);
    assert_eq!(common::session_ids(&service, &subject).await, [keep]);
    for pair in &pairs[1..] {
        common::assert_revoked(&service, pair).await;
    }
    service.refresh(&pairs[0].refresh_token).await.unwrap();
    // Again: nothing left to revoke but the one spared.
    assert_eq!(service.revoke_subject(&subject, None).await.unwrap(), 1);
    assert!(common::session_ids(&service, &subject).await.is_empty());
}

/// A record of `subject` whose idle life ended `ago`.
fn expired(subject: &str, ago: Duration) -> SessionRecord {
    let mut record = sample_record(subject);
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    record.created_at = now - ago - Duration::hours(1);
    record.refreshed_at = record.created_at;
    record.idle_expires_at = now - ago;
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_purge_expired_visits_every_primary() {
    let fixture = Fixture::new().await;
    let store = &fixture.store;
    let subject = unique_subject("purge");
    let (mut dead, mut live) = (Vec::new(), Vec::new());
    for _ in 0..SESSIONS {
        let record = expired(&subject, Duration::minutes(2));
        store.create(&record).await.unwrap();
        dead.push(record.id);
    }
    for _ in 0..5 {
        let record = sample_record(&subject);
        store.create(&record).await.unwrap();
        live.push(record.id);
    }
    assert_eq!(primaries_of(&fixture, &dead).await.len(), 3);

    // Only this prefix's keys are walked: other tests' sessions are safe.
    let purged = store
        .purge_expired(OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(purged, SESSIONS as u64, "purged");
    for id in &dead {
        assert!(store.get(id).await.unwrap().is_none(), "{id} survived");
    }
    for id in &live {
        assert!(store.get(id).await.unwrap().is_some(), "{id} was purged");
    }
    let listed: BTreeSet<SessionId> = store
        .sessions(&subject)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, live.iter().copied().collect());
    assert_eq!(
        store
            .purge_expired(OffsetDateTime::now_utc())
            .await
            .unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis Cluster: set REDIS_CLUSTER_URLS"]
async fn cluster_store_publishes_no_feed_and_says_so() {
    use jwt_rotate::store::{ClusterFeedUnsupported, Cursor, RevocationFeed, StoreErrorKind};
    let fixture = Fixture::new().await;
    let store = &fixture.store;
    let subject = unique_subject("nofeed");
    let record = sample_record(&subject);
    store.create(&record).await.unwrap();
    let why = jwt_rotate::store::Revocation {
        reason: jwt_rotate::RevocationReason::Revoked,
        at: OffsetDateTime::now_utc(),
    };
    // Revocations work as before, with no stream to write.
    assert!(store.revoke(&record.id, &why).await.unwrap());
    store.revoke_subject(&subject, None, &why).await.unwrap();
    let since = store.since(Cursor::START).await.unwrap_err();
    let subscribe = store.subscribe().await.unwrap_err();
    for error in [since, subscribe] {
        assert_eq!(error.kind(), StoreErrorKind::Other, "{error}");
        let source = std::error::Error::source(&error).expect("a source");
        assert!(source.is::<ClusterFeedUnsupported>(), "{source:?}");
    }
}
