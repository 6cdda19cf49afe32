//! A session's life through the public API. First the whole of it in one
//! test: login, verify, access expiry, rotation, grace replay, and reuse
//! revoking the family. Then each step in detail: what `issue` returns and
//! stores, the token formats, redacted `Debug`, access and refresh tokens
//! kept apart, garbled and foreign tokens refused, `verify_live`, the "your
//! devices" view, the error classes, and the injectable clock.
//!
//! Expiry, rotation, revocation, claims and hooks, keys and the builder
//! have their own files; see also `concurrent_operations.rs` and
//! `store_failures.rs`.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::tokens::{header, jti, payload};
use jwt_rotate::store::{RefreshStore, StoreError, StoreErrorKind};
use jwt_rotate::{
    AccessToken, Clock, Denied, Error, ErrorClass, Key, ManualClock, MemoryStore, NoClaims,
    RefreshToken, SessionInfo, TokenPair, TokenService,
};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

fn info(agent: &str, ip: [u8; 4], label: &str) -> SessionInfo {
    SessionInfo::default()
        .with_user_agent(agent)
        .with_ip(IpAddr::V4(Ipv4Addr::from(ip)))
        .with_label(label)
}

/// A login of alice from the device `info` describes.
async fn alice_from(service: &TokenService<MemoryStore>, info: SessionInfo) -> TokenPair {
    service.issue("alice", NoClaims {}, info).await.unwrap()
}

/// The member names of a JSON object, sorted.
fn sorted_keys(object: &Value) -> Vec<String> {
    let mut keys: Vec<_> = object.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn login_refresh_grace_then_reuse_revokes_the_family() {
    let (service, clock) = common::service();
    let login = common::login(&service, "alice").await;
    let claims = service.verify(&login.access_token).unwrap();
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.sid, login.session_id);

    clock.advance(Duration::minutes(16));
    assert!(matches!(
        service.verify(&login.access_token),
        Err(Error::Expired)
    ));

    let second = service.refresh(&login.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, login.refresh_token);
    assert_eq!(service.verify(&second.access_token).unwrap().sub, "alice");

    // Inside the grace window the spent token gets the very same successor.
    clock.advance(Duration::seconds(5));
    let replay = service.refresh(&login.refresh_token).await.unwrap();
    assert_eq!(replay.refresh_token, second.refresh_token);

    // Outside it, the same token is reuse: the whole family dies.
    clock.advance(Duration::seconds(6));
    assert!(matches!(
        service.refresh(&login.refresh_token).await,
        Err(Error::ReuseDetected)
    ));
    common::assert_revoked(&service, &second).await;
    assert!(service.sessions("alice").await.unwrap().is_empty());
}

#[tokio::test]
async fn issue_returns_a_pair_that_verifies() {
    let (service, _clock) = common::service();
    let t0 = common::start();
    let pair = common::login(&service, "alice").await;

    assert_eq!(pair.access_expires_at, t0 + Duration::minutes(15));
    assert_eq!(pair.refresh_expires_at, t0 + Duration::days(7));

    let claims = service.verify(&pair.access_token).unwrap();
    assert_eq!(claims.iss, common::ISSUER);
    assert_eq!(claims.aud, common::AUDIENCE);
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.sid, pair.session_id);
    assert_eq!(claims.iat, t0);
    assert_eq!(claims.exp, pair.access_expires_at);
    assert_eq!(claims.nbf, None);
    assert!(!claims.jti.is_empty());

    let live = service.verify_live(&pair.access_token).await.unwrap();
    assert_eq!(live, claims);

    // Exactly one record, at generation 0, holding no token.
    let record = common::record(&service, &pair.session_id).await;
    assert_eq!(record.subject, "alice");
    assert_eq!(record.generation, 0);
    assert_eq!(record.created_at, t0);
    assert_eq!(record.refreshed_at, t0);
    assert_eq!(record.idle_expires_at, t0 + Duration::days(7));
    assert_eq!(record.absolute_expires_at, t0 + Duration::days(30));
    assert!(record.previous.is_none());
    assert!(record.revoked.is_none());
    assert_eq!(record.claims_json, "{}");
    let stored = format!("{record:?}");
    assert!(!stored.contains(pair.refresh_token.expose_secret()));
    let secret = jti(pair.refresh_token.expose_secret());
    assert!(!stored.contains(&secret), "the secret is never stored");
}

