//! Keys: rotating the access and refresh keys without logging anyone out,
//! asymmetric keys, and the JWKS.

mod common;

use std::sync::Arc;

use common::tokens::{header, payload};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use jwt_rotate::store::RefreshStore;
use jwt_rotate::{Error, Key, ManualClock, MemoryStore};
use serde_json::Value;
use time::Duration;

const ED25519_PEM: &str = include_str!("data/keys/ed25519.pem");
const ED25519_B_PEM: &str = include_str!("data/keys/ed25519-b.pem");
const ES256_PEM: &str = include_str!("data/keys/es256.pem");
const RS256_PEM: &str = include_str!("data/keys/rs256.pem");

const OLD_ACCESS: [u8; 32] = [0x0A; 32];
const NEW_ACCESS: [u8; 32] = [0x0B; 32];
const OLD_REFRESH: [u8; 32] = [0x1A; 32];
const NEW_REFRESH: [u8; 32] = [0x1B; 32];

fn hs(secret: [u8; 32]) -> Key {
    Key::hs256(secret).unwrap()
}

#[tokio::test]
async fn retired_access_key_still_verifies_only_when_accepted() {
    let clock = ManualClock::new(common::start());
    let old = common::keyless(&clock)
        .access_key(hs(OLD_ACCESS))
        .refresh_key(hs(OLD_REFRESH))
        .build(MemoryStore::new())
        .unwrap();
    let pair = common::login(&old, "alice").await;

    let rotated = common::keyless(&clock)
        .access_key(hs(NEW_ACCESS))
        .accept_access_key(hs(OLD_ACCESS))
        .refresh_key(hs(OLD_REFRESH))
        .build(MemoryStore::new())
        .unwrap();
    assert_eq!(rotated.verify(&pair.access_token).unwrap().sub, "alice");

    let dropped = common::keyless(&clock)
        .access_key(hs(NEW_ACCESS))
        .refresh_key(hs(OLD_REFRESH))
        .build(MemoryStore::new())
        .unwrap();
    assert!(matches!(
        dropped.verify(&pair.access_token),
        Err(Error::InvalidSignature)
    ));

    // New tokens are signed with the new key only.
    let fresh = common::login(&rotated, "bob").await;
    assert_eq!(
        header(fresh.access_token.expose_secret())["kid"],
        hs(NEW_ACCESS).kid()
    );
    assert!(dropped.verify(&fresh.access_token).is_ok());
    assert!(matches!(
        old.verify(&fresh.access_token),
        Err(Error::InvalidSignature)
    ));
}

#[tokio::test]
async fn refresh_key_rotation_keeps_sessions_alive() {
    let clock = ManualClock::new(common::start());
    let store = Arc::new(MemoryStore::new());
    let before = common::keyless(&clock)
        .access_key(hs(OLD_ACCESS))
        .refresh_key(hs(OLD_REFRESH))
        .build(Arc::clone(&store))
        .unwrap();
    let pair = common::login(&before, "alice").await;

    // Deployed with a new refresh key, the old one only accepted.
    let after = common::keyless(&clock)
        .access_key(hs(OLD_ACCESS))
        .refresh_key(hs(NEW_REFRESH))
        .accept_refresh_key(hs(OLD_REFRESH))
        .build(Arc::clone(&store))
        .unwrap();
    // Without the old key, the old token is not even read.
    let strict = common::keyless(&clock)
        .access_key(hs(OLD_ACCESS))
        .refresh_key(hs(NEW_REFRESH))
        .build(Arc::clone(&store))
        .unwrap();
    assert!(matches!(
        strict.refresh(&pair.refresh_token).await,
        Err(Error::InvalidSignature)
    ));
    assert!(matches!(
        strict.revoke(&pair.refresh_token).await,
        Err(Error::InvalidSignature)
    ));
    let record = store.get(&pair.session_id).await.unwrap().unwrap();
    assert_eq!(record.generation, 0);
    assert!(record.revoked.is_none());

    clock.advance(Duration::minutes(20));
    let next = after.refresh(&pair.refresh_token).await.unwrap();
    assert_eq!(next.session_id, pair.session_id);
    assert_eq!(
        header(next.refresh_token.expose_secret())["kid"],
        hs(NEW_REFRESH).kid()
    );
    // The grace replay of the old-key token gets the new-key successor.
    let replay = after.refresh(&pair.refresh_token).await.unwrap();
    assert_eq!(replay.refresh_token, next.refresh_token);
    // Once every old token is spent, the old key can go.
    clock.advance(Duration::minutes(20));
    let last = strict.refresh(&next.refresh_token).await.unwrap();
    strict.verify_live(&last.access_token).await.unwrap();
}

/// Every field of a JWK's JSON that would be private key material.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

