//! The `Authenticated` extractor against calling `TokenService::verify`
//! directly, on the same token: the extractor's overhead (app-data lookup,
//! header read; a boxed future only when the store is read). With
//! `Verification::Signature` nothing waits, so the extractor's future is
//! polled once, without a runtime, and neither side pays an executor.
//! Target: at most 1.1x. `Verification::Signature`, so neither touches the
//! store; HS256 (the cheapest verify, so the largest ratio) and EdDSA.
//! Measured in thread CPU time (`jwt-rotate-bench-support`); with `BENCH_WALL_TIME` set, in
//! wall time, for a run under `valgrind --tool=callgrind` (where rustix's
//! vDSO lookup for the CPU clock faults): callgrind's instruction counts
//! per call are exact on a machine too busy for timings.

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use actix_web::FromRequest;
use actix_web::dev::Payload;
use actix_web::test::TestRequest;
use criterion::Criterion;
use criterion::measurement::Measurement;
use jwt_rotate::web::{AuthFlow, CredentialsError, Login, Verification};
use jwt_rotate::{Algorithm, Key, MemoryStore, NoClaims, SessionInfo, TokenService};
use jwt_rotate_actix::{Authenticated, JwtAuth};

use jwt_rotate_bench_support::ThreadCpu;

/// The output of a future that completes on its first poll.
fn ready<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the extractor waited without a store to wait for"),
    }
}

fn bench<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for algorithm in [Algorithm::HS256, Algorithm::EdDSA] {
        let service = TokenService::builder()
            .issuer("https://auth.example.com")
            .audience("api.example.com")
            .access_key(Key::generate(algorithm).unwrap())
            .refresh_key(Key::generate(Algorithm::HS256).unwrap())
            .build(MemoryStore::new())
            .unwrap();
        let pair = runtime
            .block_on(service.issue("user-42", NoClaims {}, SessionInfo::default()))
            .unwrap();
        let flow = AuthFlow::builder(service.clone())
            .credentials(|_: String, _: String| async {
                Ok::<Option<Login>, CredentialsError>(None)
            })
            .verification(Verification::Signature)
            .build()
            .unwrap();
        let bearer = format!("Bearer {}", pair.access_token.expose_secret());
        let request = TestRequest::get()
            .uri("/me")
            .insert_header(("authorization", bearer))
            .insert_header(("user-agent", "bench"))
            .insert_header(("accept", "application/json"))
            .app_data(JwtAuth::new(flow).app_data())
            .to_http_request();
        let token = pair.access_token.expose_secret().to_owned();

        let mut group = c.benchmark_group(format!("{algorithm:?}"));
        group.bench_function("verify", |b| {
            b.iter(|| service.verify(&token).unwrap());
        });
        group.bench_function("extractor", |b| {
            b.iter(|| {
                let extracted = ready(Authenticated::<NoClaims>::from_request(
                    &request,
                    &mut Payload::None,
                ));
                let Ok(Authenticated(claims)) = extracted else {
                    panic!("the extractor refused a good token");
                };
                claims
            });
        });
        group.finish();
    }
}

fn main() {
    if std::env::var_os("BENCH_WALL_TIME").is_some() {
        let mut criterion = Criterion::default().configure_from_args();
        bench(&mut criterion);
        criterion.final_summary();
    } else {
        let mut criterion = Criterion::default()
            .with_measurement(ThreadCpu)
            .configure_from_args();
        bench(&mut criterion);
        criterion.final_summary();
    }
}
