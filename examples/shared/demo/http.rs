//! The HTTP side both servers share, free of any framework: the demo's own
//! bodies and errors, and the static page. The session routes' errors and
//! bodies are the library's (`jwt_rotate::web`).

use jwt_rotate::CookieError;
use jwt_rotate::web::{CredentialsError, ErrorBody, HttpError, Throttled};
pub use jwt_rotate::web::{MAX_BODY_BYTES, RevokedBody, SessionBody, TokenBody};
use serde::{Deserialize, Serialize};

/// The page, served at `/`.
pub const INDEX_HTML: &str = include_str!("../../web/index.html");
/// The page's script, served at `/app.js`.
pub const APP_JS: &str = include_str!("../../web/app.js");
/// The page's policy: scripts from this origin only, so an injected inline
/// script cannot read the access token held in the page's memory.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     connect-src 'self'; style-src 'unsafe-inline'; form-action 'none'; \
     frame-ancestors 'none'; base-uri 'none'";

/// `POST /auth/login` body.
#[derive(Deserialize)]
pub struct LoginRequest {
    /// The account name.
    pub username: String,
    /// Its password.
    pub password: String,
}

/// `POST /auth/password` body.
#[derive(Deserialize)]
pub struct PasswordRequest {
    /// The password now.
    pub current_password: String,
    /// The password to set.
    pub new_password: String,
}

/// `GET /me`.
#[derive(Serialize)]
pub struct MeBody {
    /// The user.
    pub sub: String,
    /// The session (device) the access token belongs to.
    pub sid: String,
    /// When the access token expires, in Unix seconds.
    pub exp: i64,
}

/// The current password given to a password change is wrong.
pub fn wrong_password() -> ApiError {
    ApiError(HttpError::app(403, "invalid_credentials"))
}

/// The new password is too short or too long.
pub fn weak_password() -> ApiError {
    ApiError(HttpError::app(400, "weak_password"))
}

/// Every password-hashing slot and queue place is taken.
pub fn busy() -> ApiError {
    CredentialsError::Busy.into()
}

/// The request came from another site (CSRF check).
pub fn cross_site() -> ApiError {
    CookieError::CrossSite.into()
}

/// The library's [`HttpError`], as a type of this crate so that each
/// server can implement its framework's response trait for it.
#[derive(Debug)]
pub struct ApiError(pub HttpError);

impl ApiError {
    /// 400 `invalid_request`.
    pub fn bad_request() -> Self {
        Self(HttpError::bad_request())
    }
    /// 401 `invalid_credentials`.
    pub fn invalid_credentials() -> Self {
        Self(HttpError::invalid_credentials())
    }
    /// 404 `not_found`.
    pub fn not_found() -> Self {
        Self(HttpError::not_found())
    }
    /// 405 `method_not_allowed`.
    pub fn method_not_allowed() -> Self {
        Self(HttpError::method_not_allowed())
    }
    /// 413 `payload_too_large`.
    pub fn payload_too_large() -> Self {
        Self(HttpError::payload_too_large())
    }
    /// 500 `server_error`.
    pub fn internal(what: &'static str) -> Self {
        Self(HttpError::internal(what))
    }
    /// See [`HttpError::clearing_cookie`].
    pub fn clearing_cookie(self, clear: String) -> Self {
        Self(self.0.clearing_cookie(clear))
    }
    /// See [`HttpError::replacing_cookie`].
    pub fn replacing_cookie(self, set: jwt_rotate::SetCookie) -> Self {
        Self(self.0.replacing_cookie(set))
    }
    /// See [`HttpError::status`].
    pub fn status(&self) -> u16 {
        self.0.status()
    }
    /// See [`HttpError::code`].
    pub fn code(&self) -> &'static str {
        self.0.code()
    }
    /// See [`HttpError::body`].
    pub fn body(&self) -> ErrorBody {
        self.0.body()
    }
    /// See [`HttpError::headers`].
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        self.0.headers()
    }
}

impl<E: Into<HttpError>> From<E> for ApiError {
    fn from(err: E) -> Self {
        Self(err.into())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The token of an `Authorization: Bearer` header value.
///
/// # Errors
/// 401 `missing_token`.
pub fn bearer_token(authorization: Option<&[u8]>) -> Result<&str, ApiError> {
    Ok(jwt_rotate::web::bearer_token(authorization)?)
}

/// A guess refused by the throttle: 429.
pub fn too_many_attempts(throttled: Throttled) -> ApiError {
    throttled.into()
}
