//! Keys from a `JwksSource`: fetched on first use, again for an unknown
//! `kid` at most once per `jwks_min_refetch`, again after `jwks_max_age`;
//! a fetch failure is "try later", never "invalid token"; and `HttpJwks`
//! against the tiny HTTP server of `cache.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jwt_rotate::{Error, JwkSet, JwksSource, Key, ManualClock};
use time::Duration;

use super::{ED25519_B_PEM, ED25519_PEM, common, verifier};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A key set that can change, and counts its fetches; `None` fails.
#[derive(Clone)]
pub(crate) struct Counting {
    set: Arc<Mutex<Option<JwkSet>>>,
    fetches: Arc<AtomicUsize>,
}

impl Counting {
    pub(crate) fn new(keys: Vec<&Key>) -> Self {
        let set = JwkSet {
            keys: keys.into_iter().filter_map(Key::public_jwk).collect(),
        };
        Self {
            set: Arc::new(Mutex::new(Some(set))),
            fetches: Arc::default(),
        }
    }

    fn serve(&self, keys: Option<Vec<&Key>>) {
        let set = keys.map(|keys| JwkSet {
            keys: keys.into_iter().filter_map(Key::public_jwk).collect(),
        });
        *self.set.lock().unwrap() = set;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl JwksSource for Counting {
    async fn fetch(&self) -> Result<JwkSet, BoxError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let set = self.set.lock().unwrap().clone();
        set.ok_or_else(|| "the JWKS endpoint is down".into())
    }
}

fn keys() -> (Key, Key) {
    let a = Key::ed25519_pem(ED25519_PEM).unwrap();
    let b = Key::ed25519_pem(ED25519_B_PEM).unwrap();
    (a, b)
}

#[tokio::test]
async fn a_rotated_access_key_is_fetched_once_and_a_kid_flood_is_rate_limited() {
    let clock = ManualClock::new(common::start());
    let (a, b) = keys();
    let source = Counting::new(vec![&a]);
    let verifier = verifier(&clock)
        .jwks_source(source.clone())
        .jwks_min_refetch(Duration::seconds(30))
        .build()
        .unwrap();
    let old = common::builder(&clock)
        .access_key(keys().0)
        .build(jwt_rotate::MemoryStore::new())
        .unwrap();
    let login = common::login(&old, "alice").await;
    assert_eq!(
        source.fetches(),
        0,
        "nothing is fetched before it is needed"
    );
    verifier.verify(&login.access_token).await.unwrap();
    verifier.verify(&login.access_token).await.unwrap();
    assert_eq!(source.fetches(), 1, "the cache answers the second time");

    // The auth server rotates to key b (publishing both): the first token
    // signed by b fetches the set again, once.
    source.serve(Some(vec![&a, &b]));
    clock.advance(Duration::seconds(31));
    let rotated = common::builder(&clock)
        .access_key(keys().1)
        .build(jwt_rotate::MemoryStore::new())
        .unwrap();
    let new_login = common::login(&rotated, "alice").await;
    verifier.verify(&new_login.access_token).await.unwrap();
    verifier.verify(&login.access_token).await.unwrap();
    assert_eq!(source.fetches(), 2);

    // Tokens naming random kids: one fetch per 30 s at most, and a 401.
    clock.advance(Duration::seconds(31));
    let forged = |n: usize| {
        use base64::Engine;
        let header = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"random-{n}"}}"#);
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header);
        let token = new_login.access_token.as_str();
        let rest = token.split_once('.').unwrap().1;
        format!("{header}.{rest}")
    };
    for n in 0..100 {
        let found = verifier.verify(forged(n)).await.unwrap_err();
        assert!(matches!(found, Error::InvalidSignature), "{found:?}");
    }
    assert_eq!(
        source.fetches(),
        3,
        "a flood of unknown kids costs one fetch"
    );
    clock.advance(Duration::seconds(30));
    verifier.verify(forged(100)).await.unwrap_err();
    assert_eq!(source.fetches(), 4, "and one more per interval");
    // The real tokens never stopped verifying.
    verifier.verify(&new_login.access_token).await.unwrap();
}

