//! Compact JWS: signing with a ring's signing key, and the strict checks
//! every token passes before its claims are even read.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;

use crate::error::Error;
use crate::keys::KeyRing;

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
/// "." + base64url(signature).
pub(crate) fn sign(ring: &KeyRing, payload: &[u8]) -> Result<String, Error> {
    let signer = ring.signing();
    let mut token = String::with_capacity(signer.prefix.len() + payload.len() * 4 / 3 + 400);
    token.push_str(&signer.prefix);
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = signer.key.sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// Checks size, shape, header, `typ`, `kid` and the signature, with the
/// algorithm pinned to the key the `kid` names; returns the payload bytes.
///
/// Nothing here reads the payload before the signature holds, and nothing
/// decodes before the size check.
pub(crate) fn verify(
    token: &str,
    max_len: usize,
    typ: &str,
    ring: &KeyRing,
) -> Result<Vec<u8>, Error> {
    if token.len() > max_len {
        return Err(Error::Malformed("token larger than the size limit"));
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Malformed("not a compact JWS (three segments)"));
    };
    let header_json = decode_segment(header_b64)?;
    let header: Header<'_> =
        serde_json::from_slice(&header_json).map_err(|_| Error::Malformed("invalid header"))?;
    if !typ_matches(&header.typ, typ) {
        return Err(Error::InvalidClaim {
            claim: "typ",
            problem: "wrong token type",
        });
    }
    let key = ring.find(&header.kid).ok_or(Error::InvalidSignature)?;
    if header.alg != key.algorithm() {
        return Err(Error::InvalidSignature);
    }
    let signature = decode_segment(signature)?;
    let signed = &token[..header_b64.len() + 1 + payload.len()];
    if !key.verify(signed.as_bytes(), &signature) {
        return Err(Error::InvalidSignature);
    }
    decode_segment(payload)
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
    use crate::keys::Key;

    fn ring() -> KeyRing {
        KeyRing::new("at+jwt", Key::hs256([1u8; 32]).unwrap(), vec![]).unwrap()
    }

    #[test]
    fn signs_and_verifies_payload() {
        let ring = ring();
        let token = sign(&ring, br#"{"a":1}"#).unwrap();
        assert_eq!(
            verify(&token, 8192, "at+jwt", &ring).unwrap(),
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
