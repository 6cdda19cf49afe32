//! Refresh tokens: the claims as signed, signing, and verification.

use std::borrow::Cow;

use serde::Deserialize;
use time::OffsetDateTime;

use super::json::{self, Object, Reader};
use super::jws::{self, Times};
use super::ring::KeyRing;
use super::rules::TokenRules;
use super::scratch::Scratch;
use super::secret::RefreshSecret;
use crate::error::Error;
use crate::secret::RefreshToken;
use crate::session::{Jkt, SessionId};

/// The `typ` header of refresh tokens.
pub(crate) const REFRESH_TYP: &str = "rt+jwt";

/// The claims of a refresh token, as signed with the refresh key: exactly
/// these, nothing else accepted.
///
/// `sid` and `gen` are integrity-protected by the signature (RFC 9700), so a
/// genuine token of an older generation proves reuse. Written by
/// [`write_claims`], in this order.
#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
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
    /// Only in a token of a DPoP-bound session: the thumbprint of its key
    /// (RFC 9449), signed, so that a refresh knows the binding before any
    /// store access and a binding cannot be forged or removed.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    cnf: Option<Cnf<'a>>,
    /// Only in a token handed out after a rotation in doubt: the span of
    /// the holder's own attempts, see [`RetryWindow`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry: Option<RetryWindow>,
}

/// `cnf` of a bound session's refresh token: the key's thumbprint.
#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
#[serde(deny_unknown_fields)]
struct Cnf<'a> {
    #[serde(borrow)]
    jkt: Cow<'a, str>,
}

/// The instants, in whole seconds, at which the holder of a refresh token
/// tried to rotate it and got no answer from the store: a rotation that
/// happened at one of them was the holder's own, though its answer was
/// lost. Signed into the token the holder is told to retry with, so it is
/// evidence a thief with the plain token does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub(crate) struct RetryWindow {
    /// The first attempt in doubt.
    pub(crate) from: i64,
    /// The last attempt in doubt.
    pub(crate) to: i64,
}

impl RetryWindow {
    /// The window after one more attempt in doubt at `at`.
    pub(crate) fn extended(window: Option<Self>, at: OffsetDateTime) -> Self {
        let at = at.unix_timestamp();
        match window {
            Some(w) => Self {
                from: w.from.min(at),
                to: w.to.max(at),
            },
            None => Self { from: at, to: at },
        }
    }

    /// Whether a rotation at `instant` was one of these attempts.
    pub(crate) fn covers(self, instant: OffsetDateTime) -> bool {
        (self.from..=self.to).contains(&instant.unix_timestamp())
    }
}

/// A refresh token whose signature and claims hold.
pub(crate) struct VerifiedRefresh {
    pub(crate) subject: String,
    pub(crate) session_id: SessionId,
    pub(crate) generation: u64,
    pub(crate) secret: RefreshSecret,
    /// The key the session is bound to, as signed.
    pub(crate) jkt: Option<Jkt>,
    /// `iat` and `exp` as signed, to sign the same grant again.
    issued_at: i64,
    expires_at: i64,
    /// The holder's attempts in doubt, if this token was handed out after
    /// one.
    pub(crate) retry: Option<RetryWindow>,
}

impl VerifiedRefresh {
    /// When the token expires, if that is a representable instant.
    pub(crate) fn expires_at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.expires_at).ok()
    }

    /// `exp - iat` as signed: the session's idle lifetime, or less where
    /// its absolute expiry came first.
    pub(crate) fn lifetime(&self) -> time::Duration {
        time::Duration::seconds(self.expires_at.saturating_sub(self.issued_at))
    }
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
    pub(crate) jkt: Option<&'a Jkt>,
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
    let (jti, mut sid) = (grant.secret.to_jti(), [0; 22]);
    let claims = Claims {
        iss: Cow::Borrowed(&rules.issuer),
        aud: Cow::Borrowed(&rules.audience),
        sub: Cow::Borrowed(grant.subject),
        sid: Cow::Borrowed(grant.session_id.encode(&mut sid)),
        generation: grant.generation,
        jti: Cow::Borrowed(jti.as_str()),
        iat: grant.issued_at.unix_timestamp(),
        exp: grant.expires_at.unix_timestamp(),
        cnf: grant.jkt.map(|jkt| Cnf {
            jkt: Cow::Borrowed(jkt.as_str()),
        }),
        retry: None,
    };
    sign_claims(rules, ring, &claims)
}

