//! DPoP on `jwt_rotate::web::AuthFlow`: a `DPoP` header at login binds the
//! session; refresh and `authenticate` then need proofs by its key, made
//! for the method and the URL the client used.

mod common;

use std::net::IpAddr;

use jwt_rotate::store::RefreshStore;
use jwt_rotate::testing::DpopClient;
use jwt_rotate::web::{AuthFlow, CredentialsError, HttpError, Login, Reply, dpop_token};
use jwt_rotate::{
    AccessClaims, Clock, Dpop, DpopNonces, Error, ManualClock, MemoryStore, NoClaims,
    RefreshCookie, RequestHeaders,
};
use serde_json::Value;
use time::Duration;

const BODY: &[u8] = br#"{"username":"alice","password":"right"}"#;
const NATIVE: &[u8] = br#"{"username":"alice","password":"right","client":"native"}"#;
const HOST: &str = "auth.test:8080";
const ORIGIN: &str = "http://auth.test:8080";
const PEER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

fn flow_with(
    nonces: Option<DpopNonces>,
    cookie: RefreshCookie,
) -> (AuthFlow<MemoryStore>, ManualClock) {
    let clock = ManualClock::new(common::start());
    let mut dpop = Dpop::builder().clock(clock.clone());
    if let Some(nonces) = nonces {
        dpop = dpop.nonces(nonces);
    }
    let service = common::builder(&clock)
        .dpop(dpop.build().unwrap())
        .build(MemoryStore::new())
        .unwrap();
    let flow = AuthFlow::builder(service)
        .credentials(|user: String, password: String| async move {
            let right = user == "alice" && password == "right";
            Ok::<_, CredentialsError>(right.then(|| Login::new(user, NoClaims {})))
        })
        .cookie(cookie)
        .build()
        .unwrap();
    (flow, clock)
}

fn flow() -> (AuthFlow<MemoryStore>, ManualClock) {
    flow_with(None, RefreshCookie::default())
}

/// A request to `path` with `pairs` as headers, from `HOST`.
fn request<'a>(method: &'a str, path: &'a str, pairs: &[(&'a str, &'a str)]) -> RequestHeaders<'a> {
    let mut headers: RequestHeaders<'a> = pairs.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    headers.push("host", HOST.as_bytes());
    headers.with_target(method, path)
}

fn url(path: &str) -> String {
    format!("{ORIGIN}{path}")
}

fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap()
}

fn cookie_of(reply: &Reply) -> String {
    let set = reply.header("set-cookie").expect("a set-cookie");
    set.split(';').next().unwrap().to_owned()
}

/// `POST /auth/login` with `body` and `proof` as its `DPoP` header.
async fn login_with_proof(
    flow: &AuthFlow<MemoryStore>,
    proof: &str,
    body: &[u8],
) -> Result<Reply, HttpError> {
    let headers = request("POST", "/auth/login", &[("dpop", proof)]);
    flow.login(&headers, PEER, body).await
}

/// `POST /auth/refresh` with the refresh `cookie` and `proof` as its
/// `DPoP` header.
async fn refresh_with_proof(
    flow: &AuthFlow<MemoryStore>,
    cookie: &str,
    proof: &str,
) -> Result<Reply, HttpError> {
    let headers = request(
        "POST",
        "/auth/refresh",
        &[("cookie", cookie), ("dpop", proof)],
    );
    flow.refresh(&headers).await
}

/// `GET /me` with `authorization` (`DPoP <token>`) and `proof` as its
/// `DPoP` header.
async fn me_with_proof(
    flow: &AuthFlow<MemoryStore>,
    authorization: &str,
    proof: &str,
) -> Result<AccessClaims, HttpError> {
    let headers = request(
        "GET",
        "/me",
        &[("authorization", authorization), ("dpop", proof)],
    );
    flow.authenticate(&headers).await
}

/// Logs in with a proof by `client`: the cookie and the access token.
async fn bound_login(
    flow: &AuthFlow<MemoryStore>,
    clock: &ManualClock,
    client: &DpopClient,
) -> (String, String) {
    let proof = client.proof("POST", &url("/auth/login"), clock.now());
    let login = login_with_proof(flow, &proof, BODY).await.unwrap();
    let body = json(&login);
    assert_eq!(body["token_type"], "DPoP");
    (
        cookie_of(&login),
        body["access_token"].as_str().unwrap().to_owned(),
    )
}

fn www_authenticate(err: &HttpError) -> String {
    let headers = err.headers();
    let found = headers.iter().find(|(name, _)| *name == "www-authenticate");
    found.map(|(_, value)| value.clone()).unwrap_or_default()
}

