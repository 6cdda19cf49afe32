//! The pure-Rust backend: the RustCrypto types jsonwebtoken's own
//! rust_crypto provider uses, called the same way, but built once per key
//! instead of once per call.
//!
//! The private keys (ed25519-dalek, p256, rsa) are zeroized on drop;
//! `hmac` 0.12 keeps only the states after the padded key, and offers no
//! zeroizing.

use ed25519_dalek::pkcs8::DecodePrivateKey;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::rand_core::OsRng;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier as _};
use rsa::traits::{PublicKeyParts, SignatureScheme};
use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
use sha2::Digest as _;
use sha2_0_10::{Digest, Sha256, Sha384, Sha512};

use super::Signature;
use crate::error::ConfigError;

/// A key that signs: HMAC (its padded-key states computed once), Ed25519,
/// ES256 (P-256, deterministic RFC 6979 signatures) or RS256 (PKCS#1 v1.5,
/// SHA-256, blinded).
pub(crate) enum Signer {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
    Ed25519(ed25519_dalek::SigningKey),
    Es256(p256::ecdsa::SigningKey),
    Rs256(rsa::pkcs1v15::SigningKey<Sha256>),
}

impl Signer {
    /// The key for `algorithm` from jsonwebtoken's form of it: the secret,
    /// or the DER of the private key (PKCS#8 for Ed25519 and P-256, PKCS#1
    /// for RSA).
    pub(crate) fn new(algorithm: Algorithm, key: &EncodingKey) -> Result<Self, ConfigError> {
        let der = key.as_bytes();
        Ok(match algorithm {
            Algorithm::HS256 => Self::Hs256(hmac_key(der)?),
            Algorithm::HS384 => Self::Hs384(hmac_key(der)?),
            Algorithm::HS512 => Self::Hs512(hmac_key(der)?),
            Algorithm::EdDSA => {
                Self::Ed25519(ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(rejected)?)
            }
            Algorithm::ES256 => {
                Self::Es256(p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(rejected)?)
            }
            Algorithm::RS256 => Self::Rs256(rsa::pkcs1v15::SigningKey::new(
                RsaPrivateKey::from_pkcs1_der(der).map_err(rejected)?,
            )),
            _ => return Err(ConfigError::new("no signing with this algorithm")),
        })
    }

    /// For an HMAC key, the key having absorbed `prefix` (see [`Primed`]).
    pub(crate) fn primed(&self, prefix: &[u8]) -> Option<Primed> {
        match self {
            Self::Hs256(key) => Some(Primed::Hs256(key.clone().chain_update(prefix))),
            Self::Hs384(key) => Some(Primed::Hs384(key.clone().chain_update(prefix))),
            Self::Hs512(key) => Some(Primed::Hs512(key.clone().chain_update(prefix))),
            _ => None,
        }
    }

    /// The length of this key's signatures, in bytes.
    pub(crate) fn signature_len(&self) -> usize {
        match self {
            Self::Hs256(_) => 32,
            Self::Hs384(_) => 48,
            Self::Hs512(_) | Self::Ed25519(_) | Self::Es256(_) => 64,
            Self::Rs256(key) => AsRef::<RsaPrivateKey>::as_ref(key).size(),
        }
    }

    /// The signature of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Signature, ConfigError> {
        let failed = |e| ConfigError::with_source("signing failed", e);
        Ok(match self {
            Self::Hs256(key) => hmac_sign(key, message),
            Self::Hs384(key) => hmac_sign(key, message),
            Self::Hs512(key) => hmac_sign(key, message),
            Self::Ed25519(key) => {
                Signature::copy_of(&ed25519_dalek::Signer::sign(key, message).to_bytes())
            }
            Self::Es256(key) => {
                let (signature, _) = key.sign_recoverable(message).map_err(failed)?;
                Signature::copy_of(&signature.to_bytes())
            }
            Self::Rs256(key) => {
                let signature = key.try_sign_with_rng(&mut OsRng, message).map_err(failed)?;
                Signature::Long(signature.to_bytes())
            }
        })
    }
}

fn rejected(error: impl std::error::Error + Send + Sync + 'static) -> ConfigError {
    ConfigError::with_source("the key was rejected", error)
}

/// An HMAC key that has absorbed the start its messages share (the ring's
/// encoded header), so that each MAC hashes only the rest: the same MAC,
/// less work, as the key's own padded-key states are.
pub(crate) enum Primed {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
}

impl Primed {
    /// The MAC of the prefix followed by `rest`.
    pub(crate) fn sign(&self, rest: &[u8]) -> Signature {
        match self {
            Self::Hs256(mac) => hmac_sign(mac, rest),
            Self::Hs384(mac) => hmac_sign(mac, rest),
            Self::Hs512(mac) => hmac_sign(mac, rest),
        }
    }

