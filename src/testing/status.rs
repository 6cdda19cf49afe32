//! Status indexes (token status lists): `create_indexed` and
//! `revoked_status_indexes`. A store that allocates no index passes by
//! keeping both defaults.

use std::collections::BTreeSet;
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::Barrier;

use super::{join_all, next_rotation, ok, sample_record, unique_subject};
use crate::session::{Revocation, RevocationReason};
use crate::store::RefreshStore;

/// Concurrent `create_indexed` calls.
const TASKS: usize = 32;

/// Of 32 concurrent `create_indexed` calls, each gets an index no other
/// got, which `get` and `rotate` give back with the record. A store that
/// allocates none answers `None` to all of them.
pub async fn concurrent_create_indexed_gives_unique_indexes<S: RefreshStore + ?Sized>(
    store: &Arc<S>,
) {
    let subject = unique_subject("status-index");
    let start = Arc::new(Barrier::new(TASKS));
    let tasks = (0..TASKS)
        .map(|_| {
            let (store, start) = (Arc::clone(store), Arc::clone(&start));
            let record = sample_record(&subject);
            tokio::spawn(async move {
                start.wait().await;
                let index = ok(store.create_indexed(&record).await, "create_indexed");
                (record, index)
            })
        })
        .collect();
    let created = join_all(tasks).await;
    if created.iter().all(|(_, index)| index.is_none()) {
        return;
    }
    let mut seen = BTreeSet::new();
    for (record, index) in &created {
        let Some(index) = *index else {
            panic!("create_indexed gave some sessions an index and not others");
        };
        assert!(
            seen.insert(index),
            "create_indexed gave the status index {index} to two concurrent sessions"
        );
        let stored = ok(store.get(&record.id).await, "get")
            .unwrap_or_else(|| panic!("a session made by create_indexed is not stored"));
        assert_eq!(
            stored.status_index,
            Some(index),
            "get must return the status index create_indexed gave"
        );
    }
    let (record, index) = &created[0];
    let (expected, next) = next_rotation(record, record.refreshed_at);
    let rotated = ok(store.rotate(&record.id, &expected, &next).await, "rotate")
        .unwrap_or_else(|| panic!("rotate refused a session made by create_indexed"));
    assert_eq!(
        rotated.status_index, *index,
        "rotate must return the record with its status index"
    );
}

/// `revoked_status_indexes` reports the index of a revoked session within
/// the range asked for, never a live session's, never one outside it.
pub async fn revoked_status_indexes_reports_revoked_sessions<S: RefreshStore + ?Sized>(store: &S) {
    let subject = unique_subject("status-revoked");
    let mut made = Vec::new();
    for _ in 0..3 {
        let record = sample_record(&subject);
        let index = ok(store.create_indexed(&record).await, "create_indexed");
        made.push((record, index));
    }
    let indexes: Vec<u64> = made.iter().filter_map(|(_, index)| *index).collect();
    if indexes.is_empty() {
        let any = ok(
            store.revoked_status_indexes(0..u64::MAX).await,
            "revoked_status_indexes",
        );
        assert!(
            any.is_empty(),
            "a store that gives no index reports none revoked"
        );
        return;
    }
    assert_eq!(
        indexes.len(),
        3,
        "create_indexed gave some sessions no index"
    );
    let why = Revocation {
        reason: RevocationReason::Logout,
        at: OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("0 ns is valid"),
    };
    assert!(ok(store.revoke(&made[1].0.id, &why).await, "revoke"));
    let (low, high) = (indexes.iter().min().copied(), indexes.iter().max().copied());
    let (low, high) = (low.unwrap_or(0), high.unwrap_or(0));
    // Other runs may revoke their own sessions in the same range: only
    // these three are judged.
    let ours = |found: Vec<u64>| -> Vec<u64> {
        found.into_iter().filter(|i| indexes.contains(i)).collect()
    };
    let found = ok(
        store.revoked_status_indexes(low..high + 1).await,
        "revoked_status_indexes",
    );
    assert!(
        found.windows(2).all(|w| w[0] < w[1]),
        "revoked_status_indexes must answer in ascending order without repeats"
    );
    assert_eq!(
        ours(found),
        vec![indexes[1]],
        "revoked_status_indexes must report the revoked session's index, and only it"
    );
    let outside = ok(
        store
            .revoked_status_indexes(indexes[1] + 1..indexes[1] + 1)
            .await,
        "revoked_status_indexes",
    );
    assert!(ours(outside).is_empty(), "an empty range has no index");
    let before = ok(
        store.revoked_status_indexes(0..indexes[1]).await,
        "revoked_status_indexes",
    );
    assert!(
        !before.contains(&indexes[1]),
        "revoked_status_indexes reported an index outside the range asked for"
    );
}
