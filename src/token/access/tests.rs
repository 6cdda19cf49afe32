//! How access claims are written, and how bound tokens are told apart.

use super::*;

/// [`sign_for`] for a session bound to no key, with no authentication
/// context.
fn sign(
    rules: &TokenRules,
    ring: &KeyRing,
    sub: &str,
    sid: &SessionId,
    app_claims: ClaimMembers<'_>,
    now: OffsetDateTime,
    session_end: OffsetDateTime,
) -> Result<(AccessToken, OffsetDateTime), Error> {
    let holder = Holder {
        sub,
        sid,
        jkt: None,
        auth: None,
        status: None,
    };
    sign_for(rules, ring, holder, app_claims, (now, session_end))
}

#[test]
fn claims_are_written_as_serde_json_writes_them() {
    let mut jti = [0; 22];
    let claims = OutClaims {
        iss: "https://auth.example.com",
        sub: "user \"42\"\u{7f}",
        aud: "api",
        exp: i64::MAX,
        iat: -1,
        jti: random_jti(&mut jti),
        sid: "AAAAAAAAAAAAAAAAAAAAAA",
        auth_time: None,
        cnf: None,
        amr: &[],
        acr: None,
        status: None,
    };
    let amr = ["pwd".to_owned(), "otp".to_owned()];
    let with_auth = OutClaims {
        iss: "i",
        sub: "s",
        aud: "a",
        exp: 2,
        iat: 1,
        jti: "j",
        sid: "AAAAAAAAAAAAAAAAAAAAAA",
        auth_time: Some(-7),
        cnf: Some(Cnf { jkt: "abc" }),
        amr: &amr,
        acr: Some("urn:example:mfa"),
        status: None,
    };
    for claims in [claims, with_auth] {
        written_as_serde_writes(&claims);
    }
}

fn written_as_serde_writes(claims: &OutClaims<'_>) {
    let json = serde_json::to_string(claims).unwrap();
    let members = ClaimMembers::of(r#"{"roles":["a"],"n":1}"#).unwrap();
    let with_members = format!(r#"{},"roles":["a"],"n":1}}"#, &json[..json.len() - 1]);
    let empty = ClaimMembers::of("{}").unwrap();
    let written = |members| {
        let mut out = Scratch::new();
        write_claims(claims, members, &mut out);
        out.as_bytes().to_vec()
    };
    assert_eq!(written(empty), json.as_bytes());
    assert_eq!(written(members), with_members.as_bytes());
}

#[test]
fn bound_tokens_carry_cnf_and_are_refused_as_bearer() {
    let rules = TokenRules {
        issuer: "iss".into(),
        audience: "aud".into(),
        access_ttl: time::Duration::minutes(5),
        leeway: time::Duration::seconds(5),
        max_token_bytes: 8192,
    };
    let key = crate::token::keys::Key::hs256([7u8; 32]).unwrap();
    let ring = KeyRing::new(ACCESS_TYP, key, vec![]).unwrap();
    let (sid, now) = (SessionId::random(), OffsetDateTime::now_utc());
    let jkt = Jkt::parse("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs").unwrap();
    let members = ClaimMembers::of(r#"{"role":"x"}"#).unwrap();
    let end = now + time::Duration::hours(1);
    let holder = Holder {
        sub: "u",
        sid: &sid,
        jkt: Some(&jkt),
        auth: None,
        status: None,
    };
    let (bound, _) = sign_for(&rules, &ring, holder, members, (now, end)).unwrap();
    let (plain, _) = sign(&rules, &ring, "u", &sid, members, now, end).unwrap();
    let read = |token: &AccessToken, presented| {
        verify_as::<serde_json::Value>(&rules, &ring, token.as_str(), now, presented)
    };
    let claims = read(&bound, Presented::Dpop).unwrap();
    assert_eq!(claims.jkt, Some(jkt));
    assert_eq!(claims.extra["role"], "x");
    assert!(claims.extra.get("cnf").is_none());
    assert!(matches!(
        read(&bound, Presented::Bearer),
        Err(Error::DpopRequired)
    ));
    assert_eq!(read(&plain, Presented::Bearer).unwrap().jkt, None);
    assert!(matches!(
        read(&plain, Presented::Dpop),
        Err(Error::InvalidClaim { claim: "cnf", .. })
    ));
    // The payload is what serde_json writes for the same claims.
    let payload = bound.as_str().split('.').nth(1).unwrap();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let value: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(value["cnf"], serde_json::json!({"jkt": jkt.as_str()}));
    assert!(payload.contains(r#","cnf":{"jkt":""#));
}