    /// Whether `tag` is the MAC of the prefix followed by `rest`, compared
    /// in constant time.
    pub(crate) fn verify(&self, rest: &[u8], tag: &[u8]) -> bool {
        match self {
            Self::Hs256(mac) => hmac_verify(mac, rest, tag),
            Self::Hs384(mac) => hmac_verify(mac, rest, tag),
            Self::Hs512(mac) => hmac_verify(mac, rest, tag),
        }
    }
}

fn hmac_key<M: Mac + hmac::digest::KeyInit>(secret: &[u8]) -> Result<M, ConfigError> {
    <M as Mac>::new_from_slice(secret)
        .map_err(|e| ConfigError::with_source("the HMAC secret was rejected", e))
}

/// A key that verifies: HMAC, or a public key parsed once (Ed25519, P-256,
/// RSA with PKCS#1 v1.5 or PSS padding).
pub(crate) enum Verifier {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
    Ed25519(ed25519_dalek::VerifyingKey),
    Es256(p256::ecdsa::VerifyingKey),
    Rsa(RsaPublicKey, Algorithm),
}

impl Verifier {
    /// The key for `algorithm` from jsonwebtoken's form of it (from a JWK,
    /// a PEM or a secret).
    pub(crate) fn new(algorithm: Algorithm, key: &DecodingKey) -> Result<Self, ConfigError> {
        if key.family() != algorithm.family() {
            return Err(ConfigError::new("the key is not of the algorithm's family"));
        }
        let bytes = match key.kind() {
            DecodingKeyKind::SecretOrDer(bytes) => bytes.as_slice(),
            DecodingKeyKind::RsaModulusExponent { n, e } => {
                let public =
                    RsaPublicKey::new(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e));
                return Self::rsa(public.map_err(rejected)?, algorithm);
            }
        };
        Ok(match algorithm {
            Algorithm::HS256 => Self::Hs256(hmac_key(bytes)?),
            Algorithm::HS384 => Self::Hs384(hmac_key(bytes)?),
            Algorithm::HS512 => Self::Hs512(hmac_key(bytes)?),
            Algorithm::EdDSA => {
                let bytes = bytes.try_into().map_err(rejected)?;
                Self::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(rejected)?)
            }
            Algorithm::ES256 => {
                Self::Es256(p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(rejected)?)
            }
            _ => {
                let public = RsaPublicKey::from_pkcs1_der(bytes).map_err(rejected)?;
                return Self::rsa(public, algorithm);
            }
        })
    }

    fn rsa(public: RsaPublicKey, algorithm: Algorithm) -> Result<Self, ConfigError> {
        match algorithm {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => Ok(Self::Rsa(public, algorithm)),
            _ => Err(ConfigError::new("no verifying with this algorithm")),
        }
    }

    /// Whether `signature` is this key's signature of `message` (HMAC tags
    /// compared in constant time).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Hs256(key) => hmac_verify(key, message, signature),
            Self::Hs384(key) => hmac_verify(key, message, signature),
            Self::Hs512(key) => hmac_verify(key, message, signature),
            Self::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            Self::Es256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            Self::Rsa(key, algorithm) => match algorithm {
                Algorithm::RS256 => {
                    rsa_verify::<Sha256>(key, Pkcs1v15Sign::new::<Sha256>(), message, signature)
                }
                Algorithm::RS384 => {
                    rsa_verify::<Sha384>(key, Pkcs1v15Sign::new::<Sha384>(), message, signature)
                }
                Algorithm::RS512 => {
                    rsa_verify::<Sha512>(key, Pkcs1v15Sign::new::<Sha512>(), message, signature)
                }
                Algorithm::PS256 => {
                    rsa_verify::<Sha256>(key, Pss::new::<Sha256>(), message, signature)
                }
                Algorithm::PS384 => {
                    rsa_verify::<Sha384>(key, Pss::new::<Sha384>(), message, signature)
                }
                _ => rsa_verify::<Sha512>(key, Pss::new::<Sha512>(), message, signature),
            },
        }
    }
}

fn hmac_sign<M: Mac + Clone>(key: &M, message: &[u8]) -> Signature {
    Signature::copy_of(&key.clone().chain_update(message).finalize().into_bytes())
}

fn hmac_verify<M: Mac + Clone>(key: &M, message: &[u8], tag: &[u8]) -> bool {
    key.clone().chain_update(message).verify_slice(tag).is_ok()
}

fn rsa_verify<H: Digest>(
    key: &RsaPublicKey,
    scheme: impl SignatureScheme,
    message: &[u8],
    signature: &[u8],
) -> bool {
    key.verify(scheme, &H::digest(message), signature).is_ok()
}

/// SHA-256 of `domain || secret`, by the `sha2` crate.
pub(crate) fn sha256(domain: &[u8], secret: &[u8; 32]) -> [u8; 32] {
    sha2::Sha256::new()
        .chain_update(domain)
        .chain_update(secret)
        .finalize()
        .into()
}
