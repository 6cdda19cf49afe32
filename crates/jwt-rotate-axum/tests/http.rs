//! The axum glue over HTTP requests (tower `oneshot`, no socket): the
//! routes' contract, the extractor, the CSRF guard, error responses.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::routing::get;
use http_body_util::BodyExt;
use jwt_rotate::web::{AuthFlow, CredentialsError, Login};
use jwt_rotate::{Key, MemoryStore, NoClaims, TokenService};
use jwt_rotate_axum::{Authenticated, JwtAuth};
use serde_json::Value;
use tower::ServiceExt;

const LOGIN: &str = r#"{"username":"alice","password":"right"}"#;

fn app() -> Router {
    let service = TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256([1u8; 32]).unwrap())
        .refresh_key(Key::hs256([2u8; 32]).unwrap())
        .build(MemoryStore::new())
        .unwrap();
    let flow = AuthFlow::builder(service)
        .credentials(|user: String, password: String| async move {
            let right = user == "alice" && password == "right";
            Ok::<_, CredentialsError>(right.then(|| Login::new(user, NoClaims {})))
        })
        .build()
        .unwrap();
    let auth = JwtAuth::new(flow);
    Router::new()
        .route(
            "/me",
            get(|Authenticated(me): Authenticated| async move { me.sub }),
        )
        .route(
            "/hello",
            get(|caller: Option<Authenticated>| async move {
                caller.map_or("stranger".to_owned(), |Authenticated(me)| me.sub)
            }),
        )
        .nest("/api", auth.routes())
        .merge(auth.routes())
        .layer(auth.layer())
}

