//! The fast reader takes every combination of the optional claims we
//! write, and reads what serde_json reads.

use super::super::{Cnf, OutClaims, write_claims};
use super::*;
use crate::token::claims::{ClaimMembers, NoClaims};
use crate::token::json;
use crate::token::scratch::Scratch;
use crate::token::status::StatusRef;

fn rules() -> TokenRules {
    TokenRules {
        issuer: "https://auth.example.com".into(),
        audience: "api".into(),
        access_ttl: time::Duration::minutes(15),
        leeway: time::Duration::seconds(5),
        max_token_bytes: 8192,
    }
}

/// Reads the payload of `claims` (with the app's `members`) both ways,
/// asserting they agree; whether the fast reader took it.
fn read_fast(claims: &OutClaims<'_>, members: &str) -> bool {
    let mut payload = Scratch::new();
    write_claims(claims, ClaimMembers::of(members).unwrap(), &mut payload);
    let payload = payload.as_bytes();
    let rules = rules();
    let mut fast = false;
    let ours: WireClaims<'_, NoClaims> = json::parse_ours(payload, |reader| {
        let read = read_claims(reader, &rules);
        fast = read.is_some();
        read
    })
    .unwrap();
    let alone: WireClaims<'_, NoClaims> = serde_json::from_slice(payload).unwrap();
    assert_eq!(ours, alone, "{}", String::from_utf8_lossy(payload));
    fast
}

fn claims() -> OutClaims<'static> {
    OutClaims {
        iss: "https://auth.example.com",
        sub: "user-42",
        aud: "api",
        exp: 1_900_000_900,
        iat: 1_900_000_000,
        jti: "AAAAAAAAAAAAAAAAAAAAAA",
        sid: "BBBBBBBBBBBBBBBBBBBBBB",
        auth_time: None,
        cnf: None,
        amr: &[],
        acr: None,
        status: None,
    }
}

#[test]
fn every_combination_of_the_optional_claims_is_read_fast() {
    let one = ["pwd".to_owned()];
    let two = ["pwd".to_owned(), "otp".to_owned()];
    for auth_time in [None, Some(1_899_999_000)] {
        for cnf in [None, Some(Cnf { jkt: "abc" })] {
            for amr in [&[][..], &one, &two] {
                for acr in [None, Some("urn:example:mfa")] {
                    let claims = OutClaims {
                        auth_time,
                        cnf,
                        amr,
                        acr,
                        ..claims()
                    };
                    assert!(read_fast(&claims, "{}"));
                }
            }
        }
    }
}

#[test]
fn the_status_claim_and_the_apps_claims_go_to_serde_json() {
    let status = StatusRef {
        idx: 7,
        uri: "https://auth.example.com/statuslists/0".into(),
    };
    let amr = ["pwd".to_owned()];
    let with_status = OutClaims {
        amr: &amr,
        status: Some(&status),
        ..claims()
    };
    assert!(!read_fast(&with_status, "{}"));
    assert!(!read_fast(&claims(), r#"{"role":"admin"}"#));
}

#[test]
fn another_issuer_goes_to_serde_json() {
    let other = OutClaims {
        iss: "https://other.example.com",
        ..claims()
    };
    assert!(!read_fast(&other, "{}"));
}
