//! The Wycheproof JSON Web Signature vectors (C2SP/wycheproof, Apache-2.0;
//! see tests/data/wycheproof/NOTICE) against the signature half of
//! [`verify`](super::verify): strict base64url, three segments, a header
//! that names only what we know, the algorithm pinned to the key, and the
//! crate's crypto backend, its keys prepared as a [`Key`]'s are
//! (`cargo test --all-features` runs aws-lc-rs, `--no-default-features
//! --features rust-crypto` the pure-Rust one).
//!
//! The vectors come with a JWK and headers without our `typ`, so the key is
//! built from the JWK here (a verification-only key: its `alg` pinned, its
//! `use`/`key_ops` honoured) instead of being found by `kid` in a ring; the
//! signature check itself is [`Compact::check_signature`] with the
//! backend's [`Verifier`], the production code.
//!
//! [`Key`]: crate::Key

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations};
use jsonwebtoken::jwk::{OctetKeyPairType, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;

use super::Compact;
use crate::error::Error;
use crate::token::provider::Verifier;
use crate::token::scratch::Scratch;

const VECTORS: &str = include_str!("../../../tests/data/wycheproof/json_web_signature_test.json");

/// Marked invalid, yet byte for byte the same JWS and key as the valid
/// tc357 (`ValidMac`): an error in the data, not a verdict we can honour.
/// The test checks they really are copies of tc357.
const KNOWN_DATA_ERRORS: [(u32, u32); 2] = [(367, 357), (370, 357)];

/// Marked valid, refused on purpose.
const STRICTER_BY_DESIGN: [(u32, &str); 6] = [
    // A character outside the base64url alphabet inserted into a segment:
    // lenient decoders skip it, ours refuses it (one spelling per token).
    (372, "non-base64url character in the header"),
    (373, "non-base64url character in the payload"),
    // RFC 7520 figure 20 is signed with PS384 under a JWK whose `alg` says
    // PS256: the key's algorithm is pinned, the header cannot change it.
    (346, "header alg PS384, key pinned to PS256"),
    (350, "header alg PS384, key pinned to PS256"),
    // ES512 on P-521: neither crypto backend of jsonwebtoken offers it.
    (347, "ES512 (P-521) unsupported"),
    (351, "ES512 (P-521) unsupported"),
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VectorFile {
    number_of_tests: usize,
    test_groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    public: Option<Value>,
    private: Value,
    tests: Vec<Vector>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vector {
    tc_id: u32,
    comment: String,
    /// A compact JWS, or an object for the JSON serialization.
    jws: Value,
    result: String,
}

/// A verification-only key from a JWK, or why there is none: the JWK must
/// name a JWS algorithm of its own key type (and curve), and must not be
/// restricted to another use.
fn verification_key(jwk: &Value) -> Result<(Algorithm, Verifier), &'static str> {
    let jwk: Jwk = serde_json::from_value(jwk.clone()).map_err(|_| "unreadable JWK")?;
    let common = &jwk.common;
    if matches!(&common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return Err("JWK `use` is not `sig`");
    }
    if let Some(ops) = &common.key_operations
        && !ops.contains(&KeyOperations::Verify)
    {
        return Err("JWK `key_ops` lacks `verify`");
    }
    let algorithm = match common.key_algorithm.ok_or("JWK without `alg`")? {
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return Err("JWK `alg` is not a supported JWS algorithm"),
    };
    let fits = match &jwk.algorithm {
        AlgorithmParameters::OctetKey(_) => {
            matches!(
                algorithm,
                Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
            )
        }
        AlgorithmParameters::RSA(_) => matches!(
            algorithm,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(ec) => matches!(
            (&ec.curve, algorithm),
            (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
        ),
        AlgorithmParameters::OctetKeyPair(okp) => {
            okp.key_type == OctetKeyPairType::OctetKeyPair
                && okp.curve == EllipticCurve::Ed25519
                && algorithm == Algorithm::EdDSA
        }
        _ => false,
    };
    if !fits {
        return Err("JWK `alg` does not fit its key type");
    }
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| "JWK key material unusable")?;
    let verifier = Verifier::new(algorithm, &decoding).map_err(|_| "JWK key unusable")?;
    Ok((algorithm, verifier))
}

/// Only the parameters a foreign header may carry; like ours, anything
/// else (`jwk`, `crit`...) is refused rather than ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForeignHeader {
    alg: Algorithm,
    #[serde(rename = "kid")]
    _kid: Option<String>,
}

/// The signature half of [`verify`](super::verify) with the key given:
/// returns the payload.
fn verify_with(token: &str, algorithm: Algorithm, key: &Verifier) -> Result<Vec<u8>, Error> {
    let compact = Compact::split(token, 8 * 1024)?;
    let header: ForeignHeader = serde_json::from_slice(Scratch::new().decode(compact.header)?)
        .map_err(|_| Error::Malformed("invalid header"))?;
    compact.check_signature(header.alg, algorithm, |message, signature| {
        key.verify(message, signature)
    })?;
    Ok(Scratch::new().decode(compact.payload)?.to_vec())
}

#[derive(Default)]
struct Tally {
    run: usize,
    valid_accepted: usize,
    valid_refused_by_design: usize,
    invalid_rejected: usize,
    invalid_without_key: usize,
    data_errors_accepted: Vec<u32>,
    accepted_invalid: Vec<String>,
    refused_valid: Vec<String>,
}

const fn backend() -> &'static str {
    if cfg!(feature = "aws-lc-rs") {
        "aws-lc-rs"
    } else {
        "rust-crypto"
    }
}

#[test]
fn wycheproof_json_web_signature_vectors() {
    let file: VectorFile = serde_json::from_str(VECTORS).unwrap();
    let mut tally = Tally::default();
    let mut jws_of = std::collections::HashMap::new();
    for group in &file.test_groups {
        let jwk = group.public.as_ref().unwrap_or(&group.private);
        let key = verification_key(jwk);
        for vector in &group.tests {
            tally.run += 1;
            let token = match &vector.jws {
                Value::String(compact) => compact.clone(),
                json => json.to_string(),
            };
            jws_of.insert(vector.tc_id, (token.clone(), jwk.clone()));
            let outcome = match &key {
                Ok((algorithm, verifier)) => verify_with(&token, *algorithm, verifier)
                    .map(drop)
                    .map_err(|e| e.to_string()),
                Err(why) => Err(format!("no key: {why}")),
            };
            let what = format!("tc{} {}: {outcome:?}", vector.tc_id, vector.comment);
            let data_error = KNOWN_DATA_ERRORS.iter().any(|(id, _)| *id == vector.tc_id);
            let by_design = STRICTER_BY_DESIGN.iter().any(|(id, _)| *id == vector.tc_id);
            match (vector.result.as_str(), outcome.is_ok()) {
                ("valid", true) => tally.valid_accepted += 1,
                ("valid", false) if by_design => tally.valid_refused_by_design += 1,
                ("valid", false) => tally.refused_valid.push(what),
                ("invalid", true) if data_error => tally.data_errors_accepted.push(vector.tc_id),
                ("invalid", true) => tally.accepted_invalid.push(what),
                ("invalid", false) if key.is_err() => tally.invalid_without_key += 1,
                ("invalid", false) => tally.invalid_rejected += 1,
                (other, _) => panic!("tc{}: unexpected result {other:?}", vector.tc_id),
            }
        }
    }
    println!(
        "wycheproof ({}): {} vectors run; invalid accepted {} (plus known data errors {:?}); \
         invalid rejected {} by the verifier and {} for want of a usable key; \
         valid accepted {}, refused by design {}, refused otherwise {}",
        backend(),
        tally.run,
        tally.accepted_invalid.len(),
        tally.data_errors_accepted,
        tally.invalid_rejected,
        tally.invalid_without_key,
        tally.valid_accepted,
        tally.valid_refused_by_design,
        tally.refused_valid.len(),
    );
    assert_eq!(tally.run, file.number_of_tests);
    assert!(
        tally.accepted_invalid.is_empty(),
        "INVALID VECTORS ACCEPTED: {:#?}",
        tally.accepted_invalid
    );
    assert!(
        tally.refused_valid.is_empty(),
        "valid vectors refused: {:#?}",
        tally.refused_valid
    );
    // The listed data errors are what this says they are.
    for (id, twin) in KNOWN_DATA_ERRORS {
        assert_eq!(
            jws_of[&id], jws_of[&twin],
            "tc{id} is not a copy of tc{twin}"
        );
    }
    assert_eq!(tally.valid_refused_by_design, STRICTER_BY_DESIGN.len());
}

#[test]
fn the_foreign_header_is_as_strict_as_ours() {
    let key = verification_key(&serde_json::json!({
        "kty": "oct", "alg": "HS256", "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
    }))
    .unwrap();
    // `{"alg":"HS256","jwk":{}}`: an attacker key parameter is refused, not
    // ignored; so is an unknown algorithm.
    for header in ["eyJhbGciOiJIUzI1NiIsImp3ayI6e319", "eyJhbGciOiJub25lIn0"] {
        let token = format!("{header}.Zm9v.AAAA");
        assert!(matches!(
            verify_with(&token, key.0, &key.1),
            Err(Error::Malformed("invalid header"))
        ));
    }
}
