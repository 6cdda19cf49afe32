//! A DPoP client for the benches and the instruction counts: fresh ES256
//! or EdDSA proofs, a service with a session bound to the client's key,
//! and the floor, the proof's own signature check on aws-lc-rs.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_rotate::{
    Dpop, DpopRequest, IssueOptions, MemoryStore, NoClaims, RefreshToken, TokenService,
};
use serde_json::json;

use super::Alg;

/// The token endpoint the proofs name.
pub(crate) const URL: &str = "https://auth.example.com/oauth/token";

/// A client key: signs fresh proofs, and gives the floor its public key.
pub(crate) struct Client {
    alg: Algorithm,
    key: EncodingKey,
    jwk: Jwk,
}

impl Client {
    /// A client with the test key of `alg`, ES256 or EdDSA.
    pub(crate) fn new(alg: Algorithm) -> Self {
        let key = match alg {
            Algorithm::ES256 => {
                EncodingKey::from_ec_pem(include_bytes!("../../tests/data/keys/es256.pem"))
            }
            _ => EncodingKey::from_ed_pem(include_bytes!("../../tests/data/keys/ed25519.pem")),
        }
        .expect("key");
        let jwk = Jwk::from_encoding_key(&key, alg).expect("jwk");
        Self { alg, key, jwk }
    }

    /// A proof for `POST` [`URL`] now, its `jti` made of `serial`.
    pub(crate) fn proof(&self, serial: u64) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk});
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims =
            json!({"jti": format!("{serial:016x}-{now}"), "htm": "POST", "htu": URL, "iat": now});
        let b64 = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!("{}.{}", b64(header), b64(claims));
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &self.key, self.alg).expect("sign");
        format!("{input}.{sig}")
    }

    /// The public key's bytes as aws-lc-rs takes them, and its algorithm.
    fn public(&self) -> (Vec<u8>, &'static dyn VerificationAlgorithm) {
        let decode = |text: &str| URL_SAFE_NO_PAD.decode(text).expect("b64");
        match &self.jwk.algorithm {
            AlgorithmParameters::EllipticCurve(ec) => {
                let point = [vec![4], decode(&ec.x), decode(&ec.y)].concat();
                (point, &signature::ECDSA_P256_SHA256_FIXED)
            }
            AlgorithmParameters::OctetKeyPair(okp) => (decode(&okp.x), &signature::ED25519),
            _ => unreachable!("ES256 and EdDSA only"),
        }
    }

    /// A fresh HS256 service checking proofs (with a fresh replay cache),
    /// and the refresh token of a session bound, as a login binds, to
    /// this client's key.
    pub(crate) async fn bound_session(&self) -> (TokenService<MemoryStore>, RefreshToken) {
        let service = super::builder(Alg::Hs256)
            .dpop(Dpop::builder().build().expect("dpop"))
            .build(MemoryStore::new())
            .expect("service");
        let login = self.proof(u64::MAX);
        let login = DpopRequest::new(&login, "POST", URL);
        let checked = Dpop::builder().build().expect("dpop");
        let checked = checked.verify_proof(&login).await.expect("proof");
        let options = IssueOptions::new().dpop(checked);
        let pair = service.issue_with("user-42", NoClaims {}, options).await;
        (service, pair.expect("issue").refresh_token)
    }
}

/// The floor: one proof's signature checked directly on aws-lc-rs, the
/// public key parsed each time (it arrives with each proof).
pub(crate) struct ProofFloor {
    signed: String,
    signature: Vec<u8>,
    public: Vec<u8>,
    verification: &'static dyn VerificationAlgorithm,
}

impl ProofFloor {
    /// The floor of `client`'s proofs.
    pub(crate) fn new(client: &Client) -> Self {
        let proof = client.proof(0);
        let (signed, sig) = proof.rsplit_once('.').expect("three segments");
        let signature = URL_SAFE_NO_PAD.decode(sig).expect("b64");
        let (public, verification) = client.public();
        Self {
            signed: signed.to_owned(),
            signature,
            public,
            verification,
        }
    }

    /// Checks the signature; `true` if it holds.
    pub(crate) fn run(&self) -> bool {
        let key = UnparsedPublicKey::new(self.verification, std::hint::black_box(&self.public));
        key.verify(self.signed.as_bytes(), &self.signature).is_ok()
    }
}
