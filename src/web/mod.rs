//! Framework-neutral HTTP session routes: the logic that the framework
//! crates (`jwt-rotate-axum`, `jwt-rotate-actix`) and hand-written
//! integrations share.
//!
//! - [`AuthFlow`]: login (with the app's [`Credentials`]), refresh by
//!   cookie, logout, log out the other devices, the device list and the
//!   JWKS, each as one method from request headers to a [`Reply`];
//! - [`HttpError`]: every failure as one answer: 401, 403, 429, 500 or 503,
//!   `WWW-Authenticate: Bearer error=...`, `Retry-After`, and the cookie
//!   deleted when its token is dead;
//! - DPoP (RFC 9449): a `DPoP` header on login binds the session to the
//!   proof's key; then refresh needs a proof by it, and protected routes
//!   take `Authorization: DPoP` ([`dpop_token`]) with a proof; a refused
//!   proof is 401 `WWW-Authenticate: DPoP error="invalid_dpop_proof"` (or
//!   `use_dpop_nonce` and a `DPoP-Nonce`), and keeps the cookie;
//! - [`LoginThrottle`]: password guesses counted per user and per address
//!   (in this process's memory);
//! - [`TrustedProxies`]: which `X-Forwarded-For` to believe;
//! - the JSON bodies ([`TokenBody`], [`SessionBody`], ...).
//!
//! The CSRF check lives with the cookie it protects:
//! [`RefreshCookie::check_same_origin`](crate::RefreshCookie::check_same_origin).
//!
//! # The routes
//!
//! | Route | Answer |
//! |---|---|
//! | `POST /auth/login` `{username, password[, client: "native"]}` | `{access_token, token_type, expires_in[, refresh_token]}` + cookie |
//! | `POST /auth/refresh` (cookie) | the same, cookie rotated |
//! | `POST /auth/logout` (cookie) | 204, cookie deleted |
//! | `POST /auth/logout-others` (Bearer) | `{revoked}` |
//! | `GET /sessions` (Bearer) | `[{id, current, user_agent, ip, created_at, refreshed_at, expires_at}]` |
//! | `DELETE /sessions/{id}` (Bearer) | 204 |
//! | `GET /.well-known/jwks.json` | the public access keys |
//! | `POST /oauth/token`, `/oauth/revoke`, `/oauth/introspect` (feature `oauth`) | RFC 6749 section 6, RFC 7009, RFC 7662 |
//!
//! Errors are `{"error": code}` with [`HttpError::status`].

mod body;
mod client;
mod credentials;
mod dpop;
mod error;
mod flow;
mod flow_builder;
#[cfg(feature = "oauth")]
mod oauth;
mod reply;
mod throttle;
mod verification;

pub use body::{ClientKind, ErrorBody, LoginRequest, RevokedBody, SessionBody, TokenBody};
pub use client::{InvalidProxy, TrustedProxies, session_info};
pub use credentials::{Credentials, CredentialsError, Login};
pub use dpop::dpop_token;
pub use error::{HttpError, bearer_token};
pub use flow::{AuthFlow, MAX_BODY_BYTES, MAX_USERNAME_BYTES};
pub use flow_builder::AuthFlowBuilder;
pub use reply::Reply;
pub use throttle::{LoginThrottle, Rate, ThrottleLimits, Throttled, Ticket};
pub use verification::Verification;
