//! The crate's errors: [`Error`] for callers, [`StoreError`] for stores.

use std::borrow::Cow;
use std::error::Error as StdError;

use time::OffsetDateTime;

use crate::secret::RefreshToken;

mod challenge;
mod dpop;
mod store;
pub(crate) use challenge::quotable;
pub use dpop::DpopProblem;
pub use store::{StoreError, StoreErrorKind};

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything a [`TokenService`](crate::TokenService) call can fail with.
///
/// Token problems never carry attacker-controlled text: the reasons are fixed
/// strings, safe to log. Use [`Error::class`] to choose the HTTP answer and
/// [`Error::code`] for the body:
///
/// | variant | [`class`](Error::class) | HTTP | [`code`](Error::code) |
/// |---|---|---|---|
/// | [`Malformed`](Error::Malformed), [`InvalidSignature`](Error::InvalidSignature), [`InvalidClaim`](Error::InvalidClaim) | `Unauthorized` | 401 | `invalid_token` |
/// | [`Expired`](Error::Expired) | `Unauthorized` | 401 | `token_expired` |
/// | [`NotYetValid`](Error::NotYetValid) | `Unauthorized` | 401 | `token_not_yet_valid` |
/// | [`SessionRevoked`](Error::SessionRevoked) | `Unauthorized` | 401 | `session_revoked` |
/// | [`SessionExpired`](Error::SessionExpired) | `Unauthorized` | 401 | `session_expired` |
/// | [`ReuseDetected`](Error::ReuseDetected) | `Unauthorized` | 401 | `reuse_detected` |
/// | [`Denied`](Error::Denied) | `Unauthorized` | 401 (or 403) | `denied` |
/// | [`DpopRequired`](Error::DpopRequired) | `Unauthorized` | 401 | `dpop_required` |
/// | [`InvalidDpopProof`](Error::InvalidDpopProof) | `Unauthorized` | 401 | `invalid_dpop_proof` |
/// | [`UseDpopNonce`](Error::UseDpopNonce) | `Unauthorized` | 401 | `use_dpop_nonce` |
/// | [`InsufficientAuthentication`](Error::InsufficientAuthentication) | `Unauthorized` | 401 + [`challenge`](Error::challenge) | `insufficient_user_authentication` |
/// | [`SessionLimit`](Error::SessionLimit) | `Forbidden` | 403 | `session_limit` |
/// | [`DpopReplayCacheFull`](Error::DpopReplayCacheFull) | `TryLater` | 503 | `temporarily_unavailable` |
/// | [`RevocationsStale`](Error::RevocationsStale), [`KeysUnavailable`](Error::KeysUnavailable) | `TryLater` | 503 | `temporarily_unavailable` |
/// | [`Store`](Error::Store), [retryable](StoreError::is_retryable) | `TryLater` | 503 | `store_unavailable` |
/// | [`RotationInDoubt`](Error::RotationInDoubt) | `TryLater` | 503 | `store_unavailable` |
/// | [`Store`](Error::Store), not retryable | `Internal` | 500 | `server_error` |
/// | [`Config`](Error::Config), [`Claims`](Error::Claims) | `Internal` | 500 | `server_error` |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not a token we could parse: size, segments, base64, JSON, header.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The signature does not match, or names a key (`kid`) we do not hold.
    #[error("invalid token signature")]
    InvalidSignature,
    /// The token's `exp` has passed (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// The token's `nbf` or `iat` lies in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// A claim is missing or holds the wrong value.
    #[error("invalid claim `{claim}`: {problem}")]
    InvalidClaim {
        /// The claim's name, e.g. `"aud"`.
        claim: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The session was revoked (logout, reuse, password change...).
    #[error("session revoked")]
    SessionRevoked,
    /// The session outlived its idle or absolute lifetime, or was purged.
    #[error("session expired")]
    SessionExpired,
    /// An old refresh token was presented again: the session is now revoked.
    #[error("refresh token reuse detected; the session has been revoked")]
    ReuseDetected,
    /// The application's [`Hooks`](crate::Hooks) refused the refresh; the
    /// reason is the source.
    #[error("refresh denied")]
    Denied(#[from] Denied),
    /// The token is bound to a key (`cnf.jkt`, RFC 9449) but came without
    /// a DPoP proof, e.g. as a Bearer token.
    #[error("a DPoP proof is required")]
    DpopRequired,
    /// The DPoP proof was refused; the [`DpopProblem`] says why. Nothing was
    /// revoked: a bad proof says nothing about who holds the token.
    #[error("invalid DPoP proof: {0}")]
    InvalidDpopProof(DpopProblem),
    /// The server requires a DPoP nonce and the proof carried none, or a
    /// stale one: answer 401 with `WWW-Authenticate: DPoP
    /// error="use_dpop_nonce"` and `nonce` in a `DPoP-Nonce` header; the
    /// client signs a new proof with it.
    #[error("a fresh DPoP nonce is required")]
    UseDpopNonce {
        /// The nonce to send in the `DPoP-Nonce` header.
        nonce: String,
    },
    /// The DPoP replay cache is full of unexpired proof ids, so a proof
    /// cannot be checked for replay: refused rather than accepted
    /// unchecked. Answer 503; it empties as proofs age out.
    #[error("the DPoP replay cache is full")]
    DpopReplayCacheFull,
    /// A [`Verifier`](crate::Verifier)'s view of revocations is older than
    /// its `max_staleness` (or was never synced): it cannot tell whether
    /// the session was revoked, so it refuses rather than guess. Answer
    /// 503; nothing is known to be wrong with the token.
    #[error("the view of revoked sessions is too stale to verify")]
    RevocationsStale {
        /// When the view was last known to be current; `None` if never.
        last_synced: Option<OffsetDateTime>,
    },
    /// A [`Verifier`](crate::Verifier) holds no key with the token's `kid`
    /// and could not fetch the key set to look for it: nothing is known to
    /// be wrong with the token. Answer 503.
    #[error("the verifying keys could not be fetched")]
    KeysUnavailable(#[source] BoxError),
    /// The token is fine, but the user authenticated too long ago or not
    /// strongly enough for this request (RFC 9470): answer 401 with
    /// [`challenge`](Error::challenge) as `WWW-Authenticate`, and send the
    /// user through a step-up.
    #[error("insufficient user authentication")]
    InsufficientAuthentication {
        /// The largest age of `auth_time` the request accepts, if it set one.
        max_age: Option<time::Duration>,
        /// The `acr` values the request accepts, if it named any.
        acr_values: Vec<String>,
    },
    /// The subject already has `max` live sessions and the service refuses
    /// new logins beyond them
    /// ([`SessionLimitMode::RefuseNew`](crate::SessionLimitMode::RefuseNew)):
    /// answer 403; the user ends a session first. Nothing was revoked.
    #[error("the subject already has {max} live sessions")]
    SessionLimit {
        /// The configured `max_sessions_per_subject`.
        max: usize,
    },
    /// The store failed; nothing about the token is known to be wrong.
    /// Whether a retry may help is the [`StoreError`]'s to say.
    #[error("session store failure")]
    Store(#[from] StoreError),
    /// The store failed while rotating, when the rotation may already have
    /// been written (a timeout, a lost answer): whether the presented token
    /// was spent is in doubt. Like [`Store`](Error::Store), nothing is known
    /// to be wrong with the token; in addition, send `retry_with` to the
    /// client in place of the token it presented (a new refresh cookie on
    /// the 503). A retry with it gets the successor if the rotation did
    /// happen, for up to the service's `outage_tolerance`; a retry with the
    /// old token only within `reuse_grace`.
    #[error("session store failure; the rotation is in doubt")]
    RotationInDoubt {
        /// The store's failure.
        #[source]
        source: StoreError,
        /// The presented token again, carrying the evidence that its holder
        /// made the attempt in doubt.
        retry_with: RefreshToken,
        /// When `retry_with` expires (as the presented token did).
        expires_at: OffsetDateTime,
    },
    /// The service or a key is misconfigured (from builders and `Key`); the
    /// [`ConfigError`] source says what.
    #[error("invalid configuration")]
    Config(#[from] ConfigError),
    /// The application's claims or subject cannot go into a token: `problem`
    /// says why; `source` is serde_json's error when serialization failed.
    #[error("application claims: {problem}")]
    Claims {
        /// What is wrong, e.g. `"must serialize to a JSON object"`.
        problem: &'static str,
        /// serde_json's error, when serializing the claims failed.
        #[source]
        source: Option<serde_json::Error>,
    },
}

/// What an [`Error`] means for the client: the answer to send. The table
/// on [`Error`] gives the class of each variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The credentials are not good: answer 401, the client logs in again.
    Unauthorized,
    /// The store is unavailable for now: answer 503 (with `Retry-After`);
    /// the client keeps its tokens and retries later. Never log a user out
    /// for this.
    TryLater,
    /// A fault on the server's side that the same request will meet again
    /// (a misconfiguration, claims the app cannot serialize, a store that
    /// refuses the data or returns data it cannot read): answer 500 and
    /// alert; the client should neither retry in a loop nor log the user
    /// out.
    Internal,
    /// A policy refuses the request, and the same credentials will not
    /// change that: answer 403 (e.g. the session limit; the user ends
    /// another session first).
    Forbidden,
}

impl Error {
    /// Whether this means "401, log in again", "503, try later" or "500,
    /// our fault"; see the table on [`Error`].
    ///
    /// ```
    /// use jwt_rotate::store::StoreError;
    /// use jwt_rotate::{Error, ErrorClass};
    ///
    /// assert_eq!(Error::Expired.class(), ErrorClass::Unauthorized);
    /// let outage = StoreError::unavailable("connection refused");
    /// assert_eq!(Error::from(outage).class(), ErrorClass::TryLater);
    /// let refused = StoreError::other("invalid byte sequence");
    /// assert_eq!(Error::from(refused).class(), ErrorClass::Internal);
    /// ```
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Malformed(_)
            | Error::InvalidSignature
            | Error::Expired
            | Error::NotYetValid
            | Error::InvalidClaim { .. }
            | Error::SessionRevoked
            | Error::SessionExpired
            | Error::ReuseDetected
            | Error::Denied(_)
            | Error::DpopRequired
            | Error::InvalidDpopProof(_)
            | Error::UseDpopNonce { .. }
            | Error::InsufficientAuthentication { .. } => ErrorClass::Unauthorized,
            Error::SessionLimit { .. } => ErrorClass::Forbidden,
            Error::Store(store) if store.is_retryable() => ErrorClass::TryLater,
            Error::DpopReplayCacheFull
            | Error::RevocationsStale { .. }
            | Error::KeysUnavailable(_) => ErrorClass::TryLater,
            Error::RotationInDoubt { .. } => ErrorClass::TryLater,
            Error::Store(_) | Error::Config(_) | Error::Claims { .. } => ErrorClass::Internal,
        }
    }

    /// The store's failure, if this is one: [`Store`](Error::Store) or
    /// [`RotationInDoubt`](Error::RotationInDoubt).
    pub fn store_error(&self) -> Option<&StoreError> {
        match self {
            Error::Store(store) | Error::RotationInDoubt { source: store, .. } => Some(store),
            _ => None,
        }
    }

    /// Shorthand for `self.class() == ErrorClass::Unauthorized`.
    pub fn is_unauthorized(&self) -> bool {
        self.class() == ErrorClass::Unauthorized
    }

    /// A short stable code for logs and API bodies, e.g. `"token_expired"`.
    ///
    /// Says no more than a client may know: which claim failed or why a
    /// signature was refused stays in the server's logs.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Malformed(_) | Error::InvalidSignature | Error::InvalidClaim { .. } => {
                "invalid_token"
            }
            Error::Expired => "token_expired",
            Error::NotYetValid => "token_not_yet_valid",
            Error::SessionRevoked => "session_revoked",
            Error::SessionExpired => "session_expired",
            Error::ReuseDetected => "reuse_detected",
            Error::Denied(_) => "denied",
            Error::DpopRequired => "dpop_required",
            Error::InvalidDpopProof(_) => "invalid_dpop_proof",
            Error::UseDpopNonce { .. } => "use_dpop_nonce",
            Error::DpopReplayCacheFull
            | Error::RevocationsStale { .. }
            | Error::KeysUnavailable(_) => "temporarily_unavailable",
            Error::InsufficientAuthentication { .. } => "insufficient_user_authentication",
            Error::SessionLimit { .. } => "session_limit",
            Error::Store(store) if store.is_retryable() => "store_unavailable",
            Error::RotationInDoubt { .. } => "store_unavailable",
            Error::Store(_) | Error::Config(_) | Error::Claims { .. } => "server_error",
        }
    }
}

/// A refusal from [`Hooks::before_refresh`](crate::Hooks::before_refresh).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Denied {
    reason: Cow<'static, str>,
}

impl Denied {
    /// A refusal with a reason for the logs (e.g. `"user disabled"`).
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// The reason given.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A configuration mistake, found by a builder's `build()` or a [`Key`](crate::Key)
/// constructor.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    message: Cow<'static, str>,
    #[source]
    source: Option<BoxError>,
}

impl ConfigError {
    pub(crate) fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        message: impl Into<Cow<'static, str>>,
        source: impl Into<BoxError>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

#[cfg(test)]
mod tests;
