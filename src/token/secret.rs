//! [`RefreshSecret`]: the 32 random bytes a refresh token carries as its
//! `jti`, their hash, and the grace wrap.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::provider::sha256;
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

    /// The secret as a `jti`, on the stack; the text is the secret too, so
    /// it is zeroized on drop.
    pub(crate) fn to_jti(&self) -> Jti {
        let mut text = Zeroizing::new([0u8; 43]);
        let written = URL_SAFE_NO_PAD.encode_slice(self.0, &mut *text);
        debug_assert_eq!(written, Ok(43));
        Jti(text)
    }

    pub(crate) fn hash(&self) -> SecretHash {
        SecretHash::from_bytes(sha256(b"", &self.0))
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
        Zeroizing::new(sha256(b"jwt-rotate/grace-wrap/v1\0", &self.0))
    }
}

/// A [`RefreshSecret`] as its `jti` text: 43 base64url characters.
pub(crate) struct Jti(Zeroizing<[u8; 43]>);

impl Jti {
    pub(crate) fn as_str(&self) -> &str {
        // Base64url is ASCII.
        std::str::from_utf8(&*self.0).unwrap_or_default()
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
        let jti: String = secret.to_jti().as_str().to_owned();
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
    fn hash_and_pad_are_sha256() {
        use sha2::{Digest, Sha256};
        let secret = RefreshSecret([9; 32]);
        let hash: [u8; 32] = Sha256::digest([9; 32]).into();
        assert_eq!(secret.hash(), SecretHash::from_bytes(hash));
        let pad: [u8; 32] = Sha256::new()
            .chain_update(b"jwt-rotate/grace-wrap/v1\0")
            .chain_update([9; 32])
            .finalize()
            .into();
        assert_eq!(*secret.pad(), pad);
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
