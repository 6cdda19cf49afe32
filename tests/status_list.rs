//! Token Status List (draft-ietf-oauth-status-list): the `status` claim,
//! the signed `statuslist+jwt`, and `GET /statuslists/{id}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_rotate::store::RefreshStore;
use jwt_rotate::web::{AuthFlow, CredentialsError, Login};
use jwt_rotate::{
    Error, Key, MAX_STATUS_LIST_ID, ManualClock, MemoryStore, NoClaims, STATUS_LIST_SIZE,
    SessionInfo, TokenService, TokenServiceBuilder,
};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

const BASE: &str = "https://auth.example.com/statuslists";

fn builder() -> Result<TokenServiceBuilder, Error> {
    Ok(TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api")
        .access_key(Key::hs256([1u8; 32])?.with_kid("a1"))
        .refresh_key(Key::hs256([2u8; 32])?))
}

fn service(clock: &ManualClock) -> TokenService<MemoryStore> {
    builder()
        .unwrap()
        .status_list(BASE)
        .clock(clock.clone())
        .build(MemoryStore::new())
        .unwrap()
}

fn clock() -> ManualClock {
    ManualClock::new(OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap())
}

/// The JSON of a compact JWS's segment `n` (0: header, 1: payload).
fn segment(token: &str, n: usize) -> Value {
    let part = token.split('.').nth(n).expect("a compact JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn a_revoked_session_is_set_in_the_list_and_the_others_are_not() {
    let clock = clock();
    let service = service(&clock);
    let mut made = Vec::new();
    for n in 0..3 {
        let pair = service
            .issue(&format!("user-{n}"), NoClaims {}, SessionInfo::default())
            .await
            .unwrap();
        let status = segment(pair.access_token.as_str(), 1)["status"]["status_list"].clone();
        assert_eq!(status["uri"], format!("{BASE}/0"));
        made.push((pair, status["idx"].as_u64().expect("an idx")));
    }
    let indexes: Vec<u64> = made.iter().map(|(_, idx)| *idx).collect();
    assert!(indexes[0] != indexes[1] && indexes[1] != indexes[2] && indexes[0] != indexes[2]);
    service.revoke(&made[1].0.refresh_token).await.unwrap();

    let list = service
        .status_list(0)
        .await
        .unwrap()
        .expect("list 0 exists");
    let header = segment(list.as_str(), 0);
    assert_eq!(header["typ"], "statuslist+jwt");
    assert_eq!(header["kid"], "a1");
    let claims = segment(list.as_str(), 1);
    assert_eq!(claims["sub"], format!("{BASE}/0"));
    assert_eq!(claims["iat"], 1_800_000_000);
    assert_eq!(claims["ttl"], 300, "five minutes by default");
    assert_eq!(claims["exp"], 1_800_000_600, "two ttls");
    assert_eq!(claims["status_list"]["bits"], 1);
    assert_eq!(list.ttl(), Duration::minutes(5));

    let read = service.read_status_list(list.as_str()).unwrap();
    assert_eq!(read.uri(), format!("{BASE}/0"));
    assert_eq!(read.len(), STATUS_LIST_SIZE);
    assert_eq!(read.is_revoked(indexes[1]), Some(true));
    assert_eq!(read.is_revoked(indexes[0]), Some(false));
    assert_eq!(read.is_revoked(indexes[2]), Some(false));
    assert_eq!(read.is_revoked(STATUS_LIST_SIZE), None, "past the end");

    // Revoking the rest shows up in the next list.
    service
        .revoke_subject("user-2", None)
        .await
        .expect("revoke_subject");
    let read = service
        .read_status_list(service.status_list(0).await.unwrap().unwrap().as_str())
        .unwrap();
    assert_eq!(read.is_revoked(indexes[2]), Some(true));
    assert_eq!(read.is_revoked(indexes[0]), Some(false));
}

#[tokio::test]
async fn refreshed_access_tokens_keep_the_session_status_index() {
    let clock = clock();
    let service = service(&clock);
    let pair = service
        .issue("ann", NoClaims {}, SessionInfo::default())
        .await
        .unwrap();
    let before = segment(pair.access_token.as_str(), 1)["status"].clone();
    clock.advance(Duration::minutes(1));
    let next = service.refresh(&pair.refresh_token).await.unwrap();
    let after = segment(next.access_token.as_str(), 1)["status"].clone();
    assert!(before.is_object());
    assert_eq!(before, after);
    let record = service
        .store()
        .get(&pair.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Some(before["status_list"]["idx"].as_u64().unwrap()),
        record.status_index
    );
    // The claim does not stop the token verifying.
    assert_eq!(service.verify(&next.access_token).unwrap().sub, "ann");
}

#[tokio::test]
async fn without_the_setting_tokens_carry_no_status_and_sessions_no_index() {
    let service = builder()
        .unwrap()
        .clock(clock())
        .build(MemoryStore::new())
        .unwrap();
    let pair = service
        .issue("ann", NoClaims {}, SessionInfo::default())
        .await
        .unwrap();
    let claims = segment(pair.access_token.as_str(), 1);
    let names: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        ["aud", "auth_time", "exp", "iat", "iss", "jti", "sid", "sub"]
    );
    let record = service
        .store()
        .get(&pair.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.status_index, None,
        "plain create: no index given out"
    );
    assert!(matches!(
        service.status_list(0).await,
        Err(Error::Config(_))
    ));
}

