//! Limits and extremes: settings at and past what can be represented,
//! clocks near the ends of time, subjects, claims and device info too large
//! for a token or a store. Whatever the input, no operation panics, nothing
//! is written or revoked by a refused login, and no token is handed out
//! that our own `verify` would refuse.

mod common;

use std::collections::BTreeMap;

use async_trait::async_trait;
use jwt_rotate::{
    Denied, Error, Hooks, ManualClock, MemoryStore, NoClaims, RefreshContext, SessionInfo,
    TokenService, TokenServiceBuilder,
};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

type Claims = BTreeMap<String, String>;

fn claims_of(bytes: usize) -> Claims {
    BTreeMap::from([("blob".to_owned(), "x".repeat(bytes))])
}

fn claims_service(clock: &ManualClock) -> TokenService<MemoryStore, Claims> {
    common::builder(clock)
        .with_claims::<Claims>()
        .max_sessions_per_subject(1)
        .build(MemoryStore::new())
        .unwrap()
}

fn is_claims_error(err: &Error) -> bool {
    matches!(err, Error::Claims { problem, .. } if problem.contains("max_token_bytes"))
}

#[tokio::test]
async fn a_login_too_large_for_a_token_is_refused_before_the_store() {
    let clock = ManualClock::new(common::start());
    let service = claims_service(&clock);
    let working = service
        .issue("alice", Claims::new(), SessionInfo::default())
        .await
        .unwrap();

    // 9 KiB of subject: past the 8 KiB default cap in both tokens.
    let err = service
        .issue(&"a".repeat(9 * 1024), Claims::new(), SessionInfo::default())
        .await
        .unwrap_err();
    assert!(is_claims_error(&err), "{err:?}");
    // ~8 KB of claims, for a user who already has a session: refused, and
    // with one session per subject the working one is not revoked.
    let err = service
        .issue("alice", claims_of(8_000), SessionInfo::default())
        .await
        .unwrap_err();
    assert!(is_claims_error(&err), "{err:?}");
    assert_eq!(service.sessions("alice").await.unwrap().len(), 1);
    service.verify_live(&working.access_token).await.unwrap();
    service.refresh(&working.refresh_token).await.unwrap();
}

#[tokio::test]
async fn every_login_that_succeeds_verifies_and_refreshes_for_generations() {
    let clock = ManualClock::new(common::start());
    let service = claims_service(&clock);
    // Claims, then subjects (in both tokens), from small to past the cap:
    // each login either is refused or verifies. Keep the largest subject
    // accepted: its refresh token is the one nearest the cap.
    for bytes in (0..8_200).step_by(100) {
        let subject = format!("user-{bytes}");
        if let Ok(pair) = service
            .issue(&subject, claims_of(bytes), SessionInfo::default())
            .await
        {
            service.verify(&pair.access_token).unwrap();
        }
    }
    let mut largest = None;
    for bytes in (1..8_200).step_by(10) {
        if let Ok(pair) = service
            .issue(&"s".repeat(bytes), Claims::new(), SessionInfo::default())
            .await
        {
            service.verify(&pair.access_token).unwrap();
            largest = Some(pair);
        }
    }
    // The largest login still refreshes past generation 9, 99 and 999,
    // though the refresh token grows a digit each time.
    let mut pair = largest.expect("small claims fit");
    for _ in 0..1_000 {
        clock.advance(Duration::seconds(11));
        pair = service.refresh(&pair.refresh_token).await.unwrap();
    }
    service.verify(&pair.access_token).unwrap();
}

struct Bloat;

#[async_trait]
impl Hooks<Claims> for Bloat {
    async fn before_refresh(&self, _: &RefreshContext<'_>) -> Result<Option<Claims>, Denied> {
        Ok(Some(claims_of(8_000)))
    }
}

#[tokio::test]
async fn a_hook_whose_claims_would_not_fit_leaves_the_session_unrotated() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock)
        .with_claims::<Claims>()
        .hooks(Bloat)
        .build(MemoryStore::new())
        .unwrap();
    let login = service
        .issue("alice", Claims::new(), SessionInfo::default())
        .await
        .unwrap();
    clock.advance(Duration::minutes(20));
    let err = service.refresh(&login.refresh_token).await.unwrap_err();
    assert!(is_claims_error(&err), "{err:?}");
    let record = common::record(&service, &login.session_id).await;
    assert_eq!(record.generation, 0, "not rotated");
    assert!(record.revoked.is_none());
}

#[tokio::test]
async fn session_info_fields_have_size_limits() {
    let (service, _) = common::service();
    let at_limit = SessionInfo::default()
        .with_user_agent("u".repeat(SessionInfo::MAX_USER_AGENT_BYTES))
        .with_label("l".repeat(SessionInfo::MAX_LABEL_BYTES));
    service.issue("alice", NoClaims {}, at_limit).await.unwrap();
    for over in [
        SessionInfo::default().with_user_agent("u".repeat(SessionInfo::MAX_USER_AGENT_BYTES + 1)),
        SessionInfo::default().with_label("l".repeat(SessionInfo::MAX_LABEL_BYTES + 1)),
    ] {
        let err = service.issue("bob", NoClaims {}, over).await.unwrap_err();
        assert!(matches!(err, Error::Claims { .. }), "{err:?}");
    }
    assert!(common::session_ids(&service, "bob").await.is_empty());
}

