use super::*;
use crate::error::StoreError;

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
    let expired = HttpError::from(Error::Expired).clearing_cookie("c=".to_owned());
    assert_eq!((expired.status(), expired.code()), (401, "token_expired"));
    let headers = expired.headers();
    assert!(headers.contains(&("set-cookie", "c=".to_owned())));
    assert!(
        headers
            .iter()
            .any(|(name, value)| *name == "www-authenticate"
                && value.starts_with("Bearer error=\"invalid_token\""))
    );

    let outage = HttpError::from(Error::from(StoreError::unavailable("down")))
        .clearing_cookie("c=".to_owned());
    assert_eq!((outage.status(), outage.code()), (503, "store_unavailable"));
    let headers = outage.headers();
    assert!(headers.contains(&("retry-after", "5".to_owned())));
    assert!(!headers.iter().any(|(name, _)| *name == "set-cookie"));
    assert_eq!(outage.body().error, "store_unavailable");
}

#[test]
fn throttling_and_load_answers_say_when_to_retry() {
    let throttled = HttpError::from(Throttled {
        retry_after: Duration::milliseconds(59_001),
    });
    assert_eq!(
        (throttled.status(), throttled.code()),
        (429, "too_many_attempts")
    );
    assert!(
        throttled
            .headers()
            .contains(&("retry-after", "60".to_owned()))
    );
    let soon = HttpError::from(Throttled {
        retry_after: Duration::milliseconds(1),
    });
    assert!(soon.headers().contains(&("retry-after", "1".to_owned())));
    let exact = HttpError::from(Throttled {
        retry_after: Duration::seconds(10),
    });
    assert!(exact.headers().contains(&("retry-after", "10".to_owned())));

    let busy = HttpError::from(CredentialsError::Busy);
    assert_eq!((busy.status(), busy.code()), (503, "server_busy"));
    assert!(busy.headers().contains(&("retry-after", "1".to_owned())));

    let many = HttpError::from(CookieError::TooMany);
    assert_eq!((many.status(), many.code()), (400, "too_many_cookies"));
    let large = HttpError::payload_too_large();
    assert_eq!((large.status(), large.code()), (413, "payload_too_large"));
}

#[test]
fn cross_site_is_403_and_app_codes_keep_their_status() {
    let cross = HttpError::from(CookieError::CrossSite);
    assert_eq!((cross.status(), cross.code()), (403, "cross_site_request"));
    let weak = HttpError::app(400, "weak_password");
    assert_eq!((weak.status(), weak.code()), (400, "weak_password"));
    let odd = HttpError::app(200, "not_an_error");
    assert_eq!(odd.status(), 500);
    let failed = HttpError::from(CredentialsError::Failed("db down".into()));
    assert_eq!((failed.status(), failed.code()), (500, "server_error"));
    assert!(std::error::Error::source(&failed).is_some());
}

#[test]
fn a_dead_cookie_is_deleted_only_on_401() {
    let dead = HttpError::from(Error::ReuseDetected).clearing_cookie("c=; Max-Age=0".to_owned());
    assert_eq!(dead.reply().header("set-cookie"), Some("c=; Max-Age=0"));
    let cross = HttpError::from(CookieError::CrossSite).clearing_cookie("c=".to_owned());
    assert_eq!(cross.reply().header("set-cookie"), None);
    let reply = HttpError::missing_bearer().reply();
    assert_eq!(
        (reply.status, reply.header("www-authenticate")),
        (401, Some("Bearer"))
    );
    assert_eq!(reply.body, r#"{"error":"missing_token"}"#);
}
