//! The `Authenticated` extractor against calling `TokenService::verify`
//! directly, on the same token: the extractor's overhead (extension lookup,
//! header read; a boxed future only when the store is read). With
//! `Verification::Signature` nothing waits, so the extractor's future is
//! polled once, without a runtime, and neither side pays an executor.
//! Target: at most 1.1x. `Verification::Signature`, so neither touches the
//! store; HS256 (the cheapest verify, so the largest ratio) and EdDSA.

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::Extension;
use axum::extract::FromRequestParts;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use jwt_rotate::web::{AuthFlow, CredentialsError, Login, Verification};
use jwt_rotate::{Algorithm, Key, MemoryStore, NoClaims, SessionInfo, TokenService};
use jwt_rotate_axum::{Authenticated, JwtAuth};

/// The output of a future that completes on its first poll.
fn ready<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the extractor waited without a store to wait for"),
    }
}

fn bench(c: &mut Criterion) {
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
        let Extension(installed) = JwtAuth::new(flow).layer();
        let bearer = format!("Bearer {}", pair.access_token.expose_secret());
        let request = Request::builder()
            .uri("/me")
            .header("authorization", &bearer)
            .header("user-agent", "bench")
            .header("accept", "application/json")
            .extension(installed)
            .body(())
            .unwrap();
        let (mut parts, ()) = request.into_parts();
        let token = pair.access_token.expose_secret().to_owned();

        let mut group = c.benchmark_group(format!("{algorithm:?}"));
        group.bench_function("verify", |b| {
            b.iter(|| service.verify(&token).unwrap());
        });
        group.bench_function("extractor", |b| {
            b.iter(|| {
                let extracted = ready(Authenticated::<NoClaims>::from_request_parts(
                    &mut parts,
                    &(),
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

criterion_group!(benches, bench);
criterion_main!(benches);
