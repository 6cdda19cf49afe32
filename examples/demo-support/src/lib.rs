//! What the axum and actix-web demo servers share, free of any framework:
//! the demo's accounts and argon2 password hashing ([`DemoCredentials`],
//! the login's check for `jwt_rotate::web::AuthFlow`), its configuration
//! from the environment ([`Config`]), the password change and `/me`
//! ([`AppState`]), and the page. The session routes themselves are the
//! framework crates' (`jwt-rotate-axum`, `jwt-rotate-actix`).
//!
//! With the feature `testing`, [`testing`] holds the HTTP and browser
//! scenarios both servers' tests run.

mod config;
mod credentials;
pub mod hashing;
pub mod http;
mod passwords;
mod signing;
mod state;
mod stores;
#[cfg(feature = "testing")]
// Test scenarios, named for what they check: their names are their docs.
#[allow(missing_docs)]
pub mod testing;
pub mod users;

pub use config::{Config, EnvError};
pub use credentials::DemoCredentials;
pub use signing::Signing;
pub use state::{AppState, Store, User};
pub use stores::{open_store, sqlite_store};
