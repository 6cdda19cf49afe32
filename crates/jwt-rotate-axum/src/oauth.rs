//! The OAuth 2.0 routes (feature `oauth`): `POST /oauth/token`,
//! `POST /oauth/revoke` and `POST /oauth/introspect`, each the flow's
//! framework-neutral method behind the body limit.

use axum::Router;
#[cfg(feature = "oauth")]
use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, OriginalUri, State, rejection::BytesRejection},
    http::{HeaderMap, Method, Uri},
    response::{IntoResponse, Response},
    routing::post,
};
use jwt_rotate::AppClaims;
use jwt_rotate::store::RefreshStore;
use jwt_rotate::web::AuthFlow;
#[cfg(feature = "oauth")]
use jwt_rotate::web::{MAX_BODY_BYTES, Reply};

#[cfg(feature = "oauth")]
use crate::response::AuthReply;
#[cfg(feature = "oauth")]
use crate::routes::{Peer, request_headers};

/// The OAuth routes, each reading at most [`MAX_BODY_BYTES`]; a larger
/// body is 400 `invalid_request`, as RFC 6749 section 5.2 words it.
#[cfg(feature = "oauth")]
pub(crate) fn routes<S: RefreshStore, C: AppClaims>() -> Router<AuthFlow<S, C>> {
    Router::new()
        .route("/oauth/token", post(token::<S, C>))
        .route("/oauth/revoke", post(revoke::<S, C>))
        .route("/oauth/introspect", post(introspect::<S, C>))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Without the feature: none.
#[cfg(not(feature = "oauth"))]
pub(crate) fn routes<S: RefreshStore, C: AppClaims>() -> Router<AuthFlow<S, C>> {
    Router::new()
}

#[cfg(feature = "oauth")]
fn answer(reply: Reply) -> Response {
    AuthReply(reply).into_response()
}

#[cfg(feature = "oauth")]
async fn token<S: RefreshStore, C: AppClaims>(
    State(flow): State<AuthFlow<S, C>>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let headers = request_headers(&headers, &uri, &method);
    match body {
        Ok(body) => answer(flow.oauth_token(&headers, &body).await),
        Err(_) => answer(AuthFlow::<S, C>::oauth_unreadable_body()),
    }
}

#[cfg(feature = "oauth")]
async fn revoke<S: RefreshStore, C: AppClaims>(
    State(flow): State<AuthFlow<S, C>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match body {
        Ok(body) => answer(flow.oauth_revoke(&body).await),
        Err(_) => answer(AuthFlow::<S, C>::oauth_unreadable_body()),
    }
}

#[cfg(feature = "oauth")]
async fn introspect<S: RefreshStore, C: AppClaims>(
    State(flow): State<AuthFlow<S, C>>,
    Peer(peer): Peer,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let headers = request_headers(&headers, &uri, &method);
    match body {
        Ok(body) => answer(flow.oauth_introspect(&headers, peer, &body).await),
        Err(_) => answer(AuthFlow::<S, C>::oauth_unreadable_body()),
    }
}