async fn send(app: &Router, request: Request<Body>) -> (Response<()>, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        Response::from_parts(parts, ()),
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

fn post(path: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut request = Request::post(path).header("content-type", "application/json");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

fn cookie_of(response: &Response<()>) -> String {
    let set = response.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

fn bearer(body: &str) -> String {
    let json: Value = serde_json::from_str(body).unwrap();
    format!("Bearer {}", json["access_token"].as_str().unwrap())
}

fn get_with(path: &str, authorization: &str) -> Request<Body> {
    Request::get(path)
        .header("authorization", authorization)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn the_whole_flow_over_http() {
    let app = app();
    let (login, body) = send(&app, post("/auth/login", None, LOGIN)).await;
    assert_eq!(login.status(), StatusCode::OK);
    assert_eq!(login.headers()["cache-control"], "no-store");
    assert_eq!(login.headers()["content-type"], "application/json");
    let set = login.headers()["set-cookie"].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/auth")
    );
    let token = bearer(&body);

    let (me, who) = send(&app, get_with("/me", &token)).await;
    assert_eq!((me.status(), who.as_str()), (StatusCode::OK, "alice"));
    let (_, hello) = send(&app, Request::get("/hello").body(Body::empty()).unwrap()).await;
    assert_eq!(hello, "stranger");
    let (_, hello) = send(&app, get_with("/hello", &token)).await;
    assert_eq!(hello, "alice");

    let (refreshed, body) = send(&app, post("/auth/refresh", Some(&cookie_of(&login)), "")).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let token = bearer(&body);
    let (list, rows) = send(&app, get_with("/sessions", &token)).await;
    assert_eq!(list.status(), StatusCode::OK);
    let rows: Value = serde_json::from_str(&rows).unwrap();
    assert_eq!(rows[0]["current"], true);

    let (other, _) = send(&app, post("/auth/login", None, LOGIN)).await;
    let mut others = post("/auth/logout-others", None, "");
    others
        .headers_mut()
        .insert("authorization", token.parse().unwrap());
    let (out, count) = send(&app, others).await;
    assert_eq!(
        (out.status(), count.as_str()),
        (StatusCode::OK, r#"{"revoked":1}"#)
    );
    let (dead, _) = send(&app, post("/auth/refresh", Some(&cookie_of(&other)), "")).await;
    assert_eq!(dead.status(), StatusCode::UNAUTHORIZED);
    assert!(
        dead.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );

    let (logout, _) = send(&app, post("/auth/logout", Some(&cookie_of(&refreshed)), "")).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let (me, body) = send(&app, get_with("/me", &token)).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body, r#"{"error":"session_revoked"}"#);
    let challenge = me.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer error=\"invalid_token\""));
}

#[tokio::test]
async fn errors_answer_with_json_status_and_headers() {
    let app = app();
    let (none, body) = send(&app, Request::get("/me").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (none.status(), body.as_str()),
        (StatusCode::UNAUTHORIZED, r#"{"error":"missing_token"}"#)
    );
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let (bad, _) = send(&app, get_with("/hello", "Bearer not.a.token")).await;
    assert_eq!(
        bad.status(),
        StatusCode::UNAUTHORIZED,
        "a bad token is not a stranger"
    );

    let mut cross = post("/auth/login", None, LOGIN);
    cross
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    let (refused, body) = send(&app, cross).await;
    assert_eq!(
        (refused.status(), body.as_str()),
        (StatusCode::FORBIDDEN, r#"{"error":"cross_site_request"}"#)
    );

    let wrong = r#"{"username":"alice","password":"wrong"}"#;
    let mut last = StatusCode::OK;
    for _ in 0..11 {
        last = send(&app, post("/auth/login", None, wrong))
            .await
            .0
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let (throttled, _) = send(&app, post("/auth/login", None, wrong)).await;
    assert!(throttled.headers().contains_key("retry-after"));

    let huge = format!(r#"{{"username":"{}","password":"x"}}"#, "a".repeat(20_000));
    let (large, body) = send(&app, post("/auth/login", None, &huge)).await;
    assert_eq!(
        (large.status(), body.as_str()),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            r#"{"error":"payload_too_large"}"#
        )
    );
    let (missing, body) = send(&app, post("/auth/refresh", None, "")).await;
    assert_eq!(
        (missing.status(), body.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            r#"{"error":"missing_refresh_token"}"#
        )
    );
}

#[tokio::test]
async fn routes_mount_under_a_prefix_and_publish_the_jwks() {
    let app = app();
    let (login, _) = send(&app, post("/api/auth/login", None, LOGIN)).await;
    assert_eq!(login.status(), StatusCode::OK);
    let (jwks, body) = send(
        &app,
        Request::get("/api/.well-known/jwks.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(jwks.status(), StatusCode::OK);
    assert_eq!(body, r#"{"keys":[]}"#, "HS256 keys are never published");
}

#[tokio::test]
async fn the_extractor_without_the_layer_is_a_500_not_a_pass() {
    let app: Router = Router::new().route(
        "/me",
        get(|Authenticated(me): Authenticated| async move { me.sub }),
    );
    let (response, body) = send(&app, get_with("/me", "Bearer x")).await;
    assert_eq!(
        (response.status(), body.as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":"server_error"}"#
        )
    );
}

/// `Verification::Signature` answers from the token alone (the store is
/// down and `/me` still works; a bad token is still 401); `Live` reads the
/// store, so the same outage is a 503, never a pass or a 401.
#[tokio::test]
async fn signature_verification_checks_tokens_without_the_store() {
    use std::sync::Arc;

    use jwt_rotate::testing::{Calls, Fault, FaultyStore};
    use jwt_rotate::web::Verification;

    for (verification, during_outage) in [
        (Verification::Signature, StatusCode::OK),
        (Verification::Live, StatusCode::SERVICE_UNAVAILABLE),
    ] {
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
            .verification(verification)
            .build()
            .unwrap();
        let auth = JwtAuth::new(flow);
        let app = Router::new()
            .route(
                "/me",
                get(|Authenticated(me): Authenticated| async move { me.sub }),
            )
            .route(
                "/hello",
                get(|caller: Option<Authenticated>| async move {
                    caller.map_or("stranger".to_owned(), |Authenticated(me)| me.sub)
                }),
            )
            .merge(auth.routes())
            .layer(auth.layer());
        let (login, body) = send(&app, post("/auth/login", None, LOGIN)).await;
        assert_eq!(login.status(), StatusCode::OK, "{body}");
        store.inject(Calls::All, Fault::Fail);
        let (me, body) = send(&app, get_with("/me", &bearer(&body))).await;
        assert_eq!(me.status(), during_outage, "{verification:?}: {body}");
        if during_outage == StatusCode::OK {
            assert_eq!(body, "alice");
        }
        let (bad, _) = send(&app, get_with("/me", "Bearer a.b.c")).await;
        assert_eq!(bad.status(), StatusCode::UNAUTHORIZED, "{verification:?}");
        let (none, body) = send(&app, Request::get("/hello").body(Body::empty()).unwrap()).await;
        assert_eq!((none.status(), body.as_str()), (StatusCode::OK, "stranger"));
    }
}
