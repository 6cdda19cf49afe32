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
//! # Where to start, for a web app
//!
//! 1. **Pick a store** by how you run ([`store`] has them all): one
//!    process that may log everyone out on restart, [`MemoryStore`]; one
//!    host without a database server, `SqliteStore` (feature `sqlite`);
//!    several instances, `PostgresStore` (`postgres`), `MySqlStore`
//!    (`mysql`) or `RedisStore` (`redis`). Run the SQL stores'
//!    `migrate()` once at start-up.
//! 2. **Build one [`TokenService`]** at start-up with
//!    [`TokenService::builder`]: issuer, audience, two different keys
//!    (an asymmetric access key, e.g. [`Key::ed25519_pem`], lets other
//!    services verify with [`TokenService::jwks`]).
//! 3. **Log in**: after checking the password, [`TokenService::issue`].
//!    Send the access token in the body; put the refresh token in an
//!    `HttpOnly` cookie with [`RefreshCookie`], which writes and reads it
//!    framework-neutrally (`Secure`, `SameSite=Strict`, `Path=/auth`).
//! 4. **Guard cookie routes against CSRF**: refresh and logout authenticate
//!    by cookie, so refuse cross-site requests (`Sec-Fetch-Site`, else an
//!    `Origin` equal to your own scheme, host and port).
//! 5. **On every request**: [`TokenService::verify`] (no store access) or
//!    [`TokenService::verify_live`] (one store read; a logout takes effect
//!    at once).
//! 6. **Refresh, log out, list devices**: [`TokenService::refresh`],
//!    [`TokenService::revoke`], [`TokenService::sessions`]; answer errors
//!    by [`Error::class`]: 401, 503 with `Retry-After`, or 500.
//!
//! A resource server that only checks access tokens runs a [`Verifier`]
//! with the auth server's public keys, and, given a store's
//! [`RevocationFeed`](store::RevocationFeed), refuses revoked sessions
//! without a store read per request.
//!
//! The demo servers (`cargo run -p axum-demo`, `cargo run -p actix-demo`)
//! do all of this in a few hundred lines each, CSRF checks and cookie
//! handling included; copy from them.
//!
//! # Three doors
//!
//! - The crate root: what an application calls.
//! - [`store`]: what a store implementer needs (the [`RefreshStore`]
//!   contract, records, hashes, [`StoreError`]) and the backends.
//! - `testing` (feature `testing`): the conformance suite every store
//!   passes, and `FaultyStore` for testing what happens when a store fails.
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
//! anything; [`Error::class`] tells "401, log in again" from "try later"
//! and from "our fault". When the rotation itself failed, it may still have
//! been written (a lost answer): [`Error::RotationInDoubt`] then carries a
//! token to retry with, which gets the successor for up to
//! `outage_tolerance` (5 minutes), so an outage does not log anyone out.
//!
//! # Features
//! - `aws-lc-rs` (default): jsonwebtoken's aws-lc-rs crypto backend.
//! - `rust-crypto`: the pure-Rust backend instead. With both on, aws-lc-rs
//!   is used; the crate installs its backend itself, so feature unification
//!   never causes jsonwebtoken's "no provider" panic.
//! - `testing`: the `testing` module: the conformance suite every store
//!   must pass, for authors of stores for other databases, and
//!   `FaultyStore`. (`conformance` is its old name, kept for one release.)
//! - `oauth`: the `oauth` module, the OAuth 2.0 refresh-token grant,
//!   revocation (RFC 7009) and introspection (RFC 7662), framework-neutral,
//!   and the `AuthFlow` routes over them (`oauth_token`, `oauth_revoke`,
//!   `oauth_introspect`).
//! - `sqlite`: `SqliteStore`, sessions in a SQLite file (sqlx, SQLite
//!   bundled).
//! - `postgres`: `PostgresStore`, sessions in PostgreSQL (sqlx).
//! - `mysql`: `MySqlStore`, sessions in MySQL 8.0.16+ or MariaDB 10.6+
//!   (sqlx).
//! - `redis`: `RedisStore`, sessions in Redis (the `redis` crate,
//!   re-exported), one Lua script per atomic operation.
//! - `revocation-feed`: `Verifier::follow`, the tokio task that keeps a
//!   [`Verifier`]'s revocation view current.
//! - `jwks-fetch`: `HttpJwks` and `VerifierBuilder::jwks_url`, a
//!   [`Verifier`]'s keys from a JWKS URL (reqwest over rustls).
//! - `redis-cluster`: `RedisStore` over Redis Cluster as well
//!   (`RedisStoreBuilder::connect_cluster`).
//!
//! With either SQL feature the crate re-exports `sqlx`, for building the
//! pool a store can be given.
//!
//! [`RefreshStore`]: store::RefreshStore
//! [`RefreshStore::rotate`]: store::RefreshStore::rotate
//! [`StoreError`]: store::StoreError
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod cookie;
mod error;
#[cfg(feature = "oauth")]
pub mod oauth;
mod secret;
mod service;
mod session;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod token;
mod verifier;
pub mod web;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cookie::{
    CookieError, CookieSecurity, InvalidOrigin, Origin, RefreshCookie, RefreshCookieBuilder,
    RequestHeaders, SameSite, Scheme, SetCookie,
};
pub use error::{ConfigError, Denied, DpopProblem, Error, ErrorClass};
pub use jsonwebtoken::Algorithm;
pub use jsonwebtoken::jwk::{Jwk, JwkSet};
/// The `redis` crate this crate was built with, for making the
/// `ConnectionManager` a [`RedisStore`](store::RedisStore) can be given.
#[cfg(feature = "redis")]
pub use redis;
pub use secret::{AccessToken, RefreshToken};
#[cfg(feature = "tokio")]
pub use service::PurgeTask;
pub use service::{
    AuthRequirement, Event, Hooks, IssueOptions, NoHooks, RefreshContext, SessionLimitMode,
    TokenService, TokenServiceBuilder,
};
pub use session::{
    AuthContext, LastSeen, ParseSessionIdError, RevocationReason, SessionId, SessionInfo,
    SessionView,
};
/// The sqlx crate the SQL stores are built on (features `sqlite`,
/// `postgres`, `mysql`), to build pools of the matching version.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use sqlx;
pub use store::MemoryStore;
/// The `time` crate this API takes and returns (`Duration`,
/// `OffsetDateTime`), so an app needs no version of its own to match.
pub use time;
pub use token::{
    AccessClaims, AppClaims, Dpop, DpopBuilder, DpopNonces, DpopProof, DpopReplayCache,
    DpopRequest, Jkt, Key, MemoryReplayCache, NoClaims, Replay, ReplayKey, StoreReplayCache,
    TokenPair,
};
#[cfg(feature = "jwks-fetch")]
pub use verifier::HttpJwks;
pub use verifier::{JwksSource, RevocationStatus, Verifier, VerifierBuilder};

/// The testing API's old name; use [`testing`] instead.
#[cfg(feature = "testing")]
#[deprecated(note = "renamed to `jwt_rotate::testing`; this alias goes in the next release")]
pub mod conformance {
    pub use crate::testing::*;
}