#[tokio::test]
async fn asymmetric_access_keys_issue_verify_and_publish_their_public_half() {
    let cases = [
        ("EdDSA", "OKP", Key::ed25519_pem(ED25519_PEM).unwrap()),
        ("ES256", "EC", Key::es256_pem(ES256_PEM).unwrap()),
        ("RS256", "RSA", Key::rs256_pem(RS256_PEM).unwrap()),
    ];
    for (alg, kty, key) in cases {
        let clock = ManualClock::new(common::start());
        let kid = key.kid().to_owned();
        let service = common::keyless(&clock)
            .access_key(key)
            .refresh_key(hs(OLD_REFRESH))
            .build(MemoryStore::new())
            .unwrap();
        let pair = common::login(&service, "alice").await;
        let h = header(pair.access_token.expose_secret());
        assert_eq!(h["alg"], alg);
        assert_eq!(h["kid"], kid.as_str());
        assert_eq!(h["typ"], "at+jwt");
        assert_eq!(service.verify(&pair.access_token).unwrap().sub, "alice");
        let next = service.refresh(&pair.refresh_token).await.unwrap();
        service.verify_live(&next.access_token).await.unwrap();

        let jwks = serde_json::to_value(service.jwks()).unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{alg}: {jwks}");
        let jwk = &keys[0];
        assert_eq!(jwk["kid"], kid.as_str(), "{alg}");
        assert_eq!(jwk["alg"], alg, "{alg}");
        assert_eq!(jwk["kty"], kty, "{alg}");
        assert_eq!(jwk["use"], "sig", "{alg}");
        for member in PRIVATE_MEMBERS {
            assert!(jwk.get(member).is_none(), "{alg}: `{member}` in {jwk}");
        }

        // Another service verifies our access tokens from the JWKS alone.
        let jwk: Jwk = serde_json::from_value(jwk.clone()).unwrap();
        let decoding = DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = Validation::new(
            jwk.common
                .key_algorithm
                .map_or(Algorithm::HS256, |a| a.to_string().parse().unwrap()),
        );
        validation.set_issuer(&[common::ISSUER]);
        validation.set_audience(&[common::AUDIENCE]);
        validation.validate_exp = false; // the manual clock is not the system's
        let data = jsonwebtoken::decode::<Value>(
            next.access_token.expose_secret(),
            &decoding,
            &validation,
        )
        .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(data.claims["sub"], "alice");
        // A refresh token is not verifiable with the published keys.
        assert!(
            jsonwebtoken::decode::<Value>(
                next.refresh_token.expose_secret(),
                &decoding,
                &validation
            )
            .is_err()
        );
    }
}

#[tokio::test]
async fn jwks_lists_the_retired_keys_too_and_never_the_refresh_key() {
    let clock = ManualClock::new(common::start());
    let new = Key::ed25519_pem(ED25519_B_PEM).unwrap();
    let old = Key::es256_pem(ES256_PEM).unwrap();
    let refresh = Key::ed25519_pem(ED25519_PEM).unwrap();
    let kids = [new.kid().to_owned(), old.kid().to_owned()];
    let refresh_kid = refresh.kid().to_owned();
    let service = common::keyless(&clock)
        .access_key(new)
        .accept_access_key(old)
        .refresh_key(refresh)
        .build(MemoryStore::new())
        .unwrap();
    let listed: Vec<_> = service
        .jwks()
        .keys
        .iter()
        .map(|k| k.common.key_id.clone().unwrap())
        .collect();
    assert_eq!(listed, kids);
    let text = serde_json::to_string(service.jwks()).unwrap();
    assert!(
        !text.contains(&refresh_kid),
        "refresh key published: {text}"
    );
    assert!(!text.contains("\"d\""));

    // An asymmetric refresh key works like an HMAC one.
    let pair = common::login(&service, "alice").await;
    assert_eq!(header(pair.refresh_token.expose_secret())["alg"], "EdDSA");
    let next = service.refresh(&pair.refresh_token).await.unwrap();
    let replay = service.refresh(&pair.refresh_token).await.unwrap();
    assert_eq!(replay.refresh_token, next.refresh_token);
}

#[tokio::test]
async fn hmac_keys_give_an_empty_jwks() {
    let (service, _clock) = common::service();
    assert!(service.jwks().keys.is_empty());
    assert_eq!(
        serde_json::to_value(service.jwks()).unwrap(),
        serde_json::json!({"keys": []})
    );
    // Even with an asymmetric refresh key: only access keys are published.
    let clock = ManualClock::new(common::start());
    let service = common::keyless(&clock)
        .access_key(hs(OLD_ACCESS))
        .refresh_key(Key::rs256_pem(RS256_PEM).unwrap())
        .build(MemoryStore::new())
        .unwrap();
    assert!(service.jwks().keys.is_empty());
}

#[tokio::test]
async fn es256_refresh_key_grace_replay_yields_a_working_successor() {
    // ECDSA signatures are randomized; whatever the bytes, the replayed
    // successor must be the same grant: same session, generation and
    // secret, so it rotates the session exactly as the winner's would.
    let clock = ManualClock::new(common::start());
    let service = common::keyless(&clock)
        .access_key(hs(OLD_ACCESS))
        .refresh_key(Key::es256_pem(ES256_PEM).unwrap())
        .build(MemoryStore::new())
        .unwrap();
    let pair = common::login(&service, "alice").await;
    let next = service.refresh(&pair.refresh_token).await.unwrap();
    let replay = service.refresh(&pair.refresh_token).await.unwrap();
    assert_eq!(
        payload(replay.refresh_token.expose_secret()),
        payload(next.refresh_token.expose_secret())
    );
    // Either copy rotates; the other one is then the grace predecessor.
    let third = service.refresh(&replay.refresh_token).await.unwrap();
    let again = service.refresh(&next.refresh_token).await.unwrap();
    assert_eq!(
        payload(again.refresh_token.expose_secret()),
        payload(third.refresh_token.expose_secret())
    );
    assert_eq!(
        common::record(&service, &pair.session_id).await.generation,
        2
    );
}
