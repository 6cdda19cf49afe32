//! [`KeyRing`]: keys by `kid`, the first signs, all verify; and the JWKS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;

use super::keys::Key;
use super::provider::{Primed, Signature};
use crate::error::{ConfigError, Error};

/// Keys by `kid`: the first signs, all verify. Holds the JWS header each
/// key writes, encoded once.
pub(crate) struct KeyRing {
    keys: Vec<RingKey>,
    /// Whether `keys[0]` signs: false for a verifier's ring of public keys.
    signs: Signing,
    /// The `typ` every header of this ring carries.
    typ: String,
}

pub(crate) struct RingKey {
    pub(crate) key: Key,
    /// `base64url(header) + "."`, the constant start of every token signed
    /// by this key.
    pub(crate) prefix: String,
    /// For an HMAC key, the key with `prefix` absorbed: a token's MAC then
    /// hashes its payload and nothing else (one block less of SHA-256 per
    /// token with an HS256 key's 75-byte prefix).
    primed: Option<Primed>,
}

impl RingKey {
    /// The signature of `message`, a token's `header.payload` whose header
    /// is this key's.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Signature, Error> {
        match (&self.primed, message.strip_prefix(self.prefix.as_bytes())) {
            (Some(primed), Some(rest)) => Ok(primed.sign(rest)),
            _ => self.key.sign(message),
        }
    }

    /// Whether `signature` is this key's signature of `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match (&self.primed, message.strip_prefix(self.prefix.as_bytes())) {
            (Some(primed), Some(rest)) => primed.verify(rest, signature),
            _ => self.key.verify(message, signature),
        }
    }
}

/// Whether a ring signs with its first key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    First,
    Never,
}

impl KeyRing {
    /// A ring whose tokens carry header `typ`; `signing` signs, `accepted`
    /// only verify.
    pub(crate) fn new(typ: &str, signing: Key, accepted: Vec<Key>) -> Result<Self, ConfigError> {
        if !signing.can_sign() {
            return Err(ConfigError::new(
                "a signing key must hold its private half, not come from a JWK",
            ));
        }
        let keys = std::iter::once(signing).chain(accepted).collect();
        Self::with_keys(typ, keys, Signing::First)
    }

    /// A ring that only verifies tokens with header `typ`, by any of `keys`
    /// (possibly none yet): a resource server's.
    pub(crate) fn verify_only(typ: &str, keys: Vec<Key>) -> Result<Self, ConfigError> {
        Self::with_keys(typ, keys, Signing::Never)
    }

    /// A verify-only ring with no key yet.
    pub(crate) fn empty(typ: &str) -> Self {
        Self {
            keys: Vec::new(),
            signs: Signing::Never,
            typ: typ.to_owned(),
        }
    }

    fn with_keys(typ: &str, keys: Vec<Key>, signs: Signing) -> Result<Self, ConfigError> {
        let keys: Vec<RingKey> = keys
            .into_iter()
            .map(|key| {
                let prefix = header_prefix(&key, typ);
                let primed = key.primed(prefix.as_bytes());
                RingKey {
                    key,
                    prefix,
                    primed,
                }
            })
            .collect();
        for (i, a) in keys.iter().enumerate() {
            check_kid(a.key.kid())?;
            if keys[..i].iter().any(|b| b.key.kid() == a.key.kid()) {
                return Err(ConfigError::new(format!(
                    "two keys share the kid `{}`",
                    a.key.kid()
                )));
            }
        }
        Ok(Self {
            keys,
            signs,
            typ: typ.to_owned(),
        })
    }

    /// The key that signs.
    ///
    /// # Errors
    /// [`Error::Config`] for a verify-only ring.
    pub(crate) fn signing(&self) -> Result<&RingKey, Error> {
        match (self.signs, self.keys.first()) {
            (Signing::First, Some(first)) => Ok(first),
            _ => Err(ConfigError::new("this key ring only verifies").into()),
        }
    }

    pub(crate) fn find(&self, kid: &str) -> Option<&RingKey> {
        self.keys.iter().find(|k| k.key.kid() == kid)
    }

    /// The key whose encoded header is exactly `header` (a token's first
    /// segment), if any: a token of ours spells its header as we do.
    pub(crate) fn find_by_header(&self, header: &str) -> Option<&RingKey> {
        self.keys
            .iter()
            .find(|k| k.prefix.strip_suffix('.') == Some(header))
    }

    /// The `typ` in the headers this ring writes.
    pub(crate) fn typ(&self) -> &str {
        &self.typ
    }

    /// The keys, taken out of the ring.
    pub(crate) fn into_keys(self) -> impl Iterator<Item = Key> {
        self.keys.into_iter().map(|k| k.key)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter().map(|k| &k.key)
    }

    /// The public keys of the ring as a JWK Set (HMAC keys have none).
    pub(crate) fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys().filter_map(Key::public_jwk).collect(),
        }
    }
}

/// `base64url(header) + "."` for tokens of type `typ` signed by `key`:
/// the constant start of each.
pub(crate) fn header_prefix(key: &Key, typ: &str) -> String {
    let header = serde_json::json!({
        "alg": key.algorithm(),
        "typ": typ,
        "kid": key.kid(),
    });
    let mut prefix = URL_SAFE_NO_PAD.encode(header.to_string());
    prefix.push('.');
    prefix
}

/// Refuses a `kid` outside 1 to 128 characters of `A-Z a-z 0-9 - _ .`.
pub(crate) fn check_kid(kid: &str) -> Result<(), ConfigError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if (1..=128).contains(&kid.len()) && kid.chars().all(allowed) {
        Ok(())
    } else {
        Err(ConfigError::new(
            "a kid must be 1 to 128 characters from A-Z a-z 0-9 - _ .",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_rejects_duplicate_and_odd_kids() {
        let a = || Key::hs256([1u8; 32]).unwrap();
        let b = || Key::hs256([2u8; 32]).unwrap();
        assert!(KeyRing::new("at+jwt", a(), vec![b()]).is_ok());
        assert!(KeyRing::new("at+jwt", a(), vec![b().with_kid(a().kid())]).is_err());
        assert!(KeyRing::new("at+jwt", a().with_kid(""), vec![]).is_err());
        assert!(KeyRing::new("at+jwt", a().with_kid("a/b"), vec![]).is_err());
        assert!(KeyRing::new("at+jwt", a().with_kid("x".repeat(129)), vec![]).is_err());
    }

    #[test]
    fn verify_only_rings_never_sign() {
        let pem = crate::token::keys::tests::ED25519_PEM;
        let public = || Key::from_public_jwk(&Key::ed25519_pem(pem).unwrap().public_jwk().unwrap());
        assert!(KeyRing::new("at+jwt", public().unwrap(), vec![]).is_err());
        let ring = KeyRing::verify_only("at+jwt", vec![public().unwrap()]).unwrap();
        assert!(ring.signing().is_err());
        assert!(
            KeyRing::verify_only("at+jwt", vec![])
                .unwrap()
                .signing()
                .is_err()
        );
        let twice = vec![public().unwrap(), public().unwrap()];
        assert!(KeyRing::verify_only("at+jwt", twice).is_err());
    }
}
