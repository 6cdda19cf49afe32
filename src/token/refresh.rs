//! Refresh tokens: the claims as signed, signing, and verification.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::jws::{self, Times};
use super::pair::RefreshToken;
use super::ring::KeyRing;
use super::rules::TokenRules;
use super::secret::RefreshSecret;
use crate::error::Error;
use crate::session::SessionId;

/// The `typ` header of refresh tokens.
pub(crate) const REFRESH_TYP: &str = "rt+jwt";

/// The claims of a refresh token, as signed with the refresh key: exactly
/// these, nothing else accepted.
///
/// `sid` and `gen` are integrity-protected by the signature (RFC 9700), so a
/// genuine token of an older generation proves reuse.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Claims<'a> {
    #[serde(borrow)]
    iss: Cow<'a, str>,
    #[serde(borrow)]
    aud: Cow<'a, str>,
    #[serde(borrow)]
    sub: Cow<'a, str>,
    #[serde(borrow)]
    sid: Cow<'a, str>,
    #[serde(rename = "gen")]
    generation: u64,
    #[serde(borrow)]
    jti: Cow<'a, str>,
    iat: i64,
    exp: i64,
}

/// A refresh token whose signature and claims hold.
pub(crate) struct VerifiedRefresh {
    pub(crate) subject: String,
    pub(crate) session_id: SessionId,
    pub(crate) generation: u64,
    pub(crate) secret: RefreshSecret,
}

/// Whether [`verify`] refuses an expired token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Refresh: an expired token is refused.
    Enforce,
    /// Logout: a genuine but expired token may still end its session.
    Ignore,
}

/// What a refresh token of one generation says.
pub(crate) struct Grant<'a> {
    pub(crate) subject: &'a str,
    pub(crate) session_id: &'a SessionId,
    pub(crate) generation: u64,
    pub(crate) secret: &'a RefreshSecret,
    pub(crate) issued_at: OffsetDateTime,
    pub(crate) expires_at: OffsetDateTime,
}

/// Signs a refresh token. The same grant always yields the same claims, so
/// a grace replay re-signs the very token the winner received: the same
/// bytes with HMAC, Ed25519 and RSA, the same claims under another (equally
/// valid) signature with randomized ECDSA.
pub(crate) fn sign(
    rules: &TokenRules,
    ring: &KeyRing,
    grant: &Grant<'_>,
) -> Result<RefreshToken, Error> {
    let jti = grant.secret.to_jti();
    let claims = Claims {
        iss: Cow::Borrowed(&rules.issuer),
        aud: Cow::Borrowed(&rules.audience),
        sub: Cow::Borrowed(grant.subject),
        sid: Cow::Owned(grant.session_id.to_string()),
        generation: grant.generation,
        jti: Cow::Borrowed(&jti),
        iat: grant.issued_at.unix_timestamp(),
        exp: grant.expires_at.unix_timestamp(),
    };
    // The payload holds the secret in the clear.
    let payload = serde_json::to_vec(&claims)
        .map(Zeroizing::new)
        .map_err(|e| Error::Claims {
            problem: "serialization failed",
            source: Some(e),
        })?;
    let token = RefreshToken::new(jws::sign(ring, &payload)?);
    if token.as_str().len() > rules.max_token_bytes {
        // Our own `verify` would refuse it: never hand it out.
        return Err(Error::Claims {
            problem: "the refresh token would exceed max_token_bytes",
            source: None,
        });
    }
    Ok(token)
}

/// Verifies a refresh token without touching the store: signature with the
/// refresh ring, `typ`, size, issuer, audience and times.
pub(crate) fn verify(
    rules: &TokenRules,
    ring: &KeyRing,
    token: &str,
    now: OffsetDateTime,
    expiry: Expiry,
) -> Result<VerifiedRefresh, Error> {
    let payload = jws::verify(token, rules.max_token_bytes, REFRESH_TYP, ring)?;
    let claims: Claims<'_> =
        serde_json::from_slice(&payload).map_err(|_| Error::Malformed("invalid claims"))?;
    let invalid = |claim, problem| Error::InvalidClaim { claim, problem };
    if claims.iss != rules.issuer {
        return Err(invalid("iss", "wrong issuer"));
    }
    if claims.aud != rules.audience {
        return Err(invalid("aud", "wrong audience"));
    }
    let times = Times {
        now: now.unix_timestamp(),
        leeway: rules.leeway.whole_seconds(),
    };
    if expiry == Expiry::Enforce {
        times.check_exp(claims.exp)?;
    }
    times.check_not_future(claims.iat)?;
    Ok(VerifiedRefresh {
        session_id: claims
            .sid
            .parse()
            .map_err(|_| invalid("sid", "not a session id"))?,
        secret: RefreshSecret::from_jti(&claims.jti)
            .ok_or(invalid("jti", "not a 32-byte secret"))?,
        generation: claims.generation,
        subject: claims.sub.into_owned(),
    })
}
