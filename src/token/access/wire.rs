//! Access-token claims as read off the wire: the fields serde_json reads,
//! and the fast reader for the spelling we write ([`read_claims`]).

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::token::json::Reader;
use crate::token::rules::TokenRules;

/// What we accept on the wire: every registered claim optional, so a
/// missing one is reported by name rather than as a parse error.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct WireClaims<'a, C> {
    pub(super) iss: Option<String>,
    pub(super) sub: Option<String>,
    pub(super) aud: Option<String>,
    pub(super) exp: Option<i64>,
    pub(super) iat: Option<i64>,
    pub(super) nbf: Option<i64>,
    pub(super) jti: Option<String>,
    #[serde(borrow)]
    pub(super) sid: Option<Text<'a>>,
    pub(super) cnf: Option<Confirmation>,
    pub(super) auth_time: Option<i64>,
    pub(super) amr: Option<Vec<String>>,
    pub(super) acr: Option<String>,
    #[serde(flatten)]
    pub(super) extra: C,
}

/// The confirmation claim (RFC 7800); we write and take only `jkt`.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct Confirmation {
    pub(super) jkt: Option<String>,
}

/// A string borrowed from the payload unless it has escapes (serde
/// borrows a `Cow` only where it is the field's whole type).
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct Text<'a>(#[serde(borrow)] pub(super) Cow<'a, str>);

/// The claims in the spelling `write_claims` writes, without claims of
/// the app's: `extra` is then read from `{}` (as serde reads it from no
/// members; should that fail, serde_json reads the whole payload and
/// decides). The issuer and audience must be those `rules` expect (any
/// other goes to serde_json, and is refused after it). The optional
/// claims come in the order written, each there or not: `auth_time`,
/// `cnf`, `amr`, `acr`. Anything after them (the status claim, the app's
/// claims) goes to serde_json.
pub(super) fn read_claims<'a, C: DeserializeOwned>(
    json: &mut Reader<'a>,
    rules: &TokenRules,
) -> Option<WireClaims<'a, C>> {
    let iss = json.str_equal("iss", &rules.issuer)?;
    let sub = json.str("sub")?;
    let aud = json.str_equal("aud", &rules.audience)?;
    let (exp, iat) = (json.int("exp")?, json.int("iat")?);
    let (jti, sid) = (json.str("jti")?, json.str("sid")?);
    let auth_time = optional(json, "auth_time", |json| json.int("auth_time"))?;
    // Most tokens end here: the rest are looked for only if not.
    let (mut jkt, mut amr, mut acr) = (None, None, None);
    if !json.at_end() {
        jkt = optional(json, "cnf", |json| json.object("cnf", |cnf| cnf.str("jkt")))?;
        amr = optional(json, "amr", |json| json.strings("amr"))?;
        acr = optional(json, "acr", |json| json.str("acr"))?;
        if !json.at_end() {
            return None;
        }
    }
    Some(WireClaims {
        extra: serde_json::from_str("{}").ok()?,
        iss: Some(iss.to_owned()),
        sub: Some(sub.to_owned()),
        aud: Some(aud.to_owned()),
        exp: Some(exp),
        iat: Some(iat),
        nbf: None,
        jti: Some(jti.to_owned()),
        sid: Some(Text(sid.into())),
        cnf: jkt.map(|jkt| Confirmation {
            jkt: Some(jkt.to_owned()),
        }),
        auth_time,
        amr,
        acr: acr.map(str::to_owned),
    })
}

/// The member `key` read by `read` if it comes next: `Some(None)` when it
/// does not, `None` when it does but `read` gives up.
#[inline]
fn optional<'a, T>(
    json: &mut Reader<'a>,
    key: &str,
    read: impl FnOnce(&mut Reader<'a>) -> Option<T>,
) -> Option<Option<T>> {
    if json.next_is(key) {
        read(json).map(Some)
    } else {
        Some(None)
    }
}

#[cfg(test)]
mod tests;
