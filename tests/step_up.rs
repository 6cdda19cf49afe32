//! The authentication context (RFC 8176, RFC 9470): recorded at login,
//! carried unchanged through rotations, replaced by a step-up, checked on
//! verify; and last seen, written by the rotation itself.

mod common;

use jwt_rotate::{
    AuthRequirement, Clock, Error, ErrorClass, IssueOptions, ManualClock, MemoryStore, NoClaims,
    TokenService,
};
use serde::{Deserialize, Serialize};
use time::Duration;

fn mfa() -> Vec<String> {
    vec!["pwd".into(), "otp".into()]
}

#[tokio::test]
async fn auth_time_stays_put_over_100_rotations_while_iat_advances() {
    let (service, clock) = common::service();
    let options = IssueOptions::new().authenticated(None, mfa(), Some("urn:example:mfa".into()));
    let mut pair = service
        .issue_with("alice", NoClaims {}, options)
        .await
        .unwrap();
    for rotation in 0..=100 {
        let claims = service.verify(&pair.access_token).unwrap();
        assert_eq!(
            claims.auth_time,
            Some(common::start()),
            "rotation {rotation}"
        );
        assert_eq!(claims.iat, clock.now(), "rotation {rotation}");
        assert_eq!(claims.amr, mfa());
        assert_eq!(claims.acr.as_deref(), Some("urn:example:mfa"));
        clock.advance(Duration::minutes(10));
        pair = service.refresh(&pair.refresh_token).await.unwrap();
    }
    let view = &service.sessions("alice").await.unwrap()[0];
    let auth = view.auth.as_ref().unwrap();
    assert_eq!((auth.auth_time, &auth.amr), (common::start(), &mfa()));
}

#[tokio::test]
async fn a_login_says_when_and_how_the_user_authenticated() {
    let (service, clock) = common::service();
    // A plain login authenticated now, with nothing more said.
    let plain = common::login(&service, "bob").await;
    let claims = service.verify(&plain.access_token).unwrap();
    assert_eq!(
        (claims.auth_time, claims.amr.len(), claims.acr),
        (Some(clock.now()), 0, None)
    );

    let earlier = clock.now() - Duration::minutes(3);
    let options = IssueOptions::new().authenticated(Some(earlier), vec!["hwk".into()], None);
    let pair = service
        .issue_with("bob", NoClaims {}, options)
        .await
        .unwrap();
    assert_eq!(
        service.verify(&pair.access_token).unwrap().auth_time,
        Some(earlier)
    );

    // Values a token cannot carry, and an authentication after the login.
    let bad = [
        IssueOptions::new().authenticated(None, vec![String::new()], None),
        IssueOptions::new().authenticated(None, vec!["a b".into()], None),
        IssueOptions::new().authenticated(None, vec!["x".into(); 17], None),
        IssueOptions::new().authenticated(None, vec![], Some("q\"".into())),
        IssueOptions::new().authenticated(None, vec![], Some("a".repeat(129))),
        IssueOptions::new().authenticated(Some(clock.now() + Duration::seconds(1)), vec![], None),
    ];
    for options in bad {
        let what = format!("{options:?}");
        let error = service
            .issue_with("carol", NoClaims {}, options)
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Claims { .. }), "{what}: {error:?}");
    }
    assert!(service.sessions("carol").await.unwrap().is_empty());
}

#[derive(Serialize, Deserialize)]
struct Shadow {
    acr: String,
}

#[tokio::test]
async fn app_claims_cannot_shadow_the_authentication_claims() {
    let clock = ManualClock::new(common::start());
    let service: TokenService<MemoryStore, Shadow> = common::builder(&clock)
        .with_claims::<Shadow>()
        .build(MemoryStore::new())
        .unwrap();
    let shadow = Shadow {
        acr: "urn:example:mfa".into(),
    };
    let error = service
        .issue("dave", shadow, Default::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Claims { .. }), "{error:?}");
}

