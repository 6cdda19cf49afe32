//! What the conformance suite cannot see: TTLs, and the subject index.

use jwt_rotate::redis::{self, aio::MultiplexedConnection};
use jwt_rotate::store::{RefreshStore, Revocation, StoreErrorKind};
use jwt_rotate::testing::{next_rotation, sample_record, unique_subject};
use jwt_rotate::{RevocationReason, SessionId};
use time::{Duration, OffsetDateTime};

use crate::Fixture;

const RETENTION: Duration = Duration::minutes(10);

fn session_key(fixture: &Fixture, id: &SessionId) -> String {
    format!("{}:s:{{{id}}}", fixture.prefix)
}

fn index_key(fixture: &Fixture, subject: &str) -> String {
    format!("{}:u:{{{subject}}}", fixture.prefix)
}

/// Panics unless `key` expires `want` from now, give or take the time the
/// test takes (the server's clock is this machine's).
async fn assert_ttl(conn: &mut MultiplexedConnection, key: &str, want: Duration, what: &str) {
    let ms: i64 = redis::cmd("PTTL").arg(key).query_async(conn).await.unwrap();
    let got = Duration::milliseconds(ms);
    let slack = Duration::seconds(5);
    assert!(
        got <= want + Duration::seconds(1) && got >= want - slack,
        "{what}: TTL {got}, want {want}"
    );
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn a_session_key_lives_retention_past_its_expiry_or_its_last_write() {
    let fixture = Fixture::with_retention(RETENTION).await;
    let (store, mut conn) = (&fixture.store, fixture.raw().await);
    let subject = unique_subject("ttl");
    let now = OffsetDateTime::now_utc();
    let until = |at: OffsetDateTime| at - now + RETENTION;

    // Live: an hour of idle life, a day of absolute life.
    let live = sample_record(&subject);
    store.create(&live).await.unwrap();
    let key = session_key(&fixture, &live.id);
    assert_ttl(&mut conn, &key, until(live.idle_expires_at), "live").await;
    let index = index_key(&fixture, &subject);
    let index_until = until(live.absolute_expires_at) + RETENTION;
    assert_ttl(&mut conn, &index, index_until, "the index").await;

    // A rotation extends the idle expiry, and the key's life with it.
    let at = live.created_at + Duration::minutes(1);
    let (expected, next) = next_rotation(&live, at);
    store
        .rotate(&live.id, &expected, &next)
        .await
        .unwrap()
        .unwrap();
    assert_ttl(&mut conn, &key, until(next.idle_expires_at), "rotated").await;

    // The absolute expiry counts when it comes first.
    let mut capped = sample_record(&subject);
    capped.absolute_expires_at = capped.created_at + Duration::minutes(30);
    store.create(&capped).await.unwrap();
    let key = session_key(&fixture, &capped.id);
    assert_ttl(&mut conn, &key, until(capped.absolute_expires_at), "capped").await;

    // Expired long ago: kept for the retention after the write, and a
    // revocation does not shorten it.
    let mut old = sample_record(&subject);
    old.created_at = now - Duration::days(3);
    old.refreshed_at = old.created_at;
    old.idle_expires_at = old.created_at + Duration::hours(1);
    old.absolute_expires_at = old.created_at + Duration::days(1);
    store.create(&old).await.unwrap();
    let why = Revocation {
        reason: RevocationReason::Logout,
        at: now,
    };
    assert!(store.revoke(&old.id, &why).await.unwrap());
    assert_ttl(&mut conn, &session_key(&fixture, &old.id), RETENTION, "old").await;
}

async fn indexed(conn: &mut MultiplexedConnection, index: &str) -> Vec<String> {
    let mut ids: Vec<String> = redis::cmd("ZRANGE")
        .arg(index)
        .arg(0)
        .arg(-1)
        .query_async(conn)
        .await
        .unwrap();
    ids.sort();
    ids
}

fn sorted(ids: &[SessionId]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(SessionId::to_string).collect();
    ids.sort();
    ids
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn the_index_forgets_sessions_gone_by_ttl_and_keeps_the_rest() {
    let fixture = Fixture::with_retention(RETENTION).await;
    let (store, mut conn) = (&fixture.store, fixture.raw().await);
    let subject = unique_subject("index");
    let index = index_key(&fixture, &subject);
    let first = sample_record(&subject);
    store.create(&first).await.unwrap();
    // An entry whose session's key expired a second ago, as Redis leaves it.
    let gone = SessionId::random();
    let a_second_ago = (OffsetDateTime::now_utc().unix_timestamp() - 1) * 1000;
    let () = redis::cmd("ZADD")
        .arg(&index)
        .arg(a_second_ago)
        .arg(gone.to_string())
        .exec_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(indexed(&mut conn, &index).await, sorted(&[first.id, gone]));

    let second = sample_record(&subject);
    store.create(&second).await.unwrap();
    assert_eq!(
        indexed(&mut conn, &index).await,
        sorted(&[first.id, second.id])
    );
}

#[tokio::test]
#[ignore = "needs REDIS_URL"]
async fn stale_index_entries_are_skipped_then_dropped() {
    let fixture = Fixture::with_retention(RETENTION).await;
    let (store, mut conn) = (&fixture.store, fixture.raw().await);
    let owner = sample_record(&unique_subject("owner"));
    store.create(&owner).await.unwrap();
    // A create of a taken id indexes it under its own subject first.
    let mut taker = sample_record(&unique_subject("taker"));
    taker.id = owner.id;
    let err = store.create(&taker).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::AlreadyExists);
    let taker_index = index_key(&fixture, &taker.subject);
    assert_eq!(indexed(&mut conn, &taker_index).await, sorted(&[owner.id]));

    // Neither revoke_subject nor sessions of the taker touch the owner's
    // session; then the entry is gone.
    let why = Revocation {
        reason: RevocationReason::SubjectRevoked,
        at: owner.created_at,
    };
    assert_eq!(
        store
            .revoke_subject(&taker.subject, None, &why)
            .await
            .unwrap(),
        0
    );
    assert!(store.sessions(&taker.subject).await.unwrap().is_empty());
    assert!(indexed(&mut conn, &taker_index).await.is_empty());
    let stored = store.get(&owner.id).await.unwrap().unwrap();
    assert_eq!(stored.revoked, None);

    // Revoked and purged sessions leave their subject's index too.
    let owner_index = index_key(&fixture, &owner.subject);
    let mut expired = sample_record(&owner.subject);
    expired.idle_expires_at = expired.created_at;
    let revoked = sample_record(&owner.subject);
    for record in [&expired, &revoked] {
        store.create(record).await.unwrap();
    }
    assert!(store.revoke(&revoked.id, &why).await.unwrap());
    let all = sorted(&[owner.id, expired.id, revoked.id]);
    assert_eq!(indexed(&mut conn, &owner_index).await, all);
    assert_eq!(store.purge_expired(expired.created_at).await.unwrap(), 1);
    let listed = store.sessions(&owner.subject).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), [owner.id]);
    assert_eq!(indexed(&mut conn, &owner_index).await, sorted(&[owner.id]));
}
