//! Compact JWS: signing with a ring's signing key, and the strict checks
//! every token passes before its claims are even read.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::json;
use super::ring::KeyRing;
use super::scratch::Scratch;
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

/// `prefix` (the ring's encoded header and a dot) + base64url(payload) +
/// "." + base64url(signature), in one allocation of exactly that size.
///
/// The token is a credential from its first byte, so no buffer holding
/// part of it is freed without being zeroized: were a signature longer than
/// its key announced, the token would move to a bigger buffer by hand
/// instead of letting the vector reallocate. It is written as bytes, each
/// segment encoded in place, and checked to be UTF-8 once at the end:
/// base64's `encode_string` would zero a 1 KiB buffer and check each chunk
/// it appends.
///
/// A token longer than `max_len` is refused, as [`verify`] would refuse
/// it: the check sits here, beside the size check of `verify`, so that no
/// token kind can hand out what it would not take back. Its length is known
/// before signing, so an oversized one costs no signature.
pub(crate) fn sign(ring: &KeyRing, payload: &[u8], max_len: usize) -> Result<String, Error> {
    let signer = ring.signing()?;
    let input_len = signer.prefix.len() + encoded_len(payload.len());
    let signature_len = 1 + encoded_len(signer.key.signature_len());
    if input_len + signature_len > max_len {
        return Err(too_large());
    }
    let mut token = Zeroizing::new(Vec::with_capacity(input_len + signature_len));
    token.extend_from_slice(signer.prefix.as_bytes());
    encode_into(&mut token, payload);
    let signature = signer.sign(&token)?;
    let signature = signature.as_ref();
    let total = token.len() + 1 + encoded_len(signature.len());
    if token.capacity() < total {
        let mut bigger = Zeroizing::new(Vec::with_capacity(total));
        bigger.extend_from_slice(&token);
        token = bigger;
    }
    token.push(b'.');
    encode_into(&mut token, signature);
    if token.len() > max_len {
        return Err(too_large());
    }
    // The header is ours and base64url is ASCII: never refused.
    String::from_utf8(std::mem::take(&mut *token)).map_err(|refused| {
        drop(Zeroizing::new(refused.into_bytes()));
        Error::Malformed("a token that is not UTF-8")
    })
}

/// Appends base64url(`bytes`) to `out`, which must have room for it (so
/// that nothing is reallocated and left unwiped).
fn encode_into(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    out.resize(start + encoded_len(bytes.len()), 0);
    let written = URL_SAFE_NO_PAD.encode_slice(bytes, &mut out[start..]);
    debug_assert_eq!(written, Ok(out.len() - start));
}

fn too_large() -> Error {
    Error::Claims {
        problem: "the token would exceed max_token_bytes",
        source: None,
    }
}

/// The length of `len` bytes in unpadded base64.
fn encoded_len(len: usize) -> usize {
    (len * 4).div_ceil(3)
}

/// Checks size, shape, header, `typ`, `kid` and the signature, with the
/// algorithm pinned to the key the `kid` names; decodes the payload into
/// `payload` (a new scratch, zeroized on drop: a refresh token's payload
/// holds its secret) and returns its bytes.
///
/// Nothing here reads the payload before the signature holds, and nothing
/// decodes before the size check.
pub(crate) fn verify<'p>(
    token: &str,
    max_len: usize,
    typ: &str,
    ring: &KeyRing,
    payload: &'p mut Scratch,
) -> Result<&'p [u8], Error> {
    let compact = Compact::split(token, max_len)?;
    let (key, alg) = match ring.find_by_header(compact.header) {
        // Byte for byte a header this ring writes: what parsing it would
        // find is known.
        Some(ours) => {
            check_typ(ring.typ(), typ)?;
            (ours, ours.key.algorithm())
        }
        None => {
            let mut header_json = Scratch::new();
            let header: Header<'_> = json::parse(header_json.decode(compact.header)?)
                .map_err(|_| Error::Malformed("invalid header"))?;
            check_typ(&header.typ, typ)?;
            let key = ring.find(&header.kid).ok_or(Error::InvalidSignature)?;
            (key, header.alg)
        }
    };
    compact.check_signature(alg, key.key.algorithm(), |message, signature| {
        key.verify(message, signature)
    })?;
    payload.decode(compact.payload)
}

