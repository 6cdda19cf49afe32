//! Making and loading [`Key`]s: random keys, PEM of any supported kind,
//! private JWKs, and the environment.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::keys::Key;
use crate::error::{ConfigError, Error};

/// The PKCS#8 v1 header of an Ed25519 private key (RFC 8410): the 32-byte
/// seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

impl Key {
    /// A new random key: `EdDSA` (Ed25519, the one to publish in a JWKS for
    /// other services), or `HS256`/`HS384`/`HS512` (a secret of the hash's
    /// length). Random keys live as long as the process: tokens signed
    /// before a restart no longer verify, which logs everyone out. Load a
    /// stored key ([`Key::from_env`]) to survive restarts.
    ///
    /// ```
    /// use jwt_rotate::{Algorithm, Key};
    ///
    /// let access = Key::generate(Algorithm::EdDSA)?;
    /// assert!(access.public_jwk().is_some());
    /// let refresh = Key::generate(Algorithm::HS256)?;
    /// assert_eq!(refresh.algorithm(), Algorithm::HS256);
    /// # Ok::<(), jwt_rotate::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] for other algorithms (make an ES256 or RS256 key
    /// with a key tool and load its PEM).
    pub fn generate(algorithm: Algorithm) -> Result<Self, Error> {
        let random = |len: usize| {
            let mut bytes = Zeroizing::new(vec![0u8; len]);
            rand::fill(&mut bytes[..]);
            bytes
        };
        match algorithm {
            Algorithm::HS256 => Self::hs256(random(32)),
            Algorithm::HS384 => Self::hs384(random(48)),
            Algorithm::HS512 => Self::hs512(random(64)),
            Algorithm::EdDSA => Self::ed25519_seed(&random(32)),
            other => Err(ConfigError::new(format!(
                "cannot generate {other:?} keys; load a PEM made by a key tool"
            ))
            .into()),
        }
    }

    /// A key from a PEM private key of any supported kind: Ed25519 or P-256
    /// (PKCS#8 or SEC1), or RSA (PKCS#1 or PKCS#8, 2048 bits or more).
    ///
    /// # Errors
    /// [`Error::Config`] if the PEM is none of these.
    pub fn from_pem(private_pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        let pem = private_pem.as_ref();
        let label = |needle: &[u8]| pem.windows(needle.len()).any(|w| w == needle);
        if label(b"BEGIN RSA PRIVATE KEY") {
            return Self::rs256_pem(pem);
        }
        if label(b"BEGIN EC PRIVATE KEY") {
            return Self::es256_pem(pem);
        }
        Self::ed25519_pem(pem)
            .or_else(|_| Self::es256_pem(pem))
            .or_else(|_| Self::rs256_pem(pem))
            .map_err(|_| ConfigError::new("not an Ed25519, P-256 or RSA private key in PEM").into())
    }

    /// A key from a private JWK (RFC 7517) in JSON: `kty: "oct"` (HMAC; the
    /// `alg` member picks HS256, HS384 or HS512, default HS256) or
    /// `kty: "OKP"` with `crv: "Ed25519"` and its private `d`. The JWK's
    /// `kid`, if any, becomes the key's.
    ///
    /// ```
    /// let jwk = r#"{"kty":"oct","kid":"r1","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}"#;
    /// let key = jwt_rotate::Key::from_jwk(jwk)?;
    /// assert_eq!(key.kid(), "r1");
    /// # Ok::<(), jwt_rotate::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] if the JSON is not such a JWK (EC and RSA private
    /// JWKs are not read: use their PEM), or the key is too short.
    pub fn from_jwk(json: &str) -> Result<Self, Error> {
        let jwk: PrivateJwk = serde_json::from_str(json)
            .map_err(|e| ConfigError::with_source("not a private JWK in JSON", e))?;
        let bytes = |member: Option<&str>, name: &'static str| {
            let text = member.ok_or_else(|| ConfigError::new(name))?;
            URL_SAFE_NO_PAD
                .decode(text)
                .map(Zeroizing::new)
                .map_err(|e| ConfigError::with_source(name, e))
        };
        let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("oct", _) => {
                let secret = bytes(jwk.k.as_deref(), "an oct JWK needs `k` in base64url")?;
                match jwk.alg.as_deref() {
                    None | Some("HS256") => Self::hs256(&*secret)?,
                    Some("HS384") => Self::hs384(&*secret)?,
                    Some("HS512") => Self::hs512(&*secret)?,
                    Some(_) => return Err(ConfigError::new("an oct JWK's alg must be HS*").into()),
                }
            }
            ("OKP", Some("Ed25519")) => {
                let seed = bytes(jwk.d.as_deref(), "an Ed25519 JWK needs `d` in base64url")?;
                Self::ed25519_seed(&seed)?
            }
            _ => {
                return Err(ConfigError::new(
                    "only oct and Ed25519 private JWKs are read; load EC and RSA keys from PEM",
                )
                .into());
            }
        };
        Ok(match jwk.kid.clone() {
            Some(kid) => key.with_kid(kid),
            None => key,
        })
    }

    /// A key from the environment variable `var`: a PEM private key
    /// ([`Key::from_pem`]), a private JWK ([`Key::from_jwk`]), or the path
    /// of a file holding either.
    ///
    /// # Errors
    /// [`Error::Config`] if the variable is unset or not Unicode, the file
    /// cannot be read, or its key cannot be loaded. The message names the
    /// variable, never its value.
    pub fn from_env(var: &str) -> Result<Self, Error> {
        let value = Zeroizing::new(std::env::var(var).map_err(|e| {
            ConfigError::with_source(format!("environment variable {var} holds no key"), e)
        })?);
        let text = if value.contains("-----BEGIN") || value.trim_start().starts_with('{') {
            value
        } else {
            Zeroizing::new(std::fs::read_to_string(value.trim()).map_err(|e| {
                ConfigError::with_source(format!("cannot read the key file named by {var}"), e)
            })?)
        };
        let loaded = if text.trim_start().starts_with('{') {
            Self::from_jwk(&text)
        } else {
            Self::from_pem(text.as_bytes())
        };
        loaded.map_err(|e| ConfigError::with_source(format!("the key in {var}"), e).into())
    }

    /// An Ed25519 key from its 32-byte seed.
    fn ed25519_seed(seed: &[u8]) -> Result<Self, Error> {
        if seed.len() != 32 {
            return Err(ConfigError::new("an Ed25519 private key is 32 bytes").into());
        }
        let mut der = Zeroizing::new(Vec::with_capacity(48));
        der.extend_from_slice(&ED25519_PKCS8_PREFIX);
        der.extend_from_slice(seed);
        let pem = Zeroizing::new(format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            Zeroizing::new(STANDARD.encode(&*der)).as_str()
        ));
        Self::ed25519_pem(pem.as_bytes())
    }
}

/// The members of a private JWK this crate reads; zeroized on drop.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
struct PrivateJwk {
    kty: String,
    crv: Option<String>,
    alg: Option<String>,
    kid: Option<String>,
    k: Option<String>,
    d: Option<String>,
}
