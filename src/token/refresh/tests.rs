//! Refresh tokens: signing, in-doubt retries, the claims' spelling.

use super::*;
use crate::token::keys::Key;

fn setup() -> (TokenRules, KeyRing) {
    let rules = TokenRules {
        issuer: "iss".into(),
        audience: "aud".into(),
        access_ttl: time::Duration::minutes(15),
        leeway: time::Duration::seconds(5),
        max_token_bytes: 8192,
    };
    let ring = KeyRing::new(REFRESH_TYP, Key::hs256([3u8; 32]).unwrap(), vec![]).unwrap();
    (rules, ring)
}

#[test]
fn a_token_in_doubt_spends_the_same_grant_and_carries_its_window() {
    let (rules, ring) = setup();
    let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
    let secret = RefreshSecret::random();
    let sid = SessionId::random();
    let jkt = Jkt::from_bytes([9; 32]);
    let grant = Grant {
        subject: "alice",
        session_id: &sid,
        generation: 4,
        secret: &secret,
        jkt: Some(&jkt),
        issued_at: now,
        expires_at: now + time::Duration::days(7),
    };
    let token = sign(&rules, &ring, &grant).unwrap();
    let presented = verify(&rules, &ring, token.as_str(), now, Expiry::Enforce).unwrap();
    assert_eq!(presented.retry, None);
    assert_eq!(presented.jkt, Some(jkt));
    let first = RetryWindow::extended(None, now);
    let retry = sign_in_doubt(&rules, &ring, &presented, first).unwrap();
    let later = now + time::Duration::seconds(30);
    let again = verify(&rules, &ring, retry.as_str(), later, Expiry::Enforce).unwrap();
    assert_eq!((again.session_id, again.generation), (sid, 4));
    assert_eq!(again.secret.hash(), secret.hash());
    // The binding survives a rotation in doubt: the retry token is bound.
    assert_eq!(again.jkt, Some(jkt));
    assert_eq!(again.expires_at(), presented.expires_at());
    let window = RetryWindow::extended(again.retry, later);
    assert!(window.covers(now) && window.covers(later));
    assert!(!window.covers(later + time::Duration::seconds(1)));
    assert!(!window.covers(now - time::Duration::seconds(1)));
}

#[test]
fn claims_are_written_as_serde_json_writes_them() {
    let jti = RefreshSecret::random().to_jti();
    let jkt = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    let bound = || Some(Cnf { jkt: jkt.into() });
    let window = Some(RetryWindow {
        from: -5,
        to: i64::MAX,
    });
    for (cnf, retry) in [
        (None, None),
        (None, window),
        (bound(), None),
        (bound(), window),
    ] {
        let claims = Claims {
            iss: "https://auth.example.com".into(),
            aud: "api \"quoted\"\n".into(),
            sub: "ünïcode\u{1}".into(),
            sid: SessionId::random().to_string().into(),
            generation: u64::MAX,
            jti: Cow::Borrowed(jti.as_str()),
            iat: i64::MIN,
            exp: 0,
            cnf,
            retry,
        };
        let expected = serde_json::to_vec(&claims).unwrap();
        let mut written = Scratch::new();
        write_claims(&claims, &mut written);
        assert_eq!(written.as_bytes(), expected.as_slice());
    }
}

#[test]
fn a_cnf_that_is_not_a_jkt_is_refused() {
    let (rules, ring) = setup();
    let jti = RefreshSecret::random().to_jti();
    for bad in [
        "",
        "not a thumbprint",
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xt",
    ] {
        let claims = Claims {
            iss: "iss".into(),
            aud: "aud".into(),
            sub: "alice".into(),
            sid: SessionId::random().to_string().into(),
            generation: 0,
            jti: Cow::Borrowed(jti.as_str()),
            iat: 1_767_225_600,
            exp: 1_767_225_600 + 3600,
            cnf: Some(Cnf { jkt: bad.into() }),
            retry: None,
        };
        let token = sign_claims(&rules, &ring, &claims).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        let err = verify(&rules, &ring, token.as_str(), now, Expiry::Enforce).err();
        assert!(
            matches!(err, Some(Error::InvalidClaim { claim: "cnf", .. })),
            "{bad:?}: {:?}",
            err.map(|e| e.to_string())
        );
    }
}

#[test]
fn an_empty_retry_window_is_refused() {
    let (rules, ring) = setup();
    let jti = RefreshSecret::random().to_jti();
    let claims = Claims {
        iss: "iss".into(),
        aud: "aud".into(),
        sub: "alice".into(),
        sid: SessionId::random().to_string().into(),
        generation: 0,
        jti: Cow::Borrowed(jti.as_str()),
        iat: 1_767_225_600,
        exp: 1_767_225_600 + 3600,
        cnf: None,
        retry: Some(RetryWindow { from: 2, to: 1 }),
    };
    let token = sign_claims(&rules, &ring, &claims).unwrap();
    let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
    let err = verify(&rules, &ring, token.as_str(), now, Expiry::Enforce).err();
    assert!(
        matches!(err, Some(Error::InvalidClaim { claim: "retry", .. })),
        "{:?}",
        err.map(|e| e.to_string())
    );
}
