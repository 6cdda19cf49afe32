//! The aws-lc-rs backend: its prepared key types, as jsonwebtoken's own
//! aws-lc-rs provider uses them, but built once per key instead of once per
//! call.

use aws_lc_rs::digest::{self, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, ParsedPublicKey};
use aws_lc_rs::signature::{RsaKeyPair, RsaPublicKeyComponents};
use aws_lc_rs::{constant_time, hmac};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey};
use zeroize::Zeroizing;

use super::Signature;
use crate::error::ConfigError;

/// A key that signs: HMAC (its inner and outer states computed once),
/// Ed25519, ES256 (P-256, fixed-size JWS signatures) or RS256 (PKCS#1 v1.5,
/// SHA-256). aws-lc wipes the key material when it frees it.
pub(crate) enum Signer {
    // Boxed: aws-lc's HMAC context has room for SHA-512 (1.2 KiB).
    Hmac(Box<hmac::Key>),
    Ed25519(Ed25519KeyPair),
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
}

impl Signer {
    /// The key for `algorithm` from jsonwebtoken's form of it: the secret,
    /// or the DER of the private key (PKCS#8 for Ed25519 and P-256, PKCS#1
    /// for RSA).
    pub(crate) fn new(algorithm: Algorithm, key: &EncodingKey) -> Result<Self, ConfigError> {
        let der = key.as_bytes();
        Ok(match algorithm {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                Self::Hmac(Box::new(hmac::Key::new(hmac_algorithm(algorithm), der)))
            }
            Algorithm::EdDSA => Self::Ed25519(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?),
            Algorithm::ES256 => Self::Es256(
                EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(rejected)?,
            ),
            Algorithm::RS256 => Self::Rs256(RsaKeyPair::from_der(der).map_err(rejected)?),
            _ => return Err(ConfigError::new("no signing with this algorithm")),
        })
    }

    /// For an HMAC key, the key having absorbed `prefix` (see [`Primed`]).
    pub(crate) fn primed(&self, prefix: &[u8]) -> Option<Primed> {
        match self {
            Self::Hmac(key) => {
                let mut context = hmac::Context::with_key(key);
                context.update(prefix);
                Some(Primed(context))
            }
            _ => None,
        }
    }

    /// The length of this key's signatures, in bytes.
    pub(crate) fn signature_len(&self) -> usize {
        match self {
            Self::Hmac(key) => key.algorithm().digest_algorithm().output_len(),
            Self::Ed25519(_) | Self::Es256(_) => 64,
            Self::Rs256(pair) => pair.public_modulus_len(),
        }
    }

    /// The signature of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Signature, ConfigError> {
        let failed = |e| ConfigError::with_source("signing failed", e);
        Ok(match self {
            Self::Hmac(key) => Signature::copy_of(hmac::sign(key, message).as_ref()),
            Self::Ed25519(pair) => Signature::copy_of(pair.sign(message).as_ref()),
            Self::Es256(pair) => {
                let signature = pair.sign(&SystemRandom::new(), message).map_err(failed)?;
                Signature::copy_of(signature.as_ref())
            }
            Self::Rs256(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &sig::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(failed)?;
                Signature::Long(signature.into())
            }
        })
    }
}

/// An HMAC key that has absorbed the start its messages share (the ring's
/// encoded header), so that each MAC hashes only the rest: the same MAC,
/// less work, as the key's own inner and outer states are.
pub(crate) struct Primed(hmac::Context);

impl Primed {
    /// The MAC of the prefix followed by `rest`.
    pub(crate) fn sign(&self, rest: &[u8]) -> Signature {
        let mut context = self.0.clone();
        context.update(rest);
        Signature::copy_of(context.sign().as_ref())
    }

    /// Whether `tag` is the MAC of the prefix followed by `rest`, compared
    /// in constant time.
    pub(crate) fn verify(&self, rest: &[u8], tag: &[u8]) -> bool {
        let mut context = self.0.clone();
        context.update(rest);
        constant_time::verify_slices_are_equal(context.sign().as_ref(), tag).is_ok()
    }
}

/// A key that verifies: HMAC, or a public key parsed once (Ed25519, P-256,
/// RSA with PKCS#1 v1.5 or PSS padding, 2048 to 8192 bits).
pub(crate) enum Verifier {
    Hmac(Box<hmac::Key>),
    Public(ParsedPublicKey),
}

impl Verifier {
    /// The key for `algorithm` from jsonwebtoken's form of it (from a JWK,
    /// a PEM or a secret).
    pub(crate) fn new(algorithm: Algorithm, key: &DecodingKey) -> Result<Self, ConfigError> {
        if key.family() != algorithm.family() {
            return Err(ConfigError::new("the key is not of the algorithm's family"));
        }
        let public: &'static dyn sig::VerificationAlgorithm = match algorithm {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                let secret = key.try_get_as_bytes().map_err(rejected)?;
                let key = hmac::Key::new(hmac_algorithm(algorithm), secret);
                return Ok(Self::Hmac(Box::new(key)));
            }
            Algorithm::EdDSA => &sig::ED25519,
            Algorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
            _ => rsa_parameters(algorithm)
                .ok_or_else(|| ConfigError::new("no verifying with this algorithm"))?,
        };
        let parsed = match (key.kind(), rsa_parameters(algorithm)) {
            (DecodingKeyKind::SecretOrDer(bytes), _) => ParsedPublicKey::new(public, bytes),
            (DecodingKeyKind::RsaModulusExponent { n, e }, Some(rsa)) => {
                RsaPublicKeyComponents { n, e }.to_parsed_public_key(rsa)
            }
            (DecodingKeyKind::RsaModulusExponent { .. }, None) => {
                return Err(ConfigError::new("RSA components for a non-RSA algorithm"));
            }
        };
        parsed.map(Self::Public).map_err(rejected)
    }

    /// Whether `signature` is this key's signature of `message` (HMAC tags
    /// compared in constant time).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            Self::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }
}

fn rejected(error: impl std::error::Error + Send + Sync + 'static) -> ConfigError {
    ConfigError::with_source("the key was rejected", error)
}

fn hmac_algorithm(algorithm: Algorithm) -> hmac::Algorithm {
    match algorithm {
        Algorithm::HS384 => hmac::HMAC_SHA384,
        Algorithm::HS512 => hmac::HMAC_SHA512,
        _ => hmac::HMAC_SHA256,
    }
}

fn rsa_parameters(algorithm: Algorithm) -> Option<&'static sig::RsaParameters> {
    Some(match algorithm {
        Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// SHA-256 of `domain || secret`, in one call of aws-lc's: with a domain,
/// both are copied into one buffer, wiped after. `domain` is one of the
/// crate's own, at most 32 bytes.
pub(crate) fn sha256(domain: &[u8], secret: &[u8; 32]) -> [u8; 32] {
    let digest = if domain.is_empty() {
        digest::digest(&SHA256, secret)
    } else {
        let mut input = Zeroizing::new([0u8; 64]);
        let (head, tail) = input.split_at_mut(domain.len());
        head.copy_from_slice(domain);
        tail[..secret.len()].copy_from_slice(secret);
        digest::digest(&SHA256, &input[..domain.len() + secret.len()])
    };
    let mut hash = [0u8; 32];
    hash.copy_from_slice(digest.as_ref());
    hash
}
