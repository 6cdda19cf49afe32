//! [`DpopProblem`]: why a DPoP proof (RFC 9449) was refused.

use std::fmt;

/// Why a DPoP proof was refused: the reason inside
/// [`Error::InvalidDpopProof`](crate::Error::InvalidDpopProof).
///
/// For the server's logs; the client only learns `invalid_dpop_proof`.
/// None of these revokes anything: a bad proof proves nothing about who
/// holds the refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DpopProblem {
    /// Longer than the configured `max_proof_bytes`; nothing was decoded.
    TooLarge,
    /// Not a compact JWS, not strict base64url, not a JSON object, a
    /// duplicate member, or a header parameter we refuse (`crit`).
    Malformed,
    /// The header's `typ` is not `dpop+jwt`.
    Type,
    /// `alg` is missing, `none`, symmetric, not accepted by the rules, or
    /// does not fit the key in `jwk`.
    Algorithm,
    /// The `jwk` header is missing, holds private key material, or is not a
    /// usable public key (type, curve, size, encoding).
    Key,
    /// The signature is not the `jwk` key's signature of the proof.
    Signature,
    /// A required claim (`jti`, `htm`, `htu`, `iat`) is missing or empty
    /// (one of the wrong JSON type is [`Malformed`](Self::Malformed)).
    Claim,
    /// `htm` is not the request's method.
    Method,
    /// `htu` is not the request's URL (compared without query and
    /// fragment, after normalization).
    Url,
    /// `iat` is older than the accepted window.
    Stale,
    /// `iat` lies further in the future than the accepted leeway.
    Future,
    /// A proof with this `jti` (by this key) was already accepted.
    Replayed,
    /// `ath` is missing, or is not the hash of the access token presented
    /// with the proof.
    AccessTokenHash,
    /// The proof is signed by another key than the one the token or
    /// session is bound to.
    KeyMismatch,
}

impl DpopProblem {
    /// Every problem, for tables and tests.
    pub const ALL: [DpopProblem; 14] = [
        Self::TooLarge,
        Self::Malformed,
        Self::Type,
        Self::Algorithm,
        Self::Key,
        Self::Signature,
        Self::Claim,
        Self::Method,
        Self::Url,
        Self::Stale,
        Self::Future,
        Self::Replayed,
        Self::AccessTokenHash,
        Self::KeyMismatch,
    ];

    /// A short fixed description, safe to log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooLarge => "larger than the size limit",
            Self::Malformed => "malformed",
            Self::Type => "typ is not dpop+jwt",
            Self::Algorithm => "algorithm refused",
            Self::Key => "jwk is not an acceptable public key",
            Self::Signature => "invalid signature",
            Self::Claim => "a required claim is missing or invalid",
            Self::Method => "htm does not match the request",
            Self::Url => "htu does not match the request",
            Self::Stale => "iat too old",
            Self::Future => "iat in the future",
            Self::Replayed => "jti already used",
            Self::AccessTokenHash => "ath missing or wrong",
            Self::KeyMismatch => "signed by another key than the bound one",
        }
    }
}

impl fmt::Display for DpopProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