#[tokio::test]
async fn step_up_then_verify_with_max_age_and_acr() {
    let (service, clock) = common::service();
    let pair = common::login(&service, "erin").await;
    let payment = AuthRequirement::new(Some(Duration::minutes(5)), ["urn:example:mfa"]).unwrap();
    let recent = AuthRequirement::new(Some(Duration::minutes(5)), Vec::<String>::new()).unwrap();

    // Fresh, but no acr.
    let error = service
        .verify_with(&pair.access_token, &payment)
        .unwrap_err();
    assert!(
        matches!(error, Error::InsufficientAuthentication { .. }),
        "{error:?}"
    );
    service.verify_with(&pair.access_token, &recent).unwrap();
    clock.advance(Duration::minutes(5));
    service.verify_with(&pair.access_token, &recent).unwrap();
    clock.advance(Duration::seconds(1));
    let error = service
        .verify_with(&pair.access_token, &recent)
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Unauthorized);
    assert_eq!(error.code(), "insufficient_user_authentication");
    assert_eq!(
        error.challenge().unwrap(),
        "Bearer error=\"insufficient_user_authentication\", \
         error_description=\"A different authentication level is required\", max_age=300"
    );
    let error = service
        .verify_with(&pair.access_token, &payment)
        .unwrap_err();
    assert_eq!(
        error.challenge().unwrap(),
        "Bearer error=\"insufficient_user_authentication\", \
         error_description=\"A different authentication level is required\", \
         acr_values=\"urn:example:mfa\", max_age=300"
    );
    assert_eq!(Error::Expired.challenge(), None);

    // The step-up: the session records it, and the pair carries it.
    clock.advance(Duration::minutes(10));
    let stepped = service
        .reauthenticate(&pair.refresh_token, mfa(), Some("urn:example:mfa".into()))
        .await
        .unwrap();
    let claims = service
        .verify_with(&stepped.access_token, &payment)
        .unwrap();
    assert_eq!(claims.auth_time, Some(clock.now()));
    assert_eq!(claims.amr, mfa());
    let stepped_at = clock.now();
    // Refreshes carry it unchanged; the max_age runs from the step-up.
    clock.advance(Duration::minutes(4));
    let next = service.refresh(&stepped.refresh_token).await.unwrap();
    let claims = service.verify_with(&next.access_token, &payment).unwrap();
    assert_eq!(claims.auth_time, Some(stepped_at));
    clock.advance(Duration::minutes(2));
    assert!(service.verify_with(&next.access_token, &payment).is_err());

    // The step-up rotated: the token it spent is now an old generation.
    clock.advance(Duration::minutes(1));
    let replay = service.refresh(&pair.refresh_token).await;
    assert!(matches!(replay, Err(Error::ReuseDetected)), "{replay:?}");
}

#[tokio::test]
async fn a_revoked_session_cannot_be_stepped_up() {
    let (service, _) = common::service();
    let pair = common::login(&service, "frank").await;
    let before = common::record(&service, &pair.session_id).await;
    service.revoke_session(&pair.session_id).await.unwrap();
    let error = service
        .reauthenticate(&pair.refresh_token, mfa(), Some("urn:example:mfa".into()))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::SessionRevoked), "{error:?}");
    let after = common::record(&service, &pair.session_id).await;
    assert_eq!(after.auth, before.auth);
    assert_eq!(after.generation, before.generation);
}

#[tokio::test]
async fn a_step_up_with_the_previous_token_in_grace_changes_nothing() {
    let (service, _) = common::service();
    let pair = common::login(&service, "gina").await;
    let next = service.refresh(&pair.refresh_token).await.unwrap();
    let before = common::record(&service, &pair.session_id).await;
    let error = service
        .reauthenticate(&pair.refresh_token, mfa(), None)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Denied(_)), "{error:?}");
    assert_eq!(common::record(&service, &pair.session_id).await, before);
    // The current token still steps up.
    service
        .reauthenticate(&next.refresh_token, mfa(), None)
        .await
        .unwrap();
}

#[test]
fn requirements_are_checked_when_made() {
    for (age, acr) in [
        (Some(Duration::seconds(-1)), "a"),
        (Some(Duration::milliseconds(1500)), "a"),
        (None, ""),
        (None, "two words"),
        (None, "quote\""),
    ] {
        let made = AuthRequirement::new(age, [acr]);
        assert!(matches!(made, Err(Error::Config(_))), "{age:?} {acr:?}");
    }
    let ok = AuthRequirement::new(None, ["a", "b"]).unwrap();
    assert_eq!((ok.max_age(), ok.acr_values().len()), (None, 2));
}

