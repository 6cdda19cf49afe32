//! jwt-rotate wired into actix-web 4: the access token travels as a Bearer
//! header and lives in the page's memory; the refresh token lives in an
//! `HttpOnly` cookie and rotates on every `POST /auth/refresh`.
//!
//! The application itself ([`demo`]) is shared with the axum server; this
//! file holds what is actix-web's: routes, extractors, responses.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, Server};
use actix_web::http::StatusCode;
use actix_web::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, SET_COOKIE,
    USER_AGENT, X_CONTENT_TYPE_OPTIONS,
};
use actix_web::{
    App, FromRequest, HttpRequest, HttpResponse, HttpServer, Resource, Responder, ResponseError,
    Route, web,
};

#[path = "../../shared/demo/mod.rs"]
pub mod demo;

use demo::http::{self as api, ApiError};
pub use demo::{AppState, Config};
use demo::{Issued, User};

/// All routes; the app needs `web::Data<AppState>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/", web::get().to(index)))
        .service(resource("/app.js", web::get().to(script)))
        .service(resource("/auth/login", web::post().to(login)))
        .service(resource("/auth/refresh", web::post().to(refresh)))
        .service(resource("/auth/logout", web::post().to(logout)))
        .service(resource(
            "/auth/logout-others",
            web::post().to(logout_others),
        ))
        .service(resource("/auth/password", web::post().to(change_password)))
        .service(resource("/me", web::get().to(me)))
        .service(resource("/sessions", web::get().to(sessions)))
        .service(resource("/sessions/{id}", web::delete().to(revoke_session)))
        // JSON errors here too, like every other answer of the API.
        .default_service(web::to(|| async { ApiError::not_found().error_response() }));
}

/// One path with one method; any other method gets a JSON 405.
fn resource(path: &str, route: Route) -> Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(|| async {
            ApiError::method_not_allowed().error_response()
        }))
}

/// The server on `listener`; await it (or spawn it) to run, stop it through
/// its [`handle`](Server::handle) or with Ctrl-C.
///
/// # Errors
/// An I/O error of the listener.
pub fn server(listener: std::net::TcpListener, state: AppState) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(api::MAX_BODY_BYTES))
            .configure(routes)
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// The caller, from a verified `Authorization: Bearer` access token of a
/// live session; rejects with 401 (or 503 if the store fails).
pub struct Authenticated(pub User);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let header = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
            state.authenticate(header).await.map(Self)
        })
    }
}

/// The CSRF guard of the cookie routes: rejects with 403 unless the
/// browser says the request comes from this origin.
pub struct SameOrigin;

impl FromRequest for SameOrigin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(same_origin(req).map(|()| Self))
    }
}

fn same_origin(req: &HttpRequest) -> Result<(), ApiError> {
    let state = app_state(req)?;
    let headers: jwt_rotate::RequestHeaders<'_> = req
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    // HTTP/2 carries the host in the URI instead of a header.
    let authority = req.uri().authority().map(|a| a.as_str().as_bytes());
    state.check_same_origin(&headers.with_authority(authority))
}

/// The client's address: the peer, or behind a trusted proxy the address
/// it forwarded.
pub struct Client(pub Option<std::net::IpAddr>);

impl FromRequest for Client {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(app_state(req).map(|state| {
            let peer = req.peer_addr().map(|addr| addr.ip());
            let forwarded = req.headers().get_all("x-forwarded-for");
            Self(state.client_address(peer, forwarded.map(|v| v.as_bytes())))
        }))
    }
}

/// A request body of at most [`api::MAX_BODY_BYTES`] (set with
/// `PayloadConfig`): larger ones are refused with the JSON 413 both
/// servers give.
pub struct Body(pub web::Bytes);

impl FromRequest for Body {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            match bytes.await {
                Ok(bytes) => Ok(Self(bytes)),
                Err(err)
                    if err.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    Err(ApiError::payload_too_large())
                }
                Err(_) => Err(ApiError::bad_request()),
            }
        })
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        for header in self.headers() {
            response.append_header(header);
        }
        response.json(self.body())
    }
}

impl Responder for Issued {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((SET_COOKIE, self.set_cookie.expose_secret()))
            // Token responses must not be cached (RFC 6749 §5.1).
            .insert_header((CACHE_CONTROL, "no-store"))
            .json(self.body)
    }
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("AppState is not registered"))
}

/// The request's `Cookie` header values (HTTP/2 may send several).
fn cookies(req: &HttpRequest) -> Vec<&[u8]> {
    req.headers()
        .get_all(COOKIE)
        .map(|v| v.as_bytes())
        .collect()
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

async fn login(
    _: SameOrigin,
    state: web::Data<AppState>,
    Client(client): Client,
    req: HttpRequest,
    Body(body): Body,
) -> Result<Issued, ApiError> {
    let agent = req.headers().get(USER_AGENT).map(|v| v.as_bytes());
    let info = demo::session_info(agent, client);
    state.login(&body, info, client, &cookies(&req)).await
}

async fn refresh(
    _: SameOrigin,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<Issued, ApiError> {
    state.refresh(&cookies(&req)).await
}

async fn logout(
    _: SameOrigin,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let clear = state.logout(&cookies(&req)).await?;
    Ok(HttpResponse::NoContent()
        .insert_header((SET_COOKIE, clear))
        .finish())
}

async fn logout_others(
    state: web::Data<AppState>,
    Authenticated(user): Authenticated,
) -> Result<web::Json<api::RevokedBody>, ApiError> {
    state.logout_others(&user).await.map(web::Json)
}

async fn change_password(
    state: web::Data<AppState>,
    Authenticated(user): Authenticated,
    Client(client): Client,
    Body(body): Body,
) -> Result<web::Json<api::RevokedBody>, ApiError> {
    state
        .change_password(&user, &body, client)
        .await
        .map(web::Json)
}

async fn me(
    state: web::Data<AppState>,
    Authenticated(user): Authenticated,
) -> web::Json<api::MeBody> {
    web::Json(state.me(&user))
}

async fn sessions(
    state: web::Data<AppState>,
    Authenticated(user): Authenticated,
) -> Result<web::Json<Vec<api::SessionBody>>, ApiError> {
    state.sessions(&user).await.map(web::Json)
}

async fn revoke_session(
    state: web::Data<AppState>,
    Authenticated(user): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.revoke_session(&user, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
