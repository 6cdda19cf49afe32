//! [`TokenRules`]: the few settings the token formats depend on.

use time::Duration;

/// What signing and verifying tokens needs to know, and nothing more: the
/// token layer never sees the service's settings (session lifetimes, grace
/// window, limits), so it can serve a resource server's verifier as well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenRules {
    /// The `iss` written and the only one accepted.
    pub(crate) issuer: String,
    /// The `aud` written and the only one accepted.
    pub(crate) audience: String,
    /// An access token's lifetime, and the longest `exp - iat` accepted.
    pub(crate) access_ttl: Duration,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub(crate) leeway: Duration,
    /// Tokens longer than this are refused before any decoding.
    pub(crate) max_token_bytes: usize,
}
