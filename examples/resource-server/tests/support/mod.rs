//! What the resource server's tests share: servers on free loopback ports,
//! `GET /me`, and polling an answer with a deadline.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use jwt_rotate::Verifier;
use serde_json::Value;

/// The issuer and audience of the demo auth servers.
pub const DEMO: &str = "jwt-rotate-demo";

/// An answer of `GET /me`, read whole.
#[derive(Debug)]
pub struct Me {
    pub status: u16,
    pub body: Value,
    pub www_authenticate: Option<String>,
    pub retry_after: Option<String>,
}

impl Me {
    /// The `error` code of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

/// `GET /me` at `base` (`http://host:port`) with `token` as Bearer, on
/// one client for the whole test binary: making one costs far more than a
/// request on loopback (its TLS set-up), which would swamp the delays the
/// tests measure.
pub async fn me(base: &str, token: Option<&str>) -> Me {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    let request = CLIENT
        .get_or_init(reqwest::Client::new)
        .get(format!("{base}/me"));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    let answer = request.send().await.unwrap();
    let header = |name: &str| {
        let value = answer.headers().get(name)?;
        Some(value.to_str().unwrap().to_owned())
    };
    let (www_authenticate, retry_after) = (header("www-authenticate"), header("retry-after"));
    let status = answer.status().as_u16();
    let body = answer.json().await.unwrap();
    Me {
        status,
        body,
        www_authenticate,
        retry_after,
    }
}

/// Asks `GET /me` again until `done` holds of the answer, for at most
/// `within`; the answer and how long it took.
///
/// # Panics
/// When `within` passes first, with the last answer.
pub async fn poll_me(
    base: &str,
    token: &str,
    within: Duration,
    done: impl Fn(&Me) -> bool,
) -> (Me, Duration) {
    let start = Instant::now();
    loop {
        let answer = me(base, Some(token)).await;
        if done(&answer) {
            return (answer, start.elapsed());
        }
        assert!(
            start.elapsed() < within,
            "still {answer:?} after {within:?}"
        );
        // Between two round trips, a pause far below the bound measured.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The resource server in this process on a free loopback port; its base
/// URL. Ends with the test's runtime.
pub async fn serve(verifier: Verifier) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(resource_demo::serve(
        listener,
        verifier,
        std::future::pending(),
    ));
    format!("http://{addr}")
}
