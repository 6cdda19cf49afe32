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
    /// `next XOR SHA-256(domain || self)`, with the current domain. Only a
    /// holder of this secret can unwrap it, and the store never holds it.
    pub(crate) fn wrap(&self, next: &RefreshSecret) -> WrappedSecret {
        WrappedSecret::from_bytes(xor(&next.0, &self.pad(WRAP_DOMAINS[0])))
    }

    /// Recovers the secret [`wrap`](Self::wrap) hid under this one, if it
    /// hashes to `current` (the session's current secret hash): tried with
    /// each domain a release of this crate wrapped with, newest first, so
    /// that the grace data of a rotation made before an upgrade still
    /// unwraps. A wrong secret matches under none.
    pub(crate) fn unwrap(
        &self,
        wrapped: &WrappedSecret,
        current: &SecretHash,
    ) -> Option<RefreshSecret> {
        WRAP_DOMAINS.iter().find_map(|domain| {
            let candidate = RefreshSecret(xor(wrapped.as_bytes(), &self.pad(domain)));
            (candidate.hash() == *current).then_some(candidate)
        })
    }

    /// With the wrapped secret it yields the next secret: as secret as
    /// either, so zeroized on drop.
    fn pad(&self, domain: &[u8]) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(sha256(domain, &self.0))
    }
}

/// The domains of the grace wrap's pad, the one [`RefreshSecret::wrap`]
/// uses first. `v2` is short enough that domain and secret fit one block
/// of SHA-256 (at most 55 bytes with its padding), one block less per
/// rotation than `v1` (25 + 32 bytes: two blocks); `v1` stays, to unwrap
/// what earlier releases stored, whose grace windows may still be open.
const WRAP_DOMAINS: [&[u8]; 2] = [b"jwt-rotate/wrap/v2\0", b"jwt-rotate/grace-wrap/v1\0"];

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
        for domain in WRAP_DOMAINS {
            let pad: [u8; 32] = Sha256::new()
                .chain_update(domain)
                .chain_update([9; 32])
                .finalize()
                .into();
            assert_eq!(*secret.pad(domain), pad);
        }
        // Domain, secret, the 0x80 byte and the 8-byte length: one block.
        assert!(WRAP_DOMAINS[0].len() + 32 + 1 + 8 <= 64);
    }

    #[test]
    fn wrap_needs_the_old_secret() {
        let old = RefreshSecret::random();
        let next = RefreshSecret::random();
        let wrapped = old.wrap(&next);
        let unwrapped = old.unwrap(&wrapped, &next.hash());
        assert_eq!(unwrapped.map(|s| s.hash()), Some(next.hash()));
        assert_ne!(
            wrapped.as_bytes(),
            &next.0,
            "stored bytes are not the secret"
        );
        let stranger = RefreshSecret::random();
        assert!(stranger.unwrap(&wrapped, &next.hash()).is_none());
        // The current secret's hash is the check: any other is no match.
        assert!(old.unwrap(&wrapped, &old.hash()).is_none());
    }

    #[test]
    fn secrets_wrapped_by_earlier_releases_still_unwrap() {
        // What releases before the one-block pad stored: `v1`'s wrap.
        let old = RefreshSecret::random();
        let next = RefreshSecret::random();
        let v1 = WrappedSecret::from_bytes(xor(&next.0, &old.pad(b"jwt-rotate/grace-wrap/v1\0")));
        assert_ne!(v1, old.wrap(&next), "the domains differ");
        let unwrapped = old.unwrap(&v1, &next.hash());
        assert_eq!(unwrapped.map(|s| s.hash()), Some(next.hash()));
    }
}
