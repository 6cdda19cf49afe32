//! `jwt_rotate::web::AuthFlow`: the framework-neutral session routes, driven
//! with header lists as a framework would pass them.

mod common;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jwt_rotate::store::RefreshStore;
use jwt_rotate::web::{
    AuthFlow, Credentials, CredentialsError, Login, Rate, Reply, ThrottleLimits, Verification,
};
use jwt_rotate::{ManualClock, MemoryStore, NoClaims, RequestHeaders, SessionId};
use serde_json::Value;
use time::Duration;

const BODY: &[u8] = br#"{"username":"alice","password":"right"}"#;

/// alice / right; `stale` makes every stamp out of date.
struct Accounts {
    stale: AtomicBool,
}

#[async_trait::async_trait]
impl Credentials for Accounts {
    async fn check(&self, user: &str, password: &str) -> Result<Option<Login>, CredentialsError> {
        match (user, password) {
            ("alice", "right") => Ok(Some(Login::new("alice", NoClaims {}).with_stamp("v1"))),
            ("busy", _) => Err(CredentialsError::Busy),
            _ => Ok(None),
        }
    }

    async fn stamp_is_current(&self, _: &str, stamp: &str) -> Result<bool, CredentialsError> {
        Ok(stamp == "v1" && !self.stale.load(Ordering::SeqCst))
    }
}

fn flow(verification: Verification) -> (AuthFlow<MemoryStore>, ManualClock, Arc<Accounts>) {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(MemoryStore::new()).unwrap();
    let accounts = Arc::new(Accounts {
        stale: AtomicBool::new(false),
    });
    let limits = ThrottleLimits {
        per_user: Rate {
            burst: 2,
            every: Duration::minutes(1),
        },
        ..ThrottleLimits::default()
    };
    let flow = AuthFlow::builder(service)
        .credentials(Shared(Arc::clone(&accounts)))
        .throttle(limits)
        .verification(verification)
        .build()
        .unwrap();
    (flow, clock, accounts)
}

struct Shared(Arc<Accounts>);

#[async_trait::async_trait]
impl Credentials for Shared {
    async fn check(&self, user: &str, password: &str) -> Result<Option<Login>, CredentialsError> {
        self.0.check(user, password).await
    }
    async fn stamp_is_current(&self, user: &str, stamp: &str) -> Result<bool, CredentialsError> {
        self.0.stamp_is_current(user, stamp).await
    }
}

fn headers<'a>(pairs: &[(&'a str, &'a str)]) -> RequestHeaders<'a> {
    pairs.iter().map(|(n, v)| (*n, v.as_bytes())).collect()
}

/// The `name=value` part of the reply's `Set-Cookie`.
fn cookie_of(reply: &Reply) -> String {
    let set = reply.header("set-cookie").expect("a set-cookie");
    set.split(';').next().unwrap().to_owned()
}

fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap()
}

const PEER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

#[tokio::test]
async fn login_refresh_logout_over_the_cookie() {
    let (flow, clock, _) = flow(Verification::Live);
    let login = flow.login(&headers(&[]), PEER, BODY).await.unwrap();
    assert_eq!(login.status, 200);
    assert_eq!(login.header("cache-control"), Some("no-store"));
    let body = json(&login);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(
        body.get("refresh_token").is_none(),
        "browsers get a cookie only"
    );
    let cookie = cookie_of(&login);

    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
    let caller = flow
        .authenticate(&headers(&[("authorization", &bearer)]))
        .await
        .unwrap();
    assert_eq!(caller.sub, "alice");

    clock.advance(Duration::minutes(20));
    let refreshed = flow
        .refresh(&headers(&[("cookie", &cookie)]))
        .await
        .unwrap();
    let next = cookie_of(&refreshed);
    assert_ne!(next, cookie);
    assert!(
        refreshed
            .header("set-cookie")
            .unwrap()
            .contains("Max-Age=604800")
    );

    let out = flow.logout(&headers(&[("cookie", &next)])).await.unwrap();
    assert_eq!(out.status, 204);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let record = flow
        .service()
        .store()
        .get(&caller.sid)
        .await
        .unwrap()
        .unwrap();
    assert!(record.revoked.is_some());
    // The old cookie is dead: 401, and the answer deletes it.
    let err = flow
        .refresh(&headers(&[("cookie", &next)]))
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (401, "session_revoked"));
    assert!(
        err.reply()
            .header("set-cookie")
            .unwrap()
            .contains("Max-Age=0")
    );
}

#[tokio::test]
async fn cross_site_requests_change_nothing() {
    let (flow, _, _) = flow(Verification::Live);
    let cookie = cookie_of(&flow.login(&headers(&[]), PEER, BODY).await.unwrap());
    let evil = [
        ("cookie", cookie.as_str()),
        ("sec-fetch-site", "cross-site"),
    ];
    for err in [
        flow.login(&headers(&evil), PEER, BODY).await.unwrap_err(),
        flow.refresh(&headers(&evil)).await.unwrap_err(),
        flow.logout(&headers(&evil)).await.unwrap_err(),
    ] {
        assert_eq!((err.status(), err.code()), (403, "cross_site_request"));
        assert!(err.reply().header("set-cookie").is_none());
    }
    let origin = [
        ("cookie", cookie.as_str()),
        ("origin", "http://evil:3000"),
        ("host", "me:3000"),
    ];
    assert_eq!(
        flow.refresh(&headers(&origin)).await.unwrap_err().status(),
        403
    );
    // Still live: the same cookie refreshes from the right origin.
    let same = [
        ("cookie", cookie.as_str()),
        ("origin", "http://me:3000"),
        ("host", "me:3000"),
    ];
    assert_eq!(flow.refresh(&headers(&same)).await.unwrap().status, 200);
}

