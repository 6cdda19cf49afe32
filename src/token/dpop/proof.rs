//! One DPoP proof (RFC 9449, section 4): parsed and checked on its own,
//! before anything is remembered about it.

use std::borrow::Cow;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::de::{IgnoredAny, MapAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::htu;
use super::rules::DpopRules;
use crate::error::{DpopProblem, Error};
use crate::session::Jkt;
use crate::token::json;
use crate::token::jwk::PublicJwk;
use crate::token::jws::typ_matches;
use crate::token::scratch::Scratch;

/// The `typ` header of DPoP proofs.
pub(crate) const DPOP_TYP: &str = "dpop+jwt";

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow, default)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "some_object")]
    jwk: Option<PublicJwk<'a>>,
    /// We understand no extension, so a proof that needs one is refused.
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Claims<'a> {
    #[serde(borrow, default)]
    jti: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    htm: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    htu: Option<Cow<'a, str>>,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(borrow, default)]
    ath: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    nonce: Option<Cow<'a, str>>,
}

/// The HTTP request a proof must match: method, and absolute URL as the
/// server sees it.
pub(crate) struct Target<'a> {
    pub(crate) method: &'a str,
    /// Normalized by [`htu::normalize`].
    pub(crate) url: &'a str,
}

/// A proof whose every own check passed: what is left to check needs
/// state (replay cache, nonces) or a binding.
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) jkt: Jkt,
    pub(crate) jti: String,
    pub(crate) iat: i64,
    pub(crate) nonce: Option<String>,
}

/// Checks size, shape, header, key, signature, claims, method, URL, the
/// `iat` window at `now` (Unix seconds), and, when the proof comes with an
/// access token, `ath`. Nothing is decoded before the size check, and no
/// claim is read before the signature holds.
pub(crate) fn check(
    rules: &DpopRules,
    proof: &str,
    target: &Target<'_>,
    access_token: Option<&str>,
    now: i64,
) -> Result<Checked, Error> {
    let fail = |problem| Error::InvalidDpopProof(problem);
    if proof.len() > rules.max_proof_bytes {
        return Err(fail(DpopProblem::TooLarge));
    }
    let (signed, signature) = proof.rsplit_once('.').ok_or(fail(DpopProblem::Malformed))?;
    let (header, payload) = signed.split_once('.').ok_or(fail(DpopProblem::Malformed))?;
    if payload.contains('.') {
        return Err(fail(DpopProblem::Malformed));
    }

    let mut header_json = Scratch::new();
    let header_json = header_json
        .decode(header)
        .map_err(|_| fail(DpopProblem::Malformed))?;
    let Object(header): Object<Header<'_>> =
        json::parse(header_json).map_err(|()| fail(DpopProblem::Malformed))?;
    if header.crit.is_some() {
        return Err(fail(DpopProblem::Malformed));
    }
    if !header.typ.is_some_and(|typ| typ_matches(&typ, DPOP_TYP)) {
        return Err(fail(DpopProblem::Type));
    }
    let alg = (header.alg.as_deref())
        .and_then(|alg| Algorithm::from_str(alg).ok())
        .filter(|alg| rules.algorithms.contains(alg))
        .ok_or(fail(DpopProblem::Algorithm))?;
    let key = header
        .jwk
        .ok_or(fail(DpopProblem::Key))?
        .key_for(alg)
        .map_err(fail)?;
    let mut signature_bytes = Scratch::new();
    let signature = signature_bytes
        .decode(signature)
        .map_err(|_| fail(DpopProblem::Malformed))?;
    if !key.verifier.verify(signed.as_bytes(), signature) {
        return Err(fail(DpopProblem::Signature));
    }

    let mut payload_json = Scratch::new();
    let payload_json = payload_json
        .decode(payload)
        .map_err(|_| fail(DpopProblem::Malformed))?;
    let Object(claims): Object<Claims<'_>> =
        json::parse(payload_json).map_err(|()| fail(DpopProblem::Malformed))?;
    let (jti, htm, htu_claim) = (
        present(claims.jti),
        present(claims.htm),
        present(claims.htu),
    );
    let (Some(jti), Some(htm), Some(htu_claim), Some(iat)) = (jti, htm, htu_claim, claims.iat)
    else {
        return Err(fail(DpopProblem::Claim));
    };
    if htm != target.method {
        return Err(fail(DpopProblem::Method));
    }
    if htu::normalize(&htu_claim).as_deref() != Some(target.url) {
        return Err(fail(DpopProblem::Url));
    }
    if iat < now.saturating_sub(rules.max_age.whole_seconds()) {
        return Err(fail(DpopProblem::Stale));
    }
    if iat > now.saturating_add(rules.future_leeway.whole_seconds()) {
        return Err(fail(DpopProblem::Future));
    }
    if let Some(token) = access_token {
        let expected = access_token_hash(token);
        let matches = claims
            .ath
            .is_some_and(|ath| bool::from(ath.as_bytes().ct_eq(expected.as_bytes())));
        if !matches {
            return Err(fail(DpopProblem::AccessTokenHash));
        }
    }
    Ok(Checked {
        jkt: Jkt::of_canonical_jwk(key.canonical.as_bytes()),
        jti: jti.into_owned(),
        iat,
        nonce: claims.nonce.map(Cow::into_owned),
    })
}

/// `T` read only from a JSON object: serde's derived structs also read
/// arrays (`["dpop+jwt","ES256",...]`), a second spelling we refuse.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(ObjectOnly(std::marker::PhantomData))
            .map(Object)
    }
}

fn some_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Object::deserialize(deserializer).map(|Object(value)| Some(value))
}

struct ObjectOnly<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOnly<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

fn present(value: Option<Cow<'_, str>>) -> Option<Cow<'_, str>> {
    value.filter(|v| !v.is_empty())
}

/// `ath`: base64url(SHA-256(the access token's ASCII)).
pub(crate) fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}
