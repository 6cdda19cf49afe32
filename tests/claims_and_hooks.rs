//! Application claims and hooks: claims carried into every access token,
//! replaced by `before_refresh`, a refresh vetoed, bad claims refused.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::login_with_claims;
use common::tokens::payload;
use jwt_rotate::store::RefreshStore;
use jwt_rotate::{
    Denied, Error, ErrorClass, Hooks, Key, ManualClock, MemoryStore, RefreshContext, SessionInfo,
    TokenService, TokenServiceBuilder,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Roles {
    roles: Vec<String>,
}

fn roles(names: &[&str]) -> Roles {
    Roles {
        roles: names.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// A user directory as the hook sees it: may disable the user, may have
/// new roles for the next refresh; writes down every call.
#[derive(Clone, Default)]
struct Directory {
    disabled: Arc<AtomicBool>,
    new_roles: Arc<Mutex<Option<Roles>>>,
    calls: Arc<Mutex<Vec<(String, String, u64)>>>,
}

#[async_trait]
impl Hooks<Roles> for Directory {
    async fn before_refresh(&self, ctx: &RefreshContext<'_>) -> Result<Option<Roles>, Denied> {
        self.calls.lock().unwrap().push((
            ctx.subject.to_owned(),
            ctx.session_id.to_string(),
            ctx.generation,
        ));
        if self.disabled.load(Ordering::SeqCst) {
            return Err(Denied::new("user disabled"));
        }
        Ok(self.new_roles.lock().unwrap().take())
    }
}

fn with_directory() -> (TokenService<MemoryStore, Roles>, ManualClock, Directory) {
    let clock = ManualClock::new(common::start());
    let directory = Directory::default();
    let service = common::builder(&clock)
        .with_claims::<Roles>()
        .hooks(directory.clone())
        .build(MemoryStore::new())
        .unwrap();
    (service, clock, directory)
}

#[tokio::test]
async fn app_claims_are_carried_into_every_access_token() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock)
        .with_claims::<Roles>()
        .build(MemoryStore::new())
        .unwrap();
    let mut pair = login_with_claims(&service, "alice", roles(&["admin", "billing"])).await;
    // Flattened into the payload next to the registered claims.
    assert_eq!(
        payload(pair.access_token.expose_secret())["roles"],
        json!(["admin", "billing"])
    );
    for _ in 0..3 {
        let claims = service.verify(&pair.access_token).unwrap();
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.extra, roles(&["admin", "billing"]));
        assert_eq!(
            service.verify_live(&pair.access_token).await.unwrap().extra,
            roles(&["admin", "billing"])
        );
        clock.advance(Duration::minutes(20));
        let spent = pair.refresh_token.clone();
        pair = service.refresh(&spent).await.unwrap();
        // A grace replay carries them too.
        let replay = service.refresh(&spent).await.unwrap();
        assert_eq!(replay.refresh_token, pair.refresh_token);
        assert_eq!(
            service.verify(&replay.access_token).unwrap().extra,
            roles(&["admin", "billing"])
        );
    }
    let record = common::record(&service, &pair.session_id).await;
    assert_eq!(record.claims_json, r#"{"roles":["admin","billing"]}"#);
    // The refresh token never carries them.
    assert!(
        payload(pair.refresh_token.expose_secret())
            .get("roles")
            .is_none()
    );
}

#[tokio::test]
async fn builder_for_a_claims_type_from_new() {
    let clock = ManualClock::new(common::start());
    let service = TokenServiceBuilder::<Roles>::new()
        .issuer(common::ISSUER)
        .audience(common::AUDIENCE)
        .access_key(Key::hs256(common::ACCESS_SECRET).unwrap())
        .refresh_key(Key::hs256(common::REFRESH_SECRET).unwrap())
        .clock(clock.clone())
        .build(MemoryStore::new())
        .unwrap();
    let pair = login_with_claims(&service, "alice", roles(&["viewer"])).await;
    let next = service.refresh(&pair.refresh_token).await.unwrap();
    clock.advance(Duration::seconds(3));
    let replay = service.refresh(&pair.refresh_token).await.unwrap();
    assert_eq!(replay.refresh_token, next.refresh_token);
    for token in [&pair.access_token, &next.access_token, &replay.access_token] {
        assert_eq!(service.verify(token).unwrap().extra, roles(&["viewer"]));
    }
}

#[tokio::test]
async fn before_refresh_replaces_the_claims_for_good() {
    let (service, clock, directory) = with_directory();
    let pair = login_with_claims(&service, "alice", roles(&["viewer"])).await;
    let sid = pair.session_id;
    clock.advance(Duration::minutes(20));
    let pair = service.refresh(&pair.refresh_token).await.unwrap();
    assert_eq!(
        service.verify(&pair.access_token).unwrap().extra,
        roles(&["viewer"])
    );

    // Promoted: the next access token shows it...
    *directory.new_roles.lock().unwrap() = Some(roles(&["viewer", "admin"]));
    clock.advance(Duration::minutes(20));
    let mut pair = service.refresh(&pair.refresh_token).await.unwrap();
    assert_eq!(
        service.verify(&pair.access_token).unwrap().extra,
        roles(&["viewer", "admin"])
    );
    assert!(directory.new_roles.lock().unwrap().is_none(), "consumed");

    // ...and so does every later one: the claims were stored.
    let record = common::record(&service, &sid).await;
    assert_eq!(record.claims_json, r#"{"roles":["viewer","admin"]}"#);
    for _ in 0..2 {
        clock.advance(Duration::minutes(20));
        pair = service.refresh(&pair.refresh_token).await.unwrap();
        assert_eq!(
            service.verify(&pair.access_token).unwrap().extra,
            roles(&["viewer", "admin"])
        );
    }

    let calls = directory.calls.lock().unwrap().clone();
    let generations: Vec<u64> = calls.iter().map(|c| c.2).collect();
    assert_eq!(generations, [0, 1, 2, 3]);
    assert!(
        calls
            .iter()
            .all(|(sub, s, _)| sub == "alice" && *s == sid.to_string())
    );
}

#[tokio::test]
async fn before_refresh_veto_denies_without_revoking() {
    let (service, clock, directory) = with_directory();
    let pair = login_with_claims(&service, "alice", roles(&["viewer"])).await;
    let before = common::record(&service, &pair.session_id).await;

    directory.disabled.store(true, Ordering::SeqCst);
    clock.advance(Duration::minutes(20));
    let err = service.refresh(&pair.refresh_token).await.unwrap_err();
    match &err {
        Error::Denied(denied) => assert_eq!(denied.reason(), "user disabled"),
        other => panic!("expected Denied, got {other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Unauthorized);
    assert_eq!(err.code(), "denied");
    // Denied again: still not reuse, still no write.
    assert!(matches!(
        service.refresh(&pair.refresh_token).await,
        Err(Error::Denied(_))
    ));
    let after = common::record(&service, &pair.session_id).await;
    assert_eq!(after, before, "the session is untouched");

    // Re-enabled: the very same refresh token works.
    directory.disabled.store(false, Ordering::SeqCst);
    let next = service.refresh(&pair.refresh_token).await.unwrap();
    service.verify_live(&next.access_token).await.unwrap();
    assert_eq!(
        common::record(&service, &pair.session_id).await.generation,
        1
    );
}

#[tokio::test]
async fn claims_with_a_registered_name_or_not_an_object_are_refused_at_issue() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock)
        .with_claims::<Value>()
        .build(MemoryStore::new())
        .unwrap();
    for bad in [
        json!({"sub": "root"}),
        json!({"roles": ["x"], "exp": 99_999_999_999_i64}),
        json!({"sid": "x"}),
        json!({"iss": "evil"}),
        json!({"aud": "other"}),
        json!({"jti": "x"}),
        json!({"iat": 0}),
        json!({"nbf": 0}),
        json!(42),
        json!("text"),
        json!(["a", "b"]),
        json!(null),
    ] {
        let err = service
            .issue("alice", bad.clone(), SessionInfo::default())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Claims { .. }), "{bad}: {err:?}");
    }
    // Nothing was stored.
    assert!(service.store().sessions("alice").await.unwrap().is_empty());
    assert!(service.sessions("alice").await.unwrap().is_empty());

    // An empty subject is refused the same way.
    assert!(matches!(
        service
            .issue("", json!({}), SessionInfo::default())
            .await
            .unwrap_err(),
        Error::Claims { .. }
    ));
    assert!(service.store().sessions("").await.unwrap().is_empty());

    // A well-formed object is fine, and comes back as given.
    let pair = login_with_claims(&service, "alice", json!({"tenant": "acme"})).await;
    assert_eq!(
        service.verify(&pair.access_token).unwrap().extra["tenant"],
        "acme"
    );
}

/// A hook that hands back claims using a registered name.
struct BadHook;

#[async_trait]
impl Hooks<Value> for BadHook {
    async fn before_refresh(&self, _ctx: &RefreshContext<'_>) -> Result<Option<Value>, Denied> {
        Ok(Some(json!({"sub": "root"})))
    }
}

#[tokio::test]
async fn bad_claims_from_the_hook_fail_the_refresh_and_touch_nothing() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock)
        .with_claims::<Value>()
        .hooks(BadHook)
        .build(MemoryStore::new())
        .unwrap();
    let pair = login_with_claims(&service, "alice", json!({"tenant": "acme"})).await;
    let before = common::record(&service, &pair.session_id).await;
    assert!(matches!(
        service.refresh(&pair.refresh_token).await,
        Err(Error::Claims { .. })
    ));
    let after = common::record(&service, &pair.session_id).await;
    assert_eq!(after, before);
}
