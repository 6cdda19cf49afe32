//! jwt-rotate wired into axum 0.8: the access token travels as a Bearer
//! header and lives in the page's memory; the refresh token lives in an
//! `HttpOnly` cookie and rotates on every `POST /auth/refresh`.
//!
//! The application itself ([`demo`]) is shared with the actix-web server;
//! this file holds what is axum's: routes, extractors, responses.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::Future;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State,
};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, SET_COOKIE,
    USER_AGENT, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};

#[path = "../../shared/demo/mod.rs"]
pub mod demo;

use demo::http::{self as api, ApiError};
pub use demo::{AppState, Config};
use demo::{Issued, User};

/// All routes, over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(script))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/logout-others", post(logout_others))
        .route("/auth/password", post(change_password))
        .route("/me", get(me))
        .route("/sessions", get(sessions))
        .route("/sessions/{id}", delete(revoke_session))
        // JSON errors here too, like every other answer of the API.
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(api::MAX_BODY_BYTES))
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

/// The caller, from a verified `Authorization: Bearer` access token of a
/// live session; rejects with 401 (or 503 if the store fails).
pub struct Authenticated(pub User);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).map(HeaderValue::as_bytes);
        state.authenticate(header).await.map(Self)
    }
}

/// The CSRF guard of the cookie routes: rejects with 403 unless the
/// browser says the request comes from this origin.
pub struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let headers: jwt_rotate::RequestHeaders<'_> = parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect();
        // HTTP/2 carries the host in the URI instead of a header.
        let authority = parts.uri.authority().map(|a| a.as_str().as_bytes());
        state.check_same_origin(&headers.with_authority(authority))?;
        Ok(Self)
    }
}

/// The client's address: the peer, or behind a trusted proxy the address
/// it forwarded.
pub struct Client(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
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

/// A request body of at most [`api::MAX_BODY_BYTES`]: larger ones are
/// refused with the JSON 413 both servers give.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::payload_too_large())
            }
            Err(_) => Err(ApiError::bad_request()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self.body())).into_response();
        append(response.headers_mut(), self.headers());
        response
    }
}

impl IntoResponse for Issued {
    fn into_response(self) -> Response {
        let mut response = Json(self.body).into_response();
        match HeaderValue::from_str(self.set_cookie.expose_secret()) {
            Ok(cookie) => response.headers_mut().insert(SET_COOKIE, cookie),
            Err(_) => return ApiError::internal("cookie is not a header value").into_response(),
        };
        // Token responses must not be cached (RFC 6749 §5.1).
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

fn append(headers: &mut HeaderMap, extra: Vec<(&'static str, String)>) {
    for (name, value) in extra {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
}

/// The request's `Cookie` header values (HTTP/2 may send several).
fn cookies(headers: &HeaderMap) -> Vec<&[u8]> {
    headers
        .get_all(COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect()
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

async fn login(
    _: SameOrigin,
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Issued, ApiError> {
    let agent = headers.get(USER_AGENT).map(HeaderValue::as_bytes);
    let info = demo::session_info(agent, client);
    state.login(&body, info, client, &cookies(&headers)).await
}

async fn refresh(
    _: SameOrigin,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Issued, ApiError> {
    state.refresh(&cookies(&headers)).await
}

async fn logout(
    _: SameOrigin,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let clear = state.logout(&cookies(&headers)).await?;
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, clear)]))
}

async fn logout_others(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
) -> Result<Json<api::RevokedBody>, ApiError> {
    state.logout_others(&user).await.map(Json)
}

async fn change_password(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
    Client(client): Client,
    Body(body): Body,
) -> Result<Json<api::RevokedBody>, ApiError> {
    state.change_password(&user, &body, client).await.map(Json)
}

async fn me(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
) -> impl IntoResponse {
    Json(state.me(&user))
}

async fn sessions(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
) -> Result<Json<Vec<api::SessionBody>>, ApiError> {
    state.sessions(&user).await.map(Json)
}

async fn revoke_session(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.revoke_session(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