#[tokio::test]
async fn a_login_proof_binds_and_every_refresh_needs_one_by_the_key() {
    let (flow, clock) = flow();
    let client = DpopClient::random();
    let (cookie, access) = bound_login(&flow, &clock, &client).await;
    let claims = flow
        .service()
        .verify_dpop(
            &access,
            &jwt_rotate::DpopRequest::new(
                &client.proof_for("GET", &url("/me"), clock.now(), &access, None),
                "GET",
                &url("/me"),
            ),
        )
        .await
        .unwrap();
    let sid = claims.sid;
    let record = flow.service().store().get(&sid).await.unwrap().unwrap();
    assert_eq!(record.jkt.as_ref(), Some(client.jkt()));

    // Without a proof: 401, a DPoP challenge, and the cookie kept.
    let refused = flow
        .refresh(&request("POST", "/auth/refresh", &[("cookie", &cookie)]))
        .await
        .unwrap_err();
    assert_eq!((refused.status(), refused.code()), (401, "dpop_required"));
    assert!(www_authenticate(&refused).starts_with("DPoP error=\"invalid_dpop_proof\""));
    assert!(
        refused.reply().header("set-cookie").is_none(),
        "the cookie stays"
    );

    // Another key's proof: refused, and the session is not revoked.
    let thief = DpopClient::random();
    let proof = thief.proof("POST", &url("/auth/refresh"), clock.now());
    let refused = refresh_with_proof(&flow, &cookie, &proof)
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (401, "invalid_dpop_proof")
    );
    let record = flow.service().store().get(&sid).await.unwrap().unwrap();
    assert!(record.revoked.is_none());
    assert_eq!(record.generation, 0);

    // A proof for another URL (the path, or the origin): refused.
    for (path, proof_url) in [
        ("/auth/refresh", url("/auth/login")),
        (
            "/auth/refresh",
            "https://auth.test:8080/auth/refresh".to_owned(),
        ),
        ("/auth/refresh", "http://evil.test/auth/refresh".to_owned()),
    ] {
        let proof = client.proof("POST", &proof_url, clock.now());
        let refused = flow
            .refresh(&request(
                "POST",
                path,
                &[("cookie", &cookie), ("dpop", &proof)],
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "invalid_dpop_proof", "{proof_url}");
    }

    // The key's proof rotates; the new pair is still bound.
    clock.advance(Duration::minutes(20));
    let proof = client.proof("POST", &url("/auth/refresh"), clock.now());
    let refreshed = refresh_with_proof(&flow, &cookie, &proof).await.unwrap();
    assert_eq!(json(&refreshed)["token_type"], "DPoP");
    assert_ne!(cookie_of(&refreshed), cookie);
    // The same proof again is a replay.
    let again = refresh_with_proof(&flow, &cookie, &proof)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "invalid_dpop_proof");
}

