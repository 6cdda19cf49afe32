//! A DPoP client for the tests: real keys, proofs built as JSON values so
//! that a test can break any part of them, and access tokens bound to a
//! key (forged with the test access secret, so that a test can bind a
//! token to any key, or break its `cnf`, without a login; `common::bound`
//! binds sessions at login).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_rotate::{Jkt, Key, TokenPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{ACCESS_SECRET, AUDIENCE, ISSUER};

pub(crate) const ES256_PEM: &str = include_str!("../data/keys/es256.pem");
pub(crate) const ES384_PEM: &str = include_str!("../data/keys/es384.pem");
pub(crate) const ED25519_PEM: &str = include_str!("../data/keys/ed25519.pem");
pub(crate) const ED25519_B_PEM: &str = include_str!("../data/keys/ed25519-b.pem");
pub(crate) const RSA_PEM: &str = include_str!("../data/keys/rs256.pem");
pub(crate) const RSA1024_PEM: &str = include_str!("../data/keys/rsa1024.pem");

/// The URL and method the tests' resource and token endpoint use.
pub(crate) const URL: &str = "https://api.example.com/me";
pub(crate) const TOKEN_URL: &str = "https://auth.example.com/oauth/token";

/// Installs jsonwebtoken's crypto provider for `jsonwebtoken::crypto::sign`.
pub(crate) fn install_provider() {
    #[cfg(feature = "aws-lc-rs")]
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A client's key pair: signs proofs, and knows its public JWK and
/// thumbprint.
pub(crate) struct Client {
    pub(crate) alg: Algorithm,
    pub(crate) key: EncodingKey,
    /// The public JWK, as a proof header carries it.
    pub(crate) jwk: Value,
    pub(crate) jkt: Jkt,
}

impl Client {
    pub(crate) fn new(alg: Algorithm, pem: &str) -> Self {
        install_provider();
        let key = match alg {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .unwrap();
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, alg).unwrap();
        let mut jwk = serde_json::to_value(jwk).unwrap();
        // What a client sends: the key, not our kid/use/alg for it.
        for member in ["kid", "use", "alg"] {
            jwk.as_object_mut().unwrap().remove(member);
        }
        let jkt = Jkt::parse(&thumbprint(&jwk)).unwrap();
        Self { alg, key, jwk, jkt }
    }

    pub(crate) fn es256() -> Self {
        Self::new(Algorithm::ES256, ES256_PEM)
    }

    pub(crate) fn ed25519() -> Self {
        Self::new(Algorithm::EdDSA, ED25519_PEM)
    }

    pub(crate) fn ed25519_b() -> Self {
        Self::new(Algorithm::EdDSA, ED25519_B_PEM)
    }

    pub(crate) fn rs256() -> Self {
        Self::new(Algorithm::RS256, RSA_PEM)
    }

    pub(crate) fn ps256() -> Self {
        Self::new(Algorithm::PS256, RSA_PEM)
    }

    /// The header of a proof: `typ`, `alg`, `jwk`.
    pub(crate) fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk})
    }

    /// The claims of a fresh proof for `method` `url` at `iat`.
    pub(crate) fn claims(&self, method: &str, url: &str, iat: OffsetDateTime) -> Value {
        let mut jti = [0u8; 16];
        rand::fill(&mut jti);
        json!({"jti": b64(jti), "htm": method, "htu": url, "iat": iat.unix_timestamp()})
    }

    /// The claims of a fresh proof sent with `access_token`.
    pub(crate) fn claims_for(&self, url: &str, iat: OffsetDateTime, token: &str) -> Value {
        let mut claims = self.claims("GET", url, iat);
        claims["ath"] = Value::from(ath(token));
        claims
    }

    /// Header and claims as JSON text, signed by this client's key.
    pub(crate) fn sign(&self, header: &Value, claims: &Value) -> String {
        self.sign_raw(&header.to_string(), &claims.to_string())
    }

    /// Raw header and claims text (may be anything), signed.
    pub(crate) fn sign_raw(&self, header: &str, claims: &str) -> String {
        let input = format!("{}.{}", b64(header), b64(claims));
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &self.key, self.alg).unwrap();
        format!("{input}.{signature}")
    }

    /// A valid proof for `method` `url` at `iat`.
    pub(crate) fn proof(&self, method: &str, url: &str, iat: OffsetDateTime) -> String {
        self.sign(&self.header(), &self.claims(method, url, iat))
    }
}

/// RFC 7638: the required members, sorted, no whitespace; computed here
/// independently of the library.
pub(crate) fn thumbprint(jwk: &Value) -> String {
    let members: &[&str] = match jwk["kty"].as_str().unwrap() {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => &["e", "kty", "n"],
    };
    let mut canonical = serde_json::Map::new();
    for member in members {
        canonical.insert((*member).to_owned(), jwk[*member].clone());
    }
    // serde_json's map is sorted by key without `preserve_order`.
    b64(Sha256::digest(Value::Object(canonical).to_string()))
}

/// `ath`: base64url(SHA-256(token)).
pub(crate) fn ath(token: &str) -> String {
    b64(Sha256::digest(token.as_bytes()))
}

/// An access token of `pair`'s session, as the service would sign it for
/// a session bound to `jkt` (any text, to test broken ones).
pub(crate) fn bound_access_token(
    pair: &TokenPair,
    sub: &str,
    jkt: &str,
    now: OffsetDateTime,
) -> String {
    install_provider();
    let kid = Key::hs256(ACCESS_SECRET).unwrap().kid().to_owned();
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": kid});
    let claims = json!({
        "iss": ISSUER, "sub": sub, "aud": AUDIENCE,
        "exp": now.unix_timestamp() + 600, "iat": now.unix_timestamp(),
        "jti": "bound-token-jti", "sid": pair.session_id.to_string(),
        "cnf": {"jkt": jkt},
    });
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let key = EncodingKey::from_secret(&ACCESS_SECRET);
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).unwrap();
    format!("{input}.{signature}")
}
