//! The HTTP side both servers share, free of any framework: the demo's own
//! bodies and errors, and the static page. The session routes' errors and
//! bodies are the library's (`jwt_rotate::web`), and so are the demo's
//! errors ([`HttpError`]), answered by each framework crate's `AuthError`.

use jwt_rotate::web::{CredentialsError, HttpError};
pub use jwt_rotate::web::{MAX_BODY_BYTES, RevokedBody};
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
pub fn wrong_password() -> HttpError {
    HttpError::app(403, "invalid_credentials")
}

/// The new password is too short or too long.
pub fn weak_password() -> HttpError {
    HttpError::app(400, "weak_password")
}

/// Every password-hashing slot and queue place is taken.
pub fn busy() -> HttpError {
    CredentialsError::Busy.into()
}
