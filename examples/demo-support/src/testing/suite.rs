//! The HTTP tests both servers must pass, driven by a cookie-keeping client
//! against a server running in-process on a free port. Each server's
//! `tests/http.rs` defines `spawn` and invokes
//! [`all_http_tests!`](crate::all_http_tests).
//!
//! The server runs on a [`ManualClock`]: expiry and the grace window are
//! crossed by moving the clock, never by sleeping. Its store can be made
//! to fail ([`Outage`]).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use jwt_rotate::oauth::IntrospectionClient;
use jwt_rotate::store::RefreshStore;
use jwt_rotate::{CookieSecurity, ManualClock, RefreshCookie, SessionId};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::HeaderMap;
use reqwest::{Response, Url};
use serde_json::{Value, json};
use time::Duration;

use crate::{AppState, Config};

pub use super::outage::Outage;

pub const ALICE: (&str, &str) = ("alice", "correct horse battery staple");
pub const BOB: (&str, &str) = ("bob", "a much better password than hunter2");
/// The client `Env::config` allows to call `POST /oauth/introspect`.
pub const INTROSPECTOR: (&str, &str) = ("resource-server", "an introspection secret: 32 bytes");

/// Starts a server over a config: each server's `spawn`, for scenarios
/// that need settings of their own.
pub type Spawn<'a> = &'a dyn Fn(Config) -> Pin<Box<dyn Future<Output = TestServer> + 'a>>;

/// Stops a server.
pub type Stop = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A server under test.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<Stop>,
}

impl TestServer {
    pub fn new(addr: SocketAddr, state: AppState, stop: Stop) -> Self {
        Self {
            addr,
            state,
            stop: Some(stop),
        }
    }

    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            stop().await;
        }
    }
}

/// What a scenario controls besides the server: its clock and the health
/// of its store.
pub struct Env {
    pub clock: ManualClock,
    pub store: Arc<Outage>,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub fn new() -> Self {
        Self {
            clock: ManualClock::starting_now(),
            store: Arc::new(Outage::default()),
        }
    }

    /// Default lifetimes, `Secure` cookies (the client, like browsers,
    /// sends them to loopback over plain HTTP), the manual clock and the
    /// store that can fail.
    pub fn config(&self) -> Config {
        Config {
            clock: Arc::new(self.clock.clone()),
            store: Arc::clone(&self.store) as Arc<dyn RefreshStore>,
            cookie_security: CookieSecurity::Secure,
            introspection: Some(IntrospectionClient::new(INTROSPECTOR.0, INTROSPECTOR.1)),
            ..Config::default()
        }
    }
}

/// An answer, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn read(resp: Response) -> Self {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Self {
            status,
            headers,
            body,
        }
    }

    /// The `error` code of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The refresh token a `Set-Cookie` sets (`Some("")` when it clears).
    pub fn cookie_token(&self) -> Option<&str> {
        let pair = self.header("set-cookie")?.split(';').next()?;
        pair.strip_prefix("refresh_token=")
    }

    /// Asserts the status and the error code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, code));
    }
}

/// A user agent with its own cookie jar and its access token in memory,
/// like one browser profile.
pub struct Agent {
    client: reqwest::Client,
    jar: Arc<Jar>,
    base: Url,
    pub access: Option<String>,
}

