//! Shared set-up for the integration tests.
#![allow(dead_code)]

use jwt_rotate::{Key, ManualClock, MemoryStore, NoClaims, TokenService, TokenServiceBuilder};
use time::{Duration, OffsetDateTime};

pub const ISSUER: &str = "https://auth.example.com";
pub const AUDIENCE: &str = "api.example.com";
pub const ACCESS_SECRET: [u8; 32] = [0xA1; 32];
pub const REFRESH_SECRET: [u8; 32] = [0x5E; 32];

/// A fixed start so failures reproduce: 2026-01-01T00:00:00Z.
pub fn start() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

/// The builder every test starts from: HS256 keys, a manual clock at
/// [`start`], 15 min access, 7 day idle, 30 day absolute, 10 s grace.
pub fn builder(clock: &ManualClock) -> TokenServiceBuilder<NoClaims> {
    TokenService::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .access_ttl(Duration::minutes(15))
        .refresh_ttl(Duration::days(7))
        .session_ttl(Duration::days(30))
        .reuse_grace(Duration::seconds(10))
        .access_key(Key::hs256(ACCESS_SECRET).unwrap())
        .refresh_key(Key::hs256(REFRESH_SECRET).unwrap())
        .clock(clock.clone())
}

/// A service over a fresh [`MemoryStore`] and its clock.
pub fn service() -> (TokenService<MemoryStore>, ManualClock) {
    let clock = ManualClock::new(start());
    let service = builder(&clock).build(MemoryStore::new()).unwrap();
    (service, clock)
}