#[tokio::test]
async fn list_ids_are_bounded_and_an_unreached_list_is_all_valid() {
    let clock = clock();
    let service = service(&clock);
    assert!(
        service
            .status_list(MAX_STATUS_LIST_ID + 1)
            .await
            .unwrap()
            .is_none()
    );
    assert!(service.status_list(u64::MAX).await.unwrap().is_none());
    let last = service
        .status_list(MAX_STATUS_LIST_ID)
        .await
        .unwrap()
        .unwrap();
    let read = service.read_status_list(last.as_str()).unwrap();
    assert_eq!(read.uri(), format!("{BASE}/{MAX_STATUS_LIST_ID}"));
    assert!(
        (0..STATUS_LIST_SIZE)
            .step_by(4099)
            .all(|i| read.is_revoked(i) == Some(false))
    );
}

#[tokio::test]
async fn the_status_claim_costs_a_bounded_number_of_bytes() {
    let clock = clock();
    let with = service(&clock);
    let without = builder()
        .unwrap()
        .clock(clock.clone())
        .build(MemoryStore::new())
        .unwrap();
    let a = with
        .issue("ann", NoClaims {}, SessionInfo::default())
        .await
        .unwrap();
    let b = without
        .issue("ann", NoClaims {}, SessionInfo::default())
        .await
        .unwrap();
    let payload = |token: &str| {
        URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap()
    };
    let (with_status, plain) = (
        payload(a.access_token.as_str()),
        payload(b.access_token.as_str()),
    );
    let member =
        r#","status":{"status_list":{"idx":0,"uri":"https://auth.example.com/statuslists/0"}}"#;
    assert_eq!(with_status.len() - plain.len(), member.len());
    assert_eq!(member.len(), 82);
    // In base64: 4/3 as many, give or take the rounding of the last block.
    let extra = a.access_token.as_str().len() - b.access_token.as_str().len();
    assert!((110..=111).contains(&extra), "{extra}");
}

#[tokio::test]
async fn a_list_is_read_only_with_its_type_signature_and_lifetime() {
    let clock = clock();
    let service = service(&clock);
    let pair = service
        .issue("ann", NoClaims {}, SessionInfo::default())
        .await
        .unwrap();
    assert!(matches!(
        service.read_status_list(pair.access_token.as_str()),
        Err(Error::InvalidClaim { .. } | Error::Malformed(_))
    ));
    let list = service.status_list(0).await.unwrap().unwrap();
    let mut forged = list.as_str().to_owned();
    forged.pop();
    forged.push(if list.as_str().ends_with('A') {
        'B'
    } else {
        'A'
    });
    assert!(service.read_status_list(&forged).is_err());
    // An access token is never a list's stand-in, nor a list an access token.
    assert!(
        service
            .verify(jwt_rotate::AccessToken::new(list.as_str()))
            .is_err()
    );
    clock.advance(Duration::minutes(11));
    assert!(matches!(
        service.read_status_list(list.as_str()),
        Err(Error::Expired)
    ));
}

#[test]
fn the_builder_refuses_a_bad_base_uri_or_ttl() {
    for base in [
        "",
        "ftp://auth.example.com/lists",
        "https://",
        "https://auth.example.com/lists/",
        "https://auth.example.com/lists?x=1",
        "https://auth.example.com/lists#x",
        "https://auth example.com",
    ] {
        let built = builder()
            .unwrap()
            .status_list(base)
            .build(MemoryStore::new());
        assert!(matches!(built, Err(Error::Config(_))), "{base:?}");
    }
    for ttl in [
        Duration::ZERO,
        Duration::milliseconds(1500),
        Duration::days(2),
    ] {
        let built = builder()
            .unwrap()
            .status_list(BASE)
            .status_list_ttl(ttl)
            .build(MemoryStore::new());
        assert!(matches!(built, Err(Error::Config(_))), "{ttl}");
    }
    let alone = builder()
        .unwrap()
        .status_list_ttl(Duration::minutes(1))
        .build(MemoryStore::new());
    assert!(
        matches!(alone, Err(Error::Config(_))),
        "a ttl without a base URI"
    );
    let fine = builder()
        .unwrap()
        .status_list_ttl(Duration::minutes(1))
        .status_list("http://127.0.0.1:3000/statuslists")
        .build(MemoryStore::new());
    assert!(fine.is_ok());
}

#[tokio::test]
async fn the_route_serves_the_list_with_its_media_type_and_max_age() {
    let clock = clock();
    let service = builder()
        .unwrap()
        .status_list(BASE)
        .status_list_ttl(Duration::seconds(90))
        .clock(clock.clone())
        .build(MemoryStore::new())
        .unwrap();
    let flow = AuthFlow::builder(service)
        .credentials(|_: String, _: String| async {
            Ok::<Option<Login<NoClaims>>, CredentialsError>(None)
        })
        .build()
        .unwrap();
    let reply = flow.status_list("0").await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/statuslist+jwt")
    );
    assert_eq!(reply.header("cache-control"), Some("max-age=90"));
    let read = flow.service().read_status_list(&reply.body).unwrap();
    assert_eq!(read.uri(), format!("{BASE}/0"));
    for id in ["01", "-1", "x", "", "8796093022208"] {
        let error = flow.status_list(id).await.unwrap_err();
        assert_eq!(error.status(), 404, "{id:?}");
    }

    let plain = AuthFlow::builder(builder().unwrap().build(MemoryStore::new()).unwrap())
        .credentials(|_: String, _: String| async {
            Ok::<Option<Login<NoClaims>>, CredentialsError>(None)
        })
        .build()
        .unwrap();
    assert_eq!(plain.status_list("0").await.unwrap_err().status(), 404);
}
