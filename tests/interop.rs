//! Tokens interoperate with jsonwebtoken both ways, for every access-key
//! algorithm and for refresh tokens: what we sign, jsonwebtoken verifies,
//! and its signatures are byte for byte ours wherever the algorithm is
//! deterministic; what jsonwebtoken signs, in its own spelling of the
//! header and the claims, our `verify` and `refresh` accept.

mod common;

use common::tokens::{header, payload};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use jwt_rotate::{Key, ManualClock, MemoryStore, TokenService};

const ED25519_PEM: &str = include_str!("data/keys/ed25519.pem");
const ES256_PEM: &str = include_str!("data/keys/es256.pem");
const RS256_PEM: &str = include_str!("data/keys/rs256.pem");

/// Each access-key algorithm: our key, and jsonwebtoken's for the same
/// material.
fn kinds() -> Vec<(Algorithm, Key, EncodingKey)> {
    vec![
        (
            Algorithm::HS256,
            Key::hs256(common::ACCESS_SECRET).unwrap(),
            EncodingKey::from_secret(&common::ACCESS_SECRET),
        ),
        (
            Algorithm::EdDSA,
            Key::ed25519_pem(ED25519_PEM).unwrap(),
            EncodingKey::from_ed_pem(ED25519_PEM.as_bytes()).unwrap(),
        ),
        (
            Algorithm::ES256,
            Key::es256_pem(ES256_PEM).unwrap(),
            EncodingKey::from_ec_pem(ES256_PEM.as_bytes()).unwrap(),
        ),
        (
            Algorithm::RS256,
            Key::rs256_pem(RS256_PEM).unwrap(),
            EncodingKey::from_rsa_pem(RS256_PEM.as_bytes()).unwrap(),
        ),
    ]
}

/// jsonwebtoken's verifying key for `key`: from its published JWK, or the
/// secret.
fn decoding(key: &Key) -> DecodingKey {
    match key.public_jwk() {
        Some(jwk) => DecodingKey::from_jwk(&jwk).unwrap(),
        None => DecodingKey::from_secret(&common::ACCESS_SECRET),
    }
}

fn service(clock: &ManualClock, access: Key) -> TokenService<MemoryStore> {
    common::keyless(clock)
        .access_key(access)
        .refresh_key(Key::hs256(common::REFRESH_SECRET).unwrap())
        .build(MemoryStore::new())
        .unwrap()
}

/// Whether the same key and message always give the same signature: ECDSA
/// is randomized with aws-lc-rs, deterministic (RFC 6979) with RustCrypto.
fn deterministic(alg: Algorithm) -> bool {
    alg != Algorithm::ES256 || cfg!(not(feature = "aws-lc-rs"))
}

/// Checks `token` against jsonwebtoken's own signing and verification.
fn assert_jsonwebtoken_agrees(
    token: &str,
    alg: Algorithm,
    encoding: &EncodingKey,
    decoding: &DecodingKey,
) {
    let (message, signature) = token.rsplit_once('.').unwrap();
    if deterministic(alg) {
        let theirs = jsonwebtoken::crypto::sign(message.as_bytes(), encoding, alg).unwrap();
        assert_eq!(theirs, signature, "{alg:?}: another signature");
    }
    let verified = jsonwebtoken::crypto::verify(signature, message.as_bytes(), decoding, alg);
    assert!(
        verified.unwrap(),
        "{alg:?}: jsonwebtoken refuses our signature"
    );
}

#[tokio::test]
async fn jsonwebtoken_verifies_what_we_sign_and_signs_the_same_bytes() {
    let clock = ManualClock::new(common::start());
    let refresh_encoding = EncodingKey::from_secret(&common::REFRESH_SECRET);
    let refresh_decoding = DecodingKey::from_secret(&common::REFRESH_SECRET);
    for (alg, key, encoding) in kinds() {
        let decoding = decoding(&key);
        let service = service(&clock, key);
        let login = common::login(&service, "alice").await;
        let next = service.refresh(&login.refresh_token).await.unwrap();
        for pair in [&login, &next] {
            let access = pair.access_token.as_str();
            assert_jsonwebtoken_agrees(access, alg, &encoding, &decoding);
            let refresh = pair.refresh_token.as_str();
            let hs256 = Algorithm::HS256;
            assert_jsonwebtoken_agrees(refresh, hs256, &refresh_encoding, &refresh_decoding);
        }
    }
}

#[tokio::test]
async fn we_accept_what_jsonwebtoken_signs_in_its_own_spelling() {
    let clock = ManualClock::new(common::start());
    let refresh_encoding = EncodingKey::from_secret(&common::REFRESH_SECRET);
    for (alg, key, encoding) in kinds() {
        let kid = key.kid().to_owned();
        let service = service(&clock, key);
        let pair = common::login(&service, "alice").await;

        // The same claims, the keys in another order (serde_json's maps
        // sort them), under jsonwebtoken's header (`typ` first).
        let access_header = Header {
            typ: Some("at+jwt".into()),
            kid: Some(kid),
            ..Header::new(alg)
        };
        let claims = payload(pair.access_token.as_str());
        let theirs = jsonwebtoken::encode(&access_header, &claims, &encoding).unwrap();
        let ours_text = pair.access_token.as_str();
        for segment in 0..2 {
            let text = |token: &str| token.split('.').nth(segment).map(str::to_owned);
            assert_ne!(text(&theirs), text(ours_text), "spelled alike");
        }
        assert_eq!(header(&theirs), header(ours_text));
        let ours = service.verify(&pair.access_token).unwrap();
        assert_eq!(service.verify(&theirs).unwrap(), ours, "{alg:?}");

        // The refresh token's very grant, signed by jsonwebtoken, rotates.
        let refresh_header = Header {
            typ: Some("rt+jwt".into()),
            kid: Some(Key::hs256(common::REFRESH_SECRET).unwrap().kid().to_owned()),
            ..Header::new(Algorithm::HS256)
        };
        let claims = payload(pair.refresh_token.as_str());
        let theirs = jsonwebtoken::encode(&refresh_header, &claims, &refresh_encoding).unwrap();
        let next = service.refresh(&theirs).await.unwrap();
        assert_eq!(next.session_id, pair.session_id, "{alg:?}");
        assert_eq!(service.verify(&next.access_token).unwrap().sub, "alice");
    }
}
