use super::*;

const HOST: Option<&[u8]> = Some(b"127.0.0.1:3000");

fn origin(value: &str) -> Origin {
    value.parse().unwrap()
}

#[test]
fn fetch_metadata_must_say_same_origin() {
    assert!(check_same_origin(None, None, Some(b"same-origin"), HOST).is_ok());
    for site in [&b"same-site"[..], b"cross-site", b"none", b""] {
        let err = check_same_origin(None, None, Some(site), HOST).unwrap_err();
        assert_eq!(
            (err, err.code()),
            (CookieError::CrossSite, "cross_site_request")
        );
    }
    // Fetch metadata decides when present, whatever Origin says: the
    // browser compared scheme, host and port itself.
    let evil = Some(&b"https://evil.example"[..]);
    assert!(check_same_origin(None, evil, Some(b"same-origin"), HOST).is_ok());
}

#[test]
fn origin_must_be_http_and_this_host_and_port() {
    let ok = |origin: &[u8]| check_same_origin(None, Some(origin), None, HOST).is_ok();
    assert!(ok(b"http://127.0.0.1:3000"));
    assert!(ok(b"HTTP://127.0.0.1:3000"));
    for refused in [
        &b"https://127.0.0.1:3000"[..],
        b"http://127.0.0.1:3001",
        b"http://127.0.0.1",
        b"http://localhost:3000",
        b"null",
        b"127.0.0.1:3000",
        b"ftp://127.0.0.1:3000",
        b"http://127.0.0.1:3000/",
        b"http://user@127.0.0.1:3000",
        b"http://127.0.0.1:03000x",
        b"http://127.0.0.1:",
        b"",
    ] {
        assert!(!ok(refused), "{}", String::from_utf8_lossy(refused));
    }
    // Without a Host there is nothing to compare with.
    assert!(check_same_origin(None, Some(b"http://a"), None, None).is_err());
    // No browser metadata at all: not a browser, no ambient cookies.
    assert!(check_same_origin(None, None, None, HOST).is_ok());
}

#[test]
fn default_ports_are_the_same_origin() {
    let same = |origin: &[u8], host: &[u8]| {
        check_same_origin(None, Some(origin), None, Some(host)).is_ok()
    };
    assert!(same(b"http://h", b"h:80"));
    assert!(same(b"http://h:80", b"h"));
    assert!(same(b"http://H.Example", b"h.example"));
    assert!(!same(b"https://h", b"h:443"), "the server speaks http");
    assert!(!same(b"http://h:443", b"h"));
    assert_eq!(origin("https://h:443"), origin("https://h"));
    assert_ne!(origin("https://h:80"), origin("http://h"));
}

#[test]
fn a_public_origin_decides_instead_of_host() {
    let public = origin("https://auth.example");
    let check = |value: &[u8], host: &[u8]| {
        check_same_origin(Some(&public), Some(value), None, Some(host)).is_ok()
    };
    assert!(check(b"https://auth.example", b"127.0.0.1:3000"));
    assert!(check(b"https://auth.example:443", b"auth.example"));
    assert!(!check(b"http://auth.example", b"auth.example"));
    assert!(!check(b"https://auth.example:8443", b"auth.example:8443"));
    assert!(!check(b"http://127.0.0.1:3000", b"127.0.0.1:3000"));
}

#[test]
fn ip_hosts_compare_in_canonical_form() {
    assert_eq!(origin("http://[::1]:3000"), origin("http://[0:0::1]:3000"));
    assert_eq!(
        Origin::from_authority(Scheme::Http, b"[::1]:3000"),
        Some(origin("http://[0:0:0:0:0:0:0:1]:3000"))
    );
    for bad in [
        "http://[::1",
        "http://[::1]x",
        "http://[nope]",
        "http://[::1]:",
    ] {
        assert!(bad.parse::<Origin>().is_err(), "{bad}");
    }
}

#[test]
fn ports_are_digits_from_1_to_65535() {
    for bad in ["0", "65536", "+80", "-1", "8 0", "123456", ""] {
        assert!(
            format!("http://h:{bad}").parse::<Origin>().is_err(),
            "{bad:?}"
        );
    }
    assert_eq!(origin("http://h:65535").to_string(), "http://h:65535");
    assert_eq!(origin("http://h:080").to_string(), "http://h");
    assert_eq!(origin("HTTPS://H:443").to_string(), "https://h");
}

#[test]
fn a_repeated_header_is_refused() {
    let one: [&[u8]; 1] = [b"a"];
    assert_eq!(single(one).unwrap(), Some(&b"a"[..]));
    assert_eq!(single(Vec::<&[u8]>::new()).unwrap(), None);
    let two: [&[u8]; 2] = [b"a", b"a"];
    assert_eq!(single(two).unwrap_err().code(), "cross_site_request");
}

#[test]
fn the_request_origin_is_the_public_one_or_http_and_the_single_host() {
    let direct = RefreshCookie::default();
    let headers = |pairs: &[(&'static str, &'static [u8])]| -> RequestHeaders<'static> {
        pairs.iter().copied().collect()
    };
    let host = headers(&[("host", b"Auth.Test:80"), ("x-forwarded-proto", b"https")]);
    assert_eq!(
        direct.request_origin(&host),
        Some(origin("http://auth.test"))
    );
    // HTTP/2: the URI's authority stands in for Host.
    let h2 = RequestHeaders::new().with_authority(Some(b"auth.test:8443"));
    assert_eq!(
        direct.request_origin(&h2),
        Some(origin("http://auth.test:8443"))
    );
    // No Host, two of them, or a bad one: no origin to name.
    for bad in [
        headers(&[]),
        headers(&[("host", b"a.test"), ("host", b"b.test")]),
        headers(&[("host", b"a.test/path")]),
    ] {
        assert_eq!(direct.request_origin(&bad), None, "{bad:?}");
    }
    let public = RefreshCookie::builder()
        .public_origin(origin("https://auth.example"))
        .build()
        .unwrap();
    for any in [host, headers(&[])] {
        assert_eq!(
            public.request_origin(&any),
            Some(origin("https://auth.example"))
        );
    }
}
