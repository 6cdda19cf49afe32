//! The resource server in this process, over a MemoryStore's revocation
//! feed: 200 with the subject, 401 with `WWW-Authenticate` (no token, a
//! bad one, a revoked session), 503 with `Retry-After` while the
//! revocation view is stale or the keys cannot be fetched; and the
//! binary's refusal of an environment it cannot use.

mod support;

use std::sync::Arc;
use std::time::Duration;

use jwt_rotate::store::RevocationFeed;
use jwt_rotate::{Algorithm, Key, MemoryStore, NoClaims, SessionInfo, TokenService, Verifier};
use resource_demo::Settings;
use support::{DEMO, me, poll_me, serve};

/// An auth server's service (Ed25519 access key) over `store`.
fn service(store: Arc<MemoryStore>) -> TokenService<Arc<MemoryStore>> {
    TokenService::builder()
        .issuer(DEMO)
        .audience(DEMO)
        .access_key(Key::generate(Algorithm::EdDSA).unwrap())
        .refresh_key(Key::generate(Algorithm::HS256).unwrap())
        .build(store)
        .unwrap()
}

/// Settings as the environment would give them, with `jwks_url`.
fn settings(jwks_url: String) -> Settings {
    Settings {
        bind_addr: "127.0.0.1:0".to_owned(),
        jwks_url,
        feed_url: None,
        redis_prefix: None,
        issuer: DEMO.to_owned(),
        audience: DEMO.to_owned(),
        access_ttl: jwt_rotate::time::Duration::minutes(15),
        max_staleness: jwt_rotate::time::Duration::seconds(30),
    }
}

#[tokio::test]
async fn me_answers_the_subject_until_the_feed_says_the_session_is_revoked() {
    let store = Arc::new(MemoryStore::new());
    let service = service(Arc::clone(&store));
    let verifier = Verifier::builder()
        .issuer(DEMO)
        .audience(DEMO)
        .jwks(service.jwks())
        .revocation_feed(Arc::clone(&store) as Arc<dyn RevocationFeed>)
        .build()
        .unwrap();
    tokio::spawn(verifier.follow());
    let base = serve(verifier).await;

    let missing = me(&base, None).await;
    assert_eq!((missing.status, missing.code()), (401, "missing_token"));
    assert_eq!(missing.www_authenticate.as_deref(), Some("Bearer"));
    let garbage = me(&base, Some("not.a.token")).await;
    assert_eq!((garbage.status, garbage.code()), (401, "invalid_token"));
    let challenge = garbage.www_authenticate.unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

    let alice = service
        .issue("alice", NoClaims {}, SessionInfo::default())
        .await
        .unwrap();
    let token = alice.access_token.as_str();
    let other = service
        .issue("alice", NoClaims {}, SessionInfo::default())
        .await
        .unwrap();
    // The follower's first sync makes the view current.
    let bound = Duration::from_secs(5);
    let (ok, _) = poll_me(&base, token, bound, |me| me.status != 503).await;
    assert_eq!(
        (ok.status, &ok.body),
        (200, &serde_json::json!({"sub": "alice"}))
    );

    service.revoke_session(&alice.session_id).await.unwrap();
    let (revoked, _) = poll_me(&base, token, bound, |me| me.status != 200).await;
    assert_eq!((revoked.status, revoked.code()), (401, "session_revoked"));
    let challenge = revoked.www_authenticate.unwrap();
    assert!(challenge.contains("session_revoked"), "{challenge}");
    // Only that session.
    let still = me(&base, Some(other.access_token.as_str())).await;
    assert_eq!(still.status, 200);
}

#[tokio::test]
async fn a_stale_revocation_view_or_unreachable_keys_answer_503_with_retry_after() {
    let store = Arc::new(MemoryStore::new());
    let service = service(Arc::clone(&store));
    let token = service
        .issue("alice", NoClaims {}, SessionInfo::default())
        .await
        .unwrap()
        .access_token;

    // A feed never synced (no follower): the view's age is unknown.
    let unsynced = Verifier::builder()
        .issuer(DEMO)
        .audience(DEMO)
        .jwks(service.jwks())
        .revocation_feed(store as Arc<dyn RevocationFeed>)
        .build()
        .unwrap();
    let stale = me(&serve(unsynced).await, Some(token.as_str())).await;
    assert_eq!(
        (stale.status, stale.code()),
        (503, "temporarily_unavailable")
    );
    assert!(stale.retry_after.is_some());
    assert_eq!(stale.www_authenticate, None);

    // The JWKS URL answers nothing: try later, not "invalid token".
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        closed.local_addr().unwrap()
    );
    drop(closed);
    let keyless = settings(url).verifier(None).unwrap();
    let unavailable = me(&serve(keyless).await, Some(token.as_str())).await;
    assert_eq!(
        (unavailable.status, unavailable.code()),
        (503, "temporarily_unavailable")
    );
    assert!(unavailable.retry_after.is_some());
}

#[tokio::test]
async fn the_binary_refuses_an_environment_it_cannot_use() {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "JWKS_URL"),
        (&[("JWKS_URL", "ftp://auth/jwks.json")], "http"),
        (
            &[
                ("JWKS_URL", "http://127.0.0.1:1/jwks.json"),
                ("DATABASE_URL", "postgres://db/sessions"),
                ("REDIS_URL", "redis://127.0.0.1/"),
            ],
            "not both",
        ),
        (
            &[
                ("JWKS_URL", "http://127.0.0.1:1/jwks.json"),
                ("MAX_STALENESS_SECS", "soon"),
            ],
            "MAX_STALENESS_SECS",
        ),
    ];
    for (env, named) in cases {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_resource-demo"))
            .env_clear()
            .envs(env.iter().copied())
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{env:?}");
        assert!(stderr.contains(named), "{env:?}: {stderr}");
    }
}
