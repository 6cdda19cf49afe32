//! Responses: [`AuthError`] and [`AuthReply`], the library's
//! [`HttpError`] and [`Reply`] as axum responses.

use axum::Json;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jwt_rotate::web::{HttpError, Reply};
use jwt_rotate::{CookieError, Error};

/// A failed request, answered as [`HttpError`] says: status,
/// `{"error": code}`, `WWW-Authenticate`, `Retry-After`, cookie changes.
///
/// Handlers can return `Result<_, AuthError>` and use `?` on the library's
/// errors:
///
/// ```
/// use axum::Json;
/// use jwt_rotate::{MemoryStore, TokenService};
/// use jwt_rotate_axum::{AuthError, Authenticated};
///
/// async fn devices(
///     Authenticated(me): Authenticated,
///     service: axum::extract::State<TokenService<MemoryStore>>,
/// ) -> Result<Json<usize>, AuthError> {
///     Ok(Json(service.sessions(&me.sub).await?.len()))
/// }
/// ```
#[derive(Debug)]
pub struct AuthError(pub HttpError);

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        AuthReply(self.0.reply()).into_response()
    }
}

impl From<HttpError> for AuthError {
    fn from(err: HttpError) -> Self {
        Self(err)
    }
}

impl From<Error> for AuthError {
    fn from(err: Error) -> Self {
        Self(err.into())
    }
}

impl From<CookieError> for AuthError {
    fn from(err: CookieError) -> Self {
        Self(err.into())
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// A route's [`Reply`] as an axum response. A header value that is not
/// valid in HTTP (never one the library makes) makes the answer a 500.
#[derive(Debug)]
pub struct AuthReply(pub Reply);

impl IntoResponse for AuthReply {
    fn into_response(self) -> Response {
        let Reply {
            status,
            headers,
            body,
            ..
        } = self.0;
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, body).into_response();
        let map = response.headers_mut();
        if !map.is_empty() {
            // The String body's text/plain: the reply says its own type.
            map.remove(CONTENT_TYPE);
        }
        for (name, value) in headers {
            match HeaderValue::try_from(value) {
                Ok(value) => {
                    map.append(HeaderName::from_static(name), value);
                }
                Err(_) => {
                    let error = HttpError::internal("a reply header is not a header value");
                    return (StatusCode::INTERNAL_SERVER_ERROR, Json(error.body())).into_response();
                }
            }
        }
        response
    }
}

/// The route's answer, or its error's.
pub(crate) fn respond(result: Result<Reply, HttpError>) -> Response {
    match result {
        Ok(reply) => AuthReply(reply).into_response(),
        Err(err) => AuthError(err).into_response(),
    }
}
