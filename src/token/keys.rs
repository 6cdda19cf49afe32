//! [`Key`]: one signing key with its `kid`, checked at construction, or a
//! verify-only public key from a JWK (`jwk.rs`).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::{Digest, Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use super::provider::{Primed, Signature, Signer, Verifier, ensure_provider};
use crate::error::{ConfigError, Error};

mod jwk;

/// A signing key with its `kid`: HMAC, Ed25519, ES256 or RS256; or, from
/// [`Key::from_public_jwk`], a public key that only verifies (for a
/// [`Verifier`](crate::Verifier)).
///
/// `Debug` shows the `kid` and algorithm, never key material. The key is
/// held ready for the crypto backend, parsed and set up once; its material
/// is zeroized on drop where the backend allows (see the crate's features).
pub struct Key {
    kid: String,
    algorithm: Algorithm,
    /// `None` for a verify-only key, made from a public JWK.
    signer: Option<Signer>,
    verifier: Verifier,
    public_jwk: Option<Jwk>,
    fingerprint: [u8; 32],
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// An HS256 key. The secret must be at least 32 bytes (the hash output),
    /// and should be random: it is the whole strength of every token.
    ///
    /// The `kid` is derived from the secret by a one-way hash unless set
    /// with [`Key::with_kid`].
    ///
    /// ```
    /// let key = jwt_rotate::Key::hs256([7u8; 32])?;
    /// assert_eq!(key.kid().len(), 22);
    /// # Ok::<(), jwt_rotate::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] if the secret is shorter than 32 bytes.
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, Error> {
        Self::hmac(Algorithm::HS256, 32, secret.as_ref())
    }

    /// An HS384 key; the secret must be at least 48 bytes.
    ///
    /// # Errors
    /// [`Error::Config`] if the secret is shorter than 48 bytes.
    pub fn hs384(secret: impl AsRef<[u8]>) -> Result<Self, Error> {
        Self::hmac(Algorithm::HS384, 48, secret.as_ref())
    }

    /// An HS512 key; the secret must be at least 64 bytes.
    ///
    /// # Errors
    /// [`Error::Config`] if the secret is shorter than 64 bytes.
    pub fn hs512(secret: impl AsRef<[u8]>) -> Result<Self, Error> {
        Self::hmac(Algorithm::HS512, 64, secret.as_ref())
    }

    /// An Ed25519 (EdDSA) key from a PKCS#8 PEM private key.
    ///
    /// The `kid` defaults to the RFC 7638 thumbprint of the public key.
    ///
    /// # Errors
    /// [`Error::Config`] if the PEM is not an Ed25519 private key.
    pub fn ed25519_pem(private_pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        let encoding = EncodingKey::from_ed_pem(private_pem.as_ref())
            .map_err(|e| ConfigError::with_source("not an Ed25519 PKCS#8 PEM private key", e))?;
        Self::asymmetric(Algorithm::EdDSA, encoding)
    }

    /// An ES256 (P-256) key from a PKCS#8 PEM private key.
    ///
    /// # Errors
    /// [`Error::Config`] if the PEM is not a P-256 private key.
    pub fn es256_pem(private_pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        let encoding = EncodingKey::from_ec_pem(private_pem.as_ref())
            .map_err(|e| ConfigError::with_source("not a P-256 PKCS#8 PEM private key", e))?;
        Self::asymmetric(Algorithm::ES256, encoding)
    }

    /// An RS256 key from a PEM RSA private key of at least 2048 bits.
    ///
    /// # Errors
    /// [`Error::Config`] if the PEM is not an RSA private key, or it is
    /// shorter than 2048 bits.
    pub fn rs256_pem(private_pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        let encoding = EncodingKey::from_rsa_pem(private_pem.as_ref())
            .map_err(|e| ConfigError::with_source("not an RSA PEM private key", e))?;
        Self::asymmetric(Algorithm::RS256, encoding)
    }

