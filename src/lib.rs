//! Secure, long-lived sessions for Rust web services: short-lived JWT
//! access tokens, refresh tokens that rotate on every use, reuse detection
//! that revokes a stolen token's whole family, and storage behind one small
//! async trait.
//!
//! ```
//! use jwt_rotate::{Error, Key, MemoryStore, NoClaims, SessionInfo, TokenService};
//! use time::Duration;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let service = TokenService::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("api.example.com")
//!     .access_ttl(Duration::minutes(15))
//!     .refresh_ttl(Duration::days(7))     // idle lifetime
//!     .session_ttl(Duration::days(30))    // absolute lifetime
//!     .access_key(Key::hs256(b"an access secret of at least 32 bytes")?)
//!     .refresh_key(Key::hs256(b"another secret, for refresh tokens!!")?)
//!     .build(MemoryStore::new())?;
//!
//! // After the app checked the password:
//! let login = service.issue("user-42", NoClaims {}, SessionInfo::default()).await?;
//! // On every API call, without touching the store:
//! let claims = service.verify(&login.access_token)?;
//! assert_eq!(claims.sub, "user-42");
//! // When the access token expires: rotate.
//! let next = service.refresh(&login.refresh_token).await?;
//! // A thief replaying the spent token (after the grace window) kills the session.
//! # let _ = next;
//! # Ok::<(), Error>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What happens on refresh
//!
//! The refresh token is a JWS signed with its own key (`typ: rt+jwt`)
//! carrying the session id, its generation and a 32-byte random secret; the
//! store keeps only the secret's SHA-256. A forged, garbled or expired token
//! is refused before the store is touched. A genuine one is spent by one
//! compare-and-swap ([`RefreshStore::rotate`]). Only when that fails is the
//! session read, to tell apart:
//! - the previous generation inside the grace window (a lost response, two
//!   tabs): it gets the *same* successor back, unwrapped from the record
//!   without ever storing it in plaintext;
//! - any other old generation: **reuse**, the session is revoked
//!   ([`Error::ReuseDetected`]);
//! - a revoked or expired session: [`Error::SessionRevoked`],
//!   [`Error::SessionExpired`].
//!
//! A store failure is reported as [`Error::Store`] and never revokes
//! anything; [`Error::class`] tells "401, log in again" from "try later".
//!
//! # Features
//! - `aws-lc-rs` (default): jsonwebtoken's aws-lc-rs crypto backend.
//! - `rust-crypto`: the pure-Rust backend instead. With both on, aws-lc-rs
//!   is used; the crate installs its backend itself, so feature unification
//!   never causes jsonwebtoken's "no provider" panic.
//! - `conformance`: the public `conformance` module, the suite every store
//!   must pass, for authors of stores for other databases.
//! - `sqlite`: [`SqliteStore`], sessions in a SQLite file (sqlx, SQLite
//!   bundled).
//! - `postgres`: [`PostgresStore`], sessions in PostgreSQL (sqlx).
//! - `redis`: [`RedisStore`], sessions in Redis (the `redis` crate,
//!   re-exported), one Lua script per atomic operation.
//!
//! With either SQL feature the crate re-exports `sqlx`, for building the
//! pool a store can be given.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod clock;
mod cookie;
mod error;
mod service;
mod session;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod token;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cookie::{CookieError, CookieSecurity, RefreshCookie, RefreshCookieBuilder, SetCookie};
pub use error::{ConfigError, Denied, Error, ErrorClass};
pub use jsonwebtoken::Algorithm;
pub use jsonwebtoken::jwk::{Jwk, JwkSet};
/// The `redis` crate this crate was built with, for making the
/// `ConnectionManager` a [`RedisStore`](store::RedisStore) can be given.
#[cfg(feature = "redis")]
pub use redis;
pub use service::{Event, Hooks, NoHooks, RefreshContext, TokenService, TokenServiceBuilder};
pub use session::{ParseSessionIdError, RevocationReason, SessionId, SessionInfo, SessionView};
/// The sqlx crate the SQL stores are built on (features `sqlite`,
/// `postgres`), to build pools of the matching version.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sqlx;
pub use store::MemoryStore;
pub use token::{AccessClaims, AccessToken, AppClaims, Key, NoClaims, RefreshToken, TokenPair};

/// The testing API's name before 0.2; use [`testing`] instead.
#[cfg(feature = "testing")]
#[deprecated(since = "0.2.0", note = "renamed to `jwt_rotate::testing`")]
pub mod conformance {
    pub use crate::testing::*;
}
