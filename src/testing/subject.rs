//! Checks on many sessions: by subject, and the purge.

use time::{Duration, OffsetDateTime};

use super::{
    assert_records_match, assert_stored, at, next_rotation, ok, rotated, sample_record,
    unique_subject,
};
use crate::session::{Revocation, RevocationReason, SessionRecord};
use crate::store::RefreshStore;

/// The `now` of the purge check: 1990-01-01, before anything the other
/// checks or an application create, so it only ever purges its own.
const PURGE_NOW: i64 = 631_152_000;

/// How often the purge check may see its count spoiled by a purge in
/// another process before it fails.
const PURGE_ATTEMPTS: usize = 5;

/// Purge checks in one process take turns: a purge is global, so two at
/// once delete each other's sessions and spoil each other's counts.
static PURGE_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Subjects a sloppy query could mix up with `subject`: a longer one, the
/// same in upper case, one with a leading space, and a prefix (`LIKE`,
/// case-insensitive collations, trimming, prefix scans).
fn neighbours(subject: &str) -> [String; 4] {
    [
        format!("{subject}x"),
        subject.to_uppercase(),
        format!(" {subject}"),
        subject[..subject.len() - 1].to_owned(),
    ]
}

/// Creates a live session for each neighbour of `subject`.
async fn create_neighbours<S: RefreshStore + ?Sized>(
    store: &S,
    subject: &str,
) -> Vec<SessionRecord> {
    let mut created = Vec::new();
    for neighbour in neighbours(subject) {
        let record = sample_record(&neighbour);
        ok(store.create(&record).await, "create");
        created.push(record);
    }
    created
}

fn revocation(reason: RevocationReason, base: OffsetDateTime, secs: i64) -> Revocation {
    Revocation {
        reason,
        at: base + Duration::seconds(secs),
    }
}

/// `revoke_subject` revokes every live session of the subject but `except`,
/// counts only those, keeps earlier revocations, spares other subjects
/// (even similar ones), and ignores an `except` of another subject.
pub async fn revoke_subject_spares_except_and_others<S: RefreshStore + ?Sized>(store: &S) {
    let subject = unique_subject("revoke_subject %_");
    let mut mine: Vec<SessionRecord> = (0..4).map(|_| sample_record(&subject)).collect();
    for record in &mine {
        ok(store.create(record).await, "create");
    }
    let others = create_neighbours(store, &subject).await;
    let t = mine[0].created_at;
    let earlier = revocation(RevocationReason::Logout, t, 1);
    assert!(
        ok(store.revoke(&mine[3].id, &earlier).await, "revoke"),
        "revoke of a live session returned false"
    );
    mine[3].revoked = Some(earlier);

    let why = revocation(RevocationReason::SubjectRevoked, t, 2);
    let count = ok(
        store
            .revoke_subject(&subject, Some(&mine[1].id), &why)
            .await,
        "revoke_subject",
    );
    assert_eq!(
        count, 2,
        "revoke_subject must count the live sessions it revoked: two besides `except`, one more already revoked"
    );
    mine[0].revoked = Some(why);
    mine[2].revoked = Some(why);
    for record in mine.iter().chain(&others) {
        assert_stored(store, record, "after revoke_subject with except").await;
    }
    let count = ok(
        store
            .revoke_subject(&subject, Some(&mine[1].id), &why)
            .await,
        "revoke_subject",
    );
    assert_eq!(count, 0, "revoke_subject counted already-revoked sessions");

    let later = revocation(RevocationReason::SubjectRevoked, t, 3);
    let count = ok(
        store.revoke_subject(&subject, None, &later).await,
        "revoke_subject",
    );
    assert_eq!(
        count, 1,
        "revoke_subject without `except` must revoke the last live session"
    );
    mine[1].revoked = Some(later);
    for record in &mine {
        assert_stored(store, record, "after revoke_subject without except").await;
    }

    // An `except` naming another subject's session spares nothing.
    let count = ok(
        store
            .revoke_subject(&others[0].subject, Some(&mine[0].id), &later)
            .await,
        "revoke_subject",
    );
    assert_eq!(
        count, 1,
        "revoke_subject with another subject's `except` must revoke the subject's one session"
    );
    let nobody = unique_subject("nobody");
    let count = ok(
        store.revoke_subject(&nobody, None, &later).await,
        "revoke_subject",
    );
    assert_eq!(
        count, 0,
        "revoke_subject of an unknown subject must return 0"
    );
    for record in &others[1..] {
        assert_stored(
            store,
            record,
            "a similar subject's session after revoke_subject",
        )
        .await;
    }
}