/// Whether `ring` holds the key `token`'s header names: for a verifier
/// deciding whether fetching keys could help. A token whose header cannot
/// be read counts as known (no key would help it). Checks no signature.
pub(crate) fn knows_key(ring: &KeyRing, token: &str, max_len: usize) -> bool {
    let Ok(compact) = Compact::split(token, max_len) else {
        return true;
    };
    if ring.find_by_header(compact.header).is_some() {
        return true;
    }
    let mut header_json = Scratch::new();
    let Ok(header_json) = header_json.decode(compact.header) else {
        return true;
    };
    match json::parse::<Header<'_>>(header_json) {
        Ok(header) => ring.find(&header.kid).is_some(),
        Err(()) => true,
    }
}

fn check_typ(found: &str, expected: &str) -> Result<(), Error> {
    if typ_matches(found, expected) {
        Ok(())
    } else {
        Err(Error::InvalidClaim {
            claim: "typ",
            problem: "wrong token type",
        })
    }
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
        let three = token.rsplit_once('.').and_then(|(signed, signature)| {
            let (header, payload) = signed.split_once('.')?;
            (!payload.contains('.')).then_some(Self {
                header,
                payload,
                signature,
                signed,
            })
        });
        three.ok_or_else(|| Error::Malformed("not a compact JWS (three segments)"))
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
        let mut signature = Scratch::new();
        if verify(self.signed.as_bytes(), signature.decode(self.signature)?) {
            Ok(())
        } else {
            Err(Error::InvalidSignature)
        }
    }
}

/// RFC 7515 §4.1.9: `typ` compares case-insensitively and may carry the
/// `application/` prefix.
pub(crate) fn typ_matches(found: &str, expected: &str) -> bool {
    if found == expected {
        return true;
    }
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
        let token = sign(&ring, br#"{"a":1}"#, 8192).unwrap();
        // Never a token its own size check would refuse.
        assert!(sign(&ring, br#"{"a":1}"#, token.len()).is_ok());
        assert!(matches!(
            sign(&ring, br#"{"a":1}"#, token.len() - 1),
            Err(Error::Claims { .. })
        ));
        assert_eq!(
            verify(&token, 8192, "at+jwt", &ring, &mut Scratch::new()).unwrap(),
            br#"{"a":1}"#
        );
        assert!(matches!(
            verify(&token, 8192, "rt+jwt", &ring, &mut Scratch::new()),
            Err(Error::InvalidClaim { claim: "typ", .. })
        ));
        assert!(matches!(
            verify(&token, 10, "at+jwt", &ring, &mut Scratch::new()),
            Err(Error::Malformed(_))
        ));
    }

    #[test]
    fn every_token_fills_its_one_buffer_exactly() {
        use crate::token::keys::tests::{ED25519_PEM, ES256_PEM, RS256_PEM};
        let rs3072 = include_str!("../../tests/data/keys/rs3072.pem");
        for key in [
            Key::hs256([1u8; 32]).unwrap(),
            Key::hs384([1u8; 48]).unwrap(),
            Key::hs512([1u8; 64]).unwrap(),
            Key::ed25519_pem(ED25519_PEM).unwrap(),
            Key::es256_pem(ES256_PEM).unwrap(),
            Key::rs256_pem(RS256_PEM).unwrap(),
            Key::rs256_pem(rs3072).unwrap(),
        ] {
            let ring = KeyRing::new("at+jwt", key, vec![]).unwrap();
            for payload in [&b""[..], b"{}", br#"{"a":1}"#] {
                let token = sign(&ring, payload, 8192).unwrap();
                assert_eq!(
                    token.capacity(),
                    token.len(),
                    "{:?}",
                    ring.signing().unwrap().key
                );
                let mut verified = Scratch::new();
                let verified = verify(&token, 8192, "at+jwt", &ring, &mut verified).unwrap();
                assert_eq!(verified, payload);
            }
        }
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
