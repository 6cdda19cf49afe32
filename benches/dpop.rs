//! DPoP proof verification (`Dpop::verify_proof`: parse, key from the
//! `jwk` header, thumbprint, signature, claims, replay cache) for ES256 and
//! EdDSA, beside the proof's own signature verification done directly on
//! aws-lc-rs (the floor: the key arrives with each proof, so parsing it is
//! part of the floor), and a plain HS256 refresh over MemoryStore. Printed
//! at the end: `refresh_dpop / (refresh + floor)`, the refresh of a
//! session bound to the proof's key beside a plain refresh plus the
//! proof's bare signature check, the figure issue 14 bounds at 1.15x; and
//! `(refresh + verify_proof) / (refresh + floor)`, the proof's share.
//!
//! `cargo bench --bench dpop`. Times are thread CPU time (see
//! `jwt-rotate-bench-support`); compare medians within one run only.

mod common;

use std::hint::black_box;
use std::time::SystemTime;

use common::Alg;
use common::cpu::{self, ThreadCpu};
use common::dpop::{Client, ProofFloor, URL};
use criterion::{BenchmarkId, Criterion, criterion_group};
use jsonwebtoken::Algorithm;
use jwt_rotate::{Dpop, DpopRequest};

fn dpop(c: &mut Criterion<ThreadCpu>) {
    jwt_rotate::Key::ed25519_pem(include_bytes!("../tests/data/keys/ed25519.pem"))
        .expect("provider");
    let rt = common::runtime();
    let mut group = c.benchmark_group("dpop");
    let service = common::service(Alg::Hs256);
    group.bench_function(BenchmarkId::new("refresh", "HS256"), |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let service = &service;
            async move {
                let mut token = common::login(service, "user-42").await.refresh_token;
                let start = cpu::now();
                for _ in 0..iters {
                    let next = service.refresh(black_box(&token)).await.expect("refresh");
                    token = next.refresh_token;
                }
                cpu::now() - start
            }
        })
    });
    for alg in [Algorithm::ES256, Algorithm::EdDSA] {
        let client = Client::new(alg);
        let name = format!("{alg:?}");
        group.bench_function(BenchmarkId::new("verify_proof", &name), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let client = &client;
                async move {
                    // Fresh proofs (a replay would be refused) and a fresh
                    // cache per sample, made outside the measurement.
                    let proofs: Vec<String> = (0..iters).map(|i| client.proof(i)).collect();
                    let dpop = Dpop::builder().build().expect("dpop");
                    let start = cpu::now();
                    for proof in &proofs {
                        let request = DpopRequest::new(proof, "POST", URL);
                        black_box(dpop.verify_proof(&request).await.expect("valid"));
                    }
                    cpu::now() - start
                }
            })
        });
        group.bench_function(BenchmarkId::new("refresh_dpop", &name), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let client = &client;
                async move {
                    // A fresh service (and replay cache) per sample, a
                    // session bound to the client's key, fresh proofs.
                    let (service, mut token) = client.bound_session().await;
                    let proofs: Vec<String> = (0..iters).map(|i| client.proof(i)).collect();
                    let start = cpu::now();
                    for proof in &proofs {
                        let request = DpopRequest::new(proof, "POST", URL);
                        let next = service.refresh_dpop(black_box(&token), &request).await;
                        token = next.expect("refresh").refresh_token;
                    }
                    cpu::now() - start
                }
            })
        });
        let floor = ProofFloor::new(&client);
        group.bench_function(BenchmarkId::new("floor", &name), |b| {
            b.iter(|| assert!(floor.run()))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = dpop
}

fn main() {
    let started = SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    let median = |function: &str, param: &str| {
        common::report::median_of(started, &["dpop", function, param])
    };
    let Some(refresh) = median("refresh", "HS256") else {
        return;
    };
    println!("\ndpop: median thread CPU time per call; refresh HS256 {refresh:.0} ns");
    for alg in ["ES256", "EdDSA"] {
        if let (Some(proof), Some(floor)) = (median("verify_proof", alg), median("floor", alg)) {
            println!(
                "{alg:<6} verify_proof {proof:>8.0} ns, floor {floor:>8.0} ns ({:.2}x); \
                 (refresh + proof) / (refresh + floor) = {:.3}",
                proof / floor,
                (refresh + proof) / (refresh + floor)
            );
            if let Some(bound) = median("refresh_dpop", alg) {
                println!(
                    "{alg:<6} refresh_dpop {bound:>8.0} ns; refresh_dpop / (refresh + floor) = {:.3}",
                    bound / (refresh + floor)
                );
            }
        }
    }
}
