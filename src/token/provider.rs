//! The crypto backend: keys prepared once for it, the one place signatures
//! are made and checked, and the SHA-256 of refresh secrets.
//!
//! Each backend has a file with the same items: [`Signer`] (a private or
//! HMAC key, parsed and set up at construction), [`Verifier`] (a public or
//! HMAC key, the same), [`Primed`] (an HMAC key that has absorbed a ring's
//! header) and `sha256`. jsonwebtoken reads the PEM and JWK forms at
//! construction; after that, signing and verifying are one call into the
//! backend each.

use std::sync::Once;

use jsonwebtoken::crypto::CryptoProvider;

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!("jwt-rotate needs a crypto backend: enable feature `aws-lc-rs` or `rust-crypto`");

// With both features on (feature unification), the faster backend wins.
#[cfg(feature = "aws-lc-rs")]
mod aws_lc;
#[cfg(feature = "aws-lc-rs")]
use aws_lc as backend;
#[cfg(feature = "aws-lc-rs")]
static PROVIDER: &CryptoProvider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;

#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
mod rust_crypto;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
use rust_crypto as backend;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
static PROVIDER: &CryptoProvider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;

pub(crate) use backend::{Primed, Signer, Verifier, sha256};

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

/// A signature as made: HMAC tags, Ed25519 and ES256 signatures (at most 64
/// bytes) on the stack, RSA ones on the heap.
pub(crate) enum Signature {
    Short { bytes: [u8; 64], len: usize },
    Long(Box<[u8]>),
}

impl Signature {
    /// A copy of a signature of at most 64 bytes; longer ones go to the
    /// heap.
    pub(crate) fn copy_of(signature: &[u8]) -> Self {
        let mut bytes = [0u8; 64];
        match bytes.get_mut(..signature.len()) {
            Some(short) => {
                short.copy_from_slice(signature);
                Self::Short {
                    bytes,
                    len: signature.len(),
                }
            }
            None => Self::Long(signature.into()),
        }
    }
}

impl AsRef<[u8]> for Signature {
    fn as_ref(&self) -> &[u8] {
        match self {
            Self::Short { bytes, len } => &bytes[..*len],
            Self::Long(bytes) => bytes,
        }
    }
}
