//! Secure long-lived sessions for Rust web services.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod access;
mod builder;
mod clock;
mod error;
mod hooks;
mod jws;
mod keys;
mod pair;
mod refresh;
mod service;
mod session;
mod store;

pub use access::{AccessClaims, NoClaims};
pub use builder::TokenServiceBuilder;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ConfigError, Denied, Error, ErrorClass, StoreError, StoreErrorKind};
pub use hooks::{Event, Hooks, NoHooks, RefreshContext};
pub use jsonwebtoken::jwk::JwkSet;
pub use keys::Key;
pub use pair::{AccessToken, RefreshToken, TokenPair};
pub use refresh::{SecretHash, WrappedSecret};
pub use service::TokenService;
pub use session::{
    GraceData, ParseReasonError, ParseSessionIdError, Revocation, RevocationReason, SessionId,
    SessionInfo, SessionRecord, SessionView,
};
#[cfg(feature = "conformance")]
pub use store::conformance;
pub use store::{Expected, MemoryStore, RefreshStore, Rotation};
