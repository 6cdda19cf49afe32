//! [`DpopClient`]: a DPoP client for tests of servers built on this crate:
//! a fresh key, and proofs whose claims a test may change before signing.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::session::Jkt;
use crate::token::keys::Key;

/// PKCS#8 v1 of an Ed25519 private key (RFC 8410), up to its 32-byte seed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A DPoP client (RFC 9449) with an Ed25519 key of its own, made at
/// random: signs proofs (`EdDSA`, the public key in the `jwk` header) for
/// tests that drive a server as a client would. [`claims`](Self::claims)
/// and [`sign`](Self::sign) let a test add `ath` or `nonce`, or break a
/// proof, before it is signed.
///
/// ```
/// use jwt_rotate::testing::DpopClient;
/// use jwt_rotate::{Dpop, DpopRequest};
/// use time::OffsetDateTime;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let client = DpopClient::random();
/// let url = "https://auth.example.com/auth/refresh";
/// let proof = client.proof("POST", url, OffsetDateTime::now_utc());
/// let checked = Dpop::builder().build()?.verify_proof(&DpopRequest::new(&proof, "POST", url)).await?;
/// assert_eq!(checked.jkt(), client.jkt());
/// # Ok::<(), jwt_rotate::Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DpopClient {
    key: Key,
    jwk: Value,
    jkt: Jkt,
}

impl std::fmt::Debug for DpopClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopClient")
            .field("jkt", &self.jkt.as_str())
            .finish_non_exhaustive()
    }
}

impl DpopClient {
    /// A client with a new random Ed25519 key.
    ///
    /// # Panics
    /// If the crypto backend refuses a well-formed key (a broken build).
    pub fn random() -> Self {
        let mut der = [0u8; 48];
        der[..16].copy_from_slice(&ED25519_PKCS8_PREFIX);
        rand::fill(&mut der[16..]);
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(der)
        );
        let key = Key::ed25519_pem(pem).expect("a well-formed Ed25519 key");
        let jwk = key
            .public_jwk()
            .expect("an asymmetric key has a public JWK");
        let mut jwk = serde_json::to_value(jwk).expect("a JWK serializes");
        if let Some(members) = jwk.as_object_mut() {
            // What a client sends: the key, not our kid/use/alg for it.
            for member in ["kid", "use", "alg"] {
                members.remove(member);
            }
        }
        // The kid of an asymmetric key is its RFC 7638 thumbprint.
        let jkt = Jkt::parse(key.kid()).expect("the kid is the key's thumbprint");
        Self { key, jwk, jkt }
    }

    /// The thumbprint of the client's key: what a session bound to it
    /// keeps.
    pub fn jkt(&self) -> &Jkt {
        &self.jkt
    }

    /// The public key as a proof's `jwk` header carries it.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// The claims of a fresh proof for a `method` request to `url` at
    /// `iat` (the server's time): `jti` (random), `htm`, `htu`, `iat`.
    pub fn claims(&self, method: &str, url: &str, iat: OffsetDateTime) -> Value {
        let mut jti = [0u8; 16];
        rand::fill(&mut jti);
        json!({
            "jti": URL_SAFE_NO_PAD.encode(jti),
            "htm": method,
            "htu": url,
            "iat": iat.unix_timestamp(),
        })
    }

    /// `claims` signed by the client's key under the header `typ:
    /// dpop+jwt`, `alg: EdDSA` and the public `jwk`.
    ///
    /// # Panics
    /// If the crypto backend fails to sign (a broken build).
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": self.jwk});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(input.as_bytes()).expect("the key signs");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// A valid proof for a `method` request to `url` at `iat`.
    pub fn proof(&self, method: &str, url: &str, iat: OffsetDateTime) -> String {
        self.sign(&self.claims(method, url, iat))
    }

    /// A valid proof for a request to `url` with `access_token` in
    /// `Authorization: DPoP` (`ath` its hash), with the server's `nonce` if
    /// given.
    pub fn proof_for(
        &self,
        method: &str,
        url: &str,
        iat: OffsetDateTime,
        access_token: &str,
        nonce: Option<&str>,
    ) -> String {
        let mut claims = self.claims(method, url, iat);
        claims["ath"] = Value::from(ath(access_token));
        if let Some(nonce) = nonce {
            claims["nonce"] = Value::from(nonce);
        }
        self.sign(&claims)
    }
}

/// `ath`: base64url of the SHA-256 of the access token (RFC 9449, section
/// 4.2).
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}
