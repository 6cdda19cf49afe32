//! Set-up shared by the benches: services for each access-key algorithm,
//! and the jsonwebtoken keys, headers, claims and `Validation` that do the
//! same work with jsonwebtoken alone (the "raw" side of every ratio).
#![allow(dead_code, reason = "each bench binary uses a part of this module")]

pub(crate) use jwt_rotate_bench_support as cpu;
#[cfg(feature = "aws-lc-rs")]
pub(crate) mod dpop;
#[cfg(feature = "aws-lc-rs")]
pub(crate) mod floor;
pub(crate) mod report;

use std::fmt;
use std::time::Duration as StdDuration;

use criterion::Criterion;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use jwt_rotate::{
    IssueOptions, Key, MemoryStore, NoClaims, SessionInfo, TokenPair, TokenService,
    TokenServiceBuilder,
};
use serde::{Deserialize, Serialize};
use time::Duration;

pub(crate) const ISSUER: &str = "https://auth.example.com";
pub(crate) const AUDIENCE: &str = "api.example.com";
pub(crate) const REFRESH_SECRET: [u8; 32] = [0x5E; 32];
pub(crate) const ACCESS_SECRET: [u8; 32] = [0xA1; 32];
const ED25519_PEM: &str = include_str!("../../tests/data/keys/ed25519.pem");
const ES256_PEM: &str = include_str!("../../tests/data/keys/es256.pem");
const RS256_PEM: &str = include_str!("../../tests/data/keys/rs256.pem");

/// The access-key algorithm under test. Refresh tokens are always HS256:
/// only the issuer ever verifies them, so a symmetric key is the natural
/// choice (and the README's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    Hs256,
    EdDsa,
    Es256,
    Rs256,
}

impl Alg {
    pub(crate) const ALL: [Alg; 4] = [Alg::Hs256, Alg::EdDsa, Alg::Es256, Alg::Rs256];

    pub(crate) fn algorithm(self) -> Algorithm {
        match self {
            Alg::Hs256 => Algorithm::HS256,
            Alg::EdDsa => Algorithm::EdDSA,
            Alg::Es256 => Algorithm::ES256,
            Alg::Rs256 => Algorithm::RS256,
        }
    }

    /// Our key, from the test PEMs.
    pub(crate) fn key(self) -> Key {
        match self {
            Alg::Hs256 => Key::hs256(ACCESS_SECRET),
            Alg::EdDsa => Key::ed25519_pem(ED25519_PEM),
            Alg::Es256 => Key::es256_pem(ES256_PEM),
            Alg::Rs256 => Key::rs256_pem(RS256_PEM),
        }
        .expect("test key")
    }

    /// jsonwebtoken's signing key for the same material.
    pub(crate) fn encoding_key(self) -> EncodingKey {
        match self {
            Alg::Hs256 => Ok(EncodingKey::from_secret(&ACCESS_SECRET)),
            Alg::EdDsa => EncodingKey::from_ed_pem(ED25519_PEM.as_bytes()),
            Alg::Es256 => EncodingKey::from_ec_pem(ES256_PEM.as_bytes()),
            Alg::Rs256 => EncodingKey::from_rsa_pem(RS256_PEM.as_bytes()),
        }
        .expect("test key")
    }

    /// jsonwebtoken's verifying key: the very one our [`Key`] holds (built
    /// from its public JWK), so both sides verify with the same key form.
    pub(crate) fn decoding_key(self) -> DecodingKey {
        match self.key().public_jwk() {
            None => DecodingKey::from_secret(&ACCESS_SECRET),
            Some(jwk) => DecodingKey::from_jwk(&jwk).expect("public key"),
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.algorithm())
    }
}

/// A service over a fresh [`MemoryStore`] with the system clock (as in
/// production: a shared `ManualClock` is a mutex, which would distort the
/// multi-thread benches) and the library's default lifetimes.
pub(crate) fn service(alg: Alg) -> TokenService<MemoryStore> {
    builder(alg).build(MemoryStore::new()).expect("service")
}

/// The builder [`service`] builds, for a bench to add to.
pub(crate) fn builder(alg: Alg) -> TokenServiceBuilder {
    TokenService::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .access_ttl(Duration::minutes(15))
        .access_key(alg.key())
        .refresh_key(Key::hs256(REFRESH_SECRET).expect("key"))
}

pub(crate) async fn login(service: &TokenService<MemoryStore>, subject: &str) -> TokenPair {
    service
        .issue(subject, NoClaims {}, SessionInfo::default())
        .await
        .expect("issue")
}