#[cfg(feature = "testing")]
mod last_seen {
    use jwt_rotate::LastSeen;
    use jwt_rotate::store::RefreshStore;
    use jwt_rotate::testing::{FaultyStore, StoreOp};

    use super::*;

    /// On `store`: a refresh with a client records it in its one store
    /// call, the rotation; one without keeps it.
    pub(crate) async fn refresh_records_the_client_in_one_call<S: RefreshStore>(store: S) {
        let clock = ManualClock::new(common::start());
        let service = common::builder(&clock)
            .build(FaultyStore::new(store))
            .unwrap();
        let subject = format!("last-seen-{}", jwt_rotate::SessionId::random());
        let pair = common::login(&service, &subject).await;
        clock.advance(Duration::minutes(3));
        service.store().take_calls();
        let seen = LastSeen::new()
            .with_ip("203.0.113.9".parse().unwrap())
            .with_user_agent("Mozilla/5.0 ü");
        let pair = service
            .refresh_with(&pair.refresh_token, seen.clone())
            .await
            .unwrap();
        assert_eq!(service.store().take_calls(), [StoreOp::Rotate]);
        let view = &service.sessions(&subject).await.unwrap()[0];
        assert_eq!((&view.last_seen, view.refreshed_at), (&seen, clock.now()));
        // Login information stays what it was.
        assert_eq!(view.info.ip, None);

        clock.advance(Duration::minutes(3));
        service.refresh(&pair.refresh_token).await.unwrap();
        let view = &service.sessions(&subject).await.unwrap()[0];
        assert_eq!((&view.last_seen, view.refreshed_at), (&seen, clock.now()));

        // An oversized user agent is cut, not refused.
        let long = LastSeen::new().with_user_agent("é".repeat(600));
        let pair = service.refresh(&pair.refresh_token).await.unwrap();
        clock.advance(Duration::minutes(3));
        service
            .refresh_with(&pair.refresh_token, long)
            .await
            .unwrap();
        let view = &service.sessions(&subject).await.unwrap()[0];
        assert_eq!(view.last_seen.user_agent.as_ref().unwrap().len(), 1024);
    }

    #[tokio::test]
    async fn memory_store() {
        refresh_records_the_client_in_one_call(MemoryStore::new()).await;
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_store() {
        let store = jwt_rotate::store::SqliteStore::connect("sqlite::memory:")
            .await
            .unwrap();
        store.migrate().await.unwrap();
        refresh_records_the_client_in_one_call(store).await;
    }

    #[cfg(feature = "postgres")]
    #[tokio::test]
    #[ignore = "needs PostgreSQL: set DATABASE_URL"]
    async fn postgres_store() {
        let store = sql_store::<jwt_rotate::store::Postgres>("DATABASE_URL").await;
        refresh_records_the_client_in_one_call(store).await;
    }

    #[cfg(feature = "mysql")]
    #[tokio::test]
    #[ignore = "needs MySQL: set MYSQL_URL"]
    async fn mysql_store() {
        let store = sql_store::<jwt_rotate::store::MySql>("MYSQL_URL").await;
        refresh_records_the_client_in_one_call(store).await;
    }

    /// A migrated store of dialect `D` at the server `variable` names,
    /// under this file's own table prefix.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    async fn sql_store<D: jwt_rotate::store::Dialect>(
        variable: &str,
    ) -> jwt_rotate::store::SqlStore<D> {
        let url = common::server_url(variable);
        let store = jwt_rotate::store::SqlStore::<D>::builder()
            .table_prefix("jwt_rotate_step_up_")
            .connect(&url)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[cfg(feature = "redis")]
    #[tokio::test]
    #[ignore = "needs Redis: set REDIS_URL"]
    async fn redis_store() {
        let url = common::server_url("REDIS_URL");
        let store = jwt_rotate::store::RedisStore::builder()
            .key_prefix("jwt-rotate-step-up:")
            .connect(&url)
            .await
            .unwrap();
        refresh_records_the_client_in_one_call(store).await;
    }
}
