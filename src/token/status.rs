//! Token Status List (draft-ietf-oauth-status-list): the `status` claim
//! of an access token, and the signed `statuslist+jwt` that says, one bit
//! per index, which sessions are revoked.
//!
//! The list is the draft's: `status_list.bits` is 1, `lst` is the bytes
//! of the list compressed with DEFLATE in the ZLIB format (RFC 1950) and
//! encoded base64url without padding; index `i` is bit `i % 8` of byte
//! `i / 8`, counted from the least significant bit. 1 means INVALID
//! (the session is revoked), 0 VALID.

use super::json::Object;

#[cfg(feature = "status-list")]
mod list;

#[cfg(feature = "status-list")]
pub(crate) use list::{ListTimes, ReadList, read_list, sign_list};

/// Where an access token's status is: index `idx` of the list at `uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusRef {
    pub(crate) idx: u64,
    pub(crate) uri: String,
}

impl StatusRef {
    /// Writes `"status": {"status_list": {"idx": .., "uri": ..}}`.
    pub(crate) fn write(&self, claims: &mut Object<'_>) {
        claims.object("status", |status| {
            status.object("status_list", |list| {
                list.uint("idx", self.idx).str("uri", &self.uri);
            });
        });
    }
}
