//! `HttpJwks` against a tiny HTTP server on 127.0.0.1: the answer's
//! `Cache-Control` (less its `Age`) says how long the keys are kept,
//! within the verifier's `jwks_min_refetch` and `jwks_max_age`.

use std::sync::{Arc, Mutex};

use jwt_rotate::{JwkSet, Key, ManualClock, MemoryStore, TokenService};
use time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{ED25519_PEM, common, verifier};

/// A JWKS endpoint on a free loopback port: answers every request with
/// `body` and the extra header lines of [`answer_with`](Self::answer_with),
/// and keeps the requests it got.
pub(crate) struct JwksServer {
    /// `http://127.0.0.1:PORT/.well-known/jwks.json`.
    pub(crate) url: String,
    headers: Arc<Mutex<String>>,
    requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    /// Serves the public JWK of each of `keys`.
    pub(crate) async fn start(keys: &[&Key]) -> Self {
        let body = serde_json::to_string(&JwkSet {
            keys: keys.iter().filter_map(|key| key.public_jwk()).collect(),
        })
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let headers = Arc::new(Mutex::new(String::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (extra, seen) = (Arc::clone(&headers), Arc::clone(&requests));
        let task = tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = vec![0u8; 4096];
                let n = socket.read(&mut request).await.unwrap();
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&request[..n]).into_owned());
                let extra = extra.lock().unwrap().clone();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        Self {
            url,
            headers,
            requests,
            task,
        }
    }

    /// Adds these header lines (each ending in `\r\n`) to the answers.
    pub(crate) fn answer_with(&self, lines: &str) {
        *self.headers.lock().unwrap() = lines.to_owned();
    }

    /// The requests so far.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// With `jwks_min_refetch` 30 s and `jwks_max_age` 5 min, each answer's
/// headers and the lifetime they give the keys.
const CASES: &[(&str, i64)] = &[
    // What the demo auth servers send.
    ("cache-control: public, max-age=300\r\n", 300),
    ("cache-control: public, max-age=60\r\n", 60),
    ("Cache-Control: MAX-AGE=\"90\"\r\n", 90),
    // Longer than the verifier allows: cut to jwks_max_age.
    ("cache-control: max-age=86400\r\n", 300),
    // A shared cache already kept it 100 of its 200 seconds.
    ("cache-control: max-age=200\r\nage: 100\r\n", 100),
    // The most restrictive of repeated directives.
    (
        "cache-control: max-age=120\r\ncache-control: max-age=45\r\n",
        45,
    ),
    // "Do not keep": as short as jwks_min_refetch allows.
    ("cache-control: no-cache\r\n", 30),
    ("cache-control: no-store, max-age=600\r\n", 30),
    ("cache-control: max-age=soon\r\n", 30),
    // Nothing said, or only for shared caches: jwks_max_age.
    ("", 300),
    ("cache-control: public, s-maxage=10\r\n", 300),
];

#[tokio::test]
async fn http_jwks_keeps_the_keys_as_long_as_cache_control_says_within_bounds() {
    let key = Key::ed25519_pem(ED25519_PEM).unwrap();
    let server = JwksServer::start(&[&key]).await;
    for &(headers, lifetime) in CASES {
        server.answer_with(headers);
        let clock = ManualClock::new(common::start());
        let service: TokenService<MemoryStore> = common::builder(&clock)
            .access_key(Key::ed25519_pem(ED25519_PEM).unwrap())
            .build(MemoryStore::new())
            .unwrap();
        let verifier = verifier(&clock)
            .jwks_url(&server.url)
            .jwks_min_refetch(Duration::seconds(30))
            .jwks_max_age(Duration::minutes(5))
            .build()
            .unwrap();
        let before = server.requests().len();
        let fetches = || server.requests().len() - before;
        let token = common::login(&service, "alice").await.access_token;
        verifier.verify(&token).await.unwrap();
        assert_eq!(fetches(), 1, "{headers:?}");
        clock.advance(Duration::seconds(lifetime - 1));
        let token = common::login(&service, "alice").await.access_token;
        verifier.verify(&token).await.unwrap();
        assert_eq!(fetches(), 1, "{headers:?}: still fresh at {lifetime} s - 1");
        clock.advance(Duration::seconds(1));
        let token = common::login(&service, "alice").await.access_token;
        verifier.verify(&token).await.unwrap();
        assert_eq!(fetches(), 2, "{headers:?}: stale at {lifetime} s");
    }
}
