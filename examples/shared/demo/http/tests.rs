use jwt_rotate::Error;
use jwt_rotate::store::StoreError;

use super::*;

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

#[test]
fn throttling_and_load_answers_say_when_to_retry() {
    let throttled = ApiError::too_many_attempts(time::Duration::milliseconds(59_001));
    assert_eq!(
        (throttled.status(), throttled.code()),
        (429, "too_many_attempts")
    );
    assert!(
        throttled
            .headers()
            .contains(&("retry-after", "60".to_owned()))
    );
    let soon = ApiError::too_many_attempts(time::Duration::milliseconds(1));
    assert!(soon.headers().contains(&("retry-after", "1".to_owned())));
    let exact = ApiError::too_many_attempts(time::Duration::seconds(10));
    assert!(exact.headers().contains(&("retry-after", "10".to_owned())));

    let busy = ApiError::busy();
    assert_eq!((busy.status(), busy.code()), (503, "server_busy"));
    assert!(busy.headers().contains(&("retry-after", "1".to_owned())));

    let many = ApiError::from(CookieError::TooMany);
    assert_eq!((many.status(), many.code()), (400, "too_many_cookies"));
    let large = ApiError::payload_too_large();
    assert_eq!((large.status(), large.code()), (413, "payload_too_large"));
}
