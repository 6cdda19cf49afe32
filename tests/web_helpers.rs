//! The library's web helpers outside `AuthFlow`: keys made and loaded
//! from PEM, JWK and the environment, the cookie's `Domain`, `SameSite`
//! and service clock, and the purge task.

mod common;

use jwt_rotate::{
    Algorithm, CookieSecurity, Error, Key, ManualClock, MemoryStore, NoClaims, RefreshCookie,
    SameSite, SessionInfo,
};
use time::Duration;

const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHVu6YVX7ZgS2uYmnuNt7v0Tgy4Bs/VPZKKD4hL19xwB
-----END PRIVATE KEY-----
";

#[test]
fn generated_keys_are_new_each_time_and_of_the_asked_kind() {
    for algorithm in [
        Algorithm::EdDSA,
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
    ] {
        let (a, b) = (
            Key::generate(algorithm).unwrap(),
            Key::generate(algorithm).unwrap(),
        );
        assert_eq!(a.algorithm(), algorithm);
        assert_ne!(a.kid(), b.kid(), "{algorithm:?}");
    }
    assert!(matches!(
        Key::generate(Algorithm::ES256),
        Err(Error::Config(_))
    ));
}

#[test]
fn pem_keys_are_recognised_by_kind() {
    let key = Key::from_pem(ED25519_PEM).unwrap();
    assert_eq!(key.algorithm(), Algorithm::EdDSA);
    assert_eq!(key.kid(), Key::ed25519_pem(ED25519_PEM).unwrap().kid());
    for bad in [
        "",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ] {
        assert!(matches!(Key::from_pem(bad), Err(Error::Config(_))));
    }
}

#[test]
fn private_jwks_load_and_others_are_refused() {
    // The seed of ED25519_PEM, base64url.
    let okp = r#"{"kty":"OKP","crv":"Ed25519","d":"dW7phVftmBLa5iae423u_RODLgGz9U9kooPiEvX3HAE","kid":"e1"}"#;
    let key = Key::from_jwk(okp).unwrap();
    assert_eq!((key.algorithm(), key.kid()), (Algorithm::EdDSA, "e1"));
    let same = Key::from_pem(ED25519_PEM).unwrap();
    assert_eq!(
        key.public_jwk().unwrap().algorithm,
        same.public_jwk().unwrap().algorithm
    );

    let hs512 = format!(r#"{{"kty":"oct","alg":"HS512","k":"{}"}}"#, "A".repeat(86));
    assert_eq!(Key::from_jwk(&hs512).unwrap().algorithm(), Algorithm::HS512);
    for bad in [
        r#"{"kty":"oct","k":"c2hvcnQ"}"#,
        r#"{"kty":"oct","alg":"RS256","k":"c2hvcnQ"}"#,
        r#"{"kty":"EC","crv":"P-256","d":"AAAA"}"#,
        r#"{"kty":"OKP","crv":"Ed25519","d":"AAAA"}"#,
        r#"{"kty":"OKP","crv":"Ed25519"}"#,
        "not json",
    ] {
        assert!(matches!(Key::from_jwk(bad), Err(Error::Config(_))), "{bad}");
    }
}

#[test]
fn keys_come_from_the_environment_inline_or_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.pem");
    std::fs::write(&file, ED25519_PEM).unwrap();
    // `set_var` needs `unsafe` in edition 2024 (and the crate forbids it):
    // the variables are set on a child process running `from_env_child`.
    let kid = Key::from_pem(ED25519_PEM).unwrap().kid().to_owned();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "from_env_child",
            "--nocapture",
            "--include-ignored",
        ])
        .env("JWT_ROTATE_TEST_INLINE", ED25519_PEM)
        .env("JWT_ROTATE_TEST_FILE", &file)
        .env("JWT_ROTATE_TEST_MISSING_FILE", dir.path().join("none.pem"))
        .env("JWT_ROTATE_TEST_KID", &kid)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}"
    );
}

/// Run by `keys_come_from_the_environment_inline_or_by_file` in a child
/// process with the variables set; on its own, checks the unset variable.
#[test]
fn from_env_child() {
    let mut unusable = vec!["JWT_ROTATE_TEST_UNSET"];
    if let Ok(kid) = std::env::var("JWT_ROTATE_TEST_KID") {
        for var in ["JWT_ROTATE_TEST_INLINE", "JWT_ROTATE_TEST_FILE"] {
            assert_eq!(Key::from_env(var).unwrap().kid(), kid, "{var}");
        }
        unusable.push("JWT_ROTATE_TEST_MISSING_FILE");
    }
    for var in unusable {
        let err = Key::from_env(var).unwrap_err();
        assert!(
            err.to_string().contains(var) || format!("{err:?}").contains(var),
            "{var}"
        );
    }
}

#[tokio::test]
async fn cookies_carry_domain_and_same_site_and_count_on_the_service_clock() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(MemoryStore::new()).unwrap();
    let pair = service
        .issue("u", NoClaims {}, SessionInfo::default())
        .await
        .unwrap();
    clock.advance(Duration::days(1));
    let cookie = RefreshCookie::builder()
        .domain("example.com")
        .same_site(SameSite::Lax)
        .build()
        .unwrap();
    let set = cookie.set_cookie_for(&pair, &service).unwrap();
    let value = set.expose_secret();
    assert!(
        value.contains(
            "; Max-Age=518400; Path=/auth; Domain=example.com; HttpOnly; Secure; SameSite=Lax"
        ),
        "{value}"
    );
    for bad in [
        "",
        ".example.com",
        "example.com.",
        "exa mple.com",
        "ex;ample",
    ] {
        assert!(
            RefreshCookie::builder().domain(bad).build().is_err(),
            "{bad:?}"
        );
    }
    let dev = RefreshCookie::builder()
        .security(CookieSecurity::InsecureLocalhost)
        .build()
        .unwrap();
    assert!(dev.clear_cookie().ends_with("HttpOnly; SameSite=Strict"));
}

#[tokio::test(start_paused = true)]
async fn the_purge_task_deletes_expired_sessions() {
    use jwt_rotate::store::RefreshStore;
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(MemoryStore::new()).unwrap();
    assert!(service.spawn_purge(std::time::Duration::ZERO).is_err());
    let pair = service
        .issue("u", NoClaims {}, SessionInfo::default())
        .await
        .unwrap();
    clock.advance(Duration::days(8));
    let task = service
        .spawn_purge(std::time::Duration::from_secs(60))
        .unwrap();
    let mut purged = false;
    for _ in 0..100 {
        if service
            .store()
            .get(&pair.session_id)
            .await
            .unwrap()
            .is_none()
        {
            purged = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(purged, "the first tick purges at once");
    assert!(!task.is_finished());
    task.abort();
}

#[test]
fn the_purge_task_needs_a_runtime() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(MemoryStore::new()).unwrap();
    assert!(matches!(
        service.spawn_purge(std::time::Duration::from_secs(1)),
        Err(Error::Config(_))
    ));
}
