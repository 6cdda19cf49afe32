//! `Verifier::verify` with the revocation check (a view holding 10,000
//! revoked sessions, synced) beside `TokenService::verify` of the same
//! token, for HS256 and EdDSA access keys; and the Verifier without a
//! feed, to show the check's own cost. The ratios are printed at the end
//! (goal: at most 1.05). The revoked set's memory at 100,000 entries is
//! counted in `tests/verifier_memory.rs` (64 bytes an entry).
//!
//! `cargo bench --bench verifier`. Times are thread CPU time (see
//! `jwt-rotate-bench-support`); compare medians within one run only. On a busy
//! machine, count instructions instead (the same every run):
//!
//! ```sh
//! cargo bench --bench verifier --no-run   # prints the binary's path
//! valgrind --tool=callgrind --toggle-collect='verifier::measured' \
//!     target/release/deps/verifier-HASH instructions HS256 service 1000
//! ```
//!
//! (`service`, `verifier_revocations` or `verifier_plain`; HS256 or
//! EdDSA): instructions per call are callgrind's "Collected" divided by
//! the count.

mod common;

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

use async_trait::async_trait;
use common::Alg;
use common::cpu::ThreadCpu;
use criterion::{BenchmarkId, Criterion, criterion_group};
use jwt_rotate::store::{
    CatchUp, Cursor, RevocationEvent, RevocationFeed, RevocationSubscription, Revoked, StoreError,
};
use jwt_rotate::{SessionId, Verifier};
use time::{Duration, OffsetDateTime};

const REVOKED: u64 = 10_000;
const ALGS: [Alg; 2] = [Alg::Hs256, Alg::EdDsa];

/// A feed that has only ever held these events.
struct Fixed(Vec<RevocationEvent>);

#[async_trait]
impl RevocationFeed for Fixed {
    async fn since(&self, cursor: Cursor) -> Result<CatchUp, StoreError> {
        let events = self
            .0
            .iter()
            .filter(|e| e.cursor > cursor)
            .cloned()
            .collect();
        let head = self.0.last().map_or(cursor, |e| e.cursor);
        Ok(CatchUp::Events { events, head })
    }

    async fn subscribe(&self) -> Result<Box<dyn RevocationSubscription>, StoreError> {
        Err(StoreError::unavailable("not in this bench"))
    }
}

fn revoked_sessions() -> Fixed {
    let now = OffsetDateTime::now_utc();
    Fixed(
        (1..=REVOKED)
            .map(|n| {
                let mut id = [0u8; 16];
                id[..8].copy_from_slice(&n.to_le_bytes());
                id[8..].copy_from_slice(&n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
                RevocationEvent {
                    revoked: Revoked::Session(SessionId::from_bytes(id)),
                    at: now,
                    cursor: Cursor::new(n),
                }
            })
            .collect(),
    )
}

/// The output of a future that never waits (fixed keys, synced view).
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut context = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut context) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("verify with fixed keys never waits"),
    }
}

/// The service, a verifier with 10,000 revoked sessions held, one without
/// a feed, and a token of the service.
fn subjects(
    alg: Alg,
) -> (
    jwt_rotate::TokenService<jwt_rotate::MemoryStore>,
    Verifier,
    Verifier,
    String,
) {
    let service = common::service(alg);
    let pair = ready(common::login(&service, "user-42"));
    let token = pair.access_token.as_str().to_owned();
    let builder = || {
        let builder = Verifier::builder()
            .issuer(common::ISSUER)
            .audience(common::AUDIENCE)
            .access_ttl(Duration::minutes(15));
        match alg {
            Alg::Hs256 => builder.key(alg.key()),
            _ => builder.jwks(service.jwks()),
        }
    };
    let checked = builder()
        .revocation_feed(revoked_sessions())
        .max_staleness(Duration::hours(1))
        .build()
        .expect("verifier");
    ready(checked.sync_revocations()).expect("synced");
    let held = checked.revocations().map(|s| s.sessions);
    assert_eq!(held, Some(REVOKED as usize));
    let plain = builder().build().expect("verifier");
    (service, checked, plain, token)
}

fn verifier(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("verifier");
    for alg in ALGS {
        let (service, checked, plain, token) = subjects(alg);
        let token = token.as_str();
        group.bench_function(BenchmarkId::new("service", alg), |b| {
            b.iter(|| service.verify(black_box(token)).expect("valid"))
        });
        group.bench_function(BenchmarkId::new("verifier_revocations", alg), |b| {
            b.iter(|| ready(checked.verify(black_box(token))).expect("valid"))
        });
        group.bench_function(BenchmarkId::new("verifier_plain", alg), |b| {
            b.iter(|| ready(plain.verify(black_box(token))).expect("valid"))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = verifier
}

/// The calls callgrind counts (see the module docs).
#[inline(never)]
fn measured(count: u64, call: &mut dyn FnMut()) {
    for _ in 0..count {
        call();
    }
}

fn instructions(mut args: impl Iterator<Item = String>) {
    let usage = "instructions HS256|EdDSA service|verifier_revocations|verifier_plain COUNT";
    let alg = match args.next().expect(usage).as_str() {
        "HS256" => Alg::Hs256,
        "EdDSA" => Alg::EdDsa,
        _ => panic!("{usage}"),
    };
    let workload = args.next().expect(usage);
    let count: u64 = args.next().expect(usage).parse().expect(usage);
    let (service, checked, plain, token) = subjects(alg);
    let token = token.as_str();
    let mut call: Box<dyn FnMut()> = match workload.as_str() {
        "service" => Box::new(|| drop(service.verify(black_box(token)).expect("valid"))),
        "verifier_revocations" => {
            Box::new(|| drop(ready(checked.verify(black_box(token))).expect("valid")))
        }
        "verifier_plain" => {
            Box::new(|| drop(ready(plain.verify(black_box(token))).expect("valid")))
        }
        _ => panic!("{usage}"),
    };
    // First-use costs stay out of the count.
    for _ in 0..100 {
        call();
    }
    measured(count, &mut call);
}

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("instructions") {
        return instructions(args);
    }
    let started = SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    let median = |function: &str, alg: Alg| {
        common::report::median_of(started, &["verifier", function, &alg.to_string()])
    };
    println!("\nverifier: median thread CPU time, ratio to TokenService::verify (goal <= 1.05)");
    for alg in ALGS {
        let Some(base) = median("service", alg) else {
            continue;
        };
        for function in ["verifier_revocations", "verifier_plain"] {
            if let Some(figure) = median(function, alg) {
                println!(
                    "{:<8}{function:<24}{figure:>10.0} ns  ({:.3})",
                    alg.to_string(),
                    figure / base
                );
            }
        }
        println!("{:<8}{:<24}{base:>10.0} ns", alg.to_string(), "service");
    }
}
