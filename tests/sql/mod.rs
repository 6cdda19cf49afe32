//! What the SQLite and PostgreSQL tests share: racing refreshes through
//! one service per connection, and looking for secrets in stored bytes.
#![allow(dead_code)]

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_rotate::store::RefreshStore;
use jwt_rotate::{Error, ManualClock, TokenPair, TokenService};
use time::Duration;
use tokio::sync::Barrier;

use crate::common::{self, tokens};

#[cfg(feature = "postgres")]
pub(crate) mod freeze;
#[cfg(feature = "postgres")]
pub(crate) mod pg;
#[cfg(feature = "postgres")]
pub(crate) mod pg_hot;

/// How many refreshes race for one token.
pub(crate) const RACERS: usize = 32;
/// How many times each race is run.
pub(crate) const TRIALS: usize = 50;

/// One service per store (so per connection pool), all with the same keys
/// and clock, strict (no grace window) or with the usual 10 s.
pub(crate) fn services<S: RefreshStore>(
    stores: Vec<S>,
    clock: &ManualClock,
    grace: Duration,
) -> Vec<TokenService<S>> {
    let build = |store| {
        common::builder(clock)
            .reuse_grace(grace)
            .build(store)
            .expect("a valid service")
    };
    stores.into_iter().map(build).collect()
}

/// A session lives through a restart: a store opened by `open` is closed
/// by `close` after one rotation; a second store over the same database
/// rotates the current token and still sees the first as reuse.
pub(crate) async fn session_survives_a_restart<S: RefreshStore>(
    open: impl AsyncFn() -> S,
    close: impl AsyncFn(&S),
) {
    let clock = ManualClock::new(common::start());
    let (login, second) = {
        let service = common::builder(&clock).build(open().await).unwrap();
        let login = common::login(&service, "restarted").await;
        let second = service.refresh(&login.refresh_token).await.unwrap();
        close(service.store()).await;
        (login, second)
    };
    clock.advance(Duration::minutes(5));
    let service = common::builder(&clock).build(open().await).unwrap();
    let third = service.refresh(&second.refresh_token).await.unwrap();
    assert_eq!(third.session_id, login.session_id);
    assert!(service.verify_live(&third.access_token).await.is_ok());
    // The first token is two generations old: reuse, seen across the restart.
    let reused = service.refresh(&login.refresh_token).await;
    assert!(matches!(reused, Err(Error::ReuseDetected)), "{reused:?}");
}

/// Every service refreshes `pair`'s refresh token at once (each through
/// its own store), released together by a barrier.
pub(crate) async fn race<S: RefreshStore>(
    services: &[TokenService<S>],
    pair: &TokenPair,
) -> Vec<Result<TokenPair, Error>> {
    let barrier = Arc::new(Barrier::new(services.len()));
    let tasks: Vec<_> = services
        .iter()
        .map(|service| {
            let (service, barrier) = (service.clone(), Arc::clone(&barrier));
            let token = pair.refresh_token.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                service.refresh(&token).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.expect("a racer panicked"));
    }
    results
}

/// Strict mode: in each of `TRIALS` races of `RACERS` refreshes of a fresh
/// login's token, exactly one wins and every other is told of reuse (or of
/// the revocation a faster loser made). Returns the number of races run.
pub(crate) async fn exactly_one_winner<S: RefreshStore>(services: &[TokenService<S>]) -> usize {
    assert_eq!(services.len(), RACERS);
    for trial in 0..TRIALS {
        let login = common::login(&services[0], &format!("racer-{trial}")).await;
        let results = race(services, &login).await;
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "trial {trial}: {winners} winners");
        for result in &results {
            assert!(
                matches!(
                    result,
                    Ok(_) | Err(Error::ReuseDetected | Error::SessionRevoked)
                ),
                "trial {trial}: a loser got {result:?}"
            );
        }
    }
    TRIALS
}

