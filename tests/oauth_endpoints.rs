//! The OAuth 2.0 endpoints: the refresh-token grant (RFC 6749 section 6),
//! revocation (RFC 7009) and introspection (RFC 7662), each answering the
//! way its RFC says, for good requests, malformed ones, bad tokens and a
//! failing store.
#![cfg(all(feature = "oauth", feature = "testing"))]

mod common;

use std::collections::BTreeMap;

use jwt_rotate::oauth::{
    IntrospectionClient, OAuthResponse, introspection_endpoint, revocation_endpoint, token_endpoint,
};
use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp};
use jwt_rotate::{ManualClock, MemoryStore, SessionInfo, TokenPair, TokenService};
use serde_json::Value;
use time::Duration;

type Service = TokenService<FaultyStore<MemoryStore>>;

fn service() -> (Service, ManualClock) {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock)
        .build(FaultyStore::new(MemoryStore::new()))
        .unwrap();
    (service, clock)
}

fn json(response: &OAuthResponse) -> Value {
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("pragma"), Some("no-cache"));
    serde_json::from_str(&response.body).unwrap()
}

fn refresh_form(pair: &TokenPair) -> String {
    format!(
        "grant_type=refresh_token&refresh_token={}",
        pair.refresh_token.expose_secret()
    )
}

