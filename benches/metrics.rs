//! The price of the `metrics` feature: an HS256 refresh over MemoryStore
//! with no recorder installed (the facade's no-op), and with one
//! (metrics-util's `DebuggingRecorder`, installed while the service is
//! built, which is when it registers its metric handles; each refresh then
//! does an atomic add per metric, as with any exporter).
//! Compare with the same refresh built without the feature in
//! `cargo bench --bench refresh`; the exact instruction counts come from
//! `examples/instructions.rs` (workload `refresh-recorded`).
//!
//! `cargo bench --features metrics --bench metrics`. Times are thread CPU
//! time (see `jwt-rotate-bench-support`); compare medians within one run only.

mod common;

use std::hint::black_box;

use common::Alg;
use common::cpu::{self, ThreadCpu};
use criterion::{BenchmarkId, Criterion, criterion_group};
use metrics_util::debugging::DebuggingRecorder;

fn refresh(c: &mut Criterion<ThreadCpu>) {
    let rt = common::runtime();
    let recorder = DebuggingRecorder::new();
    // The service registers its metrics when built: with no recorder, or
    // with the one installed around its construction.
    let services = [
        ("no recorder", common::service(Alg::Hs256)),
        (
            "recorder",
            metrics::with_local_recorder(&recorder, || common::service(Alg::Hs256)),
        ),
    ];
    let mut group = c.benchmark_group("refresh_metrics");
    for (name, service) in &services {
        group.bench_function(BenchmarkId::new(*name, Alg::Hs256), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut token = common::login(service, "user-42").await.refresh_token;
                    let start = cpu::now();
                    for _ in 0..iters {
                        token = service
                            .refresh(black_box(&token))
                            .await
                            .expect("refresh")
                            .refresh_token;
                    }
                    cpu::now() - start
                })
            })
        });
    }
    group.finish();
    let counted = recorder.snapshotter().snapshot().into_vec().len();
    assert!(counted > 0, "the recorder saw no metric");
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = refresh
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
