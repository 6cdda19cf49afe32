//! [`Signing`]: where a demo server's token keys come from, by default an
//! Ed25519 access key, so that `/.well-known/jwks.json` publishes what a
//! resource server needs to verify its access tokens.

use jwt_rotate::{Algorithm, Key};

use crate::config::EnvError;

/// Where the token signing keys come from.
#[derive(Clone)]
pub enum Signing {
    /// Made at start-up: an Ed25519 access key (published in the JWKS) and
    /// an HS256 refresh secret. A restart invalidates every token, whatever
    /// the store keeps.
    Random,
    /// HS256 secrets of at least 32 bytes each, the same at every start,
    /// so that sessions in a persistent store outlive a restart. Nothing is
    /// published: the JWKS is empty, and only a holder of the access
    /// secret can verify access tokens.
    Secrets {
        /// Signs access tokens.
        access: Vec<u8>,
        /// Signs refresh tokens; must differ from `access`.
        refresh: Vec<u8>,
    },
    /// An access key from a PEM private key (Ed25519 in PKCS#8, as
    /// `openssl genpkey -algorithm ed25519` writes it; P-256 and RSA are
    /// read too), published in the JWKS and the same at every start.
    Pem {
        /// The PEM text of the access key.
        access: Vec<u8>,
        /// The HS256 refresh secret, or `None` for one made at start-up
        /// (a restart then ends every session, though access tokens still
        /// verify until they expire).
        refresh: Option<Vec<u8>>,
    },
}

impl Signing {
    /// From the environment: `ACCESS_KEY_PEM` (the path of a PEM file) or
    /// `ACCESS_KEY_SECRET` (HS256) for the access key, not both;
    /// `REFRESH_KEY_SECRET` for the refresh key, required with
    /// `ACCESS_KEY_SECRET`, optional with `ACCESS_KEY_PEM`. None of them:
    /// [`Signing::Random`].
    ///
    /// # Errors
    /// [`EnvError`] naming the variable whose value cannot be used.
    pub fn from_env() -> Result<Self, EnvError> {
        let var = |name| std::env::var_os(name).map(|value| value.into_encoded_bytes());
        match (
            std::env::var_os("ACCESS_KEY_PEM"),
            var("ACCESS_KEY_SECRET"),
            var("REFRESH_KEY_SECRET"),
        ) {
            (None, None, None) => Ok(Self::Random),
            (None, Some(access), Some(refresh)) => Ok(Self::Secrets { access, refresh }),
            (Some(path), None, refresh) => {
                let pem = std::fs::read(&path).map_err(|err| EnvError {
                    source: Some(err.into()),
                    ..EnvError::new("ACCESS_KEY_PEM", "the path of a readable PEM file")
                })?;
                // Checked now, so that a bad key stops the server at once
                // with the variable's name.
                Key::from_pem(&pem).map_err(|err| EnvError {
                    source: Some(err.into()),
                    ..EnvError::new("ACCESS_KEY_PEM", "a PEM file of an Ed25519 private key")
                })?;
                Ok(Self::Pem {
                    access: pem,
                    refresh,
                })
            }
            (Some(_), Some(_), _) => Err(EnvError::new(
                "ACCESS_KEY_PEM",
                "unset when ACCESS_KEY_SECRET is set (one access key)",
            )),
            (None, Some(_), None) => Err(EnvError::new(
                "ACCESS_KEY_SECRET",
                "set together with REFRESH_KEY_SECRET",
            )),
            (None, None, Some(_)) => Err(EnvError::new(
                "REFRESH_KEY_SECRET",
                "set with ACCESS_KEY_PEM or ACCESS_KEY_SECRET",
            )),
        }
    }

    /// The access and refresh keys.
    ///
    /// # Errors
    /// A secret shorter than 32 bytes, a PEM that holds no usable key.
    pub fn keys(self) -> Result<(Key, Key), jwt_rotate::Error> {
        let refresh = |secret: Option<Vec<u8>>| match secret {
            Some(secret) => Key::hs256(secret),
            None => Key::generate(Algorithm::HS256),
        };
        match self {
            Self::Random => Ok((Key::generate(Algorithm::EdDSA)?, refresh(None)?)),
            Self::Secrets { access, refresh } => Ok((Key::hs256(access)?, Key::hs256(refresh)?)),
            Self::Pem {
                access,
                refresh: secret,
            } => Ok((Key::from_pem(access)?, refresh(secret)?)),
        }
    }
}
