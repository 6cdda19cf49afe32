//! Access-token verification beside jsonwebtoken's own `decode` of the
//! same token with the closest `Validation`, and beside its floor (the same
//! cryptography done directly on aws-lc-rs, `common/floor.rs`; the ratios
//! are printed at the end), for each access-key algorithm; and
//! `verify_live` (verify plus one MemoryStore read). `jwt-rotate-amr` is
//! `verify` of a token that also carries an authentication context
//! (`amr` of two values, `acr`), beside the plain one (the ratio is
//! printed at the end).
//!
//! `cargo bench --bench verify`. Times are thread CPU time (see
//! `jwt-rotate-bench-support`); compare medians within one run only.

mod common;

use std::hint::black_box;
use std::time::SystemTime;

use common::cpu::ThreadCpu;
use common::floor::VerifyFloor;
use common::{Alg, RawAccess};
use criterion::{BenchmarkId, Criterion, criterion_group};

fn verify(c: &mut Criterion<ThreadCpu>) {
    let rt = common::runtime();
    let mut group = c.benchmark_group("verify");
    for alg in Alg::ALL {
        let service = common::service(alg);
        let pair = rt.block_on(common::login(&service, "user-42"));
        let token = pair.access_token.as_str();
        group.bench_function(BenchmarkId::new("jwt-rotate", alg), |b| {
            b.iter(|| service.verify(black_box(token)).expect("valid"))
        });
        let stepped = rt.block_on(common::login_authenticated(&service, "user-42"));
        let stepped = stepped.access_token.as_str();
        assert_eq!(service.verify(stepped).expect("valid").amr.len(), 2);
        group.bench_function(BenchmarkId::new("jwt-rotate-amr", alg), |b| {
            b.iter(|| service.verify(black_box(stepped)).expect("valid"))
        });
        let key = alg.decoding_key();
        let validation = common::access_validation(alg);
        group.bench_function(BenchmarkId::new("jsonwebtoken", alg), |b| {
            b.iter(|| {
                jsonwebtoken::decode::<RawAccess>(black_box(token), &key, &validation)
                    .expect("valid")
            })
        });
        let mut floor = VerifyFloor::new(alg, token);
        group.bench_function(BenchmarkId::new("floor", alg), |b| {
            b.iter(|| assert!(floor.run()))
        });
    }
    group.finish();
}

fn verify_live(c: &mut Criterion<ThreadCpu>) {
    let rt = common::runtime();
    let service = common::service(Alg::Hs256);
    let pair = rt.block_on(common::login(&service, "user-42"));
    let token = pair.access_token.as_str();
    let mut group = c.benchmark_group("verify_live");
    group.bench_function(BenchmarkId::new("jwt-rotate", Alg::Hs256), |b| {
        b.to_async(&rt)
            .iter(|| async { service.verify_live(black_box(token)).await.expect("live") })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = verify, verify_live
}

fn main() {
    let started = SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    common::report::beside_floor(
        started,
        "verify",
        &["jwt-rotate", "jwt-rotate-amr", "jsonwebtoken"],
    );
    amr_beside_plain(started);
}

/// Prints, per algorithm, `verify` of a token with `amr`/`acr` over the
/// plain one, from this run's medians.
fn amr_beside_plain(started: SystemTime) {
    for alg in Alg::ALL {
        let alg = alg.to_string();
        let median = |function| common::report::median_of(started, &["verify", function, &alg]);
        if let (Some(amr), Some(plain)) = (median("jwt-rotate-amr"), median("jwt-rotate")) {
            println!(
                "verify {alg}: with amr/acr {:.3}x the plain token",
                amr / plain
            );
        }
    }
}