/// [`login`] of a user who said how they authenticated: `amr` of two
/// values and `acr`, which every access token of the session carries.
pub(crate) async fn login_authenticated(
    service: &TokenService<MemoryStore>,
    subject: &str,
) -> TokenPair {
    let options = IssueOptions::new().authenticated(
        None,
        vec!["pwd".into(), "otp".into()],
        Some("urn:example:mfa".into()),
    );
    service
        .issue_with(subject, NoClaims {}, options)
        .await
        .expect("issue")
}

/// Criterion measuring thread CPU time (see [`cpu`]), with its defaults
/// otherwise: 100 samples over 5 s after 3 s of warm-up.
pub(crate) fn criterion() -> Criterion<cpu::ThreadCpu> {
    Criterion::default()
        .with_measurement(cpu::ThreadCpu)
        .warm_up_time(StdDuration::from_secs(3))
}

/// A single-thread tokio runtime: every store call here completes without
/// waiting, so one thread measures the operation and nothing else.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
}

/// The access-token claims we write, as jsonwebtoken would carry them.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct RawAccess {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub sid: String,
}

/// [`RawAccess`] borrowed, for signing without copying strings.
#[derive(Serialize)]
pub(crate) struct RawAccessOut<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: i64,
    pub iat: i64,
    pub jti: &'a str,
    pub sid: &'a str,
}

/// The refresh-token claims we write.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct RawRefresh {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub sid: String,
    pub r#gen: u64,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// The `Validation` closest to our access-token checks: algorithm pinned,
/// issuer, audience, every registered claim jsonwebtoken knows required,
/// `nbf` checked, our 5 s leeway. (`typ`, `jti`, `sid`, `iat` in the
/// future, the lifetime cap and the size cap it cannot express.)
pub(crate) fn access_validation(alg: Alg) -> Validation {
    let mut v = Validation::new(alg.algorithm());
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    v.validate_nbf = true;
    v.leeway = 5;
    v
}

/// The same for refresh tokens (HS256, no `sub` rule of ours).
pub(crate) fn refresh_validation() -> Validation {
    let mut v = access_validation(Alg::Hs256);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    v
}

/// What jsonwebtoken needs to do a refresh's or a login's crypto and JSON:
/// keys and headers built once, as a careful user of it would.
pub(crate) struct RawCalls {
    refresh_decoding: DecodingKey,
    refresh_encoding: EncodingKey,
    access_encoding: EncodingKey,
    refresh_validation: Validation,
    refresh_header: Header,
    access_header: Header,
}

impl RawCalls {
    pub(crate) fn new(alg: Alg) -> Self {
        let header = |alg: Alg, typ: &str| Header {
            typ: Some(typ.to_owned()),
            kid: Some(alg.key().kid().to_owned()),
            ..Header::new(alg.algorithm())
        };
        Self {
            refresh_decoding: DecodingKey::from_secret(&REFRESH_SECRET),
            refresh_encoding: EncodingKey::from_secret(&REFRESH_SECRET),
            access_encoding: alg.encoding_key(),
            refresh_validation: refresh_validation(),
            refresh_header: header(Alg::Hs256, "rt+jwt"),
            access_header: header(alg, "at+jwt"),
        }
    }

    /// The jsonwebtoken calls inside `refresh`: decode the presented
    /// refresh token, then sign its successor and an access token.
    pub(crate) fn refresh(&self, refresh_token: &str) -> (String, String) {
        let old = jsonwebtoken::decode::<RawRefresh>(
            refresh_token,
            &self.refresh_decoding,
            &self.refresh_validation,
        )
        .expect("valid")
        .claims;
        self.issue(&RawRefresh {
            r#gen: old.r#gen + 1,
            ..old
        })
    }

    /// The jsonwebtoken calls inside `issue`: sign a refresh token and an
    /// access token.
    pub(crate) fn issue(&self, refresh: &RawRefresh) -> (String, String) {
        let access = RawAccessOut {
            iss: &refresh.iss,
            sub: &refresh.sub,
            aud: &refresh.aud,
            exp: refresh.iat + 900,
            iat: refresh.iat,
            jti: &refresh.jti[..22],
            sid: &refresh.sid,
        };
        let r = jsonwebtoken::encode(&self.refresh_header, refresh, &self.refresh_encoding);
        let a = jsonwebtoken::encode(&self.access_header, &access, &self.access_encoding);
        (r.expect("sign"), a.expect("sign"))
    }

    /// The claims of `refresh_token` (to feed [`issue`](Self::issue) the
    /// same shapes we sign).
    pub(crate) fn claims(&self, refresh_token: &str) -> RawRefresh {
        jsonwebtoken::decode::<RawRefresh>(
            refresh_token,
            &self.refresh_decoding,
            &self.refresh_validation,
        )
        .expect("valid")
        .claims
    }
}
