//! Races: many tasks, spawned on the current runtime, on one session.
//!
//! A barrier lines the tasks up so that their calls overlap as much as the
//! runtime allows; each race is repeated, since one clean round proves
//! little.

use std::sync::Arc;

use time::Duration;
use tokio::sync::Barrier;

use super::single::REASONS;
use super::{
    assert_records_match, assert_stored, join_all, next_rotation, ok, rotated, sample_record,
    unique_subject,
};
use crate::error::StoreErrorKind;
use crate::session::{Revocation, RevocationReason, SessionRecord};
use crate::store::RefreshStore;

/// Tasks per race.
const TASKS: usize = 32;
/// Races per check.
const ROUNDS: usize = 20;

/// Of 32 concurrent `create`s of one id, exactly one succeeds, the others
/// fail with `AlreadyExists`, and the winner's record is the one stored.
pub async fn concurrent_create_has_one_winner<S: RefreshStore + ?Sized>(store: &Arc<S>) {
    let subject = unique_subject("race-create");
    for round in 0..ROUNDS {
        let start = Arc::new(Barrier::new(TASKS));
        let id = sample_record(&subject).id;
        let tasks = (0..TASKS)
            .map(|_| {
                let (store, start) = (Arc::clone(store), Arc::clone(&start));
                let mut record = sample_record(&subject);
                record.id = id;
                tokio::spawn(async move {
                    start.wait().await;
                    let result = store.create(&record).await;
                    (record, result)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for (record, result) in join_all(tasks).await {
            match result {
                Ok(()) => winners.push(record),
                Err(e) if e.kind() == StoreErrorKind::AlreadyExists => {}
                Err(e) => panic!(
                    "round {round}: a create racing others for one id failed with {e:?}; the losers must get AlreadyExists"
                ),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: {} of {TASKS} concurrent creates of one id succeeded; exactly one must",
            winners.len()
        );
        assert_stored(
            store.as_ref(),
            &winners[0],
            "the record after racing creates",
        )
        .await;
    }
}

/// Of 32 concurrent `rotate`s with the same expectation, exactly one
/// succeeds, 20 times over on one session; the stored record is the
/// winner's.
pub async fn concurrent_rotate_has_one_winner<S: RefreshStore + ?Sized>(store: &Arc<S>) {
    let mut current = sample_record(&unique_subject("race-rotate"));
    ok(store.create(&current).await, "create");
    for round in 0..ROUNDS {
        let t = current.refreshed_at + Duration::seconds(1);
        let start = Arc::new(Barrier::new(TASKS));
        let tasks = (0..TASKS)
            .map(|_| {
                let (store, start) = (Arc::clone(store), Arc::clone(&start));
                let (expected, next) = next_rotation(&current, t);
                let id = current.id;
                tokio::spawn(async move {
                    start.wait().await;
                    let result = store.rotate(&id, &expected, &next).await;
                    (next, result)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for (next, result) in join_all(tasks).await {
            if let Some(record) = ok(result, "rotate") {
                winners.push((next, record));
            }
        }
        let n = winners.len();
        assert_eq!(
            n, 1,
            "round {round}: {n} of {TASKS} concurrent rotations with the same expected generation succeeded; exactly one must"
        );
        let (next, returned) = &winners[0];
        current = rotated(&current, next);
        assert_records_match(
            returned,
            &current,
            "the record the winning rotation returned",
        );
        assert_stored(
            store.as_ref(),
            &current,
            "the record after racing rotations",
        )
        .await;
    }
}

/// Of 32 concurrent `revoke`s of one live session, exactly one returns
/// `true`, and its revocation is the one stored.
pub async fn concurrent_revoke_has_one_winner<S: RefreshStore + ?Sized>(store: &Arc<S>) {
    let subject = unique_subject("race-revoke");
    for round in 0..ROUNDS {
        let mut record = sample_record(&subject);
        ok(store.create(&record).await, "create");
        let start = Arc::new(Barrier::new(TASKS));
        let tasks = (0..TASKS)
            .map(|i| {
                let (store, start, id) = (Arc::clone(store), Arc::clone(&start), record.id);
                let why = Revocation {
                    reason: REASONS[i % REASONS.len()],
                    at: record.created_at + Duration::seconds(i as i64),
                };
                tokio::spawn(async move {
                    start.wait().await;
                    let result = store.revoke(&id, &why).await;
                    (why, result)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for (why, result) in join_all(tasks).await {
            if ok(result, "revoke") {
                winners.push(why);
            }
        }
        let n = winners.len();
        assert_eq!(
            n, 1,
            "round {round}: {n} of {TASKS} concurrent revokes of one session returned true; exactly one must"
        );
        record.revoked = Some(winners[0]);
        assert_stored(
            store.as_ref(),
            &record,
            "after racing revokes (the winner's revocation must stay)",
        )
        .await;
    }
}

/// `rotate` racing `revoke` never applies after the revocation: either it
/// wins (returning an unrevoked record, which the revocation then marks)
/// or it fails and the session keeps its generation. Eight rotations race
/// one revocation, 20 times.
pub async fn rotate_racing_revoke_never_wins_after_it<S: RefreshStore + ?Sized>(store: &Arc<S>) {
    const ROTATORS: usize = 8;
    let subject = unique_subject("race-rotate-revoke");
    for round in 0..ROUNDS {
        let record = sample_record(&subject);
        ok(store.create(&record).await, "create");
        let t = record.created_at + Duration::minutes(1);
        let why = Revocation {
            reason: RevocationReason::ReuseDetected,
            at: t,
        };
        let start = Arc::new(Barrier::new(ROTATORS + 1));
        let revoker = {
            let (store, start, id) = (Arc::clone(store), Arc::clone(&start), record.id);
            tokio::spawn(async move {
                start.wait().await;
                store.revoke(&id, &why).await
            })
        };
        let rotators = (0..ROTATORS)
            .map(|_| {
                let (store, start) = (Arc::clone(store), Arc::clone(&start));
                let (expected, next) = next_rotation(&record, t);
                let id = record.id;
                tokio::spawn(async move {
                    start.wait().await;
                    let result = store.rotate(&id, &expected, &next).await;
                    (next, result)
                })
            })
            .collect();
        let rotations = join_all(rotators).await;
        let revoked = join_all(vec![revoker])
            .await
            .into_iter()
            .all(|r| ok(r, "revoke"));
        assert!(
            revoked,
            "round {round}: revoke of a live session racing rotations returned false"
        );

        let mut winners: Vec<(_, SessionRecord)> = Vec::new();
        for (next, result) in rotations {
            if let Some(returned) = ok(result, "rotate") {
                winners.push((next, returned));
            }
        }
        assert!(
            winners.len() <= 1,
            "round {round}: {} concurrent rotations with the same expected generation succeeded",
            winners.len()
        );
        let mut want = match winners.first() {
            Some((next, returned)) => {
                assert!(
                    returned.revoked.is_none(),
                    "round {round}: rotate applied to a session already revoked"
                );
                rotated(&record, next)
            }
            None => record.clone(),
        };
        want.revoked = Some(why);
        assert_stored(store.as_ref(), &want, "after rotate raced revoke").await;
        let (expected, next) = next_rotation(&want, t + Duration::minutes(1));
        let after = ok(store.rotate(&want.id, &expected, &next).await, "rotate");
        assert!(
            after.is_none(),
            "round {round}: rotate applied to a revoked session"
        );
    }
}
