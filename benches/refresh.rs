//! A quick look at the hot paths beside their raw jsonwebtoken cost,
//! measured in the same run (the full suite is a later issue).
//!
//! `cargo bench --bench refresh`. Compare medians within one run only.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use jwt_rotate::{Key, ManualClock, MemoryStore, NoClaims, SessionInfo, TokenService};
use serde::{Deserialize, Serialize};
use time::Duration;

const ACCESS: [u8; 32] = [0xA1; 32];
const REFRESH: [u8; 32] = [0x5E; 32];

fn service() -> TokenService<MemoryStore> {
    TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_ttl(Duration::minutes(15))
        .access_key(Key::hs256(ACCESS).expect("key"))
        .refresh_key(Key::hs256(REFRESH).expect("key"))
        .clock(ManualClock::starting_now())
        .build(MemoryStore::new())
        .expect("service")
}

/// The same shapes our tokens carry, for jsonwebtoken's own calls.
#[derive(Serialize, Deserialize)]
struct RawAccess {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    jti: String,
    sid: String,
}

#[derive(Serialize, Deserialize)]
struct RawRefresh {
    iss: String,
    aud: String,
    sub: String,
    sid: String,
    r#gen: u64,
    jti: String,
    iat: i64,
    exp: i64,
}

fn validation() -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&["https://auth.example.com"]);
    v.set_audience(&["api.example.com"]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    v.leeway = 5;
    v
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let service = service();
    let pair = rt
        .block_on(service.issue("user-42", NoClaims {}, SessionInfo::default()))
        .expect("issue");

    let mut group = c.benchmark_group("hs256");
    group.bench_function("verify", |b| {
        b.iter(|| {
            service
                .verify(black_box(&pair.access_token))
                .expect("valid")
        })
    });
    let access_key = DecodingKey::from_secret(&ACCESS);
    let validation = validation();
    group.bench_function("raw/jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<RawAccess>(
                black_box(pair.access_token.as_str()),
                &access_key,
                &validation,
            )
            .expect("valid")
        })
    });

    group.bench_function("refresh_memory", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let service = service.clone();
            async move {
                let mut token = service
                    .issue("user-42", NoClaims {}, SessionInfo::default())
                    .await
                    .expect("issue")
                    .refresh_token;
                let start = Instant::now();
                for _ in 0..iters {
                    token = service
                        .refresh(&token)
                        .await
                        .expect("refresh")
                        .refresh_token;
                }
                start.elapsed()
            }
        })
    });

    // What a refresh must do with jsonwebtoken alone: verify the refresh
    // token, sign a new one and an access token.
    let refresh_key = DecodingKey::from_secret(&REFRESH);
    let refresh_enc = EncodingKey::from_secret(&REFRESH);
    let access_enc = EncodingKey::from_secret(&ACCESS);
    let mut refresh_validation = validation.clone();
    refresh_validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    let header = |typ: &str| Header {
        typ: Some(typ.to_owned()),
        kid: Some("k".to_owned()),
        ..Header::new(Algorithm::HS256)
    };
    let (rt_header, at_header) = (header("rt+jwt"), header("at+jwt"));
    group.bench_function("raw/jsonwebtoken_refresh_calls", |b| {
        b.iter(|| {
            let old = jsonwebtoken::decode::<RawRefresh>(
                black_box(pair.refresh_token.as_str()),
                &refresh_key,
                &refresh_validation,
            )
            .expect("valid")
            .claims;
            let next = RawRefresh {
                r#gen: old.r#gen + 1,
                ..old
            };
            let access = RawAccess {
                iss: next.iss.clone(),
                sub: next.sub.clone(),
                aud: next.aud.clone(),
                exp: next.iat + 900,
                iat: next.iat,
                jti: next.jti.clone(),
                sid: next.sid.clone(),
            };
            let r = jsonwebtoken::encode(&rt_header, &next, &refresh_enc).expect("sign");
            let a = jsonwebtoken::encode(&at_header, &access, &access_enc).expect("sign");
            (r, a)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
