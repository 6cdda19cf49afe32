//! The app the HTTP tests call (actix-web's test service, no socket), and
//! request and response helpers.
// Each test file uses a part of these helpers.
#![allow(dead_code)]

use std::sync::Arc;

use actix_web::body::to_bytes;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::{App, web};
use jwt_rotate::testing::FaultyStore;
use jwt_rotate::web::{AuthFlow, CredentialsError, Login, Verification};
use jwt_rotate::{
    Dpop, Key, ManualClock, MemoryStore, NoClaims, TokenService, TokenServiceBuilder,
};
use jwt_rotate_actix::{Authenticated, JwtAuth, MaybeAuthenticated};
use serde_json::Value;

pub(crate) const LOGIN: &str = r#"{"username":"alice","password":"right"}"#;

/// The store of the test app, into which faults can be injected.
pub(crate) type Store = Arc<FaultyStore<MemoryStore>>;

/// The session flow over `store`: alice's password is "right".
pub(crate) fn auth(store: Store) -> JwtAuth<Store> {
    let service = builder().build(store).unwrap();
    over(service, Verification::default())
}

/// The session flow of a service that takes DPoP proofs, with checks as
/// `verification` says, on a manual clock.
pub(crate) fn dpop_auth(verification: Verification) -> (JwtAuth<Store>, ManualClock) {
    let clock = ManualClock::starting_now();
    let service = builder()
        .clock(clock.clone())
        .dpop(Dpop::builder().clock(clock.clone()).build().unwrap())
        .build(Arc::new(FaultyStore::new(MemoryStore::new())))
        .unwrap();
    (over(service, verification), clock)
}

fn builder() -> TokenServiceBuilder<NoClaims> {
    TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256([1u8; 32]).unwrap())
        .refresh_key(Key::hs256([2u8; 32]).unwrap())
}

fn over(service: TokenService<Store>, verification: Verification) -> JwtAuth<Store> {
    let flow = AuthFlow::builder(service)
        .credentials(|user: String, password: String| async move {
            let right = user == "alice" && password == "right";
            Ok::<_, CredentialsError>(right.then(|| Login::new(user, NoClaims {})))
        })
        .verification(verification)
        .build()
        .unwrap();
    JwtAuth::new(flow)
}

/// `/me` (protected), `/hello` (open to all), the session routes at the
/// root (`App::configure`) and under `/api` (a scope).
pub(crate) async fn app(
    auth: &JwtAuth<Store>,
) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
    test::init_service(
        App::new()
            .route(
                "/me",
                web::get().to(|Authenticated(me): Authenticated| async move { me.sub }),
            )
            .route(
                "/hello",
                web::get().to(
                    |MaybeAuthenticated(caller): MaybeAuthenticated| async move {
                        caller.map_or_else(|| "stranger".to_owned(), |me| me.sub)
                    },
                ),
            )
            .service(web::scope("/api").configure(auth.configure()))
            .configure(auth.configure()),
    )
    .await
}

/// The response's status, headers and body as text.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: actix_web::http::header::HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    /// `name=value` of the refresh cookie set.
    pub(crate) fn cookie(&self) -> String {
        let set = self.header("set-cookie");
        set.split(';').next().unwrap().to_owned()
    }

    /// `Bearer <access token>` of a token response.
    pub(crate) fn bearer(&self) -> String {
        let json: Value = serde_json::from_str(&self.body).unwrap();
        format!("Bearer {}", json["access_token"].as_str().unwrap())
    }
}

pub(crate) async fn send<S>(app: &S, request: TestRequest) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body()).await.unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub(crate) fn post(path: &str, cookie: Option<&str>, body: &str) -> TestRequest {
    let mut request = TestRequest::post()
        .uri(path)
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_owned());
    if let Some(cookie) = cookie {
        request = request.insert_header(("cookie", cookie));
    }
    request
}

pub(crate) fn get_with(path: &str, authorization: &str) -> TestRequest {
    TestRequest::get()
        .uri(path)
        .insert_header(("authorization", authorization))
}
