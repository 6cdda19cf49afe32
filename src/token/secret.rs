//! [`RefreshSecret`]: the 32 random bytes a refresh token carries as its
//! `jti`, their hash, and the grace wrap.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::session::{SecretHash, WrappedSecret};

/// The random secret a refresh token carries as its `jti`. Only its hash is
/// ever stored.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct RefreshSecret([u8; 32]);

impl RefreshSecret {
    pub(crate) fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Self(bytes)
    }

    /// Parses a `jti`: exactly 32 bytes of canonical base64url.
    pub(crate) fn from_jti(jti: &str) -> Option<Self> {
        if jti.len() != 43 {
            return None;
        }
        let mut bytes = [0u8; 32];
        match URL_SAFE_NO_PAD.decode_slice(jti, &mut bytes) {
            Ok(32) => Some(Self(bytes)),
            _ => {
                bytes.zeroize();
                None
            }
        }
    }

    /// The secret as a `jti`; the text is the secret too, so it is
    /// zeroized on drop.
    pub(crate) fn to_jti(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0.as_slice()))
    }

    pub(crate) fn hash(&self) -> SecretHash {
        SecretHash::from_bytes(Sha256::digest(self.0.as_slice()).into())
    }

    /// Wraps `next` under this (older) secret for grace replay:
    /// `next XOR SHA-256(domain || self)`. Only a holder of this secret can
    /// unwrap it, and the store never holds it.
    pub(crate) fn wrap(&self, next: &RefreshSecret) -> WrappedSecret {
        WrappedSecret::from_bytes(xor(&next.0, &self.pad()))
    }

    /// Recovers the secret [`wrap`](Self::wrap) hid under this one.
    pub(crate) fn unwrap(&self, wrapped: &WrappedSecret) -> RefreshSecret {
        RefreshSecret(xor(wrapped.as_bytes(), &self.pad()))
    }

    /// With the wrapped secret it yields the next secret: as secret as
    /// either, so zeroized on drop.
    fn pad(&self) -> Zeroizing<[u8; 32]> {
        let mut hash = Sha256::new();
        hash.update(b"jwt-rotate/grace-wrap/v1\0");
        hash.update(self.0.as_slice());
        Zeroizing::new(hash.finalize().into())
    }
}

fn xor(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jti_round_trips_and_is_strict() {
        let secret = RefreshSecret::random();
        let jti: String = (*secret.to_jti()).clone();
        assert_eq!(jti.len(), 43);
        let parsed = RefreshSecret::from_jti(&jti).unwrap();
        assert_eq!(parsed.hash(), secret.hash());
        let standard_alphabet = format!("+{}", &jti[1..]);
        for bad in ["", "abc", &format!("{jti}="), &standard_alphabet] {
            assert!(RefreshSecret::from_jti(bad).is_none(), "{bad}");
        }
        // Non-zero trailing bits would spell the same bytes a second way:
        // set the lowest bit of the last character's 6-bit value.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut other = jti.clone().into_bytes();
        let last = other.last_mut().unwrap();
        let value = ALPHABET.iter().position(|c| c == last).unwrap();
        *last = ALPHABET[value | 1];
        let other = String::from_utf8(other).unwrap();
        assert!(RefreshSecret::from_jti(&other).is_none(), "{other}");
    }

    #[test]
    fn wrap_needs_the_old_secret() {
        let old = RefreshSecret::random();
        let next = RefreshSecret::random();
        let wrapped = old.wrap(&next);
        assert_eq!(old.unwrap(&wrapped).hash(), next.hash());
        assert_ne!(
            wrapped.as_bytes(),
            &next.0,
            "stored bytes are not the secret"
        );
        let stranger = RefreshSecret::random();
        assert_ne!(stranger.unwrap(&wrapped).hash(), next.hash());
    }
}
