//! `TokenServiceBuilder::build` validation: every invalid setting listed in
//! its `# Errors` section is a `Error::Config`, and the boundaries that are
//! allowed build.

mod common;

use sha2::Digest;

use jwt_rotate::{
    Error, ErrorClass, Key, ManualClock, MemoryStore, TokenService, TokenServiceBuilder,
};
use time::Duration;

const ED25519_PEM: &str = include_str!("data/keys/ed25519.pem");

/// A complete, valid builder: every case changes one thing.
fn valid() -> TokenServiceBuilder {
    common::builder(&ManualClock::new(common::start()))
}

fn access() -> Key {
    Key::hs256(common::ACCESS_SECRET).unwrap()
}

fn refresh() -> Key {
    Key::hs256(common::REFRESH_SECRET).unwrap()
}

/// A builder with everything but the named required setting.
fn without(missing: &str) -> TokenServiceBuilder {
    let mut b = TokenService::builder();
    if missing != "issuer" {
        b = b.issuer(common::ISSUER);
    }
    if missing != "audience" {
        b = b.audience(common::AUDIENCE);
    }
    if missing != "access_key" {
        b = b.access_key(access());
    }
    if missing != "refresh_key" {
        b = b.refresh_key(refresh());
    }
    b
}

type Case = (&'static str, fn() -> TokenServiceBuilder);

const INVALID: &[Case] = &[
    ("issuer missing", || without("issuer")),
    ("issuer empty", || valid().issuer("")),
    ("audience missing", || without("audience")),
    ("audience empty", || valid().audience("")),
    ("access key missing", || without("access_key")),
    ("refresh key missing", || without("refresh_key")),
    ("access key reused as refresh key", || {
        valid().refresh_key(access())
    }),
    ("same key under another kid", || {
        valid().refresh_key(access().with_kid("refresh-1"))
    }),
    (
        "the access key with a zero byte appended as refresh key",
        || {
            let mut padded = common::ACCESS_SECRET.to_vec();
            padded.push(0);
            valid().refresh_key(Key::hs256(padded).unwrap())
        },
    ),
    ("a key longer than the block and its SHA-256", || {
        let long = [0x41u8; 100];
        let hashed: [u8; 32] = sha2::Sha256::digest(long).into();
        valid()
            .access_key(Key::hs256(long).unwrap())
            .refresh_key(Key::hs256(hashed).unwrap())
    }),
    ("same asymmetric key for both", || {
        valid()
            .access_key(Key::ed25519_pem(ED25519_PEM).unwrap())
            .refresh_key(Key::ed25519_pem(ED25519_PEM).unwrap())
    }),
    ("access and refresh keys share a kid", || {
        valid()
            .access_key(access().with_kid("k1"))
            .refresh_key(refresh().with_kid("k1"))
    }),
    ("accepted access key equals the refresh key", || {
        valid().accept_access_key(refresh().with_kid("old"))
    }),
    ("accepted refresh key equals the access key", || {
        valid().accept_refresh_key(access().with_kid("old"))
    }),
    ("kid empty", || valid().access_key(access().with_kid(""))),
    ("kid with a slash", || {
        valid().access_key(access().with_kid("a/b"))
    }),
    ("kid with a space", || {
        valid().refresh_key(refresh().with_kid("a b"))
    }),
    ("kid over 128 characters", || {
        valid().access_key(access().with_kid("k".repeat(129)))
    }),
    ("kid repeated among access keys", || {
        valid()
            .access_key(access().with_kid("k1"))
            .accept_access_key(Key::hs256([0x77; 32]).unwrap().with_kid("k1"))
    }),
    ("kid repeated among refresh keys", || {
        valid()
            .refresh_key(refresh().with_kid("r1"))
            .accept_refresh_key(Key::hs256([0x77; 32]).unwrap().with_kid("r1"))
    }),
    ("access_ttl zero", || valid().access_ttl(Duration::ZERO)),
    ("access_ttl negative", || {
        valid().access_ttl(Duration::minutes(-15))
    }),
    ("refresh_ttl equal to access_ttl", || {
        valid()
            .access_ttl(Duration::minutes(15))
            .refresh_ttl(Duration::minutes(15))
    }),
    ("refresh_ttl below access_ttl", || {
        valid()
            .access_ttl(Duration::hours(2))
            .refresh_ttl(Duration::hours(1))
    }),
    ("session_ttl below refresh_ttl", || {
        valid()
            .refresh_ttl(Duration::days(7))
            .session_ttl(Duration::days(6))
    }),
    ("reuse_grace negative", || {
        valid().reuse_grace(Duration::seconds(-1))
    }),
    ("reuse_grace equal to access_ttl", || {
        valid()
            .access_ttl(Duration::minutes(1))
            .reuse_grace(Duration::minutes(1))
    }),
    ("reuse_grace above access_ttl", || {
        valid()
            .access_ttl(Duration::minutes(1))
            .reuse_grace(Duration::minutes(2))
    }),
    ("leeway negative", || valid().leeway(Duration::seconds(-1))),
    ("leeway over 5 minutes", || {
        valid().leeway(Duration::minutes(5) + Duration::seconds(1))
    }),
    ("max_token_bytes below 512", || valid().max_token_bytes(511)),
    ("max_token_bytes zero", || valid().max_token_bytes(0)),
    ("max_sessions_per_subject zero", || {
        valid().max_sessions_per_subject(0)
    }),
    ("access_ttl fractional", || {
        valid().access_ttl(Duration::milliseconds(900_500))
    }),
    ("refresh_ttl fractional", || {
        valid().refresh_ttl(Duration::days(7) + Duration::milliseconds(1))
    }),
    ("session_ttl fractional", || {
        valid().session_ttl(Duration::days(30) + Duration::nanoseconds(1))
    }),
    ("reuse_grace fractional", || {
        valid().reuse_grace(Duration::milliseconds(1_500))
    }),
    ("leeway fractional", || {
        valid().leeway(Duration::milliseconds(2_500))
    }),
];

const VALID: &[Case] = &[
    ("the defaults", valid),
    ("session_ttl equal to refresh_ttl", || {
        valid()
            .refresh_ttl(Duration::days(7))
            .session_ttl(Duration::days(7))
    }),
    ("refresh_ttl one second above access_ttl", || {
        valid()
            .access_ttl(Duration::minutes(15))
            .refresh_ttl(Duration::minutes(15) + Duration::seconds(1))
    }),
    ("strict mode", || valid().reuse_grace(Duration::ZERO)),
    ("reuse_grace just below access_ttl", || {
        valid()
            .access_ttl(Duration::minutes(1))
            .reuse_grace(Duration::seconds(59))
    }),
    ("no leeway", || valid().leeway(Duration::ZERO)),
    ("leeway of 5 minutes", || {
        valid().leeway(Duration::minutes(5))
    }),
    ("max_token_bytes of 512", || valid().max_token_bytes(512)),
    ("one session per subject", || {
        valid().max_sessions_per_subject(1)
    }),
    ("kid of 128 characters", || {
        valid().access_key(access().with_kid("k".repeat(128)))
    }),
    ("kid with every allowed kind of character", || {
        valid().access_key(access().with_kid("Az09-_."))
    }),
    ("retired keys alongside", || {
        valid()
            .accept_access_key(Key::hs256([0x31; 32]).unwrap())
            .accept_refresh_key(Key::hs256([0x32; 32]).unwrap())
    }),
    ("asymmetric access key, HMAC refresh key", || {
        valid().access_key(Key::ed25519_pem(ED25519_PEM).unwrap())
    }),
];

#[test]
fn every_invalid_setting_is_a_config_error() {
    for (name, case) in INVALID {
        match case().build(MemoryStore::new()) {
            Err(err @ Error::Config(_)) => {
                assert_eq!(err.class(), ErrorClass::Internal, "{name}");
                assert!(!err.to_string().is_empty(), "{name}");
            }
            Err(other) => panic!("{name}: expected Error::Config, got {other:?}"),
            Ok(_) => panic!("{name}: built"),
        }
    }
}

#[test]
fn allowed_boundaries_build() {
    for (name, case) in VALID {
        if let Err(err) = case().build(MemoryStore::new()) {
            panic!("{name}: {err}");
        }
    }
}

#[test]
fn config_errors_say_what_is_wrong() {
    // The `ConfigError` says what; `Error::Config` itself only says
    // "invalid configuration", so a report does not print it twice.
    let message = |b: TokenServiceBuilder| match b.build(MemoryStore::new()) {
        Err(Error::Config(config)) => config.to_string(),
        Err(other) => panic!("expected Error::Config, got {other:?}"),
        Ok(_) => panic!("built"),
    };
    assert!(message(without("issuer")).contains("issuer"));
    assert!(message(valid().refresh_key(access())).contains("distinct"));
    assert!(message(valid().reuse_grace(Duration::minutes(20))).contains("reuse_grace"));
    assert!(message(valid().leeway(Duration::milliseconds(1_500))).contains("leeway"));
}

#[test]
fn weak_or_wrong_keys_are_config_errors() {
    for err in [
        Key::hs256([0u8; 31]).unwrap_err(),
        Key::hs384([0u8; 47]).unwrap_err(),
        Key::hs512([0u8; 63]).unwrap_err(),
        Key::ed25519_pem("not a pem").unwrap_err(),
        Key::es256_pem(ED25519_PEM).unwrap_err(),
        Key::rs256_pem(include_str!("data/keys/rsa1024.pem")).unwrap_err(),
    ] {
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    }
}
