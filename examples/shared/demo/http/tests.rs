use jwt_rotate::Error;
use jwt_rotate::store::StoreError;

use super::*;

const HOST: Option<&[u8]> = Some(b"127.0.0.1:3000");

#[test]
fn fetch_metadata_must_say_same_origin() {
    assert!(check_same_origin(None, Some(b"same-origin"), HOST).is_ok());
    for site in [&b"same-site"[..], b"cross-site", b"none", b""] {
        let err = check_same_origin(None, Some(site), HOST).unwrap_err();
        assert_eq!((err.status(), err.code()), (403, "cross_site_request"));
    }
    // Fetch metadata decides when present, whatever Origin says.
    let evil = Some(&b"https://evil.example"[..]);
    assert!(check_same_origin(evil, Some(b"same-origin"), HOST).is_ok());
}

#[test]
fn origin_must_name_this_host() {
    let ok = |origin: &[u8]| check_same_origin(Some(origin), None, HOST).is_ok();
    assert!(ok(b"http://127.0.0.1:3000"));
    assert!(ok(b"https://127.0.0.1:3000"));
    assert!(!ok(b"http://127.0.0.1:3001"));
    assert!(!ok(b"http://127.0.0.1"));
    assert!(!ok(b"null"));
    assert!(!ok(b"127.0.0.1:3000"));
    assert!(!ok(b"ftp://127.0.0.1:3000"));
    assert!(check_same_origin(Some(b"http://a"), None, None).is_err());
    // No browser metadata at all: not a browser, no ambient cookies.
    assert!(check_same_origin(None, None, HOST).is_ok());
}

#[test]
fn bearer_header_is_parsed_strictly() {
    assert_eq!(bearer_token(Some(b"Bearer abc.def")).unwrap(), "abc.def");
    assert_eq!(bearer_token(Some(b"bearer  abc")).unwrap(), "abc");
    for bad in [
        &b"Basic abc"[..],
        b"Bearer",
        b"Bearer ",
        b"abc",
        b"Bearer \xff",
    ] {
        let err = bearer_token(Some(bad)).unwrap_err();
        assert_eq!(err.code(), "missing_token", "{bad:?}");
    }
    assert_eq!(bearer_token(None).unwrap_err().status(), 401);
}

#[test]
fn token_errors_map_to_401_and_store_failures_to_503() {
    let expired = ApiError::from(Error::Expired).clearing_cookie("c=".to_owned());
    assert_eq!((expired.status(), expired.code()), (401, "token_expired"));
    let headers = expired.headers();
    assert!(headers.contains(&("set-cookie", "c=".to_owned())));
    assert!(
        headers
            .iter()
            .any(|(name, value)| *name == "www-authenticate"
                && value.starts_with("Bearer error=\"invalid_token\""))
    );

    let outage = ApiError::from(Error::from(StoreError::unavailable("down")))
        .clearing_cookie("c=".to_owned());
    assert_eq!((outage.status(), outage.code()), (503, "store_unavailable"));
    let headers = outage.headers();
    assert!(headers.contains(&("retry-after", "5".to_owned())));
    assert!(!headers.iter().any(|(name, _)| *name == "set-cookie"));
    assert_eq!(outage.body().error, "store_unavailable");
}
