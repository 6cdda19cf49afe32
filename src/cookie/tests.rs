use time::{Duration, OffsetDateTime};

use super::*;
use crate::error::Error;

const TOKEN: &str = "eyJ0eXAiOiJydCtqd3QifQ.eyJzaWQiOiJBQUEiLCJnZW4iOjB9.c2lnbmF0dXJlXy0";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

fn token() -> RefreshToken {
    RefreshToken::new(TOKEN)
}

#[test]
fn set_cookie_has_every_attribute_and_max_age_from_expiry() {
    let cookie = RefreshCookie::default();
    let set = cookie
        .set_cookie(&token(), now() + Duration::days(7), now())
        .unwrap();
    assert_eq!(
        set.expose_secret(),
        format!(
            "refresh_token={TOKEN}; Max-Age=604800; Path=/auth; HttpOnly; Secure; SameSite=Strict"
        )
    );
}

#[test]
fn max_age_rounds_down_and_never_goes_negative() {
    let cookie = RefreshCookie::default();
    let at = |expires: OffsetDateTime| {
        let set = cookie.set_cookie(&token(), expires, now()).unwrap();
        let value = set.expose_secret().to_owned();
        value
            .split("; ")
            .find_map(|a| a.strip_prefix("Max-Age="))
            .unwrap()
            .to_owned()
    };
    assert_eq!(at(now() + Duration::milliseconds(2_999)), "2");
    assert_eq!(at(now()), "0");
    assert_eq!(at(now() - Duration::hours(1)), "0");
}

#[test]
fn insecure_localhost_drops_only_secure() {
    let cookie = RefreshCookie::builder()
        .name("rt")
        .path("/api/auth")
        .security(CookieSecurity::InsecureLocalhost)
        .build()
        .unwrap();
    let set = cookie
        .set_cookie(&token(), now() + Duration::seconds(60), now())
        .unwrap();
    assert_eq!(
        set.expose_secret(),
        format!("rt={TOKEN}; Max-Age=60; Path=/api/auth; HttpOnly; SameSite=Strict")
    );
    assert_eq!(
        cookie.clear_cookie(),
        "rt=; Max-Age=0; Path=/api/auth; HttpOnly; SameSite=Strict"
    );
}

#[test]
fn clear_cookie_matches_name_path_and_security() {
    assert_eq!(
        RefreshCookie::default().clear_cookie(),
        "refresh_token=; Max-Age=0; Path=/auth; HttpOnly; Secure; SameSite=Strict"
    );
}

#[test]
fn set_cookie_refuses_values_that_are_not_tokens() {
    let cookie = RefreshCookie::default();
    let later = now() + Duration::days(1);
    for bad in [
        "",
        "a;b",
        "a b",
        "a,b",
        "\"quoted\"",
        "a=b",
        "line\r\nSet-Cookie: x=y",
        "é",
    ] {
        let result = cookie.set_cookie(&RefreshToken::new(bad), later, now());
        assert_eq!(result.unwrap_err(), CookieError::InvalidValue, "{bad:?}");
    }
}

#[test]
fn set_cookie_refuses_what_browsers_would_drop() {
    let cookie = RefreshCookie::default();
    let later = now() + Duration::days(1);
    let fits = "a".repeat(4096 - "refresh_token=".len());
    assert!(
        cookie
            .set_cookie(&RefreshToken::new(&*fits), later, now())
            .is_ok()
    );
    let over = format!("{fits}a");
    let result = cookie.set_cookie(&RefreshToken::new(over), later, now());
    assert_eq!(result.unwrap_err(), CookieError::TooLarge);
}

#[test]
fn debug_of_set_cookie_is_redacted() {
    let set = RefreshCookie::default()
        .set_cookie(&token(), now() + Duration::days(1), now())
        .unwrap();
    let debug = format!("{set:?}");
    assert_eq!(debug, "SetCookie([redacted])");
    assert!(!debug.contains(TOKEN));
}

#[test]
fn read_token_finds_the_cookie_among_others() {
    let cookie = RefreshCookie::default();
    for header in [
        format!("refresh_token={TOKEN}"),
        format!("theme=dark; refresh_token={TOKEN}; lang=en"),
        format!("theme=dark;refresh_token={TOKEN}"),
        format!("  refresh_token = {TOKEN}  ;"),
        format!("flag; refresh_token={TOKEN}"),
    ] {
        assert_eq!(cookie.read_token([&header]), Ok(token()), "{header:?}");
    }
}

