//! Per-session policy at `issue_with`: lifetimes within the builder's
//! maximums, label and kind, and each session-limit mode, concurrent
//! logins included. Every instant comes from a `ManualClock`.

mod common;

use jwt_rotate::{
    Clock, Error, ErrorClass, IssueOptions, ManualClock, MemoryStore, NoClaims, SessionInfo,
    SessionLimitMode, TokenPair, TokenService,
};
use time::Duration;

/// A service whose logins may ask for up to 30 idle and 90 absolute days.
fn remember_me(clock: &ManualClock) -> TokenService<MemoryStore> {
    common::builder(clock)
        .max_refresh_ttl(Duration::days(30))
        .max_session_ttl(Duration::days(90))
        .build(MemoryStore::new())
        .unwrap()
}

async fn login_with<S: jwt_rotate::store::RefreshStore>(
    service: &TokenService<S>,
    subject: &str,
    options: IssueOptions,
) -> Result<TokenPair, Error> {
    service.issue_with(subject, NoClaims {}, options).await
}

#[tokio::test]
async fn a_session_keeps_the_lifetimes_its_login_chose() {
    let clock = ManualClock::new(common::start());
    let service = remember_me(&clock);
    let long = IssueOptions::new()
        .idle_ttl(Duration::days(30))
        .session_ttl(Duration::days(90));
    let mut pair = login_with(&service, "alice", long).await.unwrap();
    let plain = common::login(&service, "alice").await;
    assert_eq!(
        pair.refresh_expires_at,
        common::start() + Duration::days(30)
    );
    assert_eq!(
        plain.refresh_expires_at,
        common::start() + Duration::days(7)
    );

    // Twenty idle days: the default session is dead, the long one rotates
    // and gets another 30 days, until its 90 absolute ones end.
    clock.advance(Duration::days(20));
    assert!(service.refresh(&plain.refresh_token).await.is_err());
    for step in 1..=4 {
        pair = service.refresh(&pair.refresh_token).await.unwrap();
        let want = (clock.now() + Duration::days(30)).min(common::start() + Duration::days(90));
        assert_eq!(pair.refresh_expires_at, want, "rotation {step}");
        clock.advance(Duration::days(20));
    }
    // Day 100: past the absolute lifetime.
    let refused = service.refresh(&pair.refresh_token).await;
    assert!(
        matches!(refused, Err(Error::Expired | Error::SessionExpired)),
        "{refused:?}"
    );

    // A shorter one than the default, too: one idle day.
    let short = IssueOptions::new().idle_ttl(Duration::days(1));
    let pair = login_with(&service, "bob", short).await.unwrap();
    clock.advance(Duration::hours(23));
    let pair = service.refresh(&pair.refresh_token).await.unwrap();
    assert_eq!(pair.refresh_expires_at, clock.now() + Duration::days(1));
    clock.advance(Duration::days(1));
    assert!(service.refresh(&pair.refresh_token).await.is_err());
}

#[tokio::test]
async fn lifetimes_beyond_the_maximums_are_refused_and_create_nothing() {
    let clock = ManualClock::new(common::start());
    let service = remember_me(&clock);
    let refused = [
        IssueOptions::new().idle_ttl(Duration::days(31)),
        IssueOptions::new().session_ttl(Duration::days(91)),
        IssueOptions::new().idle_ttl(Duration::minutes(15)),
        IssueOptions::new()
            .idle_ttl(Duration::days(20))
            .session_ttl(Duration::days(10)),
        IssueOptions::new().idle_ttl(Duration::milliseconds(86_400_500)),
    ];
    for options in refused {
        let what = format!("{options:?}");
        let error = login_with(&service, "carol", options).await.unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{what}: {error:?}");
    }
    assert!(service.sessions("carol").await.unwrap().is_empty());

    // Without maximums, a login may only shorten the defaults.
    let (service, _) = common::service();
    let longer = IssueOptions::new().idle_ttl(Duration::days(8));
    let error = login_with(&service, "carol", longer).await.unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");

    // The builder's maximums must cover its defaults.
    for builder in [
        common::builder(&clock).max_refresh_ttl(Duration::days(6)),
        common::builder(&clock).max_session_ttl(Duration::days(29)),
        common::builder(&clock).max_session_ttl(Duration::days(36_526)),
    ] {
        assert!(matches!(
            builder.build(MemoryStore::new()),
            Err(Error::Config(_))
        ));
    }
}

