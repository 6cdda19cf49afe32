//! The actix-web glue's refusals: JSON errors with their status and
//! headers, the CSRF guard, throttling, body limits, store failures.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{LOGIN, auth, get_with, post, send};
use jwt_rotate::MemoryStore;
use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp};

#[actix_web::test]
async fn errors_answer_with_json_status_and_headers() {
    let auth = auth(Arc::new(FaultyStore::new(MemoryStore::new())));
    let app = common::app(&auth).await;
    let none = send(&app, TestRequest::get().uri("/me")).await;
    assert_eq!(
        (none.status, none.body.as_str()),
        (StatusCode::UNAUTHORIZED, r#"{"error":"missing_token"}"#)
    );
    assert_eq!(none.header("www-authenticate"), "Bearer");
    assert_eq!(none.header("content-type"), "application/json");
    let bad = send(&app, get_with("/hello", "Bearer not.a.token")).await;
    assert_eq!(
        bad.status,
        StatusCode::UNAUTHORIZED,
        "a bad token is not a stranger"
    );
    assert!(
        bad.header("www-authenticate")
            .starts_with("Bearer error=\"invalid_token\"")
    );

    let cross = post("/auth/login", None, LOGIN).insert_header(("sec-fetch-site", "cross-site"));
    let refused = send(&app, cross).await;
    assert_eq!(
        (refused.status, refused.body.as_str()),
        (StatusCode::FORBIDDEN, r#"{"error":"cross_site_request"}"#)
    );
    let foreign = post("/auth/login", None, LOGIN)
        .insert_header(("host", "auth.example.com"))
        .insert_header(("origin", "http://evil.example.com"));
    assert_eq!(send(&app, foreign).await.status, StatusCode::FORBIDDEN);
    let same = post("/auth/login", None, LOGIN)
        .insert_header(("host", "auth.example.com"))
        .insert_header(("origin", "http://auth.example.com"));
    assert_eq!(send(&app, same).await.status, StatusCode::OK);

    let huge = format!(r#"{{"username":"{}","password":"x"}}"#, "a".repeat(20_000));
    let large = send(&app, post("/auth/login", None, &huge)).await;
    assert_eq!(
        (large.status, large.body.as_str()),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            r#"{"error":"payload_too_large"}"#
        )
    );
    let junk = send(&app, post("/auth/login", None, "{not json")).await;
    assert_eq!(
        (junk.status, junk.body.as_str()),
        (StatusCode::BAD_REQUEST, r#"{"error":"invalid_request"}"#)
    );
    let missing = send(&app, post("/auth/refresh", None, "")).await;
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            r#"{"error":"missing_refresh_token"}"#
        )
    );
    let wrong_method = send(&app, TestRequest::get().uri("/auth/login")).await;
    assert_eq!(
        (wrong_method.status, wrong_method.body.as_str()),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            r#"{"error":"method_not_allowed"}"#
        )
    );
}

#[actix_web::test]
async fn wrong_passwords_are_throttled_per_user_and_per_peer_address() {
    let auth = auth(Arc::new(FaultyStore::new(MemoryStore::new())));
    let app = common::app(&auth).await;
    let wrong = r#"{"username":"alice","password":"wrong"}"#;
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(send(&app, post("/auth/login", None, wrong)).await.status);
    }
    assert_eq!(statuses[..10], [StatusCode::UNAUTHORIZED; 10]);
    let throttled = send(&app, post("/auth/login", None, wrong)).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.body, r#"{"error":"too_many_attempts"}"#);
    let wait: u64 = throttled.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");

    // The address buckets (30 guesses) are keyed by the peer's address.
    let from = |ip: &str| -> SocketAddr { format!("{ip}:40000").parse().unwrap() };
    for n in 0..30 {
        let guess = format!(r#"{{"username":"user{n}","password":"x"}}"#);
        let answer = send(
            &app,
            post("/auth/login", None, &guess).peer_addr(from("192.0.2.1")),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "guess {n}");
    }
    let guess = r#"{"username":"user30","password":"x"}"#;
    let blocked = send(
        &app,
        post("/auth/login", None, guess).peer_addr(from("192.0.2.1")),
    )
    .await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = send(
        &app,
        post("/auth/login", None, guess).peer_addr(from("192.0.2.2")),
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::UNAUTHORIZED,
        "another address has its own bucket"
    );
}

#[actix_web::test]
async fn a_store_failure_is_a_503_that_keeps_the_session() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let auth = auth(Arc::clone(&store));
    let app = common::app(&auth).await;
    let login = send(&app, post("/auth/login", None, LOGIN)).await;
    let token = login.bearer();

    store.inject(Calls::All, Fault::Fail);
    let me = send(&app, get_with("/me", &token)).await;
    assert_eq!(
        me.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "not a 401: the token is fine"
    );
    assert!(me.headers.contains_key("retry-after"));
    assert!(!me.headers.contains_key("www-authenticate"));
    let refresh = send(&app, post("/auth/refresh", Some(&login.cookie()), "")).await;
    assert_eq!(refresh.status, StatusCode::SERVICE_UNAVAILABLE);
    // A failed rotation may have been written: the cookie is kept (or
    // replaced by the token to retry with), never deleted.
    let kept = refresh
        .headers
        .get("set-cookie")
        .map(|v| v.to_str().unwrap());
    assert!(
        !kept.is_some_and(|set| set.contains("Max-Age=0")),
        "{kept:?}"
    );
    let logout = send(&app, post("/auth/logout", Some(&login.cookie()), "")).await;
    assert_eq!(logout.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        !logout.headers.contains_key("set-cookie"),
        "the logout can be retried"
    );

    store.heal();
    let refresh = send(&app, post("/auth/refresh", Some(&login.cookie()), "")).await;
    assert_eq!(
        refresh.status,
        StatusCode::OK,
        "nothing was revoked by the outage"
    );
}

#[actix_web::test]
async fn a_rotation_in_doubt_hands_back_the_cookie_to_retry_with() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let auth = auth(Arc::clone(&store));
    let app = common::app(&auth).await;
    let login = send(&app, post("/auth/login", None, LOGIN)).await;

    store.inject(Calls::NthOf(StoreOp::Rotate, 1), Fault::FailAfter);
    let doubt = send(&app, post("/auth/refresh", Some(&login.cookie()), "")).await;
    assert_eq!(doubt.status, StatusCode::SERVICE_UNAVAILABLE);
    let retry = doubt.cookie();
    let again = send(&app, post("/auth/refresh", Some(&retry), "")).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "the retry gets the rotated session"
    );
    let me = send(&app, get_with("/me", &again.bearer())).await;
    assert_eq!(me.status, StatusCode::OK);
}
