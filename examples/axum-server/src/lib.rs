//! jwt-rotate wired into axum 0.8 through `jwt-rotate-axum`: the access
//! token travels as a Bearer header and lives in the page's memory; the
//! refresh token lives in an `HttpOnly` cookie and rotates on every
//! `POST /auth/refresh`.
//!
//! The session routes, the `Authenticated` extractor, the CSRF guard, the
//! login throttle and the error responses are `jwt-rotate-axum`'s. The
//! application itself (`demo-support`: users, password hashing,
//! configuration) is shared with the actix-web server; this file adds its
//! own routes (`/me`, `/auth/password`, the page) and the server.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::Future;
use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use demo_support::http as api;
use demo_support::{AppState, User};
use jwt_rotate::web::HttpError;
use jwt_rotate_axum::{AuthError, Authenticated, JwtAuth};

/// All routes: the session routes of `jwt-rotate-axum` and the demo's own,
/// over `state`.
pub fn router(state: AppState) -> Router {
    let auth = JwtAuth::new(state.flow().clone());
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(script))
        .route("/auth/password", post(change_password))
        .route("/me", get(me))
        .merge(auth.routes())
        // JSON errors here too, like every other answer of the API.
        .fallback(|| async { AuthError(HttpError::not_found()) })
        .method_not_allowed_fallback(|| async { AuthError(HttpError::method_not_allowed()) })
        .layer(DefaultBodyLimit::max(api::MAX_BODY_BYTES))
        .layer(auth.layer())
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` completes.
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The client's address: the peer, or behind a trusted proxy the address
/// it forwarded.
pub struct Client(pub Option<IpAddr>);

impl FromRequestParts<AppState> for Client {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AuthError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let forwarded = parts.headers.get_all("x-forwarded-for").iter();
        Ok(Self(state.client_address(
            peer,
            forwarded.map(HeaderValue::as_bytes),
        )))
    }
}

async fn index() -> impl IntoResponse {
    page("text/html; charset=utf-8", api::INDEX_HTML)
}

async fn script() -> impl IntoResponse {
    page("text/javascript; charset=utf-8", api::APP_JS)
}

fn page(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, content_type),
            (CONTENT_SECURITY_POLICY, api::CONTENT_SECURITY_POLICY),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

async fn change_password(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Client(client): Client,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<api::RevokedBody>, AuthError> {
    let body = body.map_err(|rejection| {
        AuthError(if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            HttpError::payload_too_large()
        } else {
            HttpError::bad_request()
        })
    })?;
    let revoked = state
        .change_password(&User::from(caller), &body, client)
        .await;
    revoked.map(Json).map_err(AuthError)
}

async fn me(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Json<api::MeBody> {
    Json(state.me(&User::from(caller)))
}