/// Inside the grace window: in each race every refresh succeeds with the
/// very same successor, and the session moved on by exactly one
/// generation, unrevoked. Returns the number of races run.
pub(crate) async fn all_get_the_same_successor<S: RefreshStore>(
    services: &[TokenService<S>],
) -> usize {
    assert_eq!(services.len(), RACERS);
    for trial in 0..TRIALS {
        let login = common::login(&services[0], &format!("tabs-{trial}")).await;
        let results = race(services, &login).await;
        let pairs: Vec<TokenPair> = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("trial {trial}: a racer failed: {e:?}")))
            .collect();
        let first = pairs[0].refresh_token.expose_secret();
        assert!(
            pairs
                .iter()
                .all(|p| p.refresh_token.expose_secret() == first),
            "trial {trial}: racers got different successors"
        );
        let record = common::record(&services[0], &login.session_id).await;
        assert_eq!(record.generation, 1, "trial {trial}");
        assert!(record.revoked.is_none(), "trial {trial}");
    }
    TRIALS
}

/// What must never be at rest for `pair`: both token strings, the refresh
/// token's secret as its `jti` text and as raw bytes, and the raw bytes in
/// hex (PostgreSQL shows `bytea` that way).
pub(crate) fn forbidden(pair: &TokenPair) -> Vec<Vec<u8>> {
    let jti = tokens::jti(pair.refresh_token.expose_secret());
    let secret = URL_SAFE_NO_PAD.decode(&jti).expect("jti is base64url");
    assert_eq!(secret.len(), 32);
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        pair.refresh_token.expose_secret().as_bytes().to_vec(),
        pair.access_token.expose_secret().as_bytes().to_vec(),
        jti.into_bytes(),
        secret,
        hex.into_bytes(),
    ]
}

/// SHA-256 of `pair`'s refresh secret: what the store does keep, to show
/// the search looks in the right place.
pub(crate) fn secret_hash(pair: &TokenPair) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let jti = tokens::jti(pair.refresh_token.expose_secret());
    let secret = URL_SAFE_NO_PAD.decode(jti).expect("jti is base64url");
    Sha256::digest(secret).to_vec()
}

/// Whether `needle` occurs in `haystack`.
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A pair, its successor, and a grace replay of the first token: every
/// kind of write a session gets, for the data-at-rest checks.
pub(crate) async fn exercise<S: RefreshStore>(service: &TokenService<S>) -> Vec<TokenPair> {
    let login = common::login(service, "at-rest").await;
    let second = service
        .refresh(&login.refresh_token)
        .await
        .expect("refresh");
    let replayed = service
        .refresh(&login.refresh_token)
        .await
        .expect("grace replay");
    assert_eq!(
        replayed.refresh_token.expose_secret(),
        second.refresh_token.expose_secret()
    );
    let third = service
        .refresh(&second.refresh_token)
        .await
        .expect("refresh");
    vec![login, second, replayed, third]
}

/// Instants come back to the microsecond, before 1970 too; finer parts are
/// dropped (rounded down), as documented.
pub(crate) async fn instants_round_trip_to_the_microsecond<S: RefreshStore>(store: &S) {
    use jwt_rotate::testing;
    use time::OffsetDateTime;

    let at = |nanos: i128| OffsetDateTime::from_unix_timestamp_nanos(nanos).expect("in range");
    let cases = [
        (1_767_225_600_123_456_000, 1_767_225_600_123_456_000),
        (-500_000_000, -500_000_000),
        (1_767_225_600_123_456_789, 1_767_225_600_123_456_000),
        (-1_000_000_001, -1_000_001_000),
    ];
    for (written, read) in cases {
        let mut record = testing::sample_record(&testing::unique_subject("instant"));
        record.created_at = at(written);
        store.create(&record).await.expect("create");
        let stored = store.get(&record.id).await.expect("get").expect("stored");
        assert_eq!(stored.created_at, at(read), "written {written} ns");
    }
}

/// The feed checks on a SQL store: trimming is `purge_expired(now)` with
/// the default retention (a day), which drops the checks' two-day-old
/// revocations.
pub(crate) async fn feed_conformance<S>(store: S)
where
    S: RefreshStore + jwt_rotate::store::RevocationFeed,
{
    let trim = async |store: &S| {
        store
            .purge_expired(time::OffsetDateTime::now_utc())
            .await
            .expect("purge_expired");
    };
    jwt_rotate::testing::run_feed(&Arc::new(store), trim).await;
}
