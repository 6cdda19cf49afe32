//! Sessions (token families): ids, the stored record, what apps may show,
//! and the secret hashes a store keeps instead of tokens.
//!
//! This layer knows no token format and no key: the store contract above
//! it depends only on these types.

mod auth;
mod id;
mod jkt;
mod record;
mod revocation;
mod secret;

pub use auth::{AuthContext, LastSeen};
pub use id::{ParseSessionIdError, SessionId};
pub use jkt::Jkt;
pub use record::{GraceData, SessionInfo, SessionRecord, SessionView};
pub use revocation::{ParseReasonError, Revocation, RevocationReason};
pub use secret::{SecretHash, WrappedSecret};
