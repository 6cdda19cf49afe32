//! `issue` and `refresh` over MemoryStore beside the jsonwebtoken calls
//! they contain (summed: run back to back in one measured closure), and
//! `refresh` beside its floor, the same cryptography done directly on
//! aws-lc-rs (`common/floor.rs`; the ratios are printed at the end); grace
//! replay; and refresh of distinct sessions from one and from two threads
//! (contention on MemoryStore).
//!
//! `cargo bench --bench refresh`. Times are thread CPU time (see
//! `jwt-rotate-bench-support`); compare medians within one run only.

mod common;

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant, SystemTime};

use common::cpu::{self, ThreadCpu};
use common::floor::RefreshFloor;
use common::{Alg, RawCalls};
use criterion::{BenchmarkId, Criterion, criterion_group};
use jwt_rotate::{MemoryStore, NoClaims, RefreshToken, SessionInfo, TokenService};

fn issue(c: &mut Criterion<ThreadCpu>) {
    let rt = common::runtime();
    let mut group = c.benchmark_group("issue");
    for alg in Alg::ALL {
        group.bench_function(BenchmarkId::new("jwt-rotate", alg), |b| {
            b.to_async(&rt).iter_custom(|iters| async move {
                // A fresh store per sample, so that the store does not grow
                // across the whole run.
                let service = common::service(alg);
                let start = cpu::now();
                for _ in 0..iters {
                    let pair = service
                        .issue(black_box("user-42"), NoClaims {}, SessionInfo::default())
                        .await
                        .expect("issue");
                    black_box(pair);
                }
                cpu::now() - start
            })
        });
        let raw = RawCalls::new(alg);
        let service = common::service(alg);
        let pair = rt.block_on(common::login(&service, "user-42"));
        let claims = raw.claims(pair.refresh_token.as_str());
        group.bench_function(BenchmarkId::new("jsonwebtoken", alg), |b| {
            b.iter(|| raw.issue(black_box(&claims)))
        });
    }
    group.finish();
}

fn refresh(c: &mut Criterion<ThreadCpu>) {
    let rt = common::runtime();
    let mut group = c.benchmark_group("refresh");
    for alg in Alg::ALL {
        let service = common::service(alg);
        group.bench_function(BenchmarkId::new("jwt-rotate", alg), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let service = service.clone();
                async move {
                    let token = common::login(&service, "user-42").await.refresh_token;
                    rotations(&service, token, iters).await.0
                }
            })
        });
        let raw = RawCalls::new(alg);
        let pair = rt.block_on(common::login(&service, "user-42"));
        let token = pair.refresh_token.as_str();
        group.bench_function(BenchmarkId::new("jsonwebtoken", alg), |b| {
            b.iter(|| raw.refresh(black_box(token)))
        });
        // Tokens of the lengths our refresh of `token` hands out.
        let next = rt
            .block_on(service.refresh(&pair.refresh_token))
            .expect("refresh");
        let (refresh_token, access_token) =
            (next.refresh_token.as_str(), next.access_token.as_str());
        let mut floor = RefreshFloor::new(alg, token, refresh_token, access_token);
        group.bench_function(BenchmarkId::new("floor", alg), |b| {
            b.iter(|| black_box(floor.run()))
        });
    }
    group.finish();
}

/// `iters` rotations of one session, each spending the token the previous
/// one returned: the CPU time and the wall time they took.
async fn rotations(
    service: &TokenService<MemoryStore>,
    mut token: RefreshToken,
    iters: u64,
) -> (Duration, Duration) {
    let (cpu_start, wall_start) = (cpu::now(), Instant::now());
    for _ in 0..iters {
        token = service
            .refresh(black_box(&token))
            .await
            .expect("refresh")
            .refresh_token;
    }
    (cpu::now() - cpu_start, wall_start.elapsed())
}

/// The previous token presented again inside the grace window: a failed
/// compare-and-swap, one read, the current pair signed again.
fn grace_replay(c: &mut Criterion<ThreadCpu>) {
    let rt = common::runtime();
    let service = common::service(Alg::Hs256);
    let mut group = c.benchmark_group("grace_replay");
    group.bench_function(BenchmarkId::new("jwt-rotate", Alg::Hs256), |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let service = service.clone();
            async move {
                // A new rotation per sample: the window is 10 s.
                let old = common::login(&service, "user-42").await.refresh_token;
                let current = service.refresh(&old).await.expect("refresh");
                let start = cpu::now();
                for _ in 0..iters {
                    let again = service.refresh(black_box(&old)).await.expect("grace");
                    debug_assert_eq!(again.refresh_token, current.refresh_token);
                }
                cpu::now() - start
            }
        })
    });
    group.finish();
}

/// Each thread rotates its own session in a loop; the time reported is one
/// refresh as seen by one thread: its CPU time (as every other bench here;
/// contention shows as cache misses and spinning), and its wall time
/// (which also shows waiting for a lock, but on a busy machine mostly shows
/// waiting for a CPU). With no contention, two threads match one.
fn contention(c: &mut Criterion<ThreadCpu>) {
    let service = common::service(Alg::Hs256);
    let mut group = c.benchmark_group("refresh_threads");
    for (clock, threads) in [("cpu", 1), ("cpu", 2), ("wall", 1), ("wall", 2)] {
        let service = &service;
        group.bench_function(BenchmarkId::new(clock, threads), |b| {
            b.iter_custom(|iters| {
                let start_line = Barrier::new(threads);
                let spent: Vec<(Duration, Duration)> = std::thread::scope(|scope| {
                    let runs: Vec<_> = (0..threads)
                        .map(|_| {
                            let start_line = &start_line;
                            scope.spawn(move || {
                                let rt = common::runtime();
                                rt.block_on(async {
                                    let token = common::login(service, "user-42").await;
                                    start_line.wait();
                                    rotations(service, token.refresh_token, iters).await
                                })
                            })
                        })
                        .collect();
                    runs.into_iter()
                        .map(|r| r.join().expect("thread"))
                        .collect()
                });
                match clock {
                    // The mean over the threads.
                    "cpu" => spent.iter().map(|s| s.0).sum::<Duration>() / threads as u32,
                    // The slowest thread.
                    _ => spent.iter().map(|s| s.1).max().unwrap_or_default(),
                }
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = issue, refresh, grace_replay, contention
}

fn main() {
    let started = SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    common::report::beside_floor(started, "refresh", &["jwt-rotate", "jsonwebtoken"]);
}
