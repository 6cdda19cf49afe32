#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod extract;
mod oauth;
mod response;
mod routes;

pub use extract::{Authenticated, Extracting, MaybeAuthenticated};
/// The library, for its types without a second dependency line.
pub use jwt_rotate;
pub use response::{AuthError, AuthReply};
pub use routes::JwtAuth;
