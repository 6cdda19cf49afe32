//! [`Verification`]: how the extractors of the framework crates check an
//! access token.

/// How an access token is checked for a protected route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Verification {
    /// [`TokenService::verify_live`](crate::TokenService::verify_live): signature, claims, and one store
    /// read, so a logout or a revoked device takes effect at once (the
    /// default).
    #[default]
    Live,
    /// [`TokenService::verify`](crate::TokenService::verify): signature and claims only, no store
    /// access; a revoked session's access tokens work until they expire.
    Signature,
}
