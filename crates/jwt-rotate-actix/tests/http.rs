//! The actix-web glue over HTTP requests (actix-web's test service, no
//! socket): the routes' contract, the extractors, mounting.

mod common;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use actix_web::{App, test, web};
use common::{LOGIN, auth, get_with, post, send};
use jwt_rotate::MemoryStore;
use jwt_rotate::testing::FaultyStore;
use jwt_rotate_actix::Authenticated;
use serde_json::Value;

#[actix_web::test]
async fn the_whole_flow_over_http() {
    let auth = auth(Arc::new(FaultyStore::new(MemoryStore::new())));
    let app = common::app(&auth).await;
    let login = send(&app, post("/auth/login", None, LOGIN)).await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.header("cache-control"), "no-store");
    assert_eq!(login.header("content-type"), "application/json");
    let set = login.header("set-cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/auth")
    );
    let json: Value = serde_json::from_str(&login.body).unwrap();
    assert_eq!(json["token_type"], "Bearer");
    assert!(json.get("refresh_token").is_none(), "browsers get a cookie");
    let token = login.bearer();

    let me = send(&app, get_with("/me", &token)).await;
    assert_eq!((me.status, me.body.as_str()), (StatusCode::OK, "alice"));
    let hello = send(&app, TestRequest::get().uri("/hello")).await;
    assert_eq!(hello.body, "stranger");
    let hello = send(&app, get_with("/hello", &token)).await;
    assert_eq!(hello.body, "alice");

    let refreshed = send(&app, post("/auth/refresh", Some(&login.cookie()), "")).await;
    assert_eq!(refreshed.status, StatusCode::OK);
    assert_ne!(refreshed.cookie(), login.cookie(), "the cookie rotates");
    let token = refreshed.bearer();
    let list = send(&app, get_with("/sessions", &token)).await;
    assert_eq!(list.status, StatusCode::OK);
    let rows: Value = serde_json::from_str(&list.body).unwrap();
    assert_eq!(rows[0]["current"], true);

    let other = send(&app, post("/auth/login", None, LOGIN)).await;
    let others =
        post("/auth/logout-others", None, "").insert_header(("authorization", token.as_str()));
    let out = send(&app, others).await;
    assert_eq!(
        (out.status, out.body.as_str()),
        (StatusCode::OK, r#"{"revoked":1}"#)
    );
    let dead = send(&app, post("/auth/refresh", Some(&other.cookie()), "")).await;
    assert_eq!(dead.status, StatusCode::UNAUTHORIZED);
    assert!(dead.header("set-cookie").contains("Max-Age=0"));

    let logout = send(&app, post("/auth/logout", Some(&refreshed.cookie()), "")).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert!(logout.header("set-cookie").contains("Max-Age=0"));
    let me = send(&app, get_with("/me", &token)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.body, r#"{"error":"session_revoked"}"#);
    assert!(
        me.header("www-authenticate")
            .starts_with("Bearer error=\"invalid_token\"")
    );
}

#[actix_web::test]
async fn a_replayed_cookie_revokes_the_session() {
    let auth = auth(Arc::new(FaultyStore::new(MemoryStore::new())));
    let app = common::app(&auth).await;
    let login = send(&app, post("/auth/login", None, LOGIN)).await;
    let first = send(&app, post("/auth/refresh", Some(&login.cookie()), "")).await;
    let second = send(&app, post("/auth/refresh", Some(&first.cookie()), "")).await;
    assert_eq!(second.status, StatusCode::OK);
    // Generation 0 again, past the grace window's one generation.
    let replay = send(&app, post("/auth/refresh", Some(&login.cookie()), "")).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.body, r#"{"error":"reuse_detected"}"#);
    let after = send(&app, post("/auth/refresh", Some(&second.cookie()), "")).await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "the whole session is revoked"
    );
}