    /// Replaces the derived `kid`. Checked by the service builder: 1 to 128
    /// characters from `A-Z a-z 0-9 - _ .`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self
    }

    /// The key id written in every token's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWS algorithm this key signs with (pinned: no other is accepted).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The public key as a JWK (with `kid`, `alg`, `use`); `None` for HMAC.
    pub fn public_jwk(&self) -> Option<Jwk> {
        let mut jwk = self.public_jwk.clone()?;
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Some(jwk)
    }

    /// A digest of the key material, to tell keys apart without comparing
    /// secrets.
    pub(crate) fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// Signs `message`, returning the raw signature.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Signature, Error> {
        let signer = self.signer.as_ref().ok_or_else(verify_only)?;
        Ok(signer.sign(message)?)
    }

    /// For an HMAC key, the key having absorbed `prefix`, the start of every
    /// message it will sign or verify in a ring.
    pub(crate) fn primed(&self, prefix: &[u8]) -> Option<Primed> {
        self.signer.as_ref()?.primed(prefix)
    }

    /// The length of this key's signatures, in bytes.
    pub(crate) fn signature_len(&self) -> usize {
        self.signer.as_ref().map_or(0, Signer::signature_len)
    }

    /// Whether this key holds private material to sign with (not one made
    /// by [`Key::from_public_jwk`]).
    pub(crate) fn can_sign(&self) -> bool {
        self.signer.is_some()
    }

    /// Whether `signature` is this key's signature of `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifier.verify(message, signature)
    }

    fn hmac(algorithm: Algorithm, min_len: usize, secret: &[u8]) -> Result<Self, Error> {
        if secret.len() < min_len {
            return Err(ConfigError::new(format!(
                "{algorithm:?} secret must be at least {min_len} bytes"
            ))
            .into());
        }
        // The kid and the fingerprint describe the key HMAC sees, so that
        // two spellings of one key (`K` and `K || 0x00`, or a long key and
        // its hash) share both and are refused as access and refresh keys.
        let effective = hmac_effective_key(algorithm, secret);
        let mut kid_input = Sha256::new();
        kid_input.update(b"jwt-rotate/hmac-kid/v1\0");
        kid_input.update(&*effective);
        let digest = kid_input.finalize();
        Self::checked(Self {
            kid: URL_SAFE_NO_PAD.encode(&digest[..16]),
            algorithm,
            signer: Some(Signer::new(algorithm, &EncodingKey::from_secret(secret))?),
            verifier: Verifier::new(algorithm, &DecodingKey::from_secret(secret))?,
            public_jwk: None,
            fingerprint: fingerprint(&effective),
        })
    }

    fn asymmetric(algorithm: Algorithm, encoding: EncodingKey) -> Result<Self, Error> {
        ensure_provider();
        let invalid = |e| ConfigError::with_source("cannot derive the public key", e);
        let jwk = Jwk::from_encoding_key(&encoding, algorithm).map_err(invalid)?;
        if let AlgorithmParameters::RSA(rsa) = &jwk.algorithm {
            let modulus_bits = URL_SAFE_NO_PAD
                .decode(&rsa.n)
                .map_or(0, |n| n.iter().skip_while(|b| **b == 0).count() * 8);
            if modulus_bits < 2048 {
                return Err(ConfigError::new("RSA keys must have at least 2048 bits").into());
            }
        }
        // The verifier is built from the public JWK, so the self-test also
        // proves that what we publish matches the private key.
        let decoding = DecodingKey::from_jwk(&jwk).map_err(invalid)?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).map_err(invalid)?;
        Self::checked(Self {
            kid,
            algorithm,
            fingerprint: fingerprint(encoding.as_bytes()),
            signer: Some(Signer::new(algorithm, &encoding)?),
            verifier: Verifier::new(algorithm, &decoding)?,
            public_jwk: Some(jwk),
        })
    }

    /// Refuses a key whose two halves do not match: better at start-up than
    /// at the first login.
    fn checked(self) -> Result<Self, Error> {
        let probe = b"jwt-rotate key self-test";
        let signature = self.sign(probe)?;
        if self.verify(probe, signature.as_ref()) {
            Ok(self)
        } else {
            Err(ConfigError::new("key failed its sign/verify self-test").into())
        }
    }
}

fn verify_only() -> ConfigError {
    ConfigError::new("a key made from a public JWK only verifies: it cannot sign")
}

/// The key HMAC really uses (RFC 2104, section 2): a secret longer than the
/// hash's block is replaced by its hash, and the result is padded with
/// zeros to the block. Returned without the padding (trailing zeros
/// stripped), so that equal results mean the very same MACs. For a random
/// secret no longer than the block this is the secret itself, so its `kid`
/// does not change.
fn hmac_effective_key(algorithm: Algorithm, secret: &[u8]) -> Zeroizing<Vec<u8>> {
    type Hash = fn(&[u8]) -> Vec<u8>;
    let (block, hashed): (usize, Hash) = match algorithm {
        Algorithm::HS384 => (128, |s| Sha384::digest(s).to_vec()),
        Algorithm::HS512 => (128, |s| Sha512::digest(s).to_vec()),
        _ => (64, |s| Sha256::digest(s).to_vec()),
    };
    let mut key = Zeroizing::new(if secret.len() > block {
        hashed(secret)
    } else {
        secret.to_vec()
    });
    while key.last() == Some(&0) {
        key.pop();
    }
    key
}

