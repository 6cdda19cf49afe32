//! [`JwtAuth`]: the session routes as an axum `Router`, and the layer the
//! extractors read.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, OriginalUri, Path, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Extension, Router};
use jwt_rotate::store::RefreshStore;
use jwt_rotate::web::{AuthFlow, HttpError, MAX_BODY_BYTES};
use jwt_rotate::{AppClaims, NoClaims, PurgeTask, RequestHeaders};

use crate::extract::{Authenticated, Installed};
use crate::response::respond;

/// jwt-rotate for an axum app: [`routes`](Self::routes) gives the session
/// routes, [`layer`](Self::layer) lets [`Authenticated`] find the flow.
/// Cheap to clone.
///
/// ```
/// use axum::{Router, routing::get};
/// use jwt_rotate::web::{AuthFlow, CredentialsError, Login};
/// use jwt_rotate::{Key, MemoryStore, NoClaims, TokenService};
/// use jwt_rotate_axum::{Authenticated, JwtAuth};
///
/// let service = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .access_key(Key::hs256([1u8; 32])?)
///     .refresh_key(Key::hs256([2u8; 32])?)
///     .build(MemoryStore::new())?;
/// let flow = AuthFlow::builder(service)
///     .credentials(|user: String, password: String| async move {
///         let right = user == "alice" && password == "correct horse";
///         Ok::<_, CredentialsError>(right.then(|| Login::new(user, NoClaims {})))
///     })
///     .build()?;
/// let auth = JwtAuth::new(flow);
/// let app: Router = Router::new()
///     .route("/me", get(|Authenticated(me): Authenticated| async move { me.sub }))
///     .merge(auth.routes())
///     .layer(auth.layer());
/// # Ok::<(), jwt_rotate::Error>(())
/// ```
#[derive(Debug)]
pub struct JwtAuth<S, C = NoClaims> {
    flow: AuthFlow<S, C>,
}

impl<S, C> Clone for JwtAuth<S, C> {
    fn clone(&self) -> Self {
        Self {
            flow: self.flow.clone(),
        }
    }
}

impl<S: RefreshStore, C: AppClaims> JwtAuth<S, C> {
    /// Over `flow` (see [`AuthFlow::builder`]).
    pub fn new(flow: AuthFlow<S, C>) -> Self {
        Self { flow }
    }

    /// The flow: its service, cookie and throttle, for the app's own
    /// routes.
    pub fn flow(&self) -> &AuthFlow<S, C> {
        &self.flow
    }

    /// The session routes, for `Router::merge` or, under a prefix,
    /// `Router::nest` (then give the flow a cookie whose path covers the
    /// prefixed `/auth`):
    ///
    /// `POST /auth/login`, `POST /auth/refresh`, `POST /auth/logout`,
    /// `POST /auth/logout-others`, `GET /sessions`, `DELETE /sessions/{id}`,
    /// `GET /.well-known/jwks.json`. Login bodies over 16 KiB are 413.
    /// With the feature `oauth`, also `POST /oauth/token`,
    /// `POST /oauth/revoke` and `POST /oauth/introspect` (see
    /// `AuthFlow::oauth_token` and the next two; bodies over 16 KiB are
    /// 400 `invalid_request`).
    /// Login and refresh pass the `DPoP` header, the method and the URL
    /// the client used to the flow, which binds sessions to DPoP keys when
    /// its service takes DPoP.
    /// The routes find peers' addresses through `ConnectInfo<SocketAddr>`
    /// when the app is served with
    /// `into_make_service_with_connect_info::<SocketAddr>()`; without it the
    /// throttle counts every client as one unknown address.
    pub fn routes<St: Clone + Send + Sync + 'static>(&self) -> Router<St> {
        Router::new()
            .route(
                "/auth/login",
                post(login::<S, C>).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
            )
            .route("/auth/refresh", post(refresh::<S, C>))
            .route("/auth/logout", post(logout::<S, C>))
            .route("/auth/logout-others", post(logout_others::<S, C>))
            .route("/sessions", get(sessions::<S, C>))
            .route("/sessions/{id}", delete(revoke_session::<S, C>))
            .route("/.well-known/jwks.json", get(jwks::<S, C>))
            .merge(crate::oauth::routes::<S, C>())
            .layer(self.layer())
            .with_state(self.flow.clone())
    }

    /// The layer [`Authenticated`] reads the flow from: put it on the
    /// router (outermost), after every route that uses the extractor.
    pub fn layer(&self) -> Extension<impl Clone + Send + Sync + 'static> {
        Extension(Installed::<C>(Arc::new(self.flow.clone())))
    }

    /// Deletes dead sessions every `every` in the background (see
    /// [`TokenService::spawn_purge`](jwt_rotate::TokenService::spawn_purge)).
    ///
    /// # Errors
    /// [`jwt_rotate::Error::Config`] for a zero interval or outside a tokio
    /// runtime.
    pub fn spawn_purge(&self, every: std::time::Duration) -> Result<PurgeTask, jwt_rotate::Error> {
        self.flow.service().spawn_purge(every)
    }
}

