//! Shared set-up for the integration tests.
#![allow(dead_code)]

pub(crate) mod bound;
pub(crate) mod dpop;
pub(crate) mod hooks;
pub(crate) mod logs;
#[cfg(feature = "testing")]
pub(crate) mod outage;
pub(crate) mod tokens;

use jwt_rotate::{
    Error, Key, ManualClock, MemoryStore, NoClaims, SessionId, SessionInfo, TokenPair,
    TokenService, TokenServiceBuilder,
};

use jwt_rotate::store::{RefreshStore, SessionRecord};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::{Duration, OffsetDateTime};

pub(crate) const ISSUER: &str = "https://auth.example.com";
pub(crate) const AUDIENCE: &str = "api.example.com";
pub(crate) const ACCESS_SECRET: [u8; 32] = [0xA1; 32];
pub(crate) const REFRESH_SECRET: [u8; 32] = [0x5E; 32];

/// A fixed start so failures reproduce: 2026-01-01T00:00:00Z.
pub(crate) fn start() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

/// The builder every test starts from: HS256 keys, a manual clock at
/// [`start`], 15 min access, 7 day idle, 30 day absolute, 10 s grace.
pub(crate) fn builder(clock: &ManualClock) -> TokenServiceBuilder<NoClaims> {
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

/// A builder with issuer, audience and clock, but no keys (and the
/// library's default lifetimes).
pub(crate) fn keyless(clock: &ManualClock) -> TokenServiceBuilder<NoClaims> {
    TokenService::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(clock.clone())
}

/// A service over a fresh [`MemoryStore`] and its clock.
pub(crate) fn service() -> (TokenService<MemoryStore>, ManualClock) {
    let clock = ManualClock::new(start());
    let service = builder(&clock).build(MemoryStore::new()).unwrap();
    (service, clock)
}

/// Like [`service`], in strict mode: no grace window, any second use of a
/// refresh token is reuse.
pub(crate) fn strict() -> (TokenService<MemoryStore>, ManualClock) {
    let clock = ManualClock::new(start());
    let service = builder(&clock)
        .reuse_grace(Duration::ZERO)
        .build(MemoryStore::new())
        .unwrap();
    (service, clock)
}

/// A login of `subject` with no claims and no device info.
pub(crate) async fn login<S: RefreshStore>(service: &TokenService<S>, subject: &str) -> TokenPair {
    login_with_claims(service, subject, NoClaims {}).await
}

/// A login of `subject` with application claims and no device info.
pub(crate) async fn login_with_claims<S, C>(
    service: &TokenService<S, C>,
    subject: &str,
    claims: C,
) -> TokenPair
where
    S: RefreshStore,
    C: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    service
        .issue(subject, claims, SessionInfo::default())
        .await
        .unwrap()
}

/// The stored record of a session that must exist.
pub(crate) async fn record<S, C>(service: &TokenService<S, C>, id: &SessionId) -> SessionRecord
where
    S: RefreshStore,
    C: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    service.store().get(id).await.unwrap().unwrap()
}

/// The ids of `subject`'s live sessions, newest first.
pub(crate) async fn session_ids<S: RefreshStore>(
    service: &TokenService<S>,
    subject: &str,
) -> Vec<SessionId> {
    let views = service.sessions(subject).await.unwrap();
    views.iter().map(|v| v.id).collect()
}

/// Both tokens of `pair` are refused because their session was revoked:
/// the refresh token by `refresh`, the access token by `verify_live`.
pub(crate) async fn assert_revoked<S: RefreshStore>(service: &TokenService<S>, pair: &TokenPair) {
    let refreshed = service.refresh(&pair.refresh_token).await;
    assert!(
        matches!(refreshed, Err(Error::SessionRevoked)),
        "refresh: {refreshed:?}"
    );
    let verified = service.verify_live(&pair.access_token).await;
    assert!(
        matches!(verified, Err(Error::SessionRevoked)),
        "verify_live: {verified:?}"
    );
}

/// The URL of a test server from the environment variable `var`
/// (`DATABASE_URL`, `REDIS_URL` or `MYSQL_URL`), read at run time.
///
/// The tests that call this are `#[ignore = "needs ..."]`d, so a plain
/// `cargo test` lists them as ignored; run with `-- --include-ignored`
/// (as CI does), such a test fails here, saying what to set, when its
/// server is missing: it never passes without having run.
///
/// # Panics
/// When `var` is unset or empty.
pub(crate) fn server_url(var: &str) -> String {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => url,
        _ => {
            let (server, example) = match var {
                "DATABASE_URL" => ("PostgreSQL", "postgres://postgres@127.0.0.1:5432/postgres"),
                "REDIS_URL" => ("Redis", "redis://127.0.0.1:6379/"),
                "REDIS_CLUSTER_URLS" => (
                    "Redis Cluster",
                    "the primaries' URLs, comma-separated, as `eval \"$(.ci/redis-cluster start)\"` sets",
                ),
                "MYSQL_URL" => ("MySQL or MariaDB", "mysql://root@127.0.0.1:3306/test"),
                _ => ("real", "its URL"),
            };
            panic!(
                "{var} is not set: this test needs a {server} server. Set {var} \
                 (e.g. {var}={example}), or run without --include-ignored to \
                 leave the server tests out"
            )
        }
    }
}
