//! Access tokens: the claims, signing, and strict verification.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::claims::{ClaimMembers, NoClaims};
use super::dpop::Jkt;
use super::json::{self, Object};
use super::jws::{self, Times};
use super::ring::KeyRing;
use super::rules::TokenRules;
use super::scratch::Scratch;
use super::status::StatusRef;
use crate::clock::shifted;
use crate::error::Error;
use crate::secret::AccessToken;
use crate::session::{AuthContext, SessionId};

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
    /// `cnf.jkt` (RFC 9449): the thumbprint of the key the token is bound
    /// to. Such a token is accepted only with a DPoP proof by that key
    /// ([`TokenService::verify_dpop`](crate::TokenService::verify_dpop)),
    /// never as a Bearer token.
    pub jkt: Option<Jkt>,
    /// `auth_time`: when the user last authenticated (login or step-up;
    /// never a refresh). `None` only in tokens of older versions.
    pub auth_time: Option<OffsetDateTime>,
    /// `amr` (RFC 8176): how the user authenticated; empty if not said.
    pub amr: Vec<String>,
    /// `acr`: the authentication context class reached, if said.
    pub acr: Option<String>,
    /// The application's claims, as given at login or by the refresh hook.
    pub extra: C,
}

/// How an access token was presented: a token bound to a key is refused as
/// a Bearer token (RFC 9449, section 7.1), and a DPoP proof with an unbound
/// token proves nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presented {
    /// `Authorization: Bearer`: the token alone.
    Bearer,
    /// `Authorization: DPoP`, with a proof checked by the caller.
    Dpop,
    /// Sent to an introspection endpoint (RFC 7662) by a resource server,
    /// which checks the proof itself and learns the binding from `cnf`.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    Introspected,
}

/// The registered claims as we write them (see [`write_claims`]); the
/// app's claims follow them, already serialized.
#[cfg_attr(test, derive(serde::Serialize))]
struct OutClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    jti: &'a str,
    sid: &'a str,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    auth_time: Option<i64>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    cnf: Option<Cnf<'a>>,
    #[cfg_attr(test, serde(skip_serializing_if = "<[String]>::is_empty"))]
    amr: &'a [String],
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    acr: Option<&'a str>,
    #[cfg_attr(test, serde(skip))]
    status: Option<&'a StatusRef>,
}

/// `cnf` as written.
#[derive(Clone, Copy)]
#[cfg_attr(test, derive(serde::Serialize))]
struct Cnf<'a> {
    jkt: &'a str,
}

/// Whose token it is: the session's own claims, beside the app's.
#[derive(Clone, Copy)]
pub(crate) struct Holder<'a> {
    pub(crate) sub: &'a str,
    pub(crate) sid: &'a SessionId,
    /// The key the session is bound to (`cnf.jkt`), if any.
    pub(crate) jkt: Option<&'a Jkt>,
    /// How the user authenticated (`auth_time`, `amr`, `acr`), if known.
    pub(crate) auth: Option<&'a AuthContext>,
    /// Where the session's status is published, if it is.
    pub(crate) status: Option<&'a StatusRef>,
}

/// Signs an access token for `holder` (`sub` in session `sid`), valid
/// from `now` for `access_ttl` but never past `session_end`, carrying the
/// app's claims: with its `cnf.jkt` and `auth_time` (`amr`,
/// `acr`) when it has them. `times` is `(now, session_end)`.
pub(crate) fn sign_for(
    rules: &TokenRules,
    ring: &KeyRing,
    holder: Holder<'_>,
    app_claims: ClaimMembers<'_>,
    (now, session_end): (OffsetDateTime, OffsetDateTime),
) -> Result<(AccessToken, OffsetDateTime), Error> {
    let Holder {
        sub,
        sid,
        jkt,
        auth,
        status,
    } = holder;
    let expires_at = shifted(now, rules.access_ttl, "access_ttl")?.min(session_end);
    let (mut jti, mut sid_text) = ([0; 22], [0; 22]);
    let claims = OutClaims {
        iss: &rules.issuer,
        sub,
        aud: &rules.audience,
        exp: expires_at.unix_timestamp(),
        iat: now.unix_timestamp(),
        jti: random_jti(&mut jti),
        sid: sid.encode(&mut sid_text),
        auth_time: auth.map(|a| a.auth_time.unix_timestamp()),
        cnf: jkt.map(|jkt| Cnf { jkt: jkt.as_str() }),
        amr: auth.map_or(&[], |a| &a.amr),
        acr: auth.and_then(|a| a.acr.as_deref()),
        status,
    };
    let mut payload = Scratch::new();
    write_claims(&claims, app_claims, &mut payload);
    let token = jws::sign(ring, payload.as_bytes(), rules.max_token_bytes)?;
    Ok((AccessToken::new(token), expires_at))
}

