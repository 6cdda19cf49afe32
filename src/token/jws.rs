//! Compact JWS: signing with a ring's signing key, and the strict checks
//! every token passes before its claims are even read.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::ring::KeyRing;
use crate::error::Error;

/// The only header we accept: exactly what we write. Any other parameter
/// (`crit`, `jwk`, `jku`, `x5u`, `x5c`, `b64`...) is refused instead of
/// ignored, and serde refuses duplicate names.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header<'a> {
    alg: Algorithm,
    #[serde(borrow)]
    typ: Cow<'a, str>,
    #[serde(borrow)]
    kid: Cow<'a, str>,
}

/// Room for the signature in the first allocation: enough for HMAC,
/// Ed25519, ES256 and RSA up to 2048 bits.
const SIGNATURE_ROOM: usize = 1 + 344;

/// `prefix` (the ring's encoded header and a dot) + base64url(payload) +
/// "." + base64url(signature).
///
/// The token is a credential from its first byte, so no buffer holding
/// part of it is freed without being zeroized: a longer signature moves it
/// to a bigger buffer by hand instead of letting `String` reallocate.
pub(crate) fn sign(ring: &KeyRing, payload: &[u8]) -> Result<String, Error> {
    let signer = ring.signing();
    let input_len = signer.prefix.len() + encoded_len(payload.len());
    let mut token = Zeroizing::new(String::with_capacity(input_len + SIGNATURE_ROOM));
    token.push_str(&signer.prefix);
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = signer.key.sign(token.as_bytes())?;
    let total = token.len() + 1 + encoded_len(signature.len());
    if token.capacity() < total {
        let mut bigger = Zeroizing::new(String::with_capacity(total));
        bigger.push_str(&token);
        token = bigger;
    }
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(std::mem::take(&mut *token))
}

/// The length of `len` bytes in unpadded base64.
fn encoded_len(len: usize) -> usize {
    (len * 4).div_ceil(3)
}

/// Checks size, shape, header, `typ`, `kid` and the signature, with the
/// algorithm pinned to the key the `kid` names; returns the payload bytes
/// (zeroized on drop: a refresh token's payload holds its secret).
///
/// Nothing here reads the payload before the signature holds, and nothing
/// decodes before the size check.
pub(crate) fn verify(
    token: &str,
    max_len: usize,
    typ: &str,
    ring: &KeyRing,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let compact = Compact::split(token, max_len)?;
    let header_json = decode_segment(compact.header)?;
    let header: Header<'_> =
        serde_json::from_slice(&header_json).map_err(|_| Error::Malformed("invalid header"))?;
    if !typ_matches(&header.typ, typ) {
        return Err(Error::InvalidClaim {
            claim: "typ",
            problem: "wrong token type",
        });
    }
    let key = ring.find(&header.kid).ok_or(Error::InvalidSignature)?;
    compact.check_signature(header.alg, key.algorithm(), |message, signature| {
        key.verify(message, signature)
    })?;
    decode_segment(compact.payload).map(Zeroizing::new)
}

/// A compact JWS cut into its three segments, still encoded.
struct Compact<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    /// `header.payload`: the bytes the signature covers.
    signed: &'a str,
}

impl<'a> Compact<'a> {
    /// The size check, then exactly three dot-separated segments.
    fn split(token: &'a str, max_len: usize) -> Result<Self, Error> {
        if token.len() > max_len {
            return Err(Error::Malformed("token larger than the size limit"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Malformed("not a compact JWS (three segments)"));
        };
        Ok(Self {
            header,
            payload,
            signature,
            signed: &token[..header.len() + 1 + payload.len()],
        })
    }

    /// The header's `alg` must be the key's own (`pinned`), and `verify`
    /// must accept the strictly decoded signature over `header.payload`.
    fn check_signature(
        &self,
        alg: Algorithm,
        pinned: Algorithm,
        verify: impl FnOnce(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        if alg != pinned {
            return Err(Error::InvalidSignature);
        }
        let signature = decode_segment(self.signature)?;
        if verify(self.signed.as_bytes(), &signature) {
            Ok(())
        } else {
            Err(Error::InvalidSignature)
        }
    }
}

fn decode_segment(segment: &str) -> Result<Vec<u8>, Error> {
    // The engine refuses padding, `+/`, whitespace and non-zero trailing
    // bits: one spelling per token.
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| Error::Malformed("invalid base64url"))
}

/// RFC 7515 §4.1.9: `typ` compares case-insensitively and may carry the
/// `application/` prefix.
fn typ_matches(found: &str, expected: &str) -> bool {
    let found = match found.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &found[12..],
        _ => found,
    };
    found.eq_ignore_ascii_case(expected)
}

