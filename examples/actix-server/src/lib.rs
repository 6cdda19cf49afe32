//! jwt-rotate wired into actix-web 4 through `jwt-rotate-actix`: the access
//! token travels as a Bearer header and lives in the page's memory; the
//! refresh token lives in an `HttpOnly` cookie and rotates on every
//! `POST /auth/refresh`.
//!
//! The session routes, the `Authenticated` extractor, the CSRF guard, the
//! login throttle and the error responses are `jwt-rotate-actix`'s. The
//! application itself (`demo-support`: users, password hashing,
//! configuration) is shared with the axum server; this file adds its own
//! routes (`/me`, `/auth/password`, the page) and the server.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::{Ready, ready};

use actix_web::dev::{Payload, Server};
use actix_web::http::StatusCode;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use actix_web::{App, FromRequest, HttpRequest, HttpResponse, HttpServer, Resource, Route, web};
use jwt_rotate::web::HttpError;
use jwt_rotate_actix::{AuthError, Authenticated, JwtAuth};

use demo_support::http as api;
use demo_support::{AppState, User};

/// All routes: the session routes of `jwt-rotate-actix` and the demo's
/// own; the app needs `web::Data<AppState>`.
pub fn routes(state: &AppState) -> impl FnOnce(&mut web::ServiceConfig) + 'static {
    let auth = JwtAuth::new(state.flow().clone());
    move |cfg| {
        cfg.configure(auth.configure())
            .service(resource("/", web::get().to(index)))
            .service(resource("/app.js", web::get().to(script)))
            .service(resource("/auth/password", web::post().to(change_password)))
            .service(resource("/me", web::get().to(me)))
            // JSON errors here too, like every other answer of the API.
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(AuthError(HttpError::not_found()))
            }));
    }
}

/// One path with one method; any other method gets a JSON 405.
fn resource(path: &str, route: Route) -> Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(AuthError(HttpError::method_not_allowed()))
        }))
}

/// The server on `listener`; await it (or spawn it) to run, stop it through
/// its [`handle`](Server::handle) or with Ctrl-C.
///
/// # Errors
/// An I/O error of the listener.
pub fn server(listener: std::net::TcpListener, state: AppState) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(api::MAX_BODY_BYTES))
            .configure(routes(&data))
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// The client's address: the peer, or behind a trusted proxy the address
/// it forwarded.
pub struct Client(pub Option<std::net::IpAddr>);

impl FromRequest for Client {
    type Error = AuthError;
    type Future = Ready<Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(app_state(req).map(|state| {
            let peer = req.peer_addr().map(|addr| addr.ip());
            let forwarded = req.headers().get_all("x-forwarded-for");
            Self(state.client_address(peer, forwarded.map(|v| v.as_bytes())))
        }))
    }
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, AuthError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AuthError(HttpError::internal("AppState is not registered")))
}

async fn index() -> HttpResponse {
    page("text/html; charset=utf-8", api::INDEX_HTML)
}

async fn script() -> HttpResponse {
    page("text/javascript; charset=utf-8", api::APP_JS)
}

fn page(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CONTENT_SECURITY_POLICY, api::CONTENT_SECURITY_POLICY))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(body)
}

async fn change_password(
    state: web::Data<AppState>,
    caller: Authenticated,
    Client(client): Client,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<web::Json<api::RevokedBody>, AuthError> {
    let body = body.map_err(|err| {
        let status = err.as_response_error().status_code();
        AuthError(if status == StatusCode::PAYLOAD_TOO_LARGE {
            HttpError::payload_too_large()
        } else {
            HttpError::bad_request()
        })
    })?;
    let revoked = state
        .change_password(&User::from(caller.0), &body, client)
        .await;
    revoked.map(web::Json).map_err(AuthError)
}

async fn me(state: web::Data<AppState>, caller: Authenticated) -> web::Json<api::MeBody> {
    web::Json(state.me(&User::from(caller.0)))
}