/// `sessions` returns exactly the subject's non-revoked sessions, expired
/// ones included, as stored (after a rotation too), and nothing of other,
/// similar subjects.
pub async fn sessions_lists_live_records_of_one_subject<S: RefreshStore + ?Sized>(store: &S) {
    let subject = unique_subject("sessions %_");
    let live = sample_record(&subject);
    let mut to_rotate = sample_record(&subject);
    to_rotate.info = to_rotate.info.with_label("phone");
    let mut expired = sample_record(&subject);
    expired.created_at -= Duration::hours(3);
    expired.refreshed_at = expired.created_at;
    expired.idle_expires_at = expired.created_at + Duration::hours(1);
    let revoked = sample_record(&subject);
    for record in [&live, &to_rotate, &expired, &revoked] {
        ok(store.create(record).await, "create");
    }
    let others = create_neighbours(store, &subject).await;
    let why = revocation(RevocationReason::Revoked, revoked.created_at, 1);
    assert!(
        ok(store.revoke(&revoked.id, &why).await, "revoke"),
        "revoke of a live session returned false"
    );
    let (expected, next) = next_rotation(&to_rotate, to_rotate.created_at + Duration::minutes(1));
    ok(
        store.rotate(&to_rotate.id, &expected, &next).await,
        "rotate",
    )
    .expect("rotate of a fresh session refused");
    let rotated = rotated(&to_rotate, &next);

    let want = [live.clone(), rotated, expired];
    expect_sessions(
        store,
        &subject,
        &want,
        "sessions of a subject with a revoked session",
    )
    .await;
    for other in &others {
        expect_sessions(
            store,
            &other.subject,
            std::slice::from_ref(other),
            "sessions of a similar subject",
        )
        .await;
    }
    expect_sessions(
        store,
        &unique_subject("nobody"),
        &[],
        "sessions of an unknown subject",
    )
    .await;
    let why = revocation(RevocationReason::Logout, live.created_at, 2);
    assert!(
        ok(store.revoke(&live.id, &why).await, "revoke"),
        "revoke of a live session returned false"
    );
    expect_sessions(store, &subject, &want[1..], "sessions after a revoke").await;
}

async fn expect_sessions<S: RefreshStore + ?Sized>(
    store: &S,
    subject: &str,
    want: &[SessionRecord],
    context: &str,
) {
    let mut got = ok(store.sessions(subject).await, "sessions");
    got.sort_by_key(|r| r.id);
    let mut want = want.to_vec();
    want.sort_by_key(|r| r.id);
    let ids = |records: &[SessionRecord]| records.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(&got),
        ids(&want),
        "{context}: wrong sessions for {subject:?} (ids, sorted)"
    );
    for (got, want) in got.iter().zip(&want) {
        assert_records_match(got, want, context);
    }
}

/// `purge_expired` deletes the sessions whose idle or absolute expiry is at
/// or before `now`, revoked or not, keeps the others (one second later is
/// enough), drops the deleted ones from `sessions`, and counts at least
/// those.
///
/// Purges at 1990-01-01 with sessions of its own around that date, so it
/// never touches anyone else's. But another run of this check deletes this
/// run's expired sessions as readily as its own, and the count is global:
/// runs in one process take turns, and since runs in other processes
/// cannot, a low count is retried a few times before it fails the check.
pub async fn purge_expired_deletes_only_expired<S: RefreshStore + ?Sized>(store: &S) {
    let _turn = PURGE_TURN.lock().await;
    let now = at(PURGE_NOW);
    let (second, hour, day) = (Duration::seconds(1), Duration::hours(1), Duration::days(1));
    for _ in 0..PURGE_ATTEMPTS {
        let subject = unique_subject("purge");
        let make = |idle, absolute| {
            let mut record = sample_record(&subject);
            record.created_at = now - 2 * day;
            record.refreshed_at = record.created_at;
            (record.idle_expires_at, record.absolute_expires_at) = (idle, absolute);
            record
        };
        let gone = [
            ("idle expiry at now", make(now, now + day), false),
            ("absolute expiry at now", make(now + hour, now), false),
            (
                "both expiries before now, revoked",
                make(now - hour, now - second),
                true,
            ),
        ];
        let kept = [
            (
                "expiries one second after now",
                make(now + second, now + second),
                false,
            ),
            (
                "live until tomorrow, revoked",
                make(now + hour, now + day),
                true,
            ),
        ];
        let mut records = Vec::new(); // as stored: gone, then kept
        for (_, record, revoke) in gone.iter().chain(&kept) {
            ok(store.create(record).await, "create");
            let mut record = record.clone();
            if *revoke {
                let why = revocation(RevocationReason::Revoked, now, -3 * 3600);
                assert!(
                    ok(store.revoke(&record.id, &why).await, "revoke"),
                    "revoke of a live session returned false"
                );
                record.revoked = Some(why);
            }
            records.push(record);
        }
        let purged = ok(store.purge_expired(now).await, "purge_expired");
        for (what, record, _) in &gone {
            let stored = ok(store.get(&record.id).await, "get");
            assert!(stored.is_none(), "purge_expired kept a session with {what}");
        }
        for ((what, _, _), record) in kept.iter().zip(&records[gone.len()..]) {
            assert_stored(
                store,
                record,
                &format!("purge_expired must keep a session with {what}"),
            )
            .await;
        }
        expect_sessions(
            store,
            &subject,
            &records[gone.len()..][..1],
            "sessions after purge_expired",
        )
        .await;
        if purged >= gone.len() as u64 {
            return;
        }
    }
    panic!(
        "purge_expired deleted this check's expired sessions but counted fewer, {PURGE_ATTEMPTS} times in a row: it must return how many it deleted"
    );
}
