//! Responses: [`AuthError`] and [`AuthReply`], the library's
//! [`HttpError`] and [`Reply`] as actix-web responses.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use jwt_rotate::web::{HttpError, Reply};
use jwt_rotate::{CookieError, Error};

/// A failed request, answered as [`HttpError`] says: status,
/// `{"error": code}`, `WWW-Authenticate`, `Retry-After`, cookie changes.
///
/// It is actix-web's [`ResponseError`], so handlers can return
/// `Result<_, AuthError>` and use `?` on the library's errors:
///
/// ```
/// use actix_web::web;
/// use jwt_rotate::{MemoryStore, TokenService};
/// use jwt_rotate_actix::{AuthError, Authenticated};
///
/// async fn devices(
///     Authenticated(me): Authenticated,
///     service: web::Data<TokenService<MemoryStore>>,
/// ) -> Result<web::Json<usize>, AuthError> {
///     Ok(web::Json(service.sessions(&me.sub).await?.len()))
/// }
/// ```
#[derive(Debug)]
pub struct AuthError(pub HttpError);

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        status(self.0.status())
    }

    fn error_response(&self) -> HttpResponse {
        response(self.0.reply())
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

/// A route's [`Reply`] as an actix-web response. A header value that is
/// not valid in HTTP (never one the library makes) makes the answer a 500.
#[derive(Debug)]
pub struct AuthReply(pub Reply);

impl Responder for AuthReply {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        response(self.0)
    }
}

/// The HTTP response of `reply`.
fn response(reply: Reply) -> HttpResponse {
    let Reply {
        status: code,
        headers,
        body,
        ..
    } = reply;
    let mut response = HttpResponse::with_body(status(code), BoxBody::new(body));
    let map = response.headers_mut();
    for (name, value) in headers {
        let Ok(value) = HeaderValue::try_from(value) else {
            let error = HttpError::internal("a reply header is not a header value");
            return HttpResponse::InternalServerError().json(error.body());
        };
        map.append(HeaderName::from_static(name), value);
    }
    response
}

/// `code` as a status; anything outside 100..=999 (never made by the
/// library) as 500.
fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;
    use jwt_rotate::CookieError;

    use super::*;

    #[actix_web::test]
    async fn a_reply_keeps_its_status_every_header_and_its_body() {
        let reply = Reply::json(200, &serde_json::json!({"ok": true}))
            .with_header("set-cookie", "a=1")
            .with_header("set-cookie", "b=2");
        let response = response(reply);
        assert_eq!(response.status(), StatusCode::OK);
        let cookies: Vec<_> = response.headers().get_all("set-cookie").collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/json"
        );
        let body = to_bytes(response.into_body()).await.unwrap();
        assert_eq!(body, r#"{"ok":true}"#);
    }

    #[actix_web::test]
    async fn a_header_value_http_refuses_is_a_500_not_a_panic() {
        let reply = Reply::empty(204).with_header("set-cookie", "a=1\r\nx: y");
        let response = response(reply);
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().get("set-cookie").is_none());
        let body = to_bytes(response.into_body()).await.unwrap();
        assert_eq!(body, r#"{"error":"server_error"}"#);
    }

    #[test]
    fn an_error_answers_with_its_status_code_and_headers() {
        let error = AuthError::from(CookieError::CrossSite);
        assert_eq!(error.status_code(), StatusCode::FORBIDDEN);
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
        assert_eq!(error.to_string(), "cross_site_request");
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn statuses_outside_http_become_500() {
        assert_eq!(status(42), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(status(429), StatusCode::TOO_MANY_REQUESTS);
    }
}
