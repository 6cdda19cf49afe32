//! The status list token itself: built from the revoked indexes, signed,
//! and read back (feature `status-list`, for the ZLIB codec).

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Error;
use crate::token::jws::{self, Times};
use crate::token::ring::{KeyRing, header_prefix};
use crate::token::scratch::Scratch;

/// The `typ` of a status list token.
pub(crate) const STATUS_LIST_TYP: &str = "statuslist+jwt";

/// Status list tokens longer than this are neither signed nor read: a
/// list of 2^20 indexes, every one set at random, compresses to little
/// under 128 KiB, 171 KiB in base64.
pub(crate) const MAX_STATUS_LIST_TOKEN_BYTES: usize = 256 * 1024;

/// The most bytes a list may inflate to when read (2^24 indexes): a
/// compressed list is refused past it rather than inflated without end.
const MAX_LIST_BYTES: u64 = 2 * 1024 * 1024;

/// What a status list token says besides its list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListTimes {
    pub(crate) iat: OffsetDateTime,
    pub(crate) exp: OffsetDateTime,
    /// Seconds a consumer may cache the token (`ttl`).
    pub(crate) ttl: i64,
}

#[derive(Serialize, Deserialize)]
struct ListClaims<'a> {
    sub: &'a str,
    iat: i64,
    exp: i64,
    ttl: i64,
    status_list: ListMember,
}

#[derive(Serialize, Deserialize)]
struct ListMember {
    bits: u8,
    lst: String,
}

/// The bytes of a list of `len` indexes (a multiple of 8) with the bits of
/// `set` (indexes below `len`) at 1.
fn bitmap(len: u64, set: impl IntoIterator<Item = u64>) -> Vec<u8> {
    let mut bytes = vec![0u8; usize::try_from(len / 8).unwrap_or(0)];
    for i in set {
        if let Some(byte) = usize::try_from(i / 8).ok().and_then(|b| bytes.get_mut(b)) {
            *byte |= 1 << (i % 8);
        }
    }
    bytes
}

/// Signs the status list token for `uri` with `ring`'s signing key: `len`
/// indexes, those in `revoked` (offsets within the list) INVALID.
///
/// # Errors
/// [`Error::Config`] for a verify-only ring; [`Error::Claims`] should the
/// token pass [`MAX_STATUS_LIST_TOKEN_BYTES`].
pub(crate) fn sign_list(
    ring: &KeyRing,
    uri: &str,
    len: u64,
    revoked: impl IntoIterator<Item = u64>,
    times: ListTimes,
) -> Result<String, Error> {
    let bytes = bitmap(len, revoked);
    // The draft recommends the best compression: a list is built once per
    // `ttl`, and fetched by every resource server.
    let mut zlib = ZlibEncoder::new(Vec::with_capacity(bytes.len() / 8), Compression::best());
    let compressed = zlib
        .write_all(&bytes)
        .and_then(|()| zlib.finish())
        .map_err(|_| cannot("status list: compression failed"))?;
    let claims = ListClaims {
        sub: uri,
        iat: times.iat.unix_timestamp(),
        exp: times.exp.unix_timestamp(),
        ttl: times.ttl,
        status_list: ListMember {
            bits: 1,
            lst: URL_SAFE_NO_PAD.encode(compressed),
        },
    };
    // A string and numbers: writing to a `Vec` cannot fail.
    let payload = serde_json::to_vec(&claims).map_err(|_| cannot("status list: claims"))?;
    let signer = ring.signing()?;
    let mut token = header_prefix(&signer.key, STATUS_LIST_TYP);
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = signer.key.sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
    if token.len() > MAX_STATUS_LIST_TOKEN_BYTES {
        return Err(Error::Claims {
            problem: "the status list token would exceed 256 KiB",
            source: None,
        });
    }
    Ok(token)
}

/// What cannot happen when writing to a `Vec`, should it happen.
fn cannot(problem: &'static str) -> Error {
    Error::Claims {
        problem,
        source: None,
    }
}

/// A status list read from a verified token: its `sub` and its bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadList {
    pub(crate) uri: String,
    pub(crate) ttl: i64,
    bytes: Vec<u8>,
}

impl ReadList {
    /// The status at `idx`: `Some(true)` for INVALID, `None` past the end.
    pub(crate) fn is_set(&self, idx: u64) -> Option<bool> {
        let byte = self.bytes.get(usize::try_from(idx / 8).ok()?)?;
        Some(byte >> (idx % 8) & 1 == 1)
    }

    /// How many indexes the list has.
    pub(crate) fn len(&self) -> u64 {
        self.bytes.len() as u64 * 8
    }
}

/// Verifies a status list token signed by a key of `ring` (any `typ` the
/// ring has; the token's must be `statuslist+jwt`), unexpired at `now`,
/// and inflates its list.
///
/// # Errors
/// What [`jws::verify`] refuses; [`Error::Expired`] past `exp`;
/// [`Error::Malformed`] for claims or a list not as the draft says, or one
/// inflating past 2 MiB.
pub(crate) fn read_list(
    ring: &KeyRing,
    token: &str,
    now: OffsetDateTime,
    leeway: time::Duration,
) -> Result<ReadList, Error> {
    let mut payload = Scratch::new();
    let payload = jws::verify(
        token,
        MAX_STATUS_LIST_TOKEN_BYTES,
        STATUS_LIST_TYP,
        ring,
        &mut payload,
    )?;
    let claims: ListClaims<'_> =
        serde_json::from_slice(payload).map_err(|_| Error::Malformed("invalid claims"))?;
    let times = Times {
        now: now.unix_timestamp(),
        leeway: leeway.whole_seconds(),
    };
    times.check_exp(claims.exp)?;
    times.check_not_future(claims.iat)?;
    if claims.status_list.bits != 1 {
        return Err(Error::Malformed("status list: bits is not 1"));
    }
    let compressed = URL_SAFE_NO_PAD
        .decode(claims.status_list.lst.as_bytes())
        .map_err(|_| Error::Malformed("status list: lst is not base64url"))?;
    let mut bytes = Vec::new();
    ZlibDecoder::new(compressed.as_slice())
        .take(MAX_LIST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| Error::Malformed("status list: lst is not ZLIB"))?;
    if bytes.len() as u64 > MAX_LIST_BYTES {
        return Err(Error::Malformed("status list: lst is too large"));
    }
    Ok(ReadList {
        uri: claims.sub.to_owned(),
        ttl: claims.ttl,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_0_is_the_least_significant_bit_of_the_first_byte() {
        // The draft's own example: indexes 0, 3, 4, 5, 7, 8, 9, 13, 15 set
        // in 16 make the bytes b9 a3.
        let bytes = bitmap(16, [0, 3, 4, 5, 7, 8, 9, 13, 15]);
        assert_eq!(bytes, [0xb9, 0xa3]);
        assert_eq!(
            bitmap(16, [16, 99]),
            [0, 0],
            "indexes past the end are ignored"
        );
    }
}
