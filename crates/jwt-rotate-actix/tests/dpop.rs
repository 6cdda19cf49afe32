//! DPoP through the actix-web glue (actix-web's test service, no socket):
//! the routes and the extractors pass the `DPoP` header, the method and
//! the URL the client used (the whole path inside a scope).

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::{Answer, LOGIN, dpop_auth, send};
use jwt_rotate::testing::DpopClient;
use jwt_rotate::web::Verification;
use jwt_rotate::{Clock, ManualClock};
use serde_json::Value;

const ORIGIN: &str = "http://auth.test";

/// A request from `auth.test` with these headers.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> TestRequest {
    let method = method.parse().unwrap();
    let mut request = TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(("host", "auth.test"))
        .set_payload(body.to_owned());
    for (name, value) in headers {
        request = request.append_header((*name, *value));
    }
    request
}

/// Logs in at `prefix/auth/login` with a proof: the cookie, the token.
async fn login<S>(
    app: &S,
    clock: &ManualClock,
    client: &DpopClient,
    prefix: &str,
) -> (String, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let path = format!("{prefix}/auth/login");
    let proof = client.proof("POST", &format!("{ORIGIN}{path}"), clock.now());
    let headers = [
        ("dpop", proof.as_str()),
        ("content-type", "application/json"),
    ];
    let login = send(app, request("POST", &path, &headers, LOGIN)).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let body: Value = serde_json::from_str(&login.body).unwrap();
    assert_eq!(body["token_type"], "DPoP");
    (
        login.cookie(),
        body["access_token"].as_str().unwrap().to_owned(),
    )
}

fn challenge(answer: &Answer) -> &str {
    answer.header("www-authenticate")
}

#[actix_web::test]
async fn a_bound_session_over_http_in_both_verification_modes() {
    for verification in [Verification::Live, Verification::Signature] {
        let (auth, clock) = dpop_auth(verification);
        let app = common::app(&auth).await;
        let client = DpopClient::random();
        let (cookie, access) = login(&app, &clock, &client, "").await;
        let authorization = format!("DPoP {access}");

        for path in ["/me", "/hello"] {
            let url = format!("{ORIGIN}{path}");
            let proof = client.proof_for("GET", &url, clock.now(), &access, None);
            let headers = [("authorization", authorization.as_str()), ("dpop", &proof)];
            let me = send(&app, request("GET", path, &headers, "")).await;
            assert_eq!(
                (me.status, me.body.as_str()),
                (StatusCode::OK, "alice"),
                "{path}"
            );
            // The same proof again: a replay.
            let again = send(&app, request("GET", path, &headers, "")).await;
            assert_eq!(again.status, StatusCode::UNAUTHORIZED);
            assert!(again.body.contains("invalid_dpop_proof"));
            assert!(challenge(&again).starts_with("DPoP error="));
        }
        // As Bearer: refused, with a DPoP challenge.
        let bearer = format!("Bearer {access}");
        let me = send(
            &app,
            request("GET", "/me", &[("authorization", &bearer)], ""),
        )
        .await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
        assert!(me.body.contains("dpop_required"));
        assert!(challenge(&me).starts_with("DPoP "));

        // Refresh without a proof: 401, the cookie kept; with one: 200.
        let refused = send(
            &app,
            request("POST", "/auth/refresh", &[("cookie", &cookie)], ""),
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert!(challenge(&refused).starts_with("DPoP error=\"invalid_dpop_proof\""));
        assert!(refused.headers.get("set-cookie").is_none());
        let proof = client.proof("POST", &format!("{ORIGIN}/auth/refresh"), clock.now());
        let headers = [("cookie", cookie.as_str()), ("dpop", &proof)];
        let refreshed = send(&app, request("POST", "/auth/refresh", &headers, "")).await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
        assert!(refreshed.body.contains(r#""token_type":"DPoP""#));
    }
}

#[actix_web::test]
async fn inside_a_scope_proofs_name_the_whole_path() {
    let (auth, clock) = dpop_auth(Verification::Live);
    let app = common::app(&auth).await;
    let client = DpopClient::random();
    login(&app, &clock, &client, "/api").await;
    let proof = client.proof("POST", &format!("{ORIGIN}/auth/login"), clock.now());
    let headers = [
        ("dpop", proof.as_str()),
        ("content-type", "application/json"),
    ];
    let refused = send(&app, request("POST", "/api/auth/login", &headers, LOGIN)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}