fn error_of(response: &OAuthResponse, status: u16) -> String {
    assert_eq!(response.status, status, "{}", response.body);
    json(response)["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_refresh_grant_rotates_and_answers_as_rfc_6749_says() {
    let (service, clock) = service();
    let login = common::login(&service, "alice").await;
    clock.advance(Duration::minutes(20));
    let response = token_endpoint(&service, refresh_form(&login).as_bytes()).await;
    assert_eq!(response.status, 200);
    let body = json(&response);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(service.verify(access).unwrap().sub, "alice");
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_ne!(refresh, login.refresh_token.expose_secret());
    // The new refresh token rotates in turn; the old one, past the grace
    // window, is reuse: invalid_grant, and the session is gone.
    clock.advance(Duration::minutes(1));
    let form = format!("grant_type=refresh_token&refresh_token={refresh}");
    assert_eq!(token_endpoint(&service, form.as_bytes()).await.status, 200);
    let replay = token_endpoint(&service, refresh_form(&login).as_bytes()).await;
    assert_eq!(error_of(&replay, 400), "invalid_grant");
    let again = token_endpoint(&service, form.as_bytes()).await;
    assert_eq!(error_of(&again, 400), "invalid_grant");
}

#[tokio::test]
async fn malformed_token_requests_are_refused_without_touching_the_session() {
    let (service, _) = service();
    let login = common::login(&service, "alice").await;
    let token = login.refresh_token.expose_secret();
    let cases = [
        (String::new(), "invalid_request"),
        (format!("refresh_token={token}"), "invalid_request"),
        ("grant_type=refresh_token".to_owned(), "invalid_request"),
        (
            format!("grant_type=refresh_token&grant_type=refresh_token&refresh_token={token}"),
            "invalid_request",
        ),
        (
            format!("grant_type=password&refresh_token={token}"),
            "unsupported_grant_type",
        ),
        (
            format!("grant_type=refresh_token&refresh_token={token}&scope=admin"),
            "invalid_scope",
        ),
        (
            "grant_type=refresh_token&refresh_token=not.a.token".to_owned(),
            "invalid_grant",
        ),
        (
            format!(
                "grant_type=refresh_token&refresh_token={}",
                login.access_token.expose_secret()
            ),
            "invalid_grant",
        ),
    ];
    service.store().take_calls();
    for (form, code) in cases {
        let response = token_endpoint(&service, form.as_bytes()).await;
        assert_eq!(error_of(&response, 400), code, "{form}");
    }
    assert!(service.store().take_calls().is_empty(), "no store access");
    let huge = vec![b'a'; 100 * 1024];
    assert_eq!(
        error_of(&token_endpoint(&service, &huge).await, 400),
        "invalid_request"
    );
    // The token still works.
    assert_eq!(
        token_endpoint(&service, refresh_form(&login).as_bytes())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_failing_store_is_503_and_a_rotation_in_doubt_hands_over_its_retry_token() {
    let (service, clock) = service();
    let login = common::login(&service, "alice").await;
    clock.advance(Duration::minutes(20));
    service
        .store()
        .inject(Calls::Only(StoreOp::Rotate), Fault::FailAfter);
    let response = token_endpoint(&service, refresh_form(&login).as_bytes()).await;
    service.store().heal();
    assert_eq!(error_of(&response, 503), "temporarily_unavailable");
    assert_eq!(response.header("retry-after"), Some("5"));
    let retry_with = json(&response)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Past the grace window, the retry token still gets the successor.
    clock.advance(Duration::minutes(1));
    let form = format!("grant_type=refresh_token&refresh_token={retry_with}");
    assert_eq!(token_endpoint(&service, form.as_bytes()).await.status, 200);

    service.store().inject(Calls::All, Fault::Fail);
    let revoke = revocation_endpoint(&service, format!("token={retry_with}").as_bytes()).await;
    assert_eq!(error_of(&revoke, 503), "temporarily_unavailable");
    service.store().heal();
}

#[tokio::test]
async fn revocation_ends_the_session_for_either_token_and_says_nothing_of_others() {
    let (service, _) = service();
    for hint in [
        "",
        "&token_type_hint=refresh_token",
        "&token_type_hint=access_token",
        "&token_type_hint=other",
    ] {
        let by_refresh = common::login(&service, "alice").await;
        let form = format!("token={}{hint}", by_refresh.refresh_token.expose_secret());
        assert_eq!(
            revocation_endpoint(&service, form.as_bytes()).await.status,
            200
        );
        common::assert_revoked(&service, &by_refresh).await;

        let by_access = common::login(&service, "alice").await;
        let form = format!("token={}{hint}", by_access.access_token.expose_secret());
        assert_eq!(
            revocation_endpoint(&service, form.as_bytes()).await.status,
            200
        );
        common::assert_revoked(&service, &by_access).await;
    }
    let bystander = common::login(&service, "bob").await;
    for form in ["token=garbage", "token=a.b.c&token_type_hint=access_token"] {
        let response = revocation_endpoint(&service, form.as_bytes()).await;
        assert_eq!(response.status, 200, "{form}");
    }
    service.verify_live(&bystander.access_token).await.unwrap();
    for form in ["", "token_type_hint=refresh_token", "token=a&token=b"] {
        let response = revocation_endpoint(&service, form.as_bytes()).await;
        assert_eq!(error_of(&response, 400), "invalid_request", "{form}");
    }
}

#[tokio::test]
async fn introspection_needs_the_client_and_tells_live_from_dead() {
    let (service, clock) = service();
    let client = IntrospectionClient::new("rs", "a long random secret");
    assert_eq!(client.authenticate(None).unwrap_err().status, 401);
    let caller = client
        .authenticate(Some("Basic cnM6YStsb25nK3JhbmRvbStzZWNyZXQ="))
        .unwrap();
    let login = common::login(&service, "alice").await;
    let introspect = |token: String| {
        let service = &service;
        let caller = &caller;
        async move {
            let response =
                introspection_endpoint(service, caller, format!("token={token}").as_bytes()).await;
            assert_eq!(response.status, 200, "{}", response.body);
            json(&response)
        }
    };
    let access = introspect(login.access_token.expose_secret().to_owned()).await;
    assert_eq!(access["active"], true);
    assert_eq!(access["token_type"], "access_token");
    assert_eq!(access["sub"], "alice");
    assert_eq!(access["sid"], login.session_id.to_string());
    assert_eq!(access["aud"], common::AUDIENCE);
    let refresh = introspect(login.refresh_token.expose_secret().to_owned()).await;
    assert_eq!(refresh["active"], true);
    assert_eq!(refresh["token_type"], "refresh_token");
    assert_eq!(refresh["exp"], login.refresh_expires_at.unix_timestamp());

    // Spent (even inside the grace window), garbage, revoked: inactive,
    // and nothing more said.
    clock.advance(Duration::minutes(20));
    let next = service.refresh(&login.refresh_token).await.unwrap();
    for token in [
        login.refresh_token.expose_secret().to_owned(),
        "garbage".to_owned(),
    ] {
        assert_eq!(
            introspect(token).await,
            serde_json::json!({"active": false})
        );
    }
    service.revoke(&next.refresh_token).await.unwrap();
    for token in [
        next.access_token.expose_secret(),
        next.refresh_token.expose_secret(),
    ] {
        let answer = introspect(token.to_owned()).await;
        assert_eq!(answer, serde_json::json!({"active": false}));
    }
}

#[tokio::test]
async fn introspection_shows_a_scope_from_the_applications_claims() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock)
        .with_claims::<BTreeMap<String, String>>()
        .build(MemoryStore::new())
        .unwrap();
    let claims = BTreeMap::from([("scope".to_owned(), "read write".to_owned())]);
    let login = service
        .issue("alice", claims, SessionInfo::default())
        .await
        .unwrap();
    let client = IntrospectionClient::new("rs", "x");
    let caller = client.authenticate(Some("Basic cnM6eA==")).unwrap();
    let form = format!("token={}", login.access_token.expose_secret());
    let response = introspection_endpoint(&service, &caller, form.as_bytes()).await;
    assert_eq!(json(&response)["scope"], "read write");
}
