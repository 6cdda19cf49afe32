//! Tests of the error classes, codes and sources.

use super::*;

#[test]
fn store_errors_are_try_later_and_keep_their_source() {
    let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "read timed out");
    let err = Error::from(StoreError::unavailable("query failed").with_source(io));
    assert_eq!(err.class(), ErrorClass::TryLater);
    assert_eq!(err.code(), "store_unavailable");
    let store = err.source().expect("store error is the source");
    let io = store.source().expect("driver error kept");
    assert_eq!(io.to_string(), "read timed out");
}

#[test]
fn token_errors_are_unauthorized() {
    for err in [
        Error::Malformed("x"),
        Error::InvalidSignature,
        Error::Expired,
        Error::NotYetValid,
        Error::SessionRevoked,
        Error::SessionExpired,
        Error::ReuseDetected,
        Error::Denied(Denied::new("user disabled")),
    ] {
        assert!(err.is_unauthorized(), "{err}");
    }
}

#[test]
fn permanent_failures_are_internal_not_try_later() {
    let json = serde_json::from_str::<u8>("x").unwrap_err();
    for err in [
        Error::Store(StoreError::other("refused a NUL byte")),
        Error::Store(StoreError::new(StoreErrorKind::Corrupt, "bad row")),
        Error::Store(StoreError::new(StoreErrorKind::AlreadyExists, "taken")),
        Error::Config(ConfigError::new("issuer is required")),
        Error::Claims {
            problem: "serialization failed",
            source: Some(json),
        },
    ] {
        assert_eq!(err.class(), ErrorClass::Internal, "{err}");
        assert_eq!(err.code(), "server_error", "{err}");
    }
}

#[test]
fn wrapped_errors_print_their_text_once() {
    let config = Error::from(ConfigError::new("issuer is required"));
    assert_eq!(config.to_string(), "invalid configuration");
    assert_eq!(config.source().unwrap().to_string(), "issuer is required");
    let denied = Error::from(Denied::new("user disabled"));
    assert_eq!(denied.to_string(), "refresh denied");
    assert_eq!(denied.source().unwrap().to_string(), "user disabled");
}

#[test]
fn retryable_only_when_unavailable() {
    assert!(StoreError::unavailable("x").is_retryable());
    assert!(!StoreError::other("x").is_retryable());
    assert!(!StoreError::new(StoreErrorKind::Corrupt, "x").is_retryable());
}

#[test]
fn dpop_errors_are_unauthorized_except_a_full_cache() {
    assert_eq!(Error::DpopRequired.code(), "dpop_required");
    assert!(Error::DpopRequired.is_unauthorized());
    for problem in DpopProblem::ALL {
        let err = Error::InvalidDpopProof(problem);
        assert!(err.is_unauthorized(), "{err}");
        assert_eq!(err.code(), "invalid_dpop_proof");
        assert!(err.to_string().ends_with(problem.as_str()));
    }
    let nonce = Error::UseDpopNonce {
        nonce: "n-1".to_owned(),
    };
    assert!(nonce.is_unauthorized());
    assert_eq!(nonce.code(), "use_dpop_nonce");
    assert_eq!(Error::DpopReplayCacheFull.class(), ErrorClass::TryLater);
    assert_eq!(Error::DpopReplayCacheFull.code(), "temporarily_unavailable");
}
