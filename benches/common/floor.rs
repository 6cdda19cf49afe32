//! The floor: the cryptography of a refresh or a verify done directly on
//! aws-lc-rs with keys prepared once, over inputs of exactly the lengths
//! ours handles, and nothing else (no JSON, no store, no allocation). No
//! implementation of the same tokens can do less; the benches print every
//! figure's ratio to it.
//!
//! A refresh: base64 decode of the presented refresh token's payload and
//! signature, one HMAC-SHA256 verification over its signing input, two
//! SHA-256 of 32 bytes (the presented and the next secret's hashes), then
//! for each of the two new tokens base64 encode of its payload, its
//! signature over `header.payload`, base64 encode of the signature. A
//! verify: base64 decode of the access token's payload and signature, one
//! signature verification.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
    Ed25519KeyPair, KeyPair, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{ACCESS_SECRET, Alg, REFRESH_SECRET};

/// A private key prepared for signing.
enum Signer {
    Hmac(Box<hmac::Key>),
    Ed25519(Ed25519KeyPair),
    Es256(EcdsaKeyPair, SystemRandom),
    Rs256(RsaKeyPair, SystemRandom),
}

/// A key prepared for verifying.
enum Verifier {
    Hmac(Box<hmac::Key>),
    Public(ParsedPublicKey),
}

fn signer(alg: Alg) -> Signer {
    let der = alg.encoding_key();
    let der = der.as_bytes();
    match alg {
        Alg::Hs256 => Signer::Hmac(Box::new(hmac::Key::new(hmac::HMAC_SHA256, &ACCESS_SECRET))),
        Alg::EdDsa => Signer::Ed25519(Ed25519KeyPair::from_pkcs8(der).expect("key")),
        Alg::Es256 => Signer::Es256(
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).expect("key"),
            SystemRandom::new(),
        ),
        Alg::Rs256 => Signer::Rs256(RsaKeyPair::from_der(der).expect("key"), SystemRandom::new()),
    }
}

fn verifier(alg: Alg) -> Verifier {
    let public = |algorithm, bytes: &[u8]| {
        Verifier::Public(ParsedPublicKey::new(algorithm, bytes).expect("public key"))
    };
    match signer(alg) {
        Signer::Hmac(key) => Verifier::Hmac(key),
        Signer::Ed25519(pair) => public(&ED25519, pair.public_key().as_ref()),
        Signer::Es256(pair, _) => public(&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref()),
        Signer::Rs256(pair, _) => public(&RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref()),
    }
}

/// A signature as the backend returns it, on the stack.
#[allow(
    clippy::large_enum_variant,
    reason = "aws-lc-rs's own signature type, on the stack as it returns it"
)]
enum Signature {
    Tag(hmac::Tag),
    Fixed(aws_lc_rs::signature::Signature),
    Rsa([u8; 512], usize),
}

impl AsRef<[u8]> for Signature {
    fn as_ref(&self) -> &[u8] {
        match self {
            Signature::Tag(tag) => tag.as_ref(),
            Signature::Fixed(signature) => signature.as_ref(),
            Signature::Rsa(bytes, len) => &bytes[..*len],
        }
    }
}

impl Signer {
    fn sign(&self, message: &[u8]) -> Signature {
        match self {
            Signer::Hmac(key) => Signature::Tag(hmac::sign(key, message)),
            Signer::Ed25519(pair) => Signature::Fixed(pair.sign(message)),
            Signer::Es256(pair, rng) => Signature::Fixed(pair.sign(rng, message).expect("sign")),
            Signer::Rs256(pair, rng) => {
                let mut bytes = [0u8; 512];
                let len = pair.public_modulus_len();
                let out = &mut bytes[..len];
                pair.sign(&RSA_PKCS1_SHA256, rng, message, out)
                    .expect("sign");
                Signature::Rsa(bytes, len)
            }
        }
    }
}

impl Verifier {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Verifier::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            Verifier::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }
}

/// One token to write: its header segment and dot, and a payload of the
/// very length ours writes.
struct Shape {
    prefix: String,
    payload: Vec<u8>,
}