impl Agent {
    pub fn new(server: &TestServer) -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .user_agent("http-suite")
            .build()
            .unwrap();
        Self {
            client,
            jar,
            base: server.url("/"),
            access: None,
        }
    }

    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap()
    }

    /// The refresh token the jar would send to `/auth/...`, if any.
    pub fn refresh_token(&self) -> Option<String> {
        let header = self.jar.cookies(&self.url("/auth/refresh"))?;
        let token = RefreshCookie::default()
            .read_token([header.as_bytes()])
            .ok()?;
        Some(token.expose_secret().to_owned())
    }

    /// `POST /auth/login`; keeps the access token of a 200.
    pub async fn login(&mut self, (user, password): (&str, &str)) -> Reply {
        let body = json!({ "username": user, "password": password });
        let request = self.client.post(self.url("/auth/login")).json(&body);
        self.keep_token(request).await
    }

    /// `POST /auth/refresh` with the jar's cookie; keeps the access token.
    pub async fn refresh(&mut self) -> Reply {
        let request = self.client.post(self.url("/auth/refresh"));
        self.keep_token(request).await
    }

    /// `POST /auth/logout` with the jar's cookie.
    pub async fn logout(&self) -> Reply {
        self.send(self.client.post(self.url("/auth/logout"))).await
    }

    /// A request with the jar's cookies and no bearer, to add headers to.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path))
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::read(request.send().await.unwrap()).await
    }

    /// `GET path` with the bearer token.
    /// The id of the session this agent is logged in to, from `GET /me`.
    pub async fn session_id(&self) -> String {
        let me = self.get("/me").await;
        me.body["sid"].as_str().expect("logged in").to_owned()
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.authed(self.client.get(self.url(path))))
            .await
    }

    /// `POST path` with the bearer token and a JSON body.
    pub async fn authed_post(&self, path: &str, body: Option<Value>) -> Reply {
        let request = self.authed(self.client.post(self.url(path)));
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        self.send(request).await
    }

    /// `DELETE path` with the bearer token.
    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.authed(self.client.delete(self.url(path))))
            .await
    }

    fn authed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.access {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn keep_token(&mut self, request: reqwest::RequestBuilder) -> Reply {
        let reply = self.send(request).await;
        if reply.status == 200 {
            self.access = Some(reply.body["access_token"].as_str().unwrap().to_owned());
        }
        reply
    }
}

/// A refresh presenting `token` as the only cookie, as a second tab or a
/// thief with a copy would.
pub async fn refresh_with(server: &TestServer, token: &str) -> Reply {
    let request = reqwest::Client::new()
        .post(server.url("/auth/refresh"))
        .header("cookie", format!("refresh_token={token}"));
    Reply::read(request.send().await.unwrap()).await
}

/// The server's record of session `id`: its generation and whether it is
/// revoked.
pub async fn record(server: &TestServer, id: &str) -> (u64, bool) {
    let id: SessionId = id.parse().unwrap();
    let record = server.state.service().store().get(&id).await.unwrap();
    let record = record.expect("session exists");
    (record.generation, record.revoked.is_some())
}

/// A native login (`client: "native"`): its access and refresh tokens.
pub async fn native_login(server: &TestServer, (user, password): (&str, &str)) -> (String, String) {
    let body = json!({ "username": user, "password": password, "client": "native" });
    let request = reqwest::Client::new()
        .post(server.url("/auth/login"))
        .json(&body);
    let reply = Reply::read(request.send().await.unwrap()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("set-cookie"), None, "native: no cookie");
    let token = |name: &str| reply.body[name].as_str().unwrap().to_owned();
    (token("access_token"), token("refresh_token"))
}

/// A form `POST` to an OAuth route, with HTTP Basic `client` credentials
/// (id and secret form-encoded first, RFC 6749 section 2.3.1) if given.
pub async fn oauth_post(
    server: &TestServer,
    path: &str,
    form: &[(&str, &str)],
    client: Option<(&str, &str)>,
) -> Reply {
    let mut request = oauth_request(server, path, form);
    if let Some((id, secret)) = client {
        request = request.basic_auth(form_encode(id), Some(form_encode(secret)));
    }
    Reply::read(request.send().await.unwrap()).await
}

/// A form `POST` to an OAuth route, to send as it is or with more headers.
pub fn oauth_request(
    server: &TestServer,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let body: Vec<String> = form
        .iter()
        .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
        .collect();
    reqwest::Client::new()
        .post(server.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"))
}

/// `application/x-www-form-urlencoded` encoding of one name or value.
pub fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn seconds(n: i64) -> Duration {
    Duration::seconds(n)
}
