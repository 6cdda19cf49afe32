//! [`DpopNonces`]: server-provided nonces (RFC 9449, section 8), made and
//! checked without state.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::{Duration, OffsetDateTime};

use crate::error::{ConfigError, Error};
use crate::token::keys::Key;

/// Domain separation: these MACs are never anything but nonces.
const DOMAIN: &[u8; 16] = b"jwt-rotate/nonce";

/// The bytes of a nonce: the period number and its HMAC-SHA256.
const BYTES: usize = 8 + 32;

/// Server nonces for DPoP proofs: a nonce names a period of `lifetime`
/// and carries an HMAC of it, so it is checked without remembering any.
/// A nonce is accepted during its own period and the next one, so a
/// client always has at least one `lifetime` to use it.
///
/// Instances given the same secret accept each other's nonces.
///
/// ```
/// use jwt_rotate::DpopNonces;
/// use time::{Duration, OffsetDateTime};
///
/// let nonces = DpopNonces::new(Duration::minutes(5))?;
/// let now = OffsetDateTime::now_utc();
/// let nonce = nonces.issue(now)?;
/// assert!(nonces.is_valid(&nonce, now));
/// assert!(!nonces.is_valid(&nonce, now + Duration::minutes(11)));
/// # Ok::<(), jwt_rotate::Error>(())
/// ```
pub struct DpopNonces {
    key: Key,
    lifetime: i64,
}

impl fmt::Debug for DpopNonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopNonces")
            .field("lifetime_secs", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl DpopNonces {
    /// Nonces under a random secret of this process's own.
    ///
    /// # Errors
    /// [`Error::Config`] if `lifetime` is not between 1 second and 1 day.
    pub fn new(lifetime: Duration) -> Result<Self, Error> {
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        rand::fill(&mut *secret);
        Self::with_secret(secret.as_slice(), lifetime)
    }

    /// Nonces under `secret` (at least 32 random bytes), shared by every
    /// instance that should accept the others' nonces.
    ///
    /// # Errors
    /// [`Error::Config`] if the secret is shorter than 32 bytes, or
    /// `lifetime` is not between 1 second and 1 day.
    pub fn with_secret(secret: impl AsRef<[u8]>, lifetime: Duration) -> Result<Self, Error> {
        if lifetime < Duration::SECOND || lifetime > Duration::DAY {
            return Err(ConfigError::new("the nonce lifetime must be 1 s to 1 day").into());
        }
        Ok(Self {
            key: Key::hs256(secret)?,
            lifetime: lifetime.whole_seconds(),
        })
    }

    /// The nonce of the period `now` falls in: send it as `DPoP-Nonce`.
    ///
    /// # Errors
    /// [`Error::Config`] if the backend fails to compute the MAC.
    pub fn issue(&self, now: OffsetDateTime) -> Result<String, Error> {
        let period = self.period(now);
        let mut bytes = [0u8; BYTES];
        bytes[..8].copy_from_slice(&period.to_be_bytes());
        let tag = self.key.sign(&message(period))?;
        bytes[8..].copy_from_slice(tag.as_ref());
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Whether `nonce` is one of ours, of the period of `now` or the one
    /// before.
    pub fn is_valid(&self, nonce: &str, now: OffsetDateTime) -> bool {
        let mut bytes = [0u8; BYTES + 2];
        let decoded = nonce.len() <= 54
            && URL_SAFE_NO_PAD.decode_slice(nonce, &mut bytes).ok() == Some(BYTES);
        if !decoded {
            return false;
        }
        let mut period = [0u8; 8];
        period.copy_from_slice(&bytes[..8]);
        let period = i64::from_be_bytes(period);
        let current = self.period(now);
        let recent = period == current || Some(period) == current.checked_sub(1);
        recent && self.key.verify(&message(period), &bytes[8..BYTES])
    }

    fn period(&self, now: OffsetDateTime) -> i64 {
        now.unix_timestamp().div_euclid(self.lifetime)
    }
}

fn message(period: i64) -> [u8; 24] {
    let mut message = [0u8; 24];
    message[..16].copy_from_slice(DOMAIN);
    message[16..].copy_from_slice(&period.to_be_bytes());
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap()
    }

    #[test]
    fn valid_for_its_period_and_the_next() {
        let nonces = DpopNonces::with_secret([3u8; 32], Duration::seconds(60)).unwrap();
        // 1,000,020 is a multiple of 60: a period starts there.
        let nonce = nonces.issue(at(1_000_050)).unwrap();
        assert_eq!(nonce.len(), 54);
        assert_eq!(nonce, nonces.issue(at(1_000_020)).unwrap());
        assert_ne!(nonce, nonces.issue(at(1_000_080)).unwrap());
        assert!(nonces.is_valid(&nonce, at(1_000_020)));
        assert!(nonces.is_valid(&nonce, at(1_000_139)));
        assert!(!nonces.is_valid(&nonce, at(1_000_140)));
        assert!(!nonces.is_valid(&nonce, at(1_000_019)));
        // Another secret, or a tampered nonce, is not ours.
        let other = DpopNonces::with_secret([4u8; 32], Duration::seconds(60)).unwrap();
        assert!(!other.is_valid(&nonce, at(1_000_030)));
        let mut tampered = nonce.into_bytes();
        tampered[3] ^= 1;
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(!nonces.is_valid(&tampered, at(1_000_030)));
        for junk in ["", "a", &"A".repeat(54), &"A".repeat(5000), "é"] {
            assert!(!nonces.is_valid(junk, at(1_000_030)), "{junk}");
        }
        // A clock near the ends of time does not panic.
        assert!(!nonces.is_valid(&nonces.issue(at(0)).unwrap(), at(i64::from(i32::MAX))));
        let early = OffsetDateTime::from_unix_timestamp(-377_705_116_800).unwrap();
        assert!(nonces.is_valid(&nonces.issue(early).unwrap(), early));
    }

    #[test]
    fn lifetime_and_secret_are_checked() {
        assert!(DpopNonces::new(Duration::ZERO).is_err());
        assert!(DpopNonces::new(Duration::days(2)).is_err());
        assert!(DpopNonces::with_secret([1u8; 16], Duration::MINUTE).is_err());
        assert!(DpopNonces::new(Duration::MINUTE).is_ok());
    }
}
