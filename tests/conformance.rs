//! The conformance suite against `MemoryStore`: directly, behind `dyn`, and
//! behind each blanket impl; several runs at once on one store; and, to
//! show the suite has teeth, against stores broken on purpose.
#![cfg(feature = "testing")]

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use async_trait::async_trait;
use jwt_rotate::store::{
    CatchUp, Cursor, ExpectedGeneration, RefreshStore, Replay, ReplayKey, Revocation,
    RevocationFeed, RevocationSubscription, RotationUpdate, SessionRecord, StoreError,
    StoreErrorKind,
};
use jwt_rotate::testing;
use jwt_rotate::{MemoryStore, SessionId};
use time::OffsetDateTime;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store() {
    testing::run_all(&Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_feed() {
    const RING: usize = 64;
    // Trimming: as many new revocations as the ring holds push the
    // check's old ones out.
    let trim = async |store: &MemoryStore| {
        let why = Revocation {
            reason: jwt_rotate::store::RevocationReason::Logout,
            at: OffsetDateTime::now_utc(),
        };
        for _ in 0..RING {
            let record = testing::sample_record(&testing::unique_subject("overflow"));
            store.create(&record).await.unwrap();
            assert!(store.revoke(&record.id, &why).await.unwrap());
        }
    };
    testing::run_feed(&Arc::new(MemoryStore::with_feed_capacity(RING)), trim).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_as_arc_dyn() {
    let store: Arc<dyn RefreshStore> = Arc::new(MemoryStore::new());
    testing::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_through_the_box_and_arc_impls() {
    let boxed: Box<dyn RefreshStore> = Box::new(MemoryStore::new());
    testing::run_all(&Arc::new(boxed)).await;
    let shared: Arc<dyn RefreshStore> = Arc::new(MemoryStore::new());
    testing::run_all(&Arc::new(shared)).await;
}

/// Parallel test binaries sharing one database look like this: runs that
/// overlap on one store which is never empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_runs_on_one_store() {
    let store = Arc::new(MemoryStore::new());
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { testing::run_all(&store).await })
        })
        .collect();
    for run in runs {
        run.await.expect("a run failed");
    }
    testing::run_all(&store).await;
}

/// A rule a broken store gets wrong.
#[derive(Clone, Copy)]
enum Bug {
    /// Compares the generation but not the secret hash.
    IgnoresSecretHash,
    /// Reads, then writes: two racing rotations can both succeed.
    CheckThenWrite,
    /// Says `true` for a session that was already revoked.
    RevokeAlwaysTrue,
    /// Revokes the `except` session too.
    IgnoresExcept,
    /// Lists revoked sessions as well.
    ListsRevoked,
    /// Deletes but reports nothing.
    PurgeCountsZero,
    /// `since` leaves out the first event after the cursor: a silent gap.
    SinceSkipsOne,
    /// `since` answers an empty list where it should say `TooOld`.
    NeverTooOld,
    /// `TooOld` bounds what was missed by an instant before some of it.
    EarlyBound,
    /// Leaves `insert_dpop_jti` to the default, which refuses every call.
    NoReplayCache,
    /// Reads, then inserts: two racing proofs can both be Fresh.
    ReplayCheckThenInsert,
}

/// `MemoryStore` with one bug, written only with the public store API.
struct Broken(MemoryStore, Bug);

#[async_trait]
impl RefreshStore for Broken {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.0.create(session).await
    }
    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.0.get(id).await
    }
    async fn rotate(
        &self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let Some(stored) = self.0.get(id).await? else {
            return Ok(None);
        };
        let as_stored = ExpectedGeneration {
            generation: stored.generation,
            secret_hash: stored.secret_hash,
        };
        match self.1 {
            Bug::IgnoresSecretHash if stored.generation == expected.generation => {
                self.0.rotate(id, &as_stored, next).await
            }
            Bug::CheckThenWrite if &as_stored == expected => {
                tokio::task::yield_now().await;
                let Some(now) = self.0.get(id).await? else {
                    return Ok(None);
                };
                let blind = ExpectedGeneration {
                    generation: now.generation,
                    secret_hash: now.secret_hash,
                };
                self.0.rotate(id, &blind, next).await
            }
            _ => self.0.rotate(id, expected, next).await,
        }
    }
    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
        let changed = self.0.revoke(id, why).await?;
        let exists = self.0.get(id).await?.is_some();
        Ok(changed || (matches!(self.1, Bug::RevokeAlwaysTrue) && exists))
    }
    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        let except = except.filter(|_| !matches!(self.1, Bug::IgnoresExcept));
        self.0.revoke_subject(subject, except, why).await
    }
    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
        let mut found = self.0.sessions(subject).await?;
        if let (Bug::ListsRevoked, Some(first)) = (self.1, found.first().cloned()) {
            // Stands in for a revoked one: a record sessions must not list.
            let mut extra = first;
            extra.id = SessionId::random();
            extra.revoked = Some(Revocation {
                reason: jwt_rotate::RevocationReason::Logout,
                at: OffsetDateTime::UNIX_EPOCH,
            });
            found.push(extra);
        }
        Ok(found)
    }
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let purged = self.0.purge_expired(now).await?;
        Ok(if matches!(self.1, Bug::PurgeCountsZero) {
            0
        } else {
            purged
        })
    }
    async fn insert_dpop_jti(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, StoreError> {
        match self.1 {
            Bug::NoReplayCache => Err(StoreError::new(StoreErrorKind::Unsupported, "default")),
            Bug::ReplayCheckThenInsert => {
                let seen = lock_seen().contains(key.as_bytes());
                tokio::task::yield_now().await;
                if seen {
                    return Ok(Replay::Seen);
                }
                lock_seen().insert(*key.as_bytes());
                Ok(Replay::Fresh)
            }
            _ => self.0.insert_dpop_jti(key, now, expires_at).await,
        }
    }
}