impl Shape {
    fn of(token: &str) -> Self {
        let mut parts = token.split('.');
        let (header, payload) = (
            parts.next().expect("header"),
            parts.next().expect("payload"),
        );
        Self {
            prefix: format!("{header}."),
            payload: URL_SAFE_NO_PAD.decode(payload).expect("base64"),
        }
    }

    /// Writes the token into `out` (cleared first, its capacity reused),
    /// signed by `key`.
    fn write(&self, key: &Signer, out: &mut String) {
        out.clear();
        out.push_str(&self.prefix);
        URL_SAFE_NO_PAD.encode_string(&self.payload, out);
        let signature = key.sign(out.as_bytes());
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, out);
    }
}

/// Scratch space for decoding, on the stack.
struct Decoded {
    payload: [u8; 1024],
    signature: [u8; 512],
}

impl Decoded {
    const fn new() -> Self {
        Self {
            payload: [0; 1024],
            signature: [0; 512],
        }
    }

    /// Decodes the payload and signature of `token`, and verifies the
    /// signature over `header.payload`.
    fn verify(&mut self, key: &Verifier, token: &str) -> bool {
        let dot = token.rfind('.').expect("three segments");
        let (signed, signature) = (&token[..dot], &token[dot + 1..]);
        let payload = &signed[signed.find('.').expect("three segments") + 1..];
        let payload_len = URL_SAFE_NO_PAD
            .decode_slice(payload, &mut self.payload)
            .expect("base64");
        let signature_len = URL_SAFE_NO_PAD
            .decode_slice(signature, &mut self.signature)
            .expect("base64");
        payload_len > 0 && key.verify(signed.as_bytes(), &self.signature[..signature_len])
    }
}

/// The floor of a refresh whose access key is `alg` (the refresh key is
/// HS256).
pub(crate) struct RefreshFloor {
    refresh_key: Verifier,
    refresh_signer: Signer,
    access_signer: Signer,
    presented: String,
    secrets: [[u8; 32]; 2],
    refresh_out: Shape,
    access_out: Shape,
    buffers: [String; 2],
    decoded: Decoded,
}

impl RefreshFloor {
    /// `presented` is a refresh token; `refresh_token` and `access_token`
    /// are what our refresh of it returned (only their lengths matter).
    pub(crate) fn new(alg: Alg, presented: &str, refresh_token: &str, access_token: &str) -> Self {
        let refresh = || Box::new(hmac::Key::new(hmac::HMAC_SHA256, &REFRESH_SECRET));
        Self {
            refresh_key: Verifier::Hmac(refresh()),
            refresh_signer: Signer::Hmac(refresh()),
            access_signer: signer(alg),
            presented: presented.to_owned(),
            secrets: [[0x11; 32], [0x22; 32]],
            refresh_out: Shape::of(refresh_token),
            access_out: Shape::of(access_token),
            buffers: [
                String::with_capacity(2 * refresh_token.len()),
                String::with_capacity(2 * access_token.len()),
            ],
            decoded: Decoded::new(),
        }
    }

    /// One refresh's worth of cryptography; the two tokens' total length.
    pub(crate) fn run(&mut self) -> usize {
        assert!(self.decoded.verify(&self.refresh_key, &self.presented));
        let hashes = self.secrets.map(|secret| digest(&SHA256, &secret));
        let [refresh, access] = &mut self.buffers;
        self.refresh_out.write(&self.refresh_signer, refresh);
        self.access_out.write(&self.access_signer, access);
        refresh.len() + access.len() + usize::from(hashes[0].as_ref()[0] ^ hashes[1].as_ref()[0])
    }
}

/// The floor of verifying an access token signed with `alg`.
pub(crate) struct VerifyFloor {
    key: Verifier,
    token: String,
    decoded: Decoded,
}

impl VerifyFloor {
    pub(crate) fn new(alg: Alg, access_token: &str) -> Self {
        Self {
            key: verifier(alg),
            token: access_token.to_owned(),
            decoded: Decoded::new(),
        }
    }

    /// One verification's worth of cryptography.
    pub(crate) fn run(&mut self) -> bool {
        self.decoded.verify(&self.key, &self.token)
    }
}
