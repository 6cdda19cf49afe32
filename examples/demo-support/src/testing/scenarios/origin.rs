//! The scenarios of the HTTP tests about the CSRF check: an origin is a
//! scheme, a host and a port, and all three must be this server's.

use crate::Config;
use crate::testing::suite::{ALICE, Agent, Env, Reply, Spawn, TestServer, record};

/// The routes the refresh cookie authenticates (and login, which sets it),
/// each with the answer it gives a request that passed the check and has
/// no cookie and an empty JSON body.
const COOKIE_ROUTES: [(&str, u16); 3] = [
    ("/auth/login", 400),
    ("/auth/refresh", 401),
    ("/auth/logout", 204),
];

/// `POST path` with these headers, no cookie, an empty JSON object.
async fn post_with(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = reqwest::Client::new()
        .post(server.url(path))
        .header("content-type", "application/json")
        .body("{}");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Reply::read(request.send().await.unwrap()).await
}

#[track_caller]
fn assert_refused(reply: &Reply, what: &str) {
    assert_eq!(
        (reply.status, reply.code()),
        (403, "cross_site_request"),
        "{what}"
    );
    assert_eq!(reply.header("set-cookie"), None, "{what}");
}

pub async fn cross_site_requests_are_refused(server: &TestServer, _: &Env) {
    let mut alice = Agent::new(server);
    alice.login(ALICE).await;
    let session = alice.session_id().await;
    let host = server.addr.to_string();
    let own_origin = format!("http://{host}");

    let refused: [(&str, &str); 6] = [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("origin", "http://127.0.0.1:1"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("sec-fetch-site", "none"),
    ];
    for (name, value) in refused {
        for path in ["/auth/refresh", "/auth/logout", "/auth/login"] {
            let reply = alice.send(alice.post(path).header(name, value)).await;
            reply.assert_error(403, "cross_site_request");
            assert_eq!(reply.header("set-cookie"), None, "{path} {name}: {value}");
        }
    }
    // Nothing above rotated or revoked anything; this origin's requests
    // pass.
    assert_eq!(record(server, &session).await, (0, false));
    let allowed = [
        ("origin", own_origin.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    for (generation, (name, value)) in (1..).zip(allowed) {
        let reply = alice
            .send(alice.post("/auth/refresh").header(name, value))
            .await;
        assert_eq!(reply.status, 200, "{name}: {value}");
        assert_eq!(record(server, &session).await, (generation, false));
    }
}

pub async fn csrf_compares_scheme_host_and_port(server: &TestServer) {
    let port = server.addr.port();
    let other_port = if port == u16::MAX { port - 1 } else { port + 1 };
    let scheme = format!("https://127.0.0.1:{port}");
    let wrong_port = format!("http://127.0.0.1:{other_port}");
    let host = format!("http://localhost:{port}");
    let with_path = format!("http://127.0.0.1:{port}/");
    let own = format!("http://127.0.0.1:{port}");
    let refused: Vec<Vec<(&str, &str)>> = vec![
        vec![("origin", &scheme)],
        vec![("origin", &wrong_port)],
        vec![("origin", "http://127.0.0.1")],
        vec![("origin", &host)],
        vec![("origin", "null")],
        vec![("origin", &with_path)],
        vec![("origin", "https://evil.example")],
        vec![("origin", &own), ("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("sec-fetch-site", "none")],
        vec![("sec-fetch-site", "cross-site"), ("origin", &own)],
    ];
    let accepted: Vec<Vec<(&str, &str)>> = vec![
        vec![("origin", &own)],
        vec![("sec-fetch-site", "same-origin")],
        vec![("sec-fetch-site", "same-origin"), ("origin", &own)],
        // No browser metadata at all: not a browser, so no ambient cookie.
        vec![],
    ];
    for (path, passed) in COOKIE_ROUTES {
        for headers in &refused {
            let reply = post_with(server, path, headers).await;
            assert_refused(&reply, &format!("{path} {headers:?}"));
        }
        for headers in &accepted {
            let reply = post_with(server, path, headers).await;
            assert_eq!(reply.status, passed, "{path} {headers:?}");
        }
    }
}

pub async fn csrf_knows_default_ports(server: &TestServer) {
    // The Host header a browser sends leaves out the scheme's default
    // port, and an Origin may spell it: both mean port 80 over http.
    let cases: [(&str, &str, bool); 6] = [
        ("127.0.0.1", "http://127.0.0.1:80", true),
        ("127.0.0.1:80", "http://127.0.0.1", true),
        ("127.0.0.1:80", "http://127.0.0.1:80", true),
        ("127.0.0.1", "https://127.0.0.1", false),
        ("127.0.0.1:443", "https://127.0.0.1", false),
        ("127.0.0.1", "http://127.0.0.1:8080", false),
    ];
    for (host, origin, same) in cases {
        let headers = [("host", host), ("origin", origin)];
        let reply = post_with(server, "/auth/refresh", &headers).await;
        let what = format!("Host: {host}, Origin: {origin}");
        if same {
            reply.assert_error(401, "missing_refresh_token");
        } else {
            assert_refused(&reply, &what);
        }
    }
}

pub async fn refused_origins_change_nothing(server: &TestServer) {
    let mut alice = Agent::new(server);
    alice.login(ALICE).await;
    let session = alice.session_id().await;
    let scheme = format!("https://{}", server.addr);
    for path in ["/auth/refresh", "/auth/logout", "/auth/login"] {
        let reply = alice.send(alice.post(path).header("origin", &scheme)).await;
        assert_refused(&reply, path);
    }
    assert_eq!(record(server, &session).await, (0, false));
}

pub async fn a_public_origin_sets_scheme_host_and_port(spawn: Spawn<'_>, env: &Env) {
    // Behind a proxy that terminates TLS, the browser's origin is the
    // proxy's: PUBLIC_ORIGIN says which, and Host no longer decides.
    let server = spawn(Config {
        public_origin: Some("https://auth.example".parse().unwrap()),
        ..env.config()
    })
    .await;
    let own = format!("http://{}", server.addr);
    for origin in ["https://auth.example", "https://auth.example:443"] {
        let reply = post_with(&server, "/auth/refresh", &[("origin", origin)]).await;
        reply.assert_error(401, "missing_refresh_token");
    }
    for origin in [
        "http://auth.example",
        "https://auth.example:8443",
        "https://evil.example",
        own.as_str(),
    ] {
        for (path, _) in COOKIE_ROUTES {
            let reply = post_with(&server, path, &[("origin", origin)]).await;
            assert_refused(&reply, &format!("{path} {origin}"));
        }
    }
    server.stop().await;
}
