//! Token formats: keys and their rings, compact JWS, access tokens,
//! refresh tokens and their secrets, DPoP proofs.
//!
//! Configured only by a narrow [`TokenRules`]; knows sessions by their id
//! and secret hashes, never the store or the service's policy.

pub(crate) mod access;
pub(crate) mod claims;
pub(crate) mod dpop;
pub(crate) mod json;
pub(crate) mod jwk;
pub(crate) mod jws;
mod key_load;
pub(crate) mod keys;
pub(crate) mod pair;
pub(crate) mod provider;
pub(crate) mod refresh;
pub(crate) mod ring;
pub(crate) mod rules;
pub(crate) mod scratch;
pub(crate) mod secret;

pub(crate) use access::ACCESS_TYP;
pub use access::AccessClaims;
pub use claims::{AppClaims, NoClaims};
pub use dpop::{
    Dpop, DpopBuilder, DpopNonces, DpopProof, DpopReplayCache, DpopRequest, Jkt, MemoryReplayCache,
    Replay, ReplayKey, StoreReplayCache,
};
pub use keys::Key;
pub use pair::TokenPair;
pub(crate) use refresh::REFRESH_TYP;
pub(crate) use ring::{KeyRing, check_kid};
pub(crate) use rules::TokenRules;
pub(crate) use secret::RefreshSecret;
