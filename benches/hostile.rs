//! What hostile input costs: 1 MiB and 8 MiB tokens given to `verify`,
//! `refresh` and `revoke` (refused by the size cap before any decoding),
//! the worst token under the cap (8 KiB, fully decoded, bad signature),
//! a valid token for scale, and jsonwebtoken's `decode` of the same huge
//! inputs (it has no cap: it decodes them whole).
//!
//! `cargo bench --bench hostile`. Compare medians within one run only.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use jwt_rotate::{Key, ManualClock, MemoryStore, NoClaims, SessionInfo, TokenService};
use time::OffsetDateTime;

const ACCESS: [u8; 32] = [0xA1; 32];
const REFRESH: [u8; 32] = [0x5E; 32];

fn service() -> TokenService<MemoryStore> {
    let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("valid");
    TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256(ACCESS).expect("key"))
        .refresh_key(Key::hs256(REFRESH).expect("key"))
        .clock(ManualClock::new(now))
        .build(MemoryStore::new())
        .expect("service")
}

/// A real token's header and signature around a payload of `A`s, `total`
/// bytes in all: well formed, so only a size cap stops a decoder early.
fn sized(real: &str, total: usize) -> String {
    let mut parts = real.split('.');
    let header = parts.next().expect("header");
    let signature = parts.nth(1).expect("signature");
    let payload = "A".repeat(total - header.len() - signature.len() - 2);
    format!("{header}.{payload}.{signature}")
}

fn hostile(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let service = service();
    let info = SessionInfo::default();
    let pair = rt
        .block_on(service.issue("user-42", NoClaims {}, info))
        .expect("issue");
    let access = pair.access_token.as_str();
    // 8 KiB is the default cap: the biggest token that gets parsed.
    let under_cap = sized(access, 8 * 1024);
    let mib = sized(access, 1 << 20);
    let mib8 = sized(access, 8 << 20);

    let mut group = c.benchmark_group("hostile");
    group.bench_function("verify/valid token", |b| {
        b.iter(|| service.verify(black_box(access)).expect("valid"))
    });
    group.bench_function("verify/8 KiB forged, under the cap", |b| {
        b.iter(|| {
            service
                .verify(black_box(under_cap.as_str()))
                .expect_err("forged")
        })
    });
    for (name, token) in [("1 MiB", &mib), ("8 MiB", &mib8)] {
        group.bench_function(BenchmarkId::new("verify", name), |b| {
            b.iter(|| service.verify(black_box(token.as_str())).expect_err("huge"))
        });
        group.bench_function(BenchmarkId::new("refresh", name), |b| {
            b.to_async(&rt)
                .iter(|| async { service.refresh(black_box(token.as_str())).await })
        });
        group.bench_function(BenchmarkId::new("revoke", name), |b| {
            b.to_async(&rt)
                .iter(|| async { service.revoke(black_box(token.as_str())).await })
        });
    }
    group.finish();

    // No cap: the whole input is decoded before the signature fails.
    let mut raw = c.benchmark_group("hostile/jsonwebtoken decode");
    raw.sample_size(10);
    let key = DecodingKey::from_secret(&ACCESS);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    for (name, token) in [("1 MiB", &mib), ("8 MiB", &mib8)] {
        raw.bench_function(name, |b| {
            b.iter(|| {
                jsonwebtoken::decode::<serde_json::Value>(
                    black_box(token.as_str()),
                    &key,
                    &validation,
                )
                .expect_err("huge")
            })
        });
    }
    raw.finish();
}

criterion_group!(benches, hostile);
criterion_main!(benches);
