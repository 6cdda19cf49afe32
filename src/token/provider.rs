//! The crypto backend: which provider signs and verifies, and the one place
//! signatures are checked.

use std::sync::Once;

use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{Algorithm, DecodingKey};

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!("jwt-rotate needs a crypto backend: enable feature `aws-lc-rs` or `rust-crypto`");

// With both features on (feature unification), the faster backend wins.
#[cfg(feature = "aws-lc-rs")]
pub(crate) static PROVIDER: &CryptoProvider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
pub(crate) static PROVIDER: &CryptoProvider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;

/// Makes jsonwebtoken's process-wide provider usable. jsonwebtoken panics at
/// first use when it cannot choose one itself (no backend, or both); our own
/// signing never depends on this, but its JWK helpers do. An application
/// that installed a provider first keeps it.
pub(crate) fn ensure_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _already_installed = PROVIDER.install_default();
    });
}

/// Whether `signature` is an `algorithm` signature of `message` under
/// `decoding`, by the crate's crypto backend. The one place signatures are
/// checked, shared by [`Key`] and the Wycheproof vectors' keys.
pub(crate) fn verify_signature(
    algorithm: Algorithm,
    decoding: &DecodingKey,
    message: &[u8],
    signature: &[u8],
) -> bool {
    (PROVIDER.verifier_factory)(&algorithm, decoding)
        .is_ok_and(|verifier| verifier.verify(message, &signature.to_vec()).is_ok())
}