#[tokio::test]
async fn wrong_passwords_are_throttled_and_right_ones_are_refunded() {
    let (flow, clock, _) = flow(Verification::Live);
    let wrong = br#"{"username":"alice","password":"nope"}"#;
    for _ in 0..3 {
        assert_eq!(
            flow.login(&headers(&[]), PEER, BODY).await.unwrap().status,
            200
        );
    }
    for _ in 0..2 {
        let err = flow.login(&headers(&[]), PEER, wrong).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (401, "invalid_credentials"));
    }
    let err = flow.login(&headers(&[]), PEER, BODY).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (429, "too_many_attempts"));
    assert_eq!(err.reply().header("retry-after"), Some("60"));
    clock.advance(Duration::minutes(1));
    assert_eq!(
        flow.login(&headers(&[]), PEER, BODY).await.unwrap().status,
        200
    );

    let busy = br#"{"username":"busy","password":"x"}"#;
    let err = flow.login(&headers(&[]), PEER, busy).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (503, "server_busy"));
    for bad in [&b"{}"[..], b"not json", &[b'x'; 20_000][..]] {
        let err = flow.login(&headers(&[]), PEER, bad).await.unwrap_err();
        assert!(matches!(err.status(), 400 | 413), "{}", err.code());
    }
}

#[tokio::test]
async fn a_stale_stamp_revokes_the_new_session() {
    let (flow, _, accounts) = flow(Verification::Live);
    accounts.stale.store(true, Ordering::SeqCst);
    let err = flow.login(&headers(&[]), PEER, BODY).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (401, "invalid_credentials"));
    assert!(flow.service().sessions("alice").await.unwrap().is_empty());
}

#[tokio::test]
async fn native_clients_get_the_refresh_token_in_the_body() {
    let (flow, _, _) = flow(Verification::Live);
    let body = br#"{"username":"alice","password":"right","client":"native"}"#;
    let reply = flow.login(&headers(&[]), PEER, body).await.unwrap();
    assert!(reply.header("set-cookie").is_none());
    let token = json(&reply)["refresh_token"].as_str().unwrap().to_owned();
    assert!(flow.service().refresh(&token).await.is_ok());
}

#[tokio::test]
async fn verification_mode_decides_whether_a_logout_stops_access_tokens() {
    for (mode, after_logout) in [(Verification::Live, false), (Verification::Signature, true)] {
        let (flow, _, _) = flow(mode);
        let login = flow.login(&headers(&[]), PEER, BODY).await.unwrap();
        let bearer = format!("Bearer {}", json(&login)["access_token"].as_str().unwrap());
        flow.logout(&headers(&[("cookie", &cookie_of(&login))]))
            .await
            .unwrap();
        let result = flow
            .authenticate(&headers(&[("authorization", &bearer)]))
            .await;
        assert_eq!(result.is_ok(), after_logout, "{mode:?}");
        let missing = flow.authenticate(&headers(&[])).await.unwrap_err();
        assert_eq!((missing.status(), missing.code()), (401, "missing_token"));
    }
}

#[tokio::test]
async fn devices_are_listed_and_revoked_by_their_owner_only() {
    let (flow, clock, _) = flow(Verification::Live);
    let first = flow.login(&headers(&[]), PEER, BODY).await.unwrap();
    // Newest first: logins at one instant would come in id order.
    clock.advance(Duration::seconds(1));
    let second = flow
        .login(&headers(&[("user-agent", "phone")]), PEER, BODY)
        .await
        .unwrap();
    let bearer =
        |reply: &Reply| format!("Bearer {}", json(reply)["access_token"].as_str().unwrap());
    let caller = flow
        .authenticate(&headers(&[("authorization", &bearer(&second))]))
        .await
        .unwrap();
    let list = json(&flow.sessions(&caller).await.unwrap());
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["current"], true);
    assert_eq!(list[0]["user_agent"], "phone");
    let other = list[1]["id"].as_str().unwrap().to_owned();

    let unknown = SessionId::random().to_string();
    for id in [unknown.as_str(), "not-an-id"] {
        assert_eq!(
            flow.revoke_session(&caller, id).await.unwrap_err().status(),
            404
        );
    }
    assert_eq!(
        flow.revoke_session(&caller, &other).await.unwrap().status,
        204
    );
    let err = flow
        .refresh(&headers(&[("cookie", &cookie_of(&first))]))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 401);

    let third = flow.login(&headers(&[]), PEER, BODY).await.unwrap();
    let revoked = json(&flow.logout_others(&caller).await.unwrap());
    assert_eq!(revoked["revoked"], 1);
    assert_eq!(
        flow.refresh(&headers(&[("cookie", &cookie_of(&third))]))
            .await
            .unwrap_err()
            .status(),
        401
    );
    assert_eq!(flow.jwks().status, 200);
}
