//! The OAuth 2.0 endpoints a client speaks, framework-neutral (feature
//! `oauth`): the refresh-token grant of RFC 6749 section 6
//! ([`token_endpoint`], and [`token_endpoint_dpop`] for DPoP-bound
//! sessions, RFC 9449), token revocation, RFC 7009 ([`revocation_endpoint`]),
//! and token introspection, RFC 7662 ([`introspection_endpoint`], for an
//! authenticated caller, see [`IntrospectionClient`]).
//!
//! Each takes the request's `application/x-www-form-urlencoded` body as
//! bytes and returns an [`OAuthResponse`]: a status, the headers the RFCs
//! require (`Content-Type`, `Cache-Control: no-store`, `Pragma: no-cache`,
//! and `Retry-After` or `WWW-Authenticate` where they apply) and a JSON
//! body. Copy those three into your framework's response; nothing here
//! depends on one.
//!
//! ```
//! use jwt_rotate::oauth::token_endpoint;
//! use jwt_rotate::{Key, MemoryStore, NoClaims, SessionInfo, TokenService};
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let service = TokenService::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("api.example.com")
//!     .access_key(Key::hs256([1u8; 32])?)
//!     .refresh_key(Key::hs256([2u8; 32])?)
//!     .build(MemoryStore::new())?;
//! let login = service.issue("user-42", NoClaims {}, SessionInfo::default()).await?;
//!
//! // POST /oauth/token, as a native client sends it.
//! let body = format!("grant_type=refresh_token&refresh_token={}", login.refresh_token.expose_secret());
//! let response = token_endpoint(&service, body.as_bytes()).await;
//! assert_eq!(response.status, 200);
//! assert!(response.body.contains("\"token_type\":\"Bearer\""));
//! # Ok::<(), jwt_rotate::Error>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod form;
mod introspect;
mod response;
mod revoke;
mod token;

pub use client::{AuthenticatedClient, IntrospectionClient};
pub use introspect::introspection_endpoint;
pub use response::OAuthResponse;
pub use revoke::revocation_endpoint;
pub use token::{token_endpoint, token_endpoint_dpop};
