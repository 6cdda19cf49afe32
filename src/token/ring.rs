//! [`KeyRing`]: keys by `kid`, the first signs, all verify; and the JWKS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;

use super::keys::Key;
use crate::error::ConfigError;

/// Keys by `kid`: the first signs, all verify. Holds the JWS header each
/// key writes, encoded once.
pub(crate) struct KeyRing {
    keys: Vec<RingKey>,
}

pub(crate) struct RingKey {
    pub(crate) key: Key,
    /// `base64url(header) + "."`, the constant start of every token signed
    /// by this key.
    pub(crate) prefix: String,
}

impl KeyRing {
    /// A ring whose tokens carry header `typ`; `signing` signs, `accepted`
    /// only verify.
    pub(crate) fn new(typ: &str, signing: Key, accepted: Vec<Key>) -> Result<Self, ConfigError> {
        let keys: Vec<RingKey> = std::iter::once(signing)
            .chain(accepted)
            .map(|key| {
                let header = serde_json::json!({
                    "alg": key.algorithm(),
                    "typ": typ,
                    "kid": key.kid(),
                });
                let mut prefix = URL_SAFE_NO_PAD.encode(header.to_string());
                prefix.push('.');
                RingKey { key, prefix }
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
        Ok(Self { keys })
    }

    pub(crate) fn signing(&self) -> &RingKey {
        &self.keys[0]
    }

    pub(crate) fn find(&self, kid: &str) -> Option<&Key> {
        self.keys.iter().map(|k| &k.key).find(|k| k.kid() == kid)
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

fn check_kid(kid: &str) -> Result<(), ConfigError> {
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
}