fn write_claims(claims: &OutClaims<'_>, app_claims: ClaimMembers<'_>, out: &mut Scratch) {
    let mut object = Object::new(out);
    object
        .str("iss", claims.iss)
        .str("sub", claims.sub)
        .str("aud", claims.aud)
        .int("exp", claims.exp)
        .int("iat", claims.iat)
        .plain("jti", claims.jti)
        .plain("sid", claims.sid);
    if let Some(auth_time) = claims.auth_time {
        object.int("auth_time", auth_time);
    }
    if let Some(cnf) = &claims.cnf {
        object.object("cnf", |cnf_object| {
            cnf_object.str("jkt", cnf.jkt);
        });
    }
    if !claims.amr.is_empty() {
        // Values are checked printable ASCII without quotes or
        // backslashes (`AuthContext`), so serde_json writes them as is.
        let amr = serde_json::to_string(claims.amr).unwrap_or_else(|_| "[]".into());
        object.members(&format!("\"amr\":{amr}"));
    }
    if let Some(acr) = claims.acr {
        object.str("acr", acr);
    }
    if let Some(status) = claims.status {
        status.write(&mut object);
    }
    object.members(app_claims.as_str());
    object.end();
}

/// Verifies an access token presented as a Bearer token: signature
/// (algorithm pinned by `kid`), `typ`, size, and every claim rule. No
/// store access.
pub(crate) fn verify<C: DeserializeOwned>(
    rules: &TokenRules,
    ring: &KeyRing,
    token: &str,
    now: OffsetDateTime,
) -> Result<AccessClaims<C>, Error> {
    verify_as(rules, ring, token, now, Presented::Bearer)
}

/// [`verify`], for a token presented as `presented`: a token with
/// `cnf.jkt` only with a proof, one without never.
pub(crate) fn verify_as<C: DeserializeOwned>(
    rules: &TokenRules,
    ring: &KeyRing,
    token: &str,
    now: OffsetDateTime,
    presented: Presented,
) -> Result<AccessClaims<C>, Error> {
    let mut payload = Scratch::new();
    let payload = jws::verify(token, rules.max_token_bytes, ACCESS_TYP, ring, &mut payload)?;
    let wire = json::parse_ours(payload, |json| wire::read_claims(json, rules))
        .map_err(|()| Error::Malformed("invalid claims"))?;

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
        .0
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
    let jkt = match wire.cnf {
        Some(cnf) => Some(
            cnf.jkt
                .as_deref()
                .and_then(Jkt::parse)
                .ok_or_else(|| invalid("cnf", "not a jkt"))?,
        ),
        None => None,
    };
    match (presented, &jkt) {
        (Presented::Bearer, Some(_)) => return Err(Error::DpopRequired),
        (Presented::Dpop, None) => return Err(invalid("cnf", "the token is not DPoP-bound")),
        _ => {}
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
        jkt,
        auth_time: wire
            .auth_time
            .map(|t| timestamp("auth_time", t))
            .transpose()?,
        amr: wire.amr.unwrap_or_default(),
        acr: wire.acr,
        extra: wire.extra,
    })
}

/// A fresh access-token `jti`: 128 random bits as 22 base64url characters,
/// written into `text`.
fn random_jti(text: &mut [u8; 22]) -> &str {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    let written = URL_SAFE_NO_PAD.encode_slice(bytes, text);
    debug_assert_eq!(written, Ok(22));
    // Base64url is ASCII.
    std::str::from_utf8(text).unwrap_or_default()
}

fn required<T>(claim: &'static str, value: Option<T>) -> Result<T, Error> {
    value.ok_or_else(|| invalid(claim, "missing"))
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

#[cfg(test)]
mod tests;
mod wire;