#[tokio::test]
async fn tokens_carry_the_documented_headers_and_claims() {
    let (service, _clock) = common::service();
    let pair = common::login(&service, "alice").await;
    let access_key = Key::hs256(common::ACCESS_SECRET).unwrap();
    let refresh_key = Key::hs256(common::REFRESH_SECRET).unwrap();

    let at = header(pair.access_token.expose_secret());
    assert_eq!(at["typ"], "at+jwt");
    assert_eq!(at["alg"], "HS256");
    assert_eq!(at["kid"], access_key.kid());

    let rt = header(pair.refresh_token.expose_secret());
    assert_eq!(rt["typ"], "rt+jwt");
    assert_eq!(rt["kid"], refresh_key.kid());

    let rt = payload(pair.refresh_token.expose_secret());
    assert_eq!(
        sorted_keys(&rt),
        ["aud", "exp", "gen", "iat", "iss", "jti", "sid", "sub"]
    );
    assert_eq!(rt["gen"], 0);
    assert_eq!(rt["sid"], pair.session_id.to_string());
    let jti = URL_SAFE_NO_PAD.decode(rt["jti"].as_str().unwrap()).unwrap();
    assert_eq!(jti.len(), 32, "the secret is 32 random bytes");
}

#[tokio::test]
async fn token_strings_are_redacted_in_debug() {
    let (service, _clock) = common::service();
    let pair = common::login(&service, "alice").await;
    let shown = format!("{pair:?}");
    assert!(!shown.contains(pair.access_token.expose_secret()));
    assert!(!shown.contains(pair.refresh_token.expose_secret()));
    assert!(shown.contains("[redacted]"));
}

#[tokio::test]
async fn access_and_refresh_tokens_are_not_interchangeable() {
    let (service, _clock) = common::service();
    let pair = common::login(&service, "alice").await;

    let as_access = AccessToken::new(pair.refresh_token.expose_secret());
    assert!(service.verify(&as_access).is_err());
    assert!(service.verify_live(&as_access).await.is_err());

    let as_refresh = RefreshToken::new(pair.access_token.expose_secret());
    assert!(service.refresh(&as_refresh).await.is_err());
    assert!(service.revoke(&as_refresh).await.is_err());

    // Nothing happened to the session.
    let record = common::record(&service, &pair.session_id).await;
    assert_eq!(record.generation, 0);
    assert!(record.revoked.is_none());
}

#[tokio::test]
async fn garbled_and_foreign_tokens_are_refused_without_touching_the_session() {
    let (service, clock) = common::service();
    let pair = common::login(&service, "alice").await;
    let token = pair.refresh_token.expose_secret();

    // Flip one character of the signature.
    let mut garbled = token.to_owned();
    let last = garbled.pop().unwrap();
    garbled.push(if last == 'A' { 'B' } else { 'A' });
    assert!(service.refresh(&garbled).await.is_err());
    assert!(service.revoke(&garbled).await.is_err());

    // A genuine-looking token from another deployment (other keys).
    let other = common::keyless(&clock)
        .access_key(Key::hs256([0x01; 32]).unwrap())
        .refresh_key(Key::hs256([0x02; 32]).unwrap())
        .build(MemoryStore::new())
        .unwrap();
    let foreign = common::login(&other, "alice").await;
    assert!(matches!(
        service.refresh(&foreign.refresh_token).await,
        Err(Error::InvalidSignature)
    ));
    assert!(matches!(
        service.verify(&foreign.access_token),
        Err(Error::InvalidSignature)
    ));

    for junk in ["", "a.b", "a.b.c.d", "not a token at all"] {
        let err = service.refresh(junk).await.unwrap_err();
        assert!(err.is_unauthorized(), "{junk:?}: {err}");
    }

    let record = common::record(&service, &pair.session_id).await;
    assert_eq!(record.generation, 0);
    assert!(record.revoked.is_none());
    // And the genuine token still works.
    service.refresh(&pair.refresh_token).await.unwrap();
}