#[actix_web::test]
async fn one_device_is_revoked_by_id_and_only_the_callers() {
    let auth = auth(Arc::new(FaultyStore::new(MemoryStore::new())));
    let app = common::app(&auth).await;
    let phone = send(&app, post("/auth/login", None, LOGIN)).await.bearer();
    let laptop = send(&app, post("/auth/login", None, LOGIN)).await.bearer();
    let list = send(&app, get_with("/sessions", &laptop)).await;
    let rows: Value = serde_json::from_str(&list.body).unwrap();
    let phone_id = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/sessions/{phone_id}");
    let gone = send(
        &app,
        TestRequest::delete()
            .uri(&path)
            .insert_header(("authorization", laptop.as_str())),
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        send(&app, get_with("/me", &phone)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, get_with("/me", &laptop)).await.status,
        StatusCode::OK
    );
    let again = send(
        &app,
        TestRequest::delete()
            .uri(&path)
            .insert_header(("authorization", laptop.as_str())),
    )
    .await;
    assert_eq!(
        (again.status, again.body.as_str()),
        (StatusCode::NOT_FOUND, r#"{"error":"not_found"}"#)
    );
    let junk = send(
        &app,
        TestRequest::delete()
            .uri("/sessions/junk")
            .insert_header(("authorization", laptop.as_str())),
    )
    .await;
    assert_eq!(junk.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn routes_mount_under_a_prefix_and_publish_the_jwks() {
    let auth = auth(Arc::new(FaultyStore::new(MemoryStore::new())));
    let app = common::app(&auth).await;
    let login = send(&app, post("/api/auth/login", None, LOGIN)).await;
    assert_eq!(login.status, StatusCode::OK);
    let list = send(&app, get_with("/api/sessions", &login.bearer())).await;
    assert_eq!(list.status, StatusCode::OK);
    let jwks = send(&app, TestRequest::get().uri("/api/.well-known/jwks.json")).await;
    assert_eq!(jwks.status, StatusCode::OK);
    assert_eq!(
        jwks.body, r#"{"keys":[]}"#,
        "HS256 keys are never published"
    );
    assert_eq!(jwks.header("cache-control"), "public, max-age=300");
}

#[actix_web::test]
async fn app_data_lets_routes_outside_the_scope_authenticate() {
    let auth = auth(Arc::new(FaultyStore::new(MemoryStore::new())));
    let app = test::init_service(
        App::new()
            .app_data(auth.app_data())
            .route(
                "/me",
                web::get().to(|Authenticated(me): Authenticated| async move { me.sub }),
            )
            .service(web::scope("/api").configure(auth.configure())),
    )
    .await;
    let login = send(&app, post("/api/auth/login", None, LOGIN)).await;
    let me = send(&app, get_with("/me", &login.bearer())).await;
    assert_eq!((me.status, me.body.as_str()), (StatusCode::OK, "alice"));
}

#[actix_web::test]
async fn the_extractor_without_the_flow_is_a_500_not_a_pass() {
    let app = test::init_service(App::new().route(
        "/me",
        web::get().to(|Authenticated(me): Authenticated| async move { me.sub }),
    ))
    .await;
    let response = send(&app, get_with("/me", "Bearer x")).await;
    assert_eq!(
        (response.status, response.body.as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":"server_error"}"#
        )
    );
}

#[actix_web::test]
async fn signature_verification_checks_tokens_without_the_store() {
    use jwt_rotate::web::{AuthFlow, CredentialsError, Login, Verification};
    use jwt_rotate::{Key, NoClaims, TokenService};
    use jwt_rotate_actix::JwtAuth;

    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let service = TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256([1u8; 32]).unwrap())
        .refresh_key(Key::hs256([2u8; 32]).unwrap())
        .build(Arc::clone(&store))
        .unwrap();
    let flow = AuthFlow::builder(service)
        .credentials(|user: String, _: String| async move {
            Ok::<_, CredentialsError>(Some(Login::new(user, NoClaims {})))
        })
        .verification(Verification::Signature)
        .build()
        .unwrap();
    let auth = JwtAuth::new(flow);
    let app = common::app(&auth).await;
    let login = send(&app, post("/auth/login", None, LOGIN)).await;
    store.inject(
        jwt_rotate::testing::Calls::All,
        jwt_rotate::testing::Fault::Fail,
    );
    let me = send(&app, get_with("/me", &login.bearer())).await;
    assert_eq!((me.status, me.body.as_str()), (StatusCode::OK, "alice"));
    let bad = send(&app, get_with("/me", "Bearer a.b.c")).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let none = send(&app, TestRequest::get().uri("/hello")).await;
    assert_eq!(none.body, "stranger");
}
