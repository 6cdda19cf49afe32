//! The scenario of the HTTP tests about signing keys: the JWKS publishes
//! the Ed25519 access key a resource server verifies with, made at
//! start-up or loaded from a PEM (the same across restarts), and nothing
//! for HS256 secrets.

use jwt_rotate::{JwkSet, Verifier};

use crate::testing::suite::{ALICE, Agent, Env, Reply, Spawn, TestServer};
use crate::{Config, Signing};

/// An Ed25519 PKCS#8 PEM: the library's test key.
const ED25519_PEM: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/data/keys/ed25519.pem"
));

pub async fn the_jwks_publishes_the_access_key(spawn: Spawn<'_>, env: &Env) {
    let config = |signing: Signing| Config {
        signing,
        ..env.config()
    };

    // By default an Ed25519 key made at start-up: published, and enough
    // for a resource server to verify the access tokens.
    let server = spawn(config(Signing::Random)).await;
    let set = jwks(&server).await;
    assert_eq!(set.keys.len(), 1);
    let key = serde_json::to_value(&set.keys[0]).unwrap();
    assert_eq!(
        (&key["kty"], &key["crv"]),
        (&"OKP".into(), &"Ed25519".into())
    );
    let access = login(&server).await;
    let verifier = Verifier::builder()
        .issuer("jwt-rotate-demo")
        .audience("jwt-rotate-demo")
        .clock(env.clock.clone())
        .jwks(&set)
        .build()
        .unwrap();
    assert_eq!(verifier.verify(&access).await.unwrap().sub, ALICE.0);
    server.stop().await;

    // From a PEM: the same key at every start, so the JWKS a resource
    // server cached and the tokens of the first run still verify.
    let pem = || Signing::Pem {
        access: ED25519_PEM.to_vec(),
        refresh: Some(b"the demo's refresh secret, 32 bytes".to_vec()),
    };
    let first = spawn(config(pem())).await;
    let access = login(&first).await;
    let published = jwks(&first).await;
    first.stop().await;
    let second = spawn(config(pem())).await;
    assert_eq!(jwks(&second).await, published);
    let me = reqwest::Client::new()
        .get(second.url("/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    second.stop().await;

    // HS256 secrets are never published: verifying takes the secret.
    let secrets = Signing::Secrets {
        access: b"the demo's access secret, 32 bytes+".to_vec(),
        refresh: b"the demo's refresh secret, 32 bytes".to_vec(),
    };
    let server = spawn(config(secrets)).await;
    assert_eq!(jwks(&server).await, JwkSet { keys: vec![] });
    login(&server).await;
    server.stop().await;
}

/// `GET /.well-known/jwks.json`, cacheable for five minutes.
async fn jwks(server: &TestServer) -> JwkSet {
    let answer = reqwest::get(server.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    let reply = Reply::read(answer).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    serde_json::from_value(reply.body).unwrap()
}

/// Alice's access token from a login.
async fn login(server: &TestServer) -> String {
    let mut alice = Agent::new(server);
    assert_eq!(alice.login(ALICE).await.status, 200);
    alice.access.unwrap()
}
