//! A public JWK, as a DPoP proof's `jwk` header or a JWKS carries it:
//! checked against an `alg`, made ready for the crypto backend, with the
//! canonical members of its RFC 7638 thumbprint. One parser for both, so
//! that a proof key and a resource server's verifying key are judged alike.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::provider::Verifier;
use crate::error::DpopProblem;

/// RSA moduli accepted in proofs, in bits: the floor of RFC 8301 and of
/// our own keys; the ceiling is the rust-crypto backend's, so that both
/// backends accept the same proofs.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// A JWK as a proof header or a JWKS carries it: the public members of the key
/// types we take, and the private members of every key type, whose mere
/// presence refuses the key (a client that sends its private key has lost
/// it). Other members (`kid`, `use`, `alg`...) are ignored, as RFC 7638
/// ignores them; a member given twice is refused by serde.
#[derive(Deserialize)]
pub(crate) struct PublicJwk<'a> {
    #[serde(borrow)]
    kty: Cow<'a, str>,
    #[serde(borrow, default)]
    crv: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    x: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    y: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    n: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    e: Option<Cow<'a, str>>,
    #[serde(default)]
    d: Option<IgnoredAny>,
    #[serde(default)]
    p: Option<IgnoredAny>,
    #[serde(default)]
    q: Option<IgnoredAny>,
    #[serde(default)]
    dp: Option<IgnoredAny>,
    #[serde(default)]
    dq: Option<IgnoredAny>,
    #[serde(default)]
    qi: Option<IgnoredAny>,
    #[serde(default)]
    oth: Option<IgnoredAny>,
    #[serde(default)]
    k: Option<IgnoredAny>,
}

/// A public key ready to verify signatures, and the canonical JSON of its
/// thumbprint's members (RFC 7638, section 3.2).
pub(crate) struct ParsedJwk {
    pub(crate) verifier: Verifier,
    pub(crate) canonical: String,
}

impl PublicJwk<'_> {
    /// The key, if it is a public key of the type `alg` needs: EC P-256 for
    /// ES256, OKP Ed25519 for EdDSA, RSA of 2048 to 4096 bits for RS256 and
    /// PS256. Its members must be canonical base64url of the right length,
    /// so that the thumbprint has one spelling per key.
    pub(crate) fn key_for(&self, alg: Algorithm) -> Result<ParsedJwk, DpopProblem> {
        let private = [
            &self.d, &self.p, &self.q, &self.dp, &self.dq, &self.qi, &self.oth,
        ];
        if private.iter().any(|member| member.is_some()) || self.k.is_some() {
            return Err(DpopProblem::Key);
        }
        let kty = &*self.kty;
        let crv = self.crv.as_deref();
        let mut canonical = String::with_capacity(1100);
        let decoding = match (alg, kty) {
            (Algorithm::ES256, "EC") => {
                let (x, y) = (member(&self.x)?, member(&self.y)?);
                if crv != Some("P-256") {
                    return Err(DpopProblem::Key);
                }
                let mut point = [0u8; 65];
                point[0] = 0x04;
                decode_exact(x, &mut point[1..33])?;
                decode_exact(y, &mut point[33..])?;
                for part in [
                    r#"{"crv":"P-256","kty":"EC","x":""#,
                    x,
                    r#"","y":""#,
                    y,
                    r#""}"#,
                ] {
                    canonical.push_str(part);
                }
                DecodingKey::from_ec_der(&point)
            }
            (Algorithm::EdDSA, "OKP") => {
                let x = member(&self.x)?;
                if crv != Some("Ed25519") {
                    return Err(DpopProblem::Key);
                }
                let mut public = [0u8; 32];
                decode_exact(x, &mut public)?;
                for part in [r#"{"crv":"Ed25519","kty":"OKP","x":""#, x, r#""}"#] {
                    canonical.push_str(part);
                }
                DecodingKey::from_ed_der(&public)
            }
            (Algorithm::RS256 | Algorithm::PS256, "RSA") => {
                let (n, e) = (member(&self.n)?, member(&self.e)?);
                let (modulus, exponent) = (unsigned(n)?, unsigned(e)?);
                if !RSA_BITS.contains(&bits(&modulus)) || exponent.len() > 8 {
                    return Err(DpopProblem::Key);
                }
                for part in [r#"{"e":""#, e, r#"","kty":"RSA","n":""#, n, r#""}"#] {
                    canonical.push_str(part);
                }
                DecodingKey::from_rsa_raw_components(&modulus, &exponent)
            }
            (_, "EC" | "OKP" | "RSA") => return Err(DpopProblem::Algorithm),
            _ => return Err(DpopProblem::Key),
        };
        let verifier = Verifier::new(alg, &decoding).map_err(|_| DpopProblem::Key)?;
        Ok(ParsedJwk {
            verifier,
            canonical,
        })
    }
}

