//! `sessions` and `revoke_subject` for one subject with 10 and 1,000
//! sessions, over MemoryStore (whose other subjects' sessions are never
//! visited: both read the subject index).
//!
//! `cargo bench --bench sessions`. Times are thread CPU time (see
//! `jwt-rotate-bench-support`); compare medians within one run only.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::Alg;
use common::cpu::{self, ThreadCpu};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jwt_rotate::store::{RefreshStore, SecretHash, SessionRecord};
use jwt_rotate::{SessionId, SessionInfo};
use time::OffsetDateTime;

const SIZES: [usize; 2] = [10, 1_000];

/// Other subjects' sessions in the same store, so that the index, not the
/// store's size, decides the cost.
const BYSTANDERS: usize = 10_000;

fn sessions(c: &mut Criterion<ThreadCpu>) {
    let rt = common::runtime();
    let mut group = c.benchmark_group("sessions");
    for n in SIZES {
        let service = common::service(Alg::Hs256);
        rt.block_on(async {
            for i in 0..BYSTANDERS {
                common::login(&service, &format!("user-{i}")).await;
            }
            for _ in 0..n {
                common::login(&service, "user-many").await;
            }
        });
        group.bench_function(BenchmarkId::new("jwt-rotate", n), |b| {
            b.to_async(&rt).iter(|| async {
                let views = service.sessions(black_box("user-many")).await;
                assert_eq!(views.expect("sessions").len(), n);
            })
        });
    }
    group.finish();
}

fn revoke_subject(c: &mut Criterion<ThreadCpu>) {
    let rt = common::runtime();
    let mut group = c.benchmark_group("revoke_subject");
    // Each iteration first creates the sessions it revokes and then purges
    // them (not timed, but ten times as long): fewer, shorter samples.
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(3));
    for n in SIZES {
        let service = common::service(Alg::Hs256);
        rt.block_on(async {
            for i in 0..BYSTANDERS {
                common::login(&service, &format!("user-{i}")).await;
            }
        });
        group.bench_function(BenchmarkId::new("jwt-rotate", n), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let service = service.clone();
                async move {
                    let store = service.store();
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        for _ in 0..n {
                            let record = record(SessionId::random(), "user-many");
                            store.create(&record).await.expect("create");
                        }
                        let start = cpu::now();
                        let revoked = service.revoke_subject(black_box("user-many"), None).await;
                        timed += cpu::now() - start;
                        assert_eq!(revoked.expect("revoke"), n as u64);
                        // Drop the revoked records again (not timed), so
                        // the store keeps its size; bystanders stay.
                        let purged = store.purge_expired(past_ours()).await;
                        assert_eq!(purged.expect("purge"), n as u64);
                    }
                    timed
                }
            })
        });
    }
    group.finish();
}

/// A session as `issue` would store it, but with a one-hour absolute
/// lifetime, so that a purge at [`past_ours`] deletes it and no login.
fn record(id: SessionId, subject: &str) -> SessionRecord {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("valid");
    let bytes = id.as_bytes();
    SessionRecord {
        id,
        subject: subject.to_owned(),
        generation: 0,
        secret_hash: SecretHash::from_bytes(std::array::from_fn(|i| bytes[i % 16])),
        jkt: None,
        previous: None,
        created_at: now,
        refreshed_at: now,
        idle_expires_at: now + time::Duration::days(7),
        absolute_expires_at: now + time::Duration::hours(1),
        revoked: None,
        claims_json: "{}".to_owned(),
        info: SessionInfo::default(),
        auth: None,
        last_seen: Default::default(),
        status_index: None,
    }
}

/// After the benchmark's own records expire, long before any login does.
fn past_ours() -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::hours(2)
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = sessions, revoke_subject
}
criterion_main!(benches);
