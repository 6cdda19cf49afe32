//! [`Jkt`]: a public key's JWK SHA-256 thumbprint (RFC 7638), the value a
//! DPoP-bound token or session names its key by (`cnf.jkt`). In the
//! session layer because a session record keeps the thumbprint its session
//! is bound to.

use std::fmt;
use std::hash::{Hash, Hasher};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The base64url length of a SHA-256 digest.
const LEN: usize = 43;

/// The JWK SHA-256 thumbprint of a public key (RFC 7638), as the 43
/// base64url characters RFC 9449 puts in `cnf.jkt`.
///
/// Not a secret (it is in every bound access token), but compared in
/// constant time all the same, as every credential check here is.
///
/// ```
/// use jwt_rotate::Jkt;
///
/// // RFC 7638, section 3.1.
/// let jkt = Jkt::parse("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs").ok_or("not a jkt")?;
/// assert_eq!(jkt.as_str().len(), 43);
/// assert!(Jkt::parse("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9X").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct Jkt {
    text: [u8; LEN],
}

impl Jkt {
    /// The thumbprint written as `text`: 43 characters of canonical
    /// base64url (no padding, no stray trailing bits) of 32 bytes; `None`
    /// for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let mut digest = [0u8; 33];
        if text.len() != LEN {
            return None;
        }
        let len = URL_SAFE_NO_PAD.decode_slice(text, &mut digest).ok()?;
        (len == 32).then(|| {
            let mut out = [0u8; LEN];
            out.copy_from_slice(text.as_bytes());
            Self { text: out }
        })
    }

    /// The thumbprint of the canonical JWK text `members` (RFC 7638: the
    /// required members in lexicographic order, no whitespace), which the
    /// caller builds from validated base64url values.
    pub(crate) fn of_canonical_jwk(members: &[u8]) -> Self {
        Self::from_bytes(Sha256::digest(members).into())
    }

    /// The thumbprint of 32 digest bytes, as a store keeps it.
    pub fn from_bytes(digest: [u8; 32]) -> Self {
        let mut text = [0u8; LEN];
        let written = URL_SAFE_NO_PAD.encode_slice(digest, &mut text);
        debug_assert_eq!(written, Ok(LEN));
        Self { text }
    }

    /// The 32 digest bytes, for a store.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut digest = [0u8; 33];
        // `text` is canonical base64url of 32 bytes by construction.
        let len = URL_SAFE_NO_PAD
            .decode_slice(self.text, &mut digest)
            .unwrap_or_default();
        debug_assert_eq!(len, 32);
        let mut out = [0u8; 32];
        out.copy_from_slice(&digest[..32]);
        out
    }

    /// The 43 base64url characters.
    pub fn as_str(&self) -> &str {
        // Base64url is ASCII.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }
}

impl PartialEq for Jkt {
    fn eq(&self, other: &Self) -> bool {
        self.text.ct_eq(&other.text).into()
    }
}

impl Eq for Jkt {}

impl Hash for Jkt {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl fmt::Debug for Jkt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Jkt").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Jkt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7638_example() {
        // RFC 7638, section 3.1: the RSA key's canonical JWK and thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let canonical = format!(r#"{{"e":"AQAB","kty":"RSA","n":"{n}"}}"#);
        let jkt = Jkt::of_canonical_jwk(canonical.as_bytes());
        assert_eq!(jkt.as_str(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assert_eq!(Jkt::parse(jkt.as_str()), Some(jkt));
        assert_eq!(jkt.to_string(), jkt.as_str());
        assert_eq!(Jkt::from_bytes(jkt.to_bytes()), jkt);
        assert_ne!(Jkt::from_bytes([0; 32]), jkt);
    }

    #[test]
    fn parse_is_strict() {
        let good = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
        assert!(Jkt::parse(good).is_some());
        for bad in [
            "",
            &good[..42],
            &format!("{good}A"),
            &format!("{good}="),
            // Trailing bits set: a second spelling of the same bytes.
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xt",
            "NzbLsXh8uDCcd+6MNwXF4W/7noWXFZAfHkxZsRGC9Xs",
        ] {
            assert!(Jkt::parse(bad).is_none(), "{bad}");
        }
        let (a, b) = (Jkt::parse(good).unwrap(), Jkt::of_canonical_jwk(b"{}"));
        assert_ne!(a, b);
    }
}
