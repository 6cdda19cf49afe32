//! DPoP through the axum glue (tower `oneshot`, no socket): the routes
//! and the `Authenticated` extractor pass the `DPoP` header, the method
//! and the URL the client used (the whole path inside a `nest`).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::routing::get;
use http_body_util::BodyExt;
use jwt_rotate::testing::DpopClient;
use jwt_rotate::web::{AuthFlow, CredentialsError, Login, Verification};
use jwt_rotate::{Clock, Dpop, Key, ManualClock, MemoryStore, NoClaims, TokenService};
use jwt_rotate_axum::{Authenticated, JwtAuth};
use serde_json::Value;
use tower::ServiceExt;

const LOGIN: &str = r#"{"username":"alice","password":"right"}"#;
const ORIGIN: &str = "http://auth.test";

fn app(verification: Verification) -> (Router, ManualClock) {
    let clock = ManualClock::starting_now();
    let service = TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256([1u8; 32]).unwrap())
        .refresh_key(Key::hs256([2u8; 32]).unwrap())
        .clock(clock.clone())
        .dpop(Dpop::builder().clock(clock.clone()).build().unwrap())
        .build(MemoryStore::new())
        .unwrap();
    let flow = AuthFlow::builder(service)
        .credentials(|user: String, password: String| async move {
            let right = user == "alice" && password == "right";
            Ok::<_, CredentialsError>(right.then(|| Login::new(user, NoClaims {})))
        })
        .verification(verification)
        .build()
        .unwrap();
    let auth = JwtAuth::new(flow);
    let me = get(|Authenticated(me): Authenticated| async move { me.sub });
    let router = Router::new()
        .route("/me", me.clone())
        .nest("/api", Router::new().route("/me", me).merge(auth.routes()))
        .merge(auth.routes())
        .layer(auth.layer());
    (router, clock)
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

/// A request from `auth.test` with these headers.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "auth.test");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

fn header<'a>(response: &'a Response<()>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map_or("", |v| v.to_str().unwrap())
}

/// Logs in at `prefix/auth/login` with a proof: the cookie, the token.
async fn login(
    app: &Router,
    clock: &ManualClock,
    client: &DpopClient,
    prefix: &str,
) -> (String, String) {
    let path = format!("{prefix}/auth/login");
    let proof = client.proof("POST", &format!("{ORIGIN}{path}"), clock.now());
    let (login, body) = send(app, request("POST", &path, &[("dpop", &proof)], LOGIN)).await;
    assert_eq!(login.status(), StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let cookie = header(&login, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (cookie, body["access_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_bound_session_over_http_in_both_verification_modes() {
    for verification in [Verification::Live, Verification::Signature] {
        let (app, clock) = app(verification);
        let client = DpopClient::random();
        let (cookie, access) = login(&app, &clock, &client, "").await;
        let authorization = format!("DPoP {access}");

        for path in ["/me", "/api/me"] {
            let url = format!("{ORIGIN}{path}");
            let proof = client.proof_for("GET", &url, clock.now(), &access, None);
            let headers = [("authorization", authorization.as_str()), ("dpop", &proof)];
            let (me, who) = send(&app, request("GET", path, &headers, "")).await;
            assert_eq!(
                (me.status(), who.as_str()),
                (StatusCode::OK, "alice"),
                "{path}"
            );
            // The same proof again: a replay.
            let (again, body) = send(&app, request("GET", path, &headers, "")).await;
            assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
            assert!(body.contains("invalid_dpop_proof"));
            assert!(header(&again, "www-authenticate").starts_with("DPoP error="));
        }
        // As Bearer: refused, with a DPoP challenge.
        let bearer = format!("Bearer {access}");
        let (me, body) = send(
            &app,
            request("GET", "/me", &[("authorization", &bearer)], ""),
        )
        .await;
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
        assert!(body.contains("dpop_required"));
        assert!(header(&me, "www-authenticate").starts_with("DPoP "));

        // Refresh without a proof: 401, the cookie kept; with one: 200.
        let (refused, _) = send(
            &app,
            request("POST", "/auth/refresh", &[("cookie", &cookie)], ""),
        )
        .await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(
            header(&refused, "www-authenticate").starts_with("DPoP error=\"invalid_dpop_proof\"")
        );
        assert!(refused.headers().get("set-cookie").is_none());
        let proof = client.proof("POST", &format!("{ORIGIN}/auth/refresh"), clock.now());
        let headers = [("cookie", cookie.as_str()), ("dpop", &proof)];
        let (refreshed, body) = send(&app, request("POST", "/auth/refresh", &headers, "")).await;
        assert_eq!(refreshed.status(), StatusCode::OK, "{body}");
        assert!(body.contains(r#""token_type":"DPoP""#));
    }
}

#[tokio::test]
async fn inside_a_nest_proofs_name_the_whole_path() {
    let (app, clock) = app(Verification::Live);
    let client = DpopClient::random();
    login(&app, &clock, &client, "/api").await;
    // A proof for the path inside the nest is not for the URL the client used.
    let proof = client.proof("POST", &format!("{ORIGIN}/auth/login"), clock.now());
    let (refused, _) = send(
        &app,
        request("POST", "/api/auth/login", &[("dpop", &proof)], LOGIN),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}