/// The registered time checks shared by both token kinds, in whole
/// seconds, with `leeway` on each side. Saturating arithmetic: hostile
/// numbers near `i64::MAX` must fail, not overflow.
pub(crate) struct Times {
    pub(crate) now: i64,
    pub(crate) leeway: i64,
}

impl Times {
    /// `exp` must be after `now - leeway`: valid while `now < exp + leeway`.
    pub(crate) fn check_exp(&self, exp: i64) -> Result<(), Error> {
        if self.now < exp.saturating_add(self.leeway) {
            Ok(())
        } else {
            Err(Error::Expired)
        }
    }

    /// `iat` and `nbf` must not be after `now + leeway`.
    pub(crate) fn check_not_future(&self, instant: i64) -> Result<(), Error> {
        if instant <= self.now.saturating_add(self.leeway) {
            Ok(())
        } else {
            Err(Error::NotYetValid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::keys::Key;

    fn ring() -> KeyRing {
        KeyRing::new("at+jwt", Key::hs256([1u8; 32]).unwrap(), vec![]).unwrap()
    }

    #[test]
    fn signs_and_verifies_payload() {
        let ring = ring();
        let token = sign(&ring, br#"{"a":1}"#).unwrap();
        assert_eq!(
            *verify(&token, 8192, "at+jwt", &ring).unwrap(),
            br#"{"a":1}"#
        );
        assert!(matches!(
            verify(&token, 8192, "rt+jwt", &ring),
            Err(Error::InvalidClaim { claim: "typ", .. })
        ));
        assert!(matches!(
            verify(&token, 10, "at+jwt", &ring),
            Err(Error::Malformed(_))
        ));
    }

    #[test]
    fn signatures_longer_than_the_first_buffer_still_verify() {
        // RSA-3072: 512 characters of signature, past SIGNATURE_ROOM.
        let pem = include_str!("../../tests/data/keys/rs3072.pem");
        let ring = KeyRing::new("at+jwt", Key::rs256_pem(pem).unwrap(), vec![]).unwrap();
        let token = sign(&ring, br#"{"a":1}"#).unwrap();
        assert!(token.rsplit('.').next().unwrap().len() > SIGNATURE_ROOM);
        assert_eq!(
            *verify(&token, 8192, "at+jwt", &ring).unwrap(),
            br#"{"a":1}"#
        );
    }

    #[test]
    fn typ_is_case_insensitive_with_optional_prefix() {
        assert!(typ_matches("at+jwt", "at+jwt"));
        assert!(typ_matches("AT+JWT", "at+jwt"));
        assert!(typ_matches("application/at+jwt", "at+jwt"));
        assert!(!typ_matches("JWT", "at+jwt"));
        assert!(!typ_matches("application/", "at+jwt"));
        assert!(!typ_matches("rt+jwt", "at+jwt"));
        assert!(!typ_matches("ät+jwt-and-more", "at+jwt"));
    }

    #[test]
    fn times_saturate() {
        let t = Times {
            now: 100,
            leeway: 5,
        };
        assert!(t.check_exp(96).is_ok());
        assert!(matches!(t.check_exp(95), Err(Error::Expired)));
        assert!(t.check_exp(i64::MAX).is_ok());
        assert!(t.check_exp(i64::MIN).is_err());
        assert!(t.check_not_future(105).is_ok());
        assert!(matches!(t.check_not_future(106), Err(Error::NotYetValid)));
        assert!(t.check_not_future(i64::MIN).is_ok());
        let far = Times {
            now: i64::MAX,
            leeway: 5,
        };
        assert!(far.check_not_future(i64::MAX).is_ok());
    }
}
#[cfg(test)]
mod wycheproof_tests;
