//! The README's service on a real PostgreSQL: the routes and the
//! extractor over a `PostgresStore` (tables `jwt_rotate_actix_*`, a
//! subject of its own per run, so parallel runs do not meet).

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::{App, test, web};
use jwt_rotate::store::PostgresStore;
use jwt_rotate::web::{AuthFlow, CredentialsError, Login};
use jwt_rotate::{Algorithm, Key, NoClaims, TokenService};
use jwt_rotate_actix::{Authenticated, JwtAuth};

mod common;

use common::{get_with, post, send};

fn database_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "DATABASE_URL is not set: this test needs a PostgreSQL server. Set DATABASE_URL \
             (e.g. postgres://postgres@127.0.0.1:5432/postgres), or run without \
             --include-ignored to leave it out"
        ),
    }
}

#[actix_web::test]
#[ignore = "needs PostgreSQL: set DATABASE_URL"]
async fn the_readme_service_on_postgres() {
    let store = PostgresStore::builder()
        .table_prefix("jwt_rotate_actix_")
        .max_connections(2)
        .connect(&database_url())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let subject = format!("alice-{}-{nanos}", std::process::id());
    let service = TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("https://api.example.com")
        .access_key(Key::generate(Algorithm::EdDSA).unwrap())
        .refresh_key(Key::generate(Algorithm::HS256).unwrap())
        .build(store)
        .unwrap();
    let check = move |name: String, password: String| {
        let subject = subject.clone();
        async move {
            let right = name == "alice" && password == "right";
            Ok::<_, CredentialsError>(right.then(|| Login::new(subject, NoClaims {})))
        }
    };
    let flow = AuthFlow::builder(service)
        .credentials(check)
        .build()
        .unwrap();
    let auth = JwtAuth::new(flow);
    let app = test::init_service(
        App::new()
            .route(
                "/me",
                web::get().to(|Authenticated(me): Authenticated| async move { me.sub }),
            )
            .configure(auth.configure()),
    )
    .await;

    let login = send(&app, post("/auth/login", None, common::LOGIN)).await;
    assert_eq!(login.status, StatusCode::OK);
    let me = send(&app, get_with("/me", &login.bearer())).await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.starts_with("alice-"));
    let refreshed = send(&app, post("/auth/refresh", Some(&login.cookie()), "")).await;
    assert_eq!(refreshed.status, StatusCode::OK);
    let second = send(&app, post("/auth/login", None, common::LOGIN)).await;
    let others =
        post("/auth/logout-others", None, "").insert_header(("authorization", refreshed.bearer()));
    let out = send(&app, others).await;
    assert_eq!(
        (out.status, out.body.as_str()),
        (StatusCode::OK, r#"{"revoked":1}"#)
    );
    let dead = send(&app, get_with("/me", &second.bearer())).await;
    assert_eq!(
        dead.status,
        StatusCode::UNAUTHORIZED,
        "verify_live sees the revocation"
    );
    let jwks = send(
        &app,
        actix_web::test::TestRequest::get().uri("/.well-known/jwks.json"),
    )
    .await;
    assert!(jwks.body.contains(r#""crv":"Ed25519""#), "{}", jwks.body);
    let logout = send(&app, post("/auth/logout", Some(&refreshed.cookie()), "")).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let after = send(&app, post("/auth/refresh", Some(&refreshed.cookie()), "")).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}