#[test]
fn read_token_reads_every_header_value() {
    let cookie = RefreshCookie::default();
    let refresh = format!("refresh_token={TOKEN}");
    let headers: [&[u8]; 3] = [b"a=1", b"b=\xff\xfe", refresh.as_bytes()];
    assert_eq!(cookie.read_token(headers), Ok(token()));
}

#[test]
fn read_token_matches_the_exact_name_only() {
    let cookie = RefreshCookie::default();
    for header in [
        format!("xrefresh_token={TOKEN}"),
        format!("refresh_token_old={TOKEN}"),
        format!("Refresh_Token={TOKEN}"),
        "refresh_token".to_owned(),
        String::new(),
    ] {
        assert_eq!(
            cookie.read_token([&header]),
            Err(CookieError::Missing),
            "{header:?}"
        );
    }
    assert_eq!(
        cookie.read_token(Vec::<&str>::new()),
        Err(CookieError::Missing)
    );
}

#[test]
fn read_token_refuses_a_second_cookie_of_the_name() {
    let cookie = RefreshCookie::default();
    let one = format!("refresh_token={TOKEN}; refresh_token={TOKEN}");
    assert_eq!(cookie.read_token([&one]), Err(CookieError::Duplicate));
    let first = format!("refresh_token={TOKEN}");
    let second = "refresh_token=planted.by.sibling";
    assert_eq!(
        cookie.read_token([first.as_str(), second]),
        Err(CookieError::Duplicate)
    );
}

#[test]
fn read_token_refuses_values_that_are_not_tokens() {
    let cookie = RefreshCookie::default();
    for header in [
        "refresh_token=".to_owned(),
        "refresh_token=\"abc.def\"".to_owned(),
        "refresh_token=abc,def".to_owned(),
        "refresh_token=a=b".to_owned(),
        format!("refresh_token={}", "a".repeat(4097)),
    ] {
        assert_eq!(
            cookie.read_token([&header]),
            Err(CookieError::InvalidValue),
            "{header:?}"
        );
    }
    let non_ascii: &[u8] = b"refresh_token=abc\xc3\xa9";
    assert_eq!(
        cookie.read_token([non_ascii]),
        Err(CookieError::InvalidValue)
    );
}

#[test]
fn read_candidates_returns_every_value_of_the_name_once() {
    let cookie = RefreshCookie::default();
    let other = "eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJCIn0.b3RoZXI";
    let headers = [
        format!("refresh_token=planted; theme=dark; refresh_token={TOKEN}"),
        format!("refresh_token = {other} ;refresh_token={TOKEN}"),
        "lang=en".to_owned(),
    ];
    let values: Vec<String> = cookie
        .read_candidates(&headers)
        .unwrap()
        .iter()
        .map(|t| t.expose_secret().to_owned())
        .collect();
    assert_eq!(values, ["planted", TOKEN, other]);
    assert_eq!(
        cookie.read_candidates([format!("refresh_token={TOKEN}")]),
        Ok(vec![token()])
    );
}

#[test]
fn read_candidates_skips_values_that_are_not_tokens() {
    let cookie = RefreshCookie::default();
    let long = "a".repeat(4097);
    let header = format!(
        "refresh_token=\"q\"; refresh_token=; refresh_token={long}; refresh_token={TOKEN}; \
         refresh_token=a,b"
    );
    assert_eq!(cookie.read_candidates([&header]), Ok(vec![token()]));
    let raw: [&[u8]; 2] = [b"refresh_token=\xff\xfe", b"refresh_token=abc\xc3\xa9"];
    assert_eq!(cookie.read_candidates(raw), Err(CookieError::InvalidValue));
    for junk in ["refresh_token=", "refresh_token=\"\"; refresh_token= "] {
        assert_eq!(
            cookie.read_candidates([junk]),
            Err(CookieError::InvalidValue),
            "{junk:?}"
        );
    }
}

#[test]
fn read_candidates_needs_the_exact_name() {
    let cookie = RefreshCookie::default();
    for header in [
        "",
        "refresh_token",
        "Refresh_Token=abc",
        "xrefresh_token=abc",
    ] {
        assert_eq!(
            cookie.read_candidates([header]),
            Err(CookieError::Missing),
            "{header:?}"
        );
    }
    assert_eq!(
        cookie.read_candidates(Vec::<&str>::new()),
        Err(CookieError::Missing)
    );
}