/// The request's headers as the library reads them; the URI's authority
/// stands in for `Host` on HTTP/2. `uri` is the one the client sent
/// (`OriginalUri`, not the path left inside a `nest`): a DPoP proof names
/// it, with the method.
pub(crate) fn request_headers<'a>(
    headers: &'a HeaderMap,
    uri: &'a Uri,
    method: &'a Method,
) -> RequestHeaders<'a> {
    let headers: RequestHeaders<'a> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    headers
        .with_authority(uri.authority().map(|a| a.as_str().as_bytes()))
        .with_target(method.as_str(), uri.path())
}

/// A body of at most [`MAX_BODY_BYTES`], or the JSON 413/400.
struct Body(Bytes);

impl<St: Send + Sync> FromRequest<St> for Body {
    type Rejection = Response;

    async fn from_request(req: Request, state: &St) -> Result<Self, Response> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(respond(Err(HttpError::payload_too_large())))
            }
            Err(_) => Err(respond(Err(HttpError::bad_request()))),
        }
    }
}

/// The connection's peer, when the app is served with `ConnectInfo`.
pub(crate) struct Peer(pub(crate) Option<IpAddr>);

impl<St: Send + Sync> FromRequestParts<St> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Infallible> {
        let info = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(Self(info.map(|ConnectInfo(addr)| addr.ip())))
    }
}

async fn login<S: RefreshStore, C: AppClaims>(
    State(flow): State<AuthFlow<S, C>>,
    Peer(peer): Peer,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    Body(body): Body,
) -> Response {
    let headers = request_headers(&headers, &uri, &method);
    respond(flow.login(&headers, peer, &body).await)
}

async fn refresh<S: RefreshStore, C: AppClaims>(
    State(flow): State<AuthFlow<S, C>>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
) -> Response {
    respond(
        flow.refresh(&request_headers(&headers, &uri, &method))
            .await,
    )
}

async fn logout<S: RefreshStore, C: AppClaims>(
    State(flow): State<AuthFlow<S, C>>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
) -> Response {
    respond(flow.logout(&request_headers(&headers, &uri, &method)).await)
}

async fn logout_others<S: RefreshStore, C: AppClaims>(
    State(flow): State<AuthFlow<S, C>>,
    Authenticated(caller): Authenticated<C>,
) -> Response {
    respond(flow.logout_others(&caller).await)
}

async fn sessions<S: RefreshStore, C: AppClaims>(
    State(flow): State<AuthFlow<S, C>>,
    Authenticated(caller): Authenticated<C>,
) -> Response {
    respond(flow.sessions(&caller).await)
}

async fn revoke_session<S: RefreshStore, C: AppClaims>(
    State(flow): State<AuthFlow<S, C>>,
    Authenticated(caller): Authenticated<C>,
    Path(id): Path<String>,
) -> Response {
    respond(flow.revoke_session(&caller, &id).await)
}

async fn jwks<S: RefreshStore, C: AppClaims>(State(flow): State<AuthFlow<S, C>>) -> Response {
    respond(Ok(flow.jwks()))
}