/// The keys `Bug::ReplayCheckThenInsert` remembered.
fn lock_seen() -> std::sync::MutexGuard<'static, HashSet<[u8; 32]>> {
    static SEEN: LazyLock<Mutex<HashSet<[u8; 32]>>> = LazyLock::new(Mutex::default);
    SEEN.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl RevocationFeed for Broken {
    async fn since(&self, cursor: Cursor) -> Result<CatchUp, StoreError> {
        Ok(match (self.0.since(cursor).await?, self.1) {
            (CatchUp::Events { mut events, head }, Bug::SinceSkipsOne) if !events.is_empty() => {
                events.remove(0);
                CatchUp::Events { events, head }
            }
            (CatchUp::TooOld { head, .. }, Bug::NeverTooOld) => CatchUp::Events {
                events: Vec::new(),
                head,
            },
            (CatchUp::TooOld { head, .. }, Bug::EarlyBound) => CatchUp::TooOld {
                head,
                missed_until: Some(OffsetDateTime::UNIX_EPOCH),
            },
            (answer, _) => answer,
        })
    }

    async fn subscribe(&self) -> Result<Box<dyn RevocationSubscription>, StoreError> {
        self.0.subscribe().await
    }
}

fn broken(bug: Bug) -> Arc<Broken> {
    Arc::new(Broken(MemoryStore::new(), bug))
}

#[tokio::test]
#[should_panic(expected = "rotate applied with another secret hash")]
async fn catches_a_rotate_that_ignores_the_secret_hash() {
    testing::rotate_is_compare_and_swap(&broken(Bug::IgnoresSecretHash)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[should_panic(expected = "concurrent rotations with the same expected generation succeeded")]
async fn catches_a_rotate_that_checks_then_writes() {
    testing::concurrent_rotate_has_one_winner(&broken(Bug::CheckThenWrite)).await;
}

#[tokio::test]
#[should_panic(expected = "revoke of a revoked session must return false")]
async fn catches_a_revoke_that_always_says_true() {
    testing::revoke_keeps_the_first_revocation(&broken(Bug::RevokeAlwaysTrue)).await;
}

#[tokio::test]
#[should_panic(expected = "revoke_subject must count the live sessions it revoked")]
async fn catches_a_revoke_subject_that_ignores_except() {
    testing::revoke_subject_spares_except_and_others(&broken(Bug::IgnoresExcept)).await;
}

#[tokio::test]
#[should_panic(expected = "wrong sessions for")]
async fn catches_sessions_that_lists_revoked_ones() {
    testing::sessions_lists_live_records_of_one_subject(&broken(Bug::ListsRevoked)).await;
}

#[tokio::test]
#[should_panic(expected = "counted fewer, 5 times in a row")]
async fn catches_a_purge_that_miscounts() {
    testing::purge_expired_deletes_only_expired(&broken(Bug::PurgeCountsZero)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "since returns the events the subscription delivered")]
async fn catches_a_feed_whose_since_leaves_a_gap() {
    testing::feed_publishes_each_revocation_once_in_order(&*broken(Bug::SinceSkipsOne)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "since from the cursor it had returns what was missed")]
async fn catches_a_feed_whose_catch_up_skips_an_event() {
    testing::feed_catches_up_after_a_disconnect(&*broken(Bug::SinceSkipsOne)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "since from a trimmed cursor must say TooOld")]
async fn catches_a_feed_that_never_says_too_old() {
    trim_broken(Bug::NeverTooOld).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "is before a trimmed event's instant")]
async fn catches_a_feed_whose_too_old_bound_is_too_early() {
    trim_broken(Bug::EarlyBound).await;
}

/// Runs the trimming check on a ring of four with `bug`.
async fn trim_broken(bug: Bug) {
    let store = Arc::new(Broken(MemoryStore::with_feed_capacity(4), bug));
    let trim = async |store: &Broken| {
        let why = Revocation {
            reason: jwt_rotate::store::RevocationReason::Logout,
            at: OffsetDateTime::now_utc(),
        };
        for _ in 0..4 {
            let record = testing::sample_record(&testing::unique_subject("overflow"));
            store.create(&record).await.unwrap();
            assert!(store.revoke(&record.id, &why).await.unwrap());
        }
    };
    testing::feed_says_too_old_once_trimmed(&*store, trim).await;
}

#[tokio::test]
#[should_panic(expected = "insert_dpop_jti failed")]
async fn catches_a_store_without_a_replay_cache() {
    testing::insert_dpop_jti_first_insert_wins(&*broken(Bug::NoReplayCache)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[should_panic(expected = "concurrent insert_dpop_jti of one key were Fresh")]
async fn catches_a_replay_cache_that_checks_then_inserts() {
    testing::insert_dpop_jti_concurrent_has_one_winner(&broken(Bug::ReplayCheckThenInsert)).await;
}