#[tokio::test]
async fn verify_live_fails_for_a_session_that_is_gone() {
    let (service, clock) = common::service();
    let pair = common::login(&service, "alice").await;
    service.revoke_session(&pair.session_id).await.unwrap();
    // `verify` is stateless: the access token stays valid until it expires.
    assert!(service.verify(&pair.access_token).is_ok());
    assert!(matches!(
        service.verify_live(&pair.access_token).await,
        Err(Error::SessionRevoked)
    ));

    // A session purged from the store reads as expired. The purge goes to
    // the store directly at a far instant: the access token is still valid.
    let pair = common::login(&service, "bob").await;
    clock.advance(Duration::minutes(1));
    assert!(service.verify_live(&pair.access_token).await.is_ok());
    let far = common::start() + Duration::days(365);
    assert_eq!(service.store().purge_expired(far).await.unwrap(), 2);
    assert!(
        service
            .store()
            .get(&pair.session_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        service.verify_live(&pair.access_token).await,
        Err(Error::SessionExpired)
    ));
}

#[tokio::test]
async fn sessions_lists_live_sessions_newest_first_without_secrets() {
    let (service, clock) = common::service();
    let t0 = common::start();
    let phone = alice_from(&service, info("Phone/1.0", [10, 0, 0, 1], "Phone")).await;
    clock.advance(Duration::minutes(1));
    let laptop = alice_from(&service, info("Laptop/2.0", [10, 0, 0, 2], "Work laptop")).await;
    clock.advance(Duration::minutes(1));
    let tablet = alice_from(&service, info("Tablet/3.0", [10, 0, 0, 3], "Tablet")).await;
    let bob = common::login(&service, "bob").await;
    clock.advance(Duration::minutes(1));
    let phone2 = service.refresh(&phone.refresh_token).await.unwrap();
    service.revoke_session(&tablet.session_id).await.unwrap();

    let views = service.sessions("alice").await.unwrap();
    let ids: Vec<_> = views.iter().map(|v| v.id).collect();
    assert_eq!(ids, [laptop.session_id, phone.session_id], "newest first");

    let laptop_view = &views[0];
    assert_eq!(
        laptop_view.info,
        info("Laptop/2.0", [10, 0, 0, 2], "Work laptop")
    );
    assert_eq!(laptop_view.created_at, t0 + Duration::minutes(1));
    assert_eq!(laptop_view.refreshed_at, t0 + Duration::minutes(1));

    let phone_view = &views[1];
    assert_eq!(phone_view.info.user_agent.as_deref(), Some("Phone/1.0"));
    assert_eq!(phone_view.info.label.as_deref(), Some("Phone"));
    assert_eq!(
        phone_view.info.ip,
        Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
    );
    assert_eq!(phone_view.created_at, t0);
    assert_eq!(phone_view.refreshed_at, t0 + Duration::minutes(3));
    assert_eq!(
        phone_view.idle_expires_at,
        t0 + Duration::minutes(3) + Duration::days(7)
    );
    assert_eq!(phone_view.absolute_expires_at, t0 + Duration::days(30));

    // What an app would render: no secret, no hash, no grace data.
    let json = serde_json::to_value(&views).unwrap();
    for view in json.as_array().unwrap() {
        assert_eq!(
            sorted_keys(view),
            [
                "absolute_expires_at",
                "auth",
                "created_at",
                "id",
                "idle_expires_at",
                "info",
                "last_seen",
                "refreshed_at"
            ]
        );
    }
    let text = json.to_string();
    for pair in [&phone, &phone2, &laptop] {
        let token = pair.refresh_token.expose_secret();
        assert!(!text.contains(token));
        assert!(!text.contains(&jti(token)), "refresh secret leaked: {text}");
        assert!(!text.contains(&jti(pair.access_token.expose_secret())));
    }
    assert!(json[0]["id"] == laptop.session_id.to_string());
    assert!(!text.contains(&bob.session_id.to_string()), "only alice's");

    assert_eq!(service.sessions("bob").await.unwrap().len(), 1);
    assert!(service.sessions("carol").await.unwrap().is_empty());
}