#[tokio::test]
async fn keys_past_their_max_age_are_fetched_again_and_a_dropped_key_stops_verifying() {
    let clock = ManualClock::new(common::start());
    let (a, b) = keys();
    let source = Counting::new(vec![&a, &b]);
    let verifier = verifier(&clock)
        .jwks_source(source.clone())
        .jwks_max_age(Duration::minutes(5))
        .jwks_min_refetch(Duration::seconds(30))
        .build()
        .unwrap();
    let service = common::builder(&clock)
        .access_key(keys().0)
        .build(jwt_rotate::MemoryStore::new())
        .unwrap();
    verifier
        .verify(&common::login(&service, "a").await.access_token)
        .await
        .unwrap();
    source.serve(Some(vec![&b]));
    clock.advance(Duration::minutes(4));
    let token = common::login(&service, "a").await.access_token;
    verifier.verify(&token).await.unwrap();
    assert_eq!(source.fetches(), 1, "younger than max_age: no fetch");
    clock.advance(Duration::minutes(1));
    let token = common::login(&service, "a").await.access_token;
    let found = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(found, Error::InvalidSignature), "{found:?}");
    assert_eq!(source.fetches(), 2);
}

#[tokio::test]
async fn a_failed_fetch_is_try_later_never_an_invalid_token() {
    let clock = ManualClock::new(common::start());
    let (a, _) = keys();
    let source = Counting::new(vec![&a]);
    source.serve(None);
    let verifier = verifier(&clock)
        .jwks_source(source.clone())
        .build()
        .unwrap();
    let service = common::builder(&clock)
        .access_key(keys().0)
        .build(jwt_rotate::MemoryStore::new())
        .unwrap();
    let token = common::login(&service, "alice").await.access_token;
    let found = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(found, Error::KeysUnavailable(_)), "{found:?}");
    // Rate-limited, but still "try later" while the last fetch failed.
    let found = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(found, Error::KeysUnavailable(_)), "{found:?}");
    assert_eq!(source.fetches(), 1);
    source.serve(Some(vec![&a]));
    clock.advance(Duration::seconds(30));
    verifier.verify(&token).await.unwrap();
    // Garbage never triggers a fetch.
    clock.advance(Duration::minutes(1));
    let found = verifier.verify("not.a.token").await.unwrap_err();
    assert!(matches!(found, Error::Malformed(_)), "{found:?}");
    assert_eq!(source.fetches(), 2);
}

#[cfg(feature = "jwks-fetch")]
#[tokio::test]
async fn http_jwks_fetches_from_a_url() {
    let clock = ManualClock::new(common::start());
    let (a, _) = keys();
    let server = super::cache::JwksServer::start(&[&a]).await;
    let verifier = verifier(&clock).jwks_url(&server.url).build().unwrap();
    let service = common::builder(&clock)
        .access_key(keys().0)
        .build(jwt_rotate::MemoryStore::new())
        .unwrap();
    let token = common::login(&service, "alice").await.access_token;
    assert_eq!(verifier.verify(&token).await.unwrap().sub, "alice");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].starts_with("GET /.well-known/jwks.json HTTP/1.1"),
        "{}",
        requests[0]
    );
    // Not a URL, or not http(s): refused at build.
    for bad in ["not a url", "ftp://example.com/jwks.json"] {
        let built = super::verifier(&clock).jwks_url(bad).build();
        assert!(matches!(built, Err(Error::Config(_))), "{bad}");
    }
}

/// A key set whose fetch waits until the test lets it go.
struct Gated {
    set: JwkSet,
    gate: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl JwksSource for Gated {
    async fn fetch(&self) -> Result<JwkSet, BoxError> {
        self.gate.notified().await;
        Ok(self.set.clone())
    }
}

#[tokio::test]
async fn a_token_whose_key_is_being_fetched_is_try_later_not_invalid() {
    let clock = ManualClock::new(common::start());
    let (a, _) = keys();
    let gate = Arc::new(tokio::sync::Notify::new());
    let source = Gated {
        set: JwkSet {
            keys: a.public_jwk().into_iter().collect(),
        },
        gate: Arc::clone(&gate),
    };
    let verifier = verifier(&clock).jwks_source(source).build().unwrap();
    let service = common::builder(&clock)
        .access_key(keys().0)
        .build(jwt_rotate::MemoryStore::new())
        .unwrap();
    let login = common::login(&service, "alice").await;

    // The first request starts the fetch and waits for it; the second
    // comes while it runs.
    let (first, second) = tokio::join!(verifier.verify(&login.access_token), async {
        let second = verifier.verify(&login.access_token).await;
        gate.notify_one();
        second
    });
    first.unwrap();
    let second = second.unwrap_err();
    assert!(matches!(second, Error::KeysUnavailable(_)), "{second:?}");
    assert!(!second.is_unauthorized());
    // Once fetched, the same token verifies.
    verifier.verify(&login.access_token).await.unwrap();
}
