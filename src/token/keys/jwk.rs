//! [`Key::from_public_jwk`]: a verify-only key from a public JWK, for a resource
//! server that holds no private keys.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use sha2::{Digest, Sha256};

use super::{Key, fingerprint};
use crate::error::{ConfigError, Error};
use crate::token::jwk::PublicJwk;
use crate::token::provider::ensure_provider;

impl Key {
    /// A key that only verifies, from a public JWK (one entry of an
    /// authorization server's JWKS): Ed25519 (`OKP`), P-256 (`EC`) or RSA
    /// of 2048 to 4096 bits, for EdDSA, ES256 and RS256. The algorithm is
    /// the JWK's `alg` when it has one, else the one its key type has in
    /// this crate. The `kid` is the JWK's, else its RFC 7638 thumbprint.
    ///
    /// A verify-only key is for a [`Verifier`](crate::Verifier); a
    /// [`TokenService`](crate::TokenService) refuses it as a signing key.
    ///
    /// ```
    /// # let pem = include_str!("../../../tests/data/keys/ed25519.pem");
    /// use jwt_rotate::Key;
    ///
    /// let signing = Key::ed25519_pem(pem)?;
    /// let public = signing.public_jwk().ok_or("an Ed25519 key has a public half")?;
    /// let verifying = Key::from_public_jwk(&public)?;
    /// assert_eq!(verifying.kid(), signing.kid());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] for a symmetric (`oct`) key (HMAC keys are never
    /// published), a `use` other than `sig`,
    /// an `alg` this crate does not verify with or that does not fit the
    /// key type, or key material that is not a valid public key.
    pub fn from_public_jwk(jwk: &Jwk) -> Result<Self, Error> {
        ensure_provider();
        let refused = |problem: &'static str| Error::from(ConfigError::new(problem));
        if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
            return Err(refused("the JWK's `use` is not `sig`"));
        }
        let json = serde_json::to_value(jwk)
            .map_err(|e| ConfigError::with_source("the JWK does not serialize", e))?;
        let text = |member: &str| json.get(member).and_then(|v| v.as_str());
        let algorithm = match (text("alg"), text("kty"), text("crv")) {
            (_, Some("oct"), _) => return Err(refused("an HMAC key never comes from a JWK")),
            (Some("EdDSA") | None, Some("OKP"), Some("Ed25519")) => Algorithm::EdDSA,
            (Some("ES256") | None, Some("EC"), Some("P-256")) => Algorithm::ES256,
            (Some("RS256") | None, Some("RSA"), _) => Algorithm::RS256,
            (Some(_), _, _) => return Err(refused("the JWK's `alg` does not fit its key")),
            _ => return Err(refused("not an Ed25519, P-256 or RSA public key")),
        };
        let members = json.to_string();
        let public: PublicJwk<'_> = serde_json::from_str(&members)
            .map_err(|e| ConfigError::with_source("not a public JWK", e))?;
        let parsed = public
            .key_for(algorithm)
            .map_err(|_| refused("not a valid public key for its algorithm"))?;
        let kid = match &jwk.common.key_id {
            Some(kid) => kid.clone(),
            None => URL_SAFE_NO_PAD.encode(Sha256::digest(parsed.canonical.as_bytes())),
        };
        Ok(Self {
            kid,
            algorithm,
            signer: None,
            verifier: parsed.verifier,
            public_jwk: Some(jwk.clone()),
            fingerprint: fingerprint(parsed.canonical.as_bytes()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ED25519_PEM, ES256_PEM, RS256_PEM};
    use super::*;

    #[test]
    fn public_halves_verify_what_the_private_keys_sign() {
        for key in [
            Key::ed25519_pem(ED25519_PEM).unwrap(),
            Key::es256_pem(ES256_PEM).unwrap(),
            Key::rs256_pem(RS256_PEM).unwrap(),
        ] {
            let public = Key::from_public_jwk(&key.public_jwk().unwrap()).unwrap();
            assert_eq!(
                (public.kid(), public.algorithm()),
                (key.kid(), key.algorithm())
            );
            let signature = key.sign(b"m").unwrap();
            assert!(public.verify(b"m", signature.as_ref()));
            assert!(!public.verify(b"n", signature.as_ref()));
            assert!(!public.can_sign() && public.sign(b"m").is_err());
        }
    }

    #[test]
    fn ill_fitting_jwks_are_refused() {
        let ed = Key::ed25519_pem(ED25519_PEM).unwrap().public_jwk().unwrap();
        let json = serde_json::to_value(&ed).unwrap();
        let with = |json: &serde_json::Value, member: &str, value: serde_json::Value| {
            let mut changed = json.clone();
            changed[member] = value;
            serde_json::from_value::<Jwk>(changed).unwrap()
        };
        assert!(Key::from_public_jwk(&with(&json, "alg", "EdDSA".into())).is_ok());
        for bad in [
            with(&json, "alg", "ES256".into()),
            with(&json, "alg", "HS256".into()),
            with(&json, "use", "enc".into()),
            with(&json, "crv", "Ed448".into()),
            with(&json, "x", "AAAA".into()),
        ] {
            assert!(
                matches!(Key::from_public_jwk(&bad), Err(Error::Config(_))),
                "{bad:?}"
            );
        }
        let oct: Jwk =
            serde_json::from_str(r#"{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}"#)
                .unwrap();
        assert!(Key::from_public_jwk(&oct).is_err());
    }
}