fn fingerprint(material: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"jwt-rotate/key-fingerprint/v1\0");
    hash.update(material);
    hash.finalize().into()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const ED25519_PEM: &str = include_str!("../../tests/data/keys/ed25519.pem");
    pub(crate) const ES256_PEM: &str = include_str!("../../tests/data/keys/es256.pem");
    pub(crate) const ES384_PEM: &str = include_str!("../../tests/data/keys/es384.pem");
    pub(crate) const RS256_PEM: &str = include_str!("../../tests/data/keys/rs256.pem");
    pub(crate) const RSA1024_PEM: &str = include_str!("../../tests/data/keys/rsa1024.pem");

    #[test]
    fn hmac_secrets_must_match_the_hash_size() {
        assert!(Key::hs256([1u8; 31]).is_err());
        assert!(Key::hs256([1u8; 32]).is_ok());
        assert!(Key::hs384([1u8; 47]).is_err());
        assert!(Key::hs384([1u8; 48]).is_ok());
        assert!(Key::hs512([1u8; 63]).is_err());
        assert!(Key::hs512([1u8; 64]).is_ok());
    }

    #[test]
    fn hmac_kid_is_stable_and_hides_the_secret() {
        let a = Key::hs256([1u8; 32]).unwrap();
        let b = Key::hs256([1u8; 32]).unwrap();
        let c = Key::hs256([2u8; 32]).unwrap();
        assert_eq!(a.kid(), b.kid());
        assert_ne!(a.kid(), c.kid());
        assert!(a.public_jwk().is_none());
        assert_eq!(a.with_kid("2026-11").kid(), "2026-11");
    }

    #[test]
    fn hmac_keys_are_known_by_the_key_hmac_sees() {
        let secret = [7u8; 32];
        let plain = Key::hs256(secret).unwrap();
        let mut padded = secret.to_vec();
        padded.push(0);
        let padded = Key::hs256(&padded).unwrap();
        assert_eq!(plain.kid(), padded.kid());
        assert_eq!(plain.fingerprint(), padded.fingerprint());
        // Past the 64-byte block, HMAC-SHA256 uses the key's hash.
        let long = [9u8; 65];
        let hashed: [u8; 32] = Sha256::digest(long).into();
        let long = Key::hs256(long).unwrap();
        let hashed = Key::hs256(hashed).unwrap();
        assert_eq!(long.fingerprint(), hashed.fingerprint());
        let mac = long.sign(b"m").unwrap();
        assert!(
            hashed.verify(b"m", mac.as_ref()),
            "the same key, spelled twice"
        );
        // Other keys stay apart.
        assert_ne!(plain.kid(), Key::hs256([8u8; 32]).unwrap().kid());
        // SHA-384 and SHA-512 have a 128-byte block.
        let a = Key::hs512([5u8; 100]).unwrap();
        let b = Key::hs512(
            [5u8; 100]
                .iter()
                .chain(&[0u8; 28])
                .copied()
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn debug_never_shows_key_material() {
        let secret = *b"super-secret-hmac-key-material!!";
        let key = Key::hs256(secret).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(key.kid()));
        assert!(!shown.contains("super-secret"));
        let ed = Key::ed25519_pem(ED25519_PEM).unwrap();
        assert!(!format!("{ed:?}").contains("MC4CAQAw"));
    }

    #[test]
    fn ed25519_key_publishes_its_public_half() {
        let key = Key::ed25519_pem(ED25519_PEM).unwrap();
        assert_eq!(key.algorithm(), Algorithm::EdDSA);
        let jwk = key.public_jwk().unwrap();
        assert_eq!(jwk.common.key_id.as_deref(), Some(key.kid()));
        let text = serde_json::to_string(&jwk).unwrap();
        assert!(text.contains("\"crv\":\"Ed25519\""), "{text}");
        assert!(!text.contains("\"d\""), "private part leaked: {text}");
    }

    #[test]
    fn garbage_pem_is_a_config_error() {
        for bad in [
            "",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            assert!(matches!(Key::ed25519_pem(bad), Err(Error::Config(_))));
            assert!(matches!(Key::es256_pem(bad), Err(Error::Config(_))));
            assert!(matches!(Key::rs256_pem(bad), Err(Error::Config(_))));
        }
        // A key of another kind, curve or size.
        assert!(Key::es256_pem(ED25519_PEM).is_err());
        assert!(Key::es256_pem(ES384_PEM).is_err());
        assert!(Key::rs256_pem(RSA1024_PEM).is_err());
    }

    #[test]
    fn every_asymmetric_kind_signs_and_publishes() {
        for key in [
            Key::ed25519_pem(ED25519_PEM).unwrap(),
            Key::es256_pem(ES256_PEM).unwrap(),
            Key::rs256_pem(RS256_PEM).unwrap(),
        ] {
            let sig = key.sign(b"m").unwrap();
            assert!(key.verify(b"m", sig.as_ref()), "{key:?}");
            assert_eq!(key.kid().len(), 43, "RFC 7638 SHA-256 thumbprint");
            assert!(key.public_jwk().is_some());
        }
    }

    #[test]
    fn sign_and_verify_are_bound_to_the_key() {
        let a = Key::hs256([1u8; 32]).unwrap();
        let b = Key::hs256([2u8; 32]).unwrap();
        let sig = a.sign(b"message").unwrap();
        assert!(a.verify(b"message", sig.as_ref()));
        assert!(!a.verify(b"messagE", sig.as_ref()));
        assert!(!b.verify(b"message", sig.as_ref()));
    }
}