#[tokio::test]
async fn label_and_kind_are_kept_and_limited() {
    let (service, _) = common::service();
    let info = SessionInfo::default()
        .with_label("Work laptop")
        .with_kind("remember-me");
    login_with(&service, "dave", IssueOptions::new().info(info.clone()))
        .await
        .unwrap();
    let sessions = service.sessions("dave").await.unwrap();
    assert_eq!(sessions[0].info, info);

    let long_kind = SessionInfo::default().with_kind("k".repeat(65));
    let error = login_with(&service, "dave", long_kind.into())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Claims { .. }), "{error:?}");
    assert_eq!(service.sessions("dave").await.unwrap().len(), 1);
}

fn limited(clock: &ManualClock, max: usize, mode: SessionLimitMode) -> TokenService<MemoryStore> {
    common::builder(clock)
        .max_sessions_per_subject(max)
        .session_limit_mode(mode)
        .build(MemoryStore::new())
        .unwrap()
}

#[tokio::test]
async fn revoke_oldest_is_the_default_mode() {
    let clock = ManualClock::new(common::start());
    let service = limited(&clock, 2, SessionLimitMode::default());
    let first = common::login(&service, "erin").await;
    clock.advance(Duration::seconds(1));
    common::login(&service, "erin").await;
    clock.advance(Duration::seconds(1));
    common::login(&service, "erin").await;
    common::assert_revoked(&service, &first).await;
    assert_eq!(service.sessions("erin").await.unwrap().len(), 2);
}

#[tokio::test]
async fn refuse_new_keeps_the_sessions_and_refuses_the_login() {
    let clock = ManualClock::new(common::start());
    let service = limited(&clock, 2, SessionLimitMode::RefuseNew);
    let first = common::login(&service, "frank").await;
    let second = common::login(&service, "frank").await;
    let refused = login_with(&service, "frank", IssueOptions::new())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::SessionLimit { max: 2 }),
        "{refused:?}"
    );
    assert_eq!(refused.class(), ErrorClass::Forbidden);
    assert_eq!(refused.code(), "session_limit");
    let live = common::session_ids(&service, "frank").await;
    assert_eq!(live.len(), 2);
    assert!(live.contains(&first.session_id) && live.contains(&second.session_id));
    service.refresh(&first.refresh_token).await.unwrap();

    // A logout frees a place.
    service.revoke(&second.refresh_token).await.unwrap();
    common::login(&service, "frank").await;

    // RefuseNew without a limit is a configuration error.
    let unlimited = common::builder(&clock).session_limit_mode(SessionLimitMode::RefuseNew);
    assert!(matches!(
        unlimited.build(MemoryStore::new()),
        Err(Error::Config(_))
    ));
}

#[tokio::test]
async fn single_session_revokes_every_older_session() {
    let clock = ManualClock::new(common::start());
    // No max_sessions_per_subject needed.
    let service = common::builder(&clock)
        .session_limit_mode(SessionLimitMode::SingleSession)
        .build(MemoryStore::new())
        .unwrap();
    let mut old = Vec::new();
    for _ in 0..3 {
        old.push(common::login(&service, "gina").await);
        clock.advance(Duration::seconds(1));
    }
    let last = common::login(&service, "gina").await;
    for pair in &old {
        common::assert_revoked(&service, pair).await;
    }
    assert_eq!(
        common::session_ids(&service, "gina").await,
        [last.session_id]
    );
    common::login(&service, "other").await;
    assert_eq!(
        common::session_ids(&service, "gina").await,
        [last.session_id]
    );
}

