//! What a store keeps of a refresh token's secret: its hash, and (for the
//! grace window) the next secret wrapped under it. Neither is a token.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// SHA-256 of a refresh token's secret: what a store keeps instead of the
/// token. Compared in constant time.
#[derive(Clone, Copy, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// The hash from the 32 bytes a store kept.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes to store.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for SecretHash {
    fn eq(&self, other: &Self) -> bool {
        ct_eq_32(&self.0, &other.0)
    }
}

/// Two 32-byte values compared in constant time, as four `u64` lanes:
/// `subtle` then hides four comparisons from the optimizer rather than
/// thirty-two (a store's compare-and-swap makes one per refresh).
fn ct_eq_32(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let lanes = |x: &[u8; 32]| -> [u64; 4] {
        std::array::from_fn(|i| {
            let mut lane = [0u8; 8];
            lane.copy_from_slice(&x[8 * i..8 * i + 8]);
            u64::from_ne_bytes(lane)
        })
    };
    lanes(a).ct_eq(&lanes(b)).into()
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// The current secret wrapped under the previous one (see [`GraceData`](super::GraceData)).
/// Compared in constant time.
#[derive(Clone, Eq, Zeroize, ZeroizeOnDrop)]
pub struct WrappedSecret([u8; 32]);

impl PartialEq for WrappedSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl WrappedSecret {
    /// The wrapped secret from the 32 bytes a store kept.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes to store.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for WrappedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WrappedSecret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_compare_by_value_and_hide_in_debug() {
        let hash = SecretHash::from_bytes([3; 32]);
        assert_eq!(hash, SecretHash::from_bytes(*hash.as_bytes()));
        assert_ne!(hash, SecretHash::from_bytes([4; 32]));
        assert_eq!(format!("{hash:?}"), "SecretHash(..)");
        assert_eq!(
            format!("{:?}", WrappedSecret::from_bytes([1; 32])),
            "WrappedSecret(..)"
        );
        let mut last_differs = [1; 32];
        last_differs[31] = 2;
        assert_eq!(
            WrappedSecret::from_bytes([1; 32]),
            WrappedSecret::from_bytes([1; 32])
        );
        assert_ne!(
            WrappedSecret::from_bytes([1; 32]),
            WrappedSecret::from_bytes(last_differs)
        );
    }
}