#[test]
fn read_candidates_refuses_more_than_a_browser_sends() {
    let cookie = RefreshCookie::default();
    let max = RefreshCookie::MAX_CANDIDATES;
    let values = |n: usize| -> String {
        (0..n)
            .map(|i| format!("refresh_token=v{i}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    assert_eq!(cookie.read_candidates([values(max)]).unwrap().len(), max);
    assert_eq!(
        cookie.read_candidates([values(max + 1)]),
        Err(CookieError::TooMany)
    );
    // Repeats and junk do not count: only different token values.
    let repeated = format!("{}; {}; refresh_token=\"x\"", values(max), values(max));
    assert_eq!(cookie.read_candidates([repeated]).unwrap().len(), max);
}

#[test]
fn read_candidates_debug_is_redacted() {
    let cookie = RefreshCookie::default();
    let candidates = cookie
        .read_candidates([format!("refresh_token={TOKEN}")])
        .unwrap();
    let debug = format!("{candidates:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
}

#[test]
fn set_then_read_round_trips() {
    let cookie = RefreshCookie::default();
    let set = cookie
        .set_cookie(&token(), now() + Duration::days(1), now())
        .unwrap();
    // What a browser sends back: the name=value part only.
    let sent = set.expose_secret().split(';').next().unwrap().to_owned();
    assert_eq!(cookie.read_token([sent]), Ok(token()));
}

#[test]
fn builder_refuses_bad_names_and_paths() {
    let refused = |builder: RefreshCookieBuilder| matches!(builder.build(), Err(Error::Config(_)));
    for name in ["", "a b", "a;b", "a=b", "é", "a\"b", "a,b"] {
        assert!(refused(RefreshCookie::builder().name(name)), "{name:?}");
    }
    assert!(refused(RefreshCookie::builder().name("__Host-rt")));
    assert!(refused(RefreshCookie::builder().name("__host-rt")));
    assert!(refused(
        RefreshCookie::builder()
            .name("__Secure-rt")
            .security(CookieSecurity::InsecureLocalhost)
    ));
    for path in ["", "auth", "/a;b", "/a b", "/a\nb", "/é"] {
        assert!(refused(RefreshCookie::builder().path(path)), "{path:?}");
    }
}

#[test]
fn builder_accepts_prefixed_secure_names_and_keeps_settings() {
    let cookie = RefreshCookie::builder()
        .name("__Secure-rt")
        .path("/")
        .build()
        .unwrap();
    assert_eq!(cookie.name(), "__Secure-rt");
    assert_eq!(cookie.path(), "/");
    assert_eq!(cookie.security(), CookieSecurity::Secure);
    assert_eq!(
        RefreshCookie::builder().build().unwrap(),
        RefreshCookie::default()
    );
}

#[test]
fn error_codes_say_no_more_than_missing_or_invalid() {
    assert_eq!(CookieError::Missing.code(), "missing_refresh_token");
    assert_eq!(CookieError::TooMany.code(), "too_many_cookies");
    assert_eq!(CookieError::CrossSite.code(), "cross_site_request");
    for err in [
        CookieError::Duplicate,
        CookieError::InvalidValue,
        CookieError::TooLarge,
    ] {
        assert_eq!(err.code(), "invalid_token");
    }
}

mod any_input {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any bytes, any number of headers: no panic, and what comes back
        /// holds only tokens of the name, within the cap.
        #[test]
        fn reading_any_header_never_panics(
            headers in prop::collection::vec(
                prop::collection::vec(
                    prop_oneof![
                        Just(b"refresh_token=".to_vec()),
                        Just(b"; ".to_vec()),
                        Just(b"a.b-c_".to_vec()),
                        prop::collection::vec(any::<u8>(), 0..12),
                    ],
                    0..40,
                )
                .prop_map(|parts| parts.concat()),
                0..4,
            )
        ) {
            let cookie = RefreshCookie::default();
            let _ = cookie.read_token(&headers);
            if let Ok(candidates) = cookie.read_candidates(&headers) {
                prop_assert!(!candidates.is_empty());
                prop_assert!(candidates.len() <= RefreshCookie::MAX_CANDIDATES);
                for token in &candidates {
                    prop_assert!(is_token_value(token.expose_secret().as_bytes()));
                }
            }
        }
    }
}