#[test]
fn lifetimes_that_cannot_be_represented_are_refused_at_build() {
    let clock = ManualClock::new(common::start());
    for build in [
        common::builder(&clock).session_ttl(Duration::days(3_652_425)),
        common::builder(&clock).session_ttl(Duration::seconds(i64::MAX)),
        common::builder(&clock)
            .refresh_ttl(Duration::days(36_526))
            .session_ttl(Duration::days(36_526)),
        common::builder(&clock).access_ttl(Duration::MAX),
    ] {
        let err = build.build(MemoryStore::new()).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    }
    // 100 years is the largest allowed.
    common::builder(&clock)
        .refresh_ttl(Duration::days(36_525))
        .session_ttl(Duration::days(36_525))
        .build(MemoryStore::new())
        .unwrap();
}

fn last_instant() -> OffsetDateTime {
    PrimitiveDateTime::MAX.assume_utc()
}

fn first_instant() -> OffsetDateTime {
    PrimitiveDateTime::MIN.assume_utc()
}

#[tokio::test]
async fn clocks_at_the_ends_of_time_get_errors_not_panics() {
    let (service, clock) = common::service();
    let login = common::login(&service, "alice").await;
    clock.set(last_instant() - Duration::minutes(1));
    let err = service
        .issue("bob", NoClaims {}, SessionInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(common::session_ids(&service, "bob").await.is_empty());
    // The old tokens are simply expired.
    assert!(matches!(
        service.refresh(&login.refresh_token).await,
        Err(Error::Expired)
    ));
    clock.set(first_instant());
    let err = service.purge_expired().await.unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    clock.advance(Duration::MIN);
    assert_eq!(clock_now(&clock), first_instant(), "advance saturates");
}

fn clock_now(clock: &ManualClock) -> OffsetDateTime {
    jwt_rotate::Clock::now(clock)
}

/// Durations from ordinary to absurd: zero, negative, fractional, the
/// largest allowed, and past every limit.
fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::seconds(-1)),
        Just(Duration::milliseconds(1_500)),
        Just(Duration::seconds(10)),
        Just(Duration::minutes(15)),
        Just(Duration::days(7)),
        Just(Duration::days(30)),
        Just(Duration::days(36_525)),
        Just(Duration::days(36_526)),
        Just(Duration::seconds(i64::MAX)),
        Just(Duration::MIN),
        (1i64..100_000_000).prop_map(Duration::seconds),
    ]
}

/// Clock readings from the first to the last instant `time` can hold.
fn any_instant() -> impl Strategy<Value = OffsetDateTime> {
    let first = first_instant().unix_timestamp();
    let last = last_instant().unix_timestamp();
    prop_oneof![
        Just(first_instant()),
        Just(last_instant()),
        Just(last_instant() - Duration::days(1)),
        Just(OffsetDateTime::UNIX_EPOCH),
        Just(common::start()),
        (first..=last).prop_map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap()),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Issue,
    Verify,
    Refresh,
    RefreshOld,
    Revoke,
    Sessions,
    Purge,
    SetClock(OffsetDateTime),
    Advance(Duration),
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Issue),
        Just(Op::Verify),
        Just(Op::Refresh),
        Just(Op::RefreshOld),
        Just(Op::Revoke),
        Just(Op::Sessions),
        Just(Op::Purge),
        any_instant().prop_map(Op::SetClock),
        any_duration().prop_map(Op::Advance),
    ]
}

fn settings() -> impl Strategy<Value = [Duration; 5]> {
    [
        any_duration(),
        any_duration(),
        any_duration(),
        any_duration(),
        any_duration(),
    ]
}

fn configured(clock: &ManualClock, d: [Duration; 5]) -> TokenServiceBuilder {
    common::builder(clock)
        .access_ttl(d[0])
        .refresh_ttl(d[1])
        .session_ttl(d[2])
        .reuse_grace(d[3])
        .leeway(d[4])
}

/// Runs `ops`; every result may be an error, none may panic, and a token
/// just handed out must verify at the same instant.
async fn run(service: TokenService<MemoryStore>, clock: ManualClock, ops: Vec<Op>) {
    let mut tokens = Vec::new();
    for op in ops {
        match op {
            Op::Issue => {
                if let Ok(pair) = service
                    .issue("alice", NoClaims {}, SessionInfo::default())
                    .await
                {
                    service.verify(&pair.access_token).unwrap();
                    tokens.push(pair);
                }
            }
            Op::Verify => {
                if let Some(pair) = tokens.last() {
                    let _ = service.verify(&pair.access_token);
                    let _ = service.verify_live(&pair.access_token).await;
                }
            }
            Op::Refresh | Op::RefreshOld => {
                let pick = match op {
                    Op::Refresh => tokens.last(),
                    _ => tokens.first(),
                };
                if let Some(pair) = pick.cloned()
                    && let Ok(next) = service.refresh(&pair.refresh_token).await
                {
                    service.verify(&next.access_token).unwrap();
                    tokens.push(next);
                }
            }
            Op::Revoke => {
                if let Some(pair) = tokens.last() {
                    let _ = service.revoke(&pair.refresh_token).await;
                }
            }
            Op::Sessions => {
                let _ = service.sessions("alice").await;
            }
            Op::Purge => {
                let _ = service.purge_expired().await;
            }
            Op::SetClock(to) => clock.set(to),
            Op::Advance(by) => clock.advance(by),
        }
    }
}

/// 256 by default; `JWT_ROTATE_PROPTEST_CASES` (CI: 4000) for more.
fn cases() -> u32 {
    std::env::var("JWT_ROTATE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn no_setting_clock_reading_or_operation_panics(
        durations in settings(),
        start in any_instant(),
        ops in proptest::collection::vec(any_op(), 1..24),
    ) {
        let clock = ManualClock::new(start);
        if let Ok(service) = configured(&clock, durations).build(MemoryStore::new()) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(run(service, clock, ops));
        }
    }
}