#[tokio::test]
async fn protected_routes_take_dpop_tokens_with_a_proof_and_refuse_them_as_bearer() {
    let (flow, clock) = flow();
    let client = DpopClient::random();
    let (_, access) = bound_login(&flow, &clock, &client).await;
    let dpop = format!("DPoP {access}");
    assert_eq!(dpop_token(Some(dpop.as_bytes())), Some(access.as_str()));

    let proof = client.proof_for("GET", &url("/me"), clock.now(), &access, None);
    let caller = me_with_proof(&flow, &dpop, &proof).await.unwrap();
    assert_eq!(caller.sub, "alice");
    // Replayed proof, missing proof, proof without ath, another key's.
    let replay = me_with_proof(&flow, &dpop, &proof).await.unwrap_err();
    assert_eq!(replay.code(), "invalid_dpop_proof");
    let bare = flow
        .authenticate(&request("GET", "/me", &[("authorization", &dpop)]))
        .await
        .unwrap_err();
    assert_eq!((bare.status(), bare.code()), (401, "dpop_required"));
    let no_ath = client.proof("GET", &url("/me"), clock.now());
    let thief = DpopClient::random().proof_for("GET", &url("/me"), clock.now(), &access, None);
    let other_method = client.proof_for("POST", &url("/me"), clock.now(), &access, None);
    for proof in [no_ath, thief, other_method] {
        let err = me_with_proof(&flow, &dpop, &proof).await.unwrap_err();
        assert_eq!(err.code(), "invalid_dpop_proof");
        assert!(www_authenticate(&err).starts_with("DPoP "));
    }
    // Two proofs are refused, not judged on either.
    let one = client.proof_for("GET", &url("/me"), clock.now(), &access, None);
    let two = client.proof_for("GET", &url("/me"), clock.now(), &access, None);
    let err = flow
        .authenticate(&request(
            "GET",
            "/me",
            &[("authorization", &dpop), ("dpop", &one), ("dpop", &two)],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_dpop_proof");

    // The bound token as Bearer: refused with a DPoP challenge.
    let bearer = format!("Bearer {access}");
    let err = flow
        .authenticate(&request("GET", "/me", &[("authorization", &bearer)]))
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (401, "dpop_required"));
    assert!(www_authenticate(&err).starts_with("DPoP "));

    // A logout ends it at once (Verification::Live).
    flow.service().revoke_session(&caller.sid).await.unwrap();
    let proof = client.proof_for("GET", &url("/me"), clock.now(), &access, None);
    let err = me_with_proof(&flow, &dpop, &proof).await.unwrap_err();
    assert_eq!(err.code(), "session_revoked");
}

#[tokio::test]
async fn without_a_dpop_header_sessions_stay_bearer() {
    let (flow, clock) = flow();
    let login = flow
        .login(&request("POST", "/auth/login", &[]), PEER, BODY)
        .await
        .unwrap();
    let body = json(&login);
    assert_eq!(body["token_type"], "Bearer");
    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
    flow.authenticate(&request("GET", "/me", &[("authorization", &bearer)]))
        .await
        .unwrap();
    // A proof on an unbound session's refresh is checked, and binds nothing.
    let client = DpopClient::random();
    let proof = client.proof("POST", &url("/auth/refresh"), clock.now());
    let cookie = cookie_of(&login);
    let refreshed = refresh_with_proof(&flow, &cookie, &proof).await.unwrap();
    assert_eq!(json(&refreshed)["token_type"], "Bearer");
}

#[tokio::test]
async fn a_bad_login_proof_creates_no_session_and_native_logins_bind_too() {
    let (flow, clock) = flow();
    let client = DpopClient::random();
    let wrong_url = client.proof("POST", &url("/auth/refresh"), clock.now());
    let err = login_with_proof(&flow, &wrong_url, BODY).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (401, "invalid_dpop_proof"));
    assert!(flow.service().sessions("alice").await.unwrap().is_empty());

    let proof = client.proof("POST", &url("/auth/login"), clock.now());
    let login = login_with_proof(&flow, &proof, NATIVE).await.unwrap();
    let body = json(&login);
    assert_eq!(body["token_type"], "DPoP");
    let refresh_token = body["refresh_token"].as_str().unwrap();
    // The refresh token in the body is bound: useless without the key.
    let err = flow.service().refresh(refresh_token).await.unwrap_err();
    assert!(matches!(err, Error::DpopRequired));
}

#[tokio::test]
async fn the_url_is_the_configured_public_origin_never_forwarded_headers() {
    let public = RefreshCookie::builder()
        .public_origin("https://auth.example.com".parse().unwrap())
        .build()
        .unwrap();
    let (flow, clock) = flow_with(None, public);
    let headers = request("POST", "/auth/login", &[("x-forwarded-host", "evil.test")]);
    assert_eq!(
        flow.request_url(&headers).unwrap(),
        "https://auth.example.com/auth/login"
    );
    let client = DpopClient::random();
    // A proof for the Host the request came to is not for the public URL.
    let proof = client.proof("POST", &url("/auth/login"), clock.now());
    let err = login_with_proof(&flow, &proof, BODY).await.unwrap_err();
    assert_eq!(err.code(), "invalid_dpop_proof");
    let proof = client.proof("POST", "https://auth.example.com/auth/login", clock.now());
    login_with_proof(&flow, &proof, BODY).await.unwrap();

    // Unconfigured: http:// and Host; X-Forwarded-* ignored; no Host, no URL.
    let (flow, _) = self::flow();
    let forwarded = request(
        "GET",
        "/me",
        &[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.test"),
        ],
    );
    assert_eq!(flow.request_url(&forwarded).unwrap(), url("/me"));
    let hostless = RequestHeaders::new().with_target("GET", "/me");
    assert!(matches!(
        flow.request_url(&hostless),
        Err(Error::InvalidDpopProof(_))
    ));
    // Glue that gives no method and path: a configuration error, 500.
    let untargeted: RequestHeaders<'_> = [("host", HOST.as_bytes())].into_iter().collect();
    assert!(matches!(
        flow.request_url(&untargeted),
        Err(Error::Config(_))
    ));
}

#[path = "web_dpop/nonces.rs"]
mod nonces;