fn member<'s>(value: &'s Option<Cow<'_, str>>) -> Result<&'s str, DpopProblem> {
    value.as_deref().ok_or(DpopProblem::Key)
}

/// Strict base64url of exactly `out.len()` bytes.
fn decode_exact(text: &str, out: &mut [u8]) -> Result<(), DpopProblem> {
    let expected = out.len();
    if base64::decoded_len_estimate(text.len()) > expected + 2 {
        return Err(DpopProblem::Key);
    }
    let mut buffer = [0u8; 66];
    match URL_SAFE_NO_PAD.decode_slice(text, &mut buffer) {
        Ok(len) if len == expected => {
            out.copy_from_slice(&buffer[..len]);
            Ok(())
        }
        _ => Err(DpopProblem::Key),
    }
}

/// A big-endian unsigned integer in strict base64url, in its shortest form
/// (RFC 7518, section 6.3.1: no leading zero octet).
fn unsigned(text: &str) -> Result<Vec<u8>, DpopProblem> {
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| DpopProblem::Key)?;
    match bytes.first() {
        Some(first) if *first != 0 => Ok(bytes),
        _ => Err(DpopProblem::Key),
    }
}

fn bits(minimal: &[u8]) -> usize {
    minimal.first().map_or(0, |first| {
        (minimal.len() - 1) * 8 + (8 - first.leading_zeros() as usize)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::{Jwk, ThumbprintHash};

    fn parse(json: &str) -> PublicJwk<'_> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn thumbprints_match_jsonwebtoken_for_every_key_type() {
        crate::token::provider::ensure_provider();
        let keys = [
            (Algorithm::ES256, crate::token::keys::tests::ES256_PEM),
            (Algorithm::EdDSA, crate::token::keys::tests::ED25519_PEM),
            (Algorithm::RS256, crate::token::keys::tests::RS256_PEM),
        ];
        for (alg, pem) in keys {
            let key = match alg {
                Algorithm::ES256 => crate::Key::es256_pem(pem),
                Algorithm::EdDSA => crate::Key::ed25519_pem(pem),
                _ => crate::Key::rs256_pem(pem),
            }
            .unwrap();
            let jwk: Jwk = key.public_jwk().unwrap();
            let json = serde_json::to_string(&jwk).unwrap();
            let ours = parse(&json).key_for(alg).map_err(|p| p.as_str()).unwrap();
            let theirs = jwk.thumbprint(ThumbprintHash::SHA256).unwrap();
            assert_eq!(
                super::super::dpop::Jkt::of_canonical_jwk(ours.canonical.as_bytes()).as_str(),
                theirs,
                "{alg:?}"
            );
            // PS256 takes the same RSA keys.
            if alg == Algorithm::RS256 {
                assert!(parse(&json).key_for(Algorithm::PS256).is_ok());
            }
        }
    }

    #[test]
    fn private_and_ill_fitting_keys_are_refused() {
        let x = URL_SAFE_NO_PAD.encode([9u8; 32]);
        let ed = |extra: &str| format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}"{extra}}}"#);
        let ed_json = ed("");
        let (okp, es) = (Algorithm::EdDSA, Algorithm::ES256);
        assert!(parse(&ed_json).key_for(okp).is_ok());
        for (json, alg, problem) in [
            (ed(r#","d":"AAAA""#), okp, DpopProblem::Key),
            (ed(r#","k":"AAAA""#), okp, DpopProblem::Key),
            (ed_json.clone(), es, DpopProblem::Algorithm),
            (ed_json.clone(), Algorithm::HS256, DpopProblem::Algorithm),
            (ed_json.replace("Ed25519", "Ed448"), okp, DpopProblem::Key),
            (ed_json.replace(&x, &x[..42]), okp, DpopProblem::Key),
            (ed_json.replace("OKP", "oct"), okp, DpopProblem::Key),
            (
                r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#.into(),
                Algorithm::RS256,
                DpopProblem::Key,
            ),
            (r#"{"kty":"EC","crv":"P-256"}"#.into(), es, DpopProblem::Key),
        ] {
            let found = parse(&json).key_for(alg).map(|_| ());
            assert_eq!(found, Err(problem), "{json} {alg:?}");
        }
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bits(&[]), 0);
        assert_eq!(bits(&[1]), 1);
        assert_eq!(bits(&[0x80, 0]), 16);
    }
}
