//! Refresh tokens exactly at and just past each leeway boundary, and with
//! an `exp` in the year 9999: each accepted one rotates a session, so every
//! case gets a fresh one instead of a row in the shared table.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_rotate::{Error, TokenPair};
use time::Duration;

use crate::common::{self, REFRESH_SECRET};
use crate::forge::{HS256, Obj, segments, signed, unb64};

/// `pair`'s refresh token re-signed with claim `name` set to `value`.
fn resigned_with(pair: &TokenPair, name: &str, value: i64) -> String {
    let token = pair.refresh_token.as_str();
    let [header, payload, _] = segments(token);
    let claims = Obj::parse(&unb64(payload)).n(name, value).render();
    let header = URL_SAFE_NO_PAD.decode(header).unwrap();
    signed(&header, claims.as_bytes(), &REFRESH_SECRET, HS256)
}

/// Exactly at and one second past each leeway boundary (5 s), on a fresh
/// session each: `iat` up to `now + 5` and `exp` down to `now - 4` are
/// accepted. And a genuine-looking `exp` in the year 9999 buys nothing:
/// the session's own expiry, in the store, decides.
#[tokio::test]
async fn refresh_leeway_boundaries_and_a_far_future_exp() {
    let (service, clock) = common::service();
    let now = common::start().unix_timestamp();
    let cases = [
        ("iat", now + 5, Ok(())),
        ("iat", now + 6, Err("NotYetValid")),
        ("exp", now - 4, Ok(())),
        ("exp", now - 5, Err("Expired")),
        ("exp", 253_402_300_799, Ok(())),
    ];
    for (claim, value, expected) in cases {
        let pair = common::login(&service, "dave").await;
        let outcome = service.refresh(resigned_with(&pair, claim, value)).await;
        let what = format!("{claim} = now {:+}: {outcome:?}", value - now);
        match (expected, outcome) {
            (Ok(()), Ok(next)) => {
                // Never longer than the session's idle lifetime. A session
                // keeps the lifetime its refresh token spans (`exp - iat`),
                // so a signed `iat` 5 s ahead takes those 5 s off it.
                let idle = common::start() + Duration::days(7);
                let shortened = if claim == "iat" { value - now } else { 0 };
                let expected = idle - Duration::seconds(shortened);
                assert_eq!(next.refresh_expires_at, expected, "{what}");
            }
            (Err("NotYetValid"), Err(Error::NotYetValid)) => {}
            (Err("Expired"), Err(Error::Expired)) => {}
            _ => panic!("{what}"),
        }
    }
    let pair = common::login(&service, "erin").await;
    clock.advance(Duration::days(7));
    let far = resigned_with(&pair, "exp", 253_402_300_799);
    let outcome = service.refresh(far).await;
    assert!(matches!(outcome, Err(Error::SessionExpired)), "{outcome:?}");
}
