//! A loop to count instructions in with callgrind: refreshes or verifies
//! over MemoryStore (the benches' service and keys), or the floor, the same
//! cryptography done directly on aws-lc-rs (`benches/common/floor.rs`).
//! Instruction counts are the same from run to run, however busy the
//! machine; criterion's CPU times are not.
//!
//! ```sh
//! cargo build --release --example instructions
//! valgrind --tool=callgrind --toggle-collect='instructions::measured' \
//!     target/release/examples/instructions refresh HS256 1000
//! ```
//!
//! Instructions per call: callgrind's "Collected" divided by the count.
//! Workloads: `refresh`, `refresh-floor`, `verify`, `verify-amr` (a token
//! of a login that said how the user authenticated: `amr` of two values,
//! `acr`), `verify-floor`, and
//! `refresh-recorded` (feature `metrics`: a refresh with a metrics recorder
//! installed, metrics-util's `DebuggingRecorder`, to price the feature); the
//! access-key algorithm is one of HS256, EdDSA, ES256, RS256 (refresh
//! tokens are always HS256). DPoP (issue 14: `refresh-dpop / (refresh
//! HS256 + dpop-floor)` at most 1.15): `refresh-dpop` refreshes an HS256
//! session bound to a client key with a fresh proof each time, and
//! `dpop-floor` checks one proof's signature on aws-lc-rs; there ALG is
//! the proof's, ES256 or EdDSA. Proofs are made before counting and live
//! 60 s: keep COUNT to a few hundred under callgrind.

#[path = "../benches/common/mod.rs"]
mod common;

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use common::Alg;
use common::dpop::{Client, ProofFloor, URL as DPOP_URL};
use common::floor::{RefreshFloor, VerifyFloor};
use jwt_rotate::DpopRequest;

/// Calls made before counting: first-use costs (lazy statics, the
/// allocator's pools) stay out of the figure.
const WARM_UP: u64 = 100;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: instructions \
        refresh|refresh-recorded|refresh-floor|verify|verify-amr|verify-floor|refresh-dpop|dpop-floor ALG COUNT";
    let workload = args.next().expect(usage);
    let alg = match args.next().expect(usage).as_str() {
        "HS256" => Alg::Hs256,
        "EdDSA" => Alg::EdDsa,
        "ES256" => Alg::Es256,
        "RS256" => Alg::Rs256,
        _ => panic!("{usage}"),
    };
    let count: u64 = args.next().expect(usage).parse().expect(usage);

    if workload == "refresh-recorded" {
        install_recorder();
    }
    let service = common::service(alg);
    let pair = ready(common::login(&service, "user-42"));
    match workload.as_str() {
        "refresh" | "refresh-recorded" => {
            let mut token = pair.refresh_token;
            run(count, &mut || {
                token = ready(service.refresh(black_box(&token)))
                    .expect("refresh")
                    .refresh_token;
            })
        }
        "refresh-floor" => {
            let next = ready(service.refresh(&pair.refresh_token)).expect("refresh");
            let mut floor = RefreshFloor::new(
                alg,
                pair.refresh_token.as_str(),
                next.refresh_token.as_str(),
                next.access_token.as_str(),
            );
            run(count, &mut || {
                black_box(floor.run());
            })
        }
        "verify" => {
            let access = pair.access_token;
            run(count, &mut || {
                black_box(service.verify(black_box(&access)).expect("valid"));
            })
        }
        "verify-amr" => {
            let access = ready(common::login_authenticated(&service, "user-42")).access_token;
            run(count, &mut || {
                black_box(service.verify(black_box(&access)).expect("valid"));
            })
        }
        "verify-floor" => {
            let mut floor = VerifyFloor::new(alg, pair.access_token.as_str());
            run(count, &mut || assert!(floor.run()))
        }
        "refresh-dpop" => {
            let client = Client::new(alg.algorithm());
            let (service, mut token) = ready(client.bound_session());
            let proofs: Vec<String> = (0..WARM_UP + count).map(|i| client.proof(i)).collect();
            let mut proofs = proofs.iter();
            run(count, &mut || {
                let proof = proofs.next().expect("a proof per call");
                let request = DpopRequest::new(proof, "POST", DPOP_URL);
                token = ready(service.refresh_dpop(black_box(&token), &request))
                    .expect("refresh_dpop")
                    .refresh_token;
            })
        }
        "dpop-floor" => {
            let floor = ProofFloor::new(&Client::new(alg.algorithm()));
            run(count, &mut || assert!(floor.run()))
        }
        _ => panic!("{usage}"),
    }
}

#[cfg(feature = "metrics")]
fn install_recorder() {
    metrics_util::debugging::DebuggingRecorder::new()
        .install()
        .expect("the first recorder");
}

#[cfg(not(feature = "metrics"))]
fn install_recorder() {
    panic!("refresh-recorded needs --features metrics");
}

fn run(count: u64, work: &mut dyn FnMut()) {
    for _ in 0..WARM_UP {
        work();
    }
    measured(count, work);
    println!("{count} calls measured");
}

/// The calls callgrind counts (`--toggle-collect='instructions::measured'`).
#[inline(never)]
fn measured(count: u64, work: &mut dyn FnMut()) {
    for _ in 0..count {
        work();
    }
}

/// The output of a future that needs no waiting (every MemoryStore call),
/// polled once: no runtime's own instructions in the count.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
}
