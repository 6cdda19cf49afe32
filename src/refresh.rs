//! Refresh tokens: claims, the 32-byte secret, its hash, and the grace wrap.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::builder::Settings;
use crate::error::Error;
use crate::jws::{self, Times};
use crate::keys::KeyRing;
use crate::pair::RefreshToken;
use crate::session::SessionId;

/// The random secret a refresh token carries as its `jti`. Only its hash is
/// ever stored.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct RefreshSecret([u8; 32]);

impl RefreshSecret {
    pub(crate) fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Self(bytes)
    }

    /// Parses a `jti`: exactly 32 bytes of canonical base64url.
    pub(crate) fn from_jti(jti: &str) -> Option<Self> {
        if jti.len() != 43 {
            return None;
        }
        let mut bytes = [0u8; 32];
        match URL_SAFE_NO_PAD.decode_slice(jti, &mut bytes) {
            Ok(32) => Some(Self(bytes)),
            _ => {
                bytes.zeroize();
                None
            }
        }
    }

    /// The secret as a `jti`; the text is the secret too, so it is
    /// zeroized on drop.
    pub(crate) fn to_jti(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0.as_slice()))
    }

    pub(crate) fn hash(&self) -> SecretHash {
        SecretHash(Sha256::digest(self.0.as_slice()).into())
    }

    /// Wraps `next` under this (older) secret for grace replay:
    /// `next XOR SHA-256(domain || self)`. Only a holder of this secret can
    /// unwrap it, and the store never holds it.
    pub(crate) fn wrap(&self, next: &RefreshSecret) -> WrappedSecret {
        WrappedSecret(xor(&next.0, &self.pad()))
    }

    /// Recovers the secret [`wrap`](Self::wrap) hid under this one.
    pub(crate) fn unwrap(&self, wrapped: &WrappedSecret) -> RefreshSecret {
        RefreshSecret(xor(&wrapped.0, &self.pad()))
    }

    /// With the wrapped secret it yields the next secret: as secret as
    /// either, so zeroized on drop.
    fn pad(&self) -> Zeroizing<[u8; 32]> {
        let mut hash = Sha256::new();
        hash.update(b"jwt-rotate/grace-wrap/v1\0");
        hash.update(self.0.as_slice());
        Zeroizing::new(hash.finalize().into())
    }
}

fn xor(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// SHA-256 of a refresh token's secret: what a store keeps instead of the
/// token. Compared in constant time.
#[derive(Clone, Copy, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// The hash from the 32 bytes a store kept.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes to store.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for SecretHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// The current secret wrapped under the previous one (see [`GraceData`](crate::GraceData)).
/// Compared in constant time.
#[derive(Clone, Eq, Zeroize, ZeroizeOnDrop)]
pub struct WrappedSecret([u8; 32]);

impl PartialEq for WrappedSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl WrappedSecret {
    /// The wrapped secret from the 32 bytes a store kept.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes to store.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for WrappedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WrappedSecret(..)")
    }
}

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
    settings: &Settings,
    ring: &KeyRing,
    grant: &Grant<'_>,
) -> Result<RefreshToken, Error> {
    let jti = grant.secret.to_jti();
    let claims = Claims {
        iss: Cow::Borrowed(&settings.issuer),
        aud: Cow::Borrowed(&settings.audience),
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
        .map_err(|e| Error::Claims("serialization failed", Some(e)))?;
    Ok(RefreshToken::new(jws::sign(ring, &payload)?))
}

/// Verifies a refresh token without touching the store: signature with the
/// refresh ring, `typ`, size, issuer, audience and times.
pub(crate) fn verify(
    settings: &Settings,
    ring: &KeyRing,
    token: &str,
    now: OffsetDateTime,
    expiry: Expiry,
) -> Result<VerifiedRefresh, Error> {
    let payload = jws::verify(token, settings.max_token_bytes, REFRESH_TYP, ring)?;
    let claims: Claims<'_> =
        serde_json::from_slice(&payload).map_err(|_| Error::Malformed("invalid claims"))?;
    let invalid = |claim, problem| Error::InvalidClaim { claim, problem };
    if claims.iss != settings.issuer {
        return Err(invalid("iss", "wrong issuer"));
    }
    if claims.aud != settings.audience {
        return Err(invalid("aud", "wrong audience"));
    }
    let times = Times {
        now: now.unix_timestamp(),
        leeway: settings.leeway.whole_seconds(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jti_round_trips_and_is_strict() {
        let secret = RefreshSecret::random();
        let jti: String = (*secret.to_jti()).clone();
        assert_eq!(jti.len(), 43);
        let parsed = RefreshSecret::from_jti(&jti).unwrap();
        assert_eq!(parsed.hash(), secret.hash());
        let standard_alphabet = format!("+{}", &jti[1..]);
        for bad in ["", "abc", &format!("{jti}="), &standard_alphabet] {
            assert!(RefreshSecret::from_jti(bad).is_none(), "{bad}");
        }
        // Non-zero trailing bits would spell the same bytes a second way:
        // set the lowest bit of the last character's 6-bit value.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut other = jti.clone().into_bytes();
        let last = other.last_mut().unwrap();
        let value = ALPHABET.iter().position(|c| c == last).unwrap();
        *last = ALPHABET[value | 1];
        let other = String::from_utf8(other).unwrap();
        assert!(RefreshSecret::from_jti(&other).is_none(), "{other}");
    }

    #[test]
    fn wrap_needs_the_old_secret() {
        let old = RefreshSecret::random();
        let next = RefreshSecret::random();
        let wrapped = old.wrap(&next);
        assert_eq!(old.unwrap(&wrapped).hash(), next.hash());
        assert_ne!(
            wrapped.as_bytes(),
            &next.0,
            "stored bytes are not the secret"
        );
        let stranger = RefreshSecret::random();
        assert_ne!(stranger.unwrap(&wrapped).hash(), next.hash());
    }

    #[test]
    fn hashes_compare_by_value_and_hide_in_debug() {
        let secret = RefreshSecret::random();
        assert_eq!(
            secret.hash(),
            SecretHash::from_bytes(*secret.hash().as_bytes())
        );
        assert_ne!(secret.hash(), RefreshSecret::random().hash());
        assert_eq!(format!("{:?}", secret.hash()), "SecretHash(..)");
        assert_eq!(
            format!("{:?}", WrappedSecret::from_bytes([1; 32])),
            "WrappedSecret(..)"
        );
        let mut last_differs = [1; 32];
        last_differs[31] = 2;
        assert_eq!(
            WrappedSecret::from_bytes([1; 32]),
            WrappedSecret::from_bytes([1; 32])
        );
        assert_ne!(
            WrappedSecret::from_bytes([1; 32]),
            WrappedSecret::from_bytes(last_differs)
        );
    }
}