/// The token `presented` again, carrying `window`: what a client whose
/// rotation is in doubt retries with. The same generation and secret, so
/// it spends exactly what `presented` would.
pub(crate) fn sign_in_doubt(
    rules: &TokenRules,
    ring: &KeyRing,
    presented: &VerifiedRefresh,
    window: RetryWindow,
) -> Result<RefreshToken, Error> {
    let (jti, mut sid) = (presented.secret.to_jti(), [0; 22]);
    let claims = Claims {
        iss: Cow::Borrowed(&rules.issuer),
        aud: Cow::Borrowed(&rules.audience),
        sub: Cow::Borrowed(&presented.subject),
        sid: Cow::Borrowed(presented.session_id.encode(&mut sid)),
        generation: presented.generation,
        jti: Cow::Borrowed(jti.as_str()),
        iat: presented.issued_at,
        exp: presented.expires_at,
        cnf: presented.jkt.as_ref().map(|jkt| Cnf {
            jkt: Cow::Borrowed(jkt.as_str()),
        }),
        retry: Some(window),
    };
    sign_claims(rules, ring, &claims)
}

fn sign_claims(
    rules: &TokenRules,
    ring: &KeyRing,
    claims: &Claims<'_>,
) -> Result<RefreshToken, Error> {
    let mut payload = Scratch::new();
    write_claims(claims, &mut payload);
    let token = jws::sign(ring, payload.as_bytes(), rules.max_token_bytes)?;
    Ok(RefreshToken::new(token))
}

/// The JSON of `claims`, into `out`. It holds the secret in the clear: a
/// `Scratch` wipes it.
fn write_claims(claims: &Claims<'_>, out: &mut Scratch) {
    let mut object = Object::new(out);
    object
        .str("iss", &claims.iss)
        .str("aud", &claims.aud)
        .str("sub", &claims.sub)
        .plain("sid", &claims.sid)
        .uint("gen", claims.generation)
        .plain("jti", &claims.jti)
        .int("iat", claims.iat)
        .int("exp", claims.exp);
    if let Some(cnf) = &claims.cnf {
        object.object("cnf", |c| {
            c.str("jkt", &cnf.jkt);
        });
    }
    if let Some(window) = claims.retry {
        object.object("retry", |w| {
            w.int("from", window.from).int("to", window.to);
        });
    }
    object.end();
}

/// The claims in the spelling [`write_claims`] writes, with the issuer
/// and audience `rules` expect (any other goes to serde_json, and is
/// refused after it).
fn read_claims<'a>(json: &mut Reader<'a>, rules: &TokenRules) -> Option<Claims<'a>> {
    let (iss, aud, sub, sid) = (
        json.str_equal("iss", &rules.issuer)?,
        json.str_equal("aud", &rules.audience)?,
        json.str("sub")?,
        json.str("sid")?,
    );
    let generation = json.uint("gen")?;
    let (jti, iat, exp) = (json.str("jti")?, json.int("iat")?, json.int("exp")?);
    let cnf = if json.next_is("cnf") {
        Some(json.object("cnf", |c| c.str("jkt"))?)
    } else {
        None
    };
    let retry = if json.at_end() {
        None
    } else {
        Some(json.object("retry", |w| {
            Some(RetryWindow {
                from: w.int("from")?,
                to: w.int("to")?,
            })
        })?)
    };
    json.at_end().then(|| Claims {
        iss: iss.into(),
        aud: aud.into(),
        sub: sub.into(),
        sid: sid.into(),
        generation,
        jti: jti.into(),
        iat,
        exp,
        cnf: cnf.map(|jkt| Cnf { jkt: jkt.into() }),
        retry,
    })
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
    let mut payload = Scratch::new();
    let payload = jws::verify(
        token,
        rules.max_token_bytes,
        REFRESH_TYP,
        ring,
        &mut payload,
    )?;
    let claims = json::parse_ours(payload, |json| read_claims(json, rules))
        .map_err(|()| Error::Malformed("invalid claims"))?;
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
    if claims.retry.is_some_and(|w| w.from > w.to) {
        return Err(invalid("retry", "an empty window"));
    }
    let jkt = claims
        .cnf
        .map(|cnf| Jkt::parse(&cnf.jkt).ok_or_else(|| invalid("cnf", "not a jkt")))
        .transpose()?;
    Ok(VerifiedRefresh {
        jkt,
        session_id: claims
            .sid
            .parse()
            .map_err(|_| invalid("sid", "not a session id"))?,
        secret: RefreshSecret::from_jti(&claims.jti)
            .ok_or_else(|| invalid("jti", "not a 32-byte secret"))?,
        generation: claims.generation,
        subject: claims.sub.into_owned(),
        issued_at: claims.iat,
        expires_at: claims.exp,
        retry: claims.retry,
    })
}

#[cfg(test)]
mod tests;