#[cfg(feature = "testing")]
mod races {
    use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp};

    use super::*;

    /// `logins` concurrent logins of "hana", every record created before
    /// any of them looks at the others.
    async fn race(
        max: usize,
        mode: SessionLimitMode,
        logins: usize,
    ) -> (
        TokenService<FaultyStore<MemoryStore>>,
        Vec<Result<TokenPair, Error>>,
    ) {
        let clock = ManualClock::new(common::start());
        let store = FaultyStore::new(MemoryStore::new());
        store.inject(Calls::Only(StoreOp::Create), Fault::Gather(logins));
        let service = common::builder(&clock)
            .max_sessions_per_subject(max)
            .session_limit_mode(mode)
            .build(store)
            .unwrap();
        let tasks: Vec<_> = (0..logins)
            .map(|_| {
                let service = service.clone();
                tokio::spawn(async move {
                    service
                        .issue_with("hana", NoClaims {}, IssueOptions::new())
                        .await
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        service.store().heal();
        (service, results)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_logins_never_exceed_a_refuse_new_limit() {
        for (max, logins) in [(1, 2), (2, 3), (3, 8)] {
            let (service, results) = race(max, SessionLimitMode::RefuseNew, logins).await;
            let accepted: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
            for result in &results {
                if let Err(error) = result {
                    assert!(matches!(error, Error::SessionLimit { .. }), "{error:?}");
                }
            }
            let live = common::session_ids(&service, "hana").await;
            assert!(live.len() <= max, "max {max}: {} live", live.len());
            // Every login that got tokens is live; every refused one is not.
            assert_eq!(live.len(), accepted.len(), "max {max}");
            assert!(accepted.iter().all(|p| live.contains(&p.session_id)));
            // Refused logins leave nothing behind: the user's retry works.
            let retry = service
                .issue_with("hana", NoClaims {}, IssueOptions::new())
                .await;
            assert_eq!(retry.is_ok(), live.len() < max, "max {max}: {retry:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_logins_in_single_session_mode_leave_the_newest() {
        let (service, results) = race(1, SessionLimitMode::SingleSession, 4).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        // Every record existed before any login listed the others: each
        // revoked the older ones, and none revoked a newer one.
        let live = common::session_ids(&service, "hana").await;
        assert_eq!(live.len(), 1, "{live:?}");
    }
}

#[tokio::test]
async fn a_login_may_choose_its_own_limit_mode() {
    let clock = ManualClock::new(common::start());
    let service = limited(&clock, 3, SessionLimitMode::RevokeOldest);
    let mut old = Vec::new();
    for _ in 0..2 {
        old.push(common::login(&service, "hugo").await);
        clock.advance(Duration::seconds(1));
    }
    // A kiosk login ends every other session, whatever the builder says.
    let single = IssueOptions::new().session_limit_mode(SessionLimitMode::SingleSession);
    let kiosk = login_with(&service, "hugo", single).await.unwrap();
    for pair in &old {
        common::assert_revoked(&service, pair).await;
    }
    assert_eq!(
        common::session_ids(&service, "hugo").await,
        [kiosk.session_id]
    );

    // The next plain login uses the builder's mode again: nothing revoked.
    clock.advance(Duration::seconds(1));
    common::login(&service, "hugo").await;
    clock.advance(Duration::seconds(1));
    common::login(&service, "hugo").await;
    assert_eq!(common::session_ids(&service, "hugo").await.len(), 3);

    // RefuseNew at the limit: refused, the three sessions untouched.
    let refuse = IssueOptions::new().session_limit_mode(SessionLimitMode::RefuseNew);
    let refused = login_with(&service, "hugo", refuse).await.unwrap_err();
    assert!(
        matches!(refused, Error::SessionLimit { max: 3 }),
        "{refused:?}"
    );
    assert_eq!(common::session_ids(&service, "hugo").await.len(), 3);
    service.refresh(&kiosk.refresh_token).await.unwrap();

    // RefuseNew on a service without a limit: a configuration error, and
    // no session is created.
    let unlimited = common::builder(&clock).build(MemoryStore::new()).unwrap();
    let refuse = IssueOptions::new().session_limit_mode(SessionLimitMode::RefuseNew);
    let error = login_with(&unlimited, "iris", refuse).await.unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
    assert!(unlimited.sessions("iris").await.unwrap().is_empty());
}
