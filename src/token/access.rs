//! Access tokens: the claims, signing, and strict verification.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::claims::{ClaimMembers, NoClaims};
use super::jws::{self, Times};
use super::ring::KeyRing;
use super::rules::TokenRules;
use crate::clock::shifted;
use crate::error::Error;
use crate::secret::AccessToken;
use crate::session::SessionId;

/// The `typ` header of access tokens (RFC 9068).
pub(crate) const ACCESS_TYP: &str = "at+jwt";

/// The claims of a verified access token: the registered ones, and the
/// application's own (`extra`, of type `C`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AccessClaims<C = NoClaims> {
    /// Issuer, as configured.
    pub iss: String,
    /// Subject: the user the session belongs to.
    pub sub: String,
    /// Audience, as configured.
    pub aud: String,
    /// Expiry.
    pub exp: OffsetDateTime,
    /// Issue time.
    pub iat: OffsetDateTime,
    /// Not-before, if the token carries one (ours do not).
    pub nbf: Option<OffsetDateTime>,
    /// This token's unique id.
    pub jti: String,
    /// The session the token belongs to.
    pub sid: SessionId,
    /// The application's claims, as given at login or by the refresh hook.
    pub extra: C,
}

/// What we accept on the wire: every registered claim optional, so a
/// missing one is reported by name rather than as a parse error.
#[derive(Deserialize)]
struct WireClaims<C> {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
    sid: Option<String>,
    #[serde(flatten)]
    extra: C,
}

/// The registered claims as we write them; the app's claims are spliced in
/// after them as already-serialized JSON.
#[derive(Serialize)]
struct OutClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    jti: &'a str,
    sid: &'a SessionId,
}

/// Signs an access token for `sub` in session `sid`, valid from `now` for
/// `access_ttl` but never past `session_end`, carrying the app's claims.
pub(crate) fn sign(
    rules: &TokenRules,
    ring: &KeyRing,
    sub: &str,
    sid: &SessionId,
    app_claims: ClaimMembers<'_>,
    now: OffsetDateTime,
    session_end: OffsetDateTime,
) -> Result<(AccessToken, OffsetDateTime), Error> {
    let expires_at = shifted(now, rules.access_ttl, "access_ttl")?.min(session_end);
    let mut jti = [0u8; 16];
    rand::fill(&mut jti);
    let mut payload = serde_json::to_vec(&OutClaims {
        iss: &rules.issuer,
        sub,
        aud: &rules.audience,
        exp: expires_at.unix_timestamp(),
        iat: now.unix_timestamp(),
        jti: &URL_SAFE_NO_PAD.encode(jti),
        sid,
    })
    .map_err(|e| Error::Claims {
        problem: "serialization failed",
        source: Some(e),
    })?;
    let members = app_claims.as_str();
    if !members.is_empty() {
        payload.pop(); // the closing brace
        payload.push(b',');
        payload.extend_from_slice(members.as_bytes());
        payload.push(b'}');
    }
    let token = jws::sign(ring, &payload)?;
    if token.len() > rules.max_token_bytes {
        // Our own `verify` would refuse it: never hand it out.
        return Err(Error::Claims {
            problem: "the access token would exceed max_token_bytes",
            source: None,
        });
    }
    Ok((AccessToken::new(token), expires_at))
}

/// Verifies an access token: signature (algorithm pinned by `kid`), `typ`,
/// size, and every claim rule. No store access.
pub(crate) fn verify<C: DeserializeOwned>(
    rules: &TokenRules,
    ring: &KeyRing,
    token: &str,
    now: OffsetDateTime,
) -> Result<AccessClaims<C>, Error> {
    let payload = jws::verify(token, rules.max_token_bytes, ACCESS_TYP, ring)?;
    let wire: WireClaims<C> =
        serde_json::from_slice(&payload).map_err(|_| Error::Malformed("invalid claims"))?;

    let iss = required("iss", wire.iss)?;
    if iss != rules.issuer {
        return Err(invalid("iss", "wrong issuer"));
    }
    let aud = required("aud", wire.aud)?;
    if aud != rules.audience {
        return Err(invalid("aud", "wrong audience"));
    }
    let sub = required("sub", wire.sub).and_then(non_empty("sub"))?;
    let jti = required("jti", wire.jti).and_then(non_empty("jti"))?;
    let sid = required("sid", wire.sid)?
        .parse::<SessionId>()
        .map_err(|_| invalid("sid", "not a session id"))?;
    let exp = required("exp", wire.exp)?;
    let iat = required("iat", wire.iat)?;

    let times = Times {
        now: now.unix_timestamp(),
        leeway: rules.leeway.whole_seconds(),
    };
    times.check_exp(exp)?;
    times.check_not_future(iat)?;
    if let Some(nbf) = wire.nbf {
        times.check_not_future(nbf)?;
    }
    let lifetime = exp.checked_sub(iat).unwrap_or(i64::MAX);
    if lifetime <= 0 || lifetime > rules.access_ttl.whole_seconds() {
        return Err(invalid("exp", "lifetime longer than access_ttl"));
    }

    Ok(AccessClaims {
        iss,
        sub,
        aud,
        exp: timestamp("exp", exp)?,
        iat: timestamp("iat", iat)?,
        nbf: wire.nbf.map(|nbf| timestamp("nbf", nbf)).transpose()?,
        jti,
        sid,
        extra: wire.extra,
    })
}

fn required<T>(claim: &'static str, value: Option<T>) -> Result<T, Error> {
    value.ok_or(Error::InvalidClaim {
        claim,
        problem: "missing",
    })
}

fn non_empty(claim: &'static str) -> impl Fn(String) -> Result<String, Error> {
    move |value| {
        if value.is_empty() {
            Err(invalid(claim, "empty"))
        } else {
            Ok(value)
        }
    }
}

fn invalid(claim: &'static str, problem: &'static str) -> Error {
    Error::InvalidClaim { claim, problem }
}

fn timestamp(claim: &'static str, seconds: i64) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| invalid(claim, "out of range"))
}