#[test]
fn error_class_of_every_variant() {
    let config = Key::hs256([0u8; 3]).unwrap_err();
    assert!(matches!(config, Error::Config(_)));
    let claims_source = serde_json::from_str::<Value>("{").unwrap_err();
    let unauthorized = [
        (Error::Malformed("x"), "invalid_token"),
        (Error::InvalidSignature, "invalid_token"),
        (
            Error::InvalidClaim {
                claim: "aud",
                problem: "wrong audience",
            },
            "invalid_token",
        ),
        (Error::Expired, "token_expired"),
        (Error::NotYetValid, "token_not_yet_valid"),
        (Error::SessionRevoked, "session_revoked"),
        (Error::SessionExpired, "session_expired"),
        (Error::ReuseDetected, "reuse_detected"),
        (Error::Denied(Denied::new("user disabled")), "denied"),
    ];
    for (err, code) in unauthorized {
        assert_eq!(err.class(), ErrorClass::Unauthorized, "{err}");
        assert!(err.is_unauthorized(), "{err}");
        assert_eq!(err.code(), code, "{err}");
    }
    let try_later = Error::Store(StoreError::unavailable("connection refused"));
    assert_eq!(try_later.class(), ErrorClass::TryLater, "{try_later}");
    assert!(!try_later.is_unauthorized());
    assert_eq!(try_later.code(), "store_unavailable");
    let internal = [
        (Error::Store(StoreError::other("disk full")), "server_error"),
        (
            Error::Store(StoreError::new(StoreErrorKind::Corrupt, "bad row")),
            "server_error",
        ),
        (config, "server_error"),
        (
            Error::Claims {
                problem: "bad",
                source: Some(claims_source),
            },
            "server_error",
        ),
        (
            Error::Claims {
                problem: "bad",
                source: None,
            },
            "server_error",
        ),
    ];
    for (err, code) in internal {
        assert_eq!(err.class(), ErrorClass::Internal, "{err}");
        assert!(!err.is_unauthorized(), "{err}");
        assert_eq!(err.code(), code, "{err}");
    }
}

#[tokio::test]
async fn manual_clock_drives_the_service_without_sleeping() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(MemoryStore::new()).unwrap();
    let handle = clock.clone();

    let pair = common::login(&service, "alice").await;
    assert_eq!(service.verify(&pair.access_token).unwrap().iat, clock.now());

    // Clones share one instant: moving ours moves the service's.
    handle.advance(Duration::hours(1));
    assert_eq!(clock.now(), common::start() + Duration::hours(1));
    assert!(matches!(
        service.verify(&pair.access_token),
        Err(Error::Expired)
    ));

    // Back in time: the token is not valid yet (iat in the future).
    handle.set(common::start() - Duration::minutes(1));
    assert!(matches!(
        service.verify(&pair.access_token),
        Err(Error::NotYetValid)
    ));

    // Sub-second clock readings are truncated to whole seconds by the
    // service, so stored instants match the tokens exactly.
    handle.set(common::start() + Duration::milliseconds(1_999));
    let next = service.refresh(&pair.refresh_token).await.unwrap();
    let record = common::record(&service, &next.session_id).await;
    assert_eq!(record.refreshed_at, common::start() + Duration::seconds(1));
    assert_eq!(
        service.verify(&next.access_token).unwrap().iat,
        record.refreshed_at
    );

    let now = ManualClock::starting_now().now();
    assert_eq!(now.nanosecond(), 0);
    assert!((OffsetDateTime::now_utc() - now).abs() < Duration::minutes(1));
}
