//! Token Status List (draft-ietf-oauth-status-list): where a session's
//! status is published, and the signed list itself.
//!
//! Each session's status index (allocated by the store at login) falls in
//! one fixed-size list: index `i` is entry `i % STATUS_LIST_SIZE` of list
//! `i / STATUS_LIST_SIZE`, published at `{base}/{list id}`. Fixed-size
//! lists keep every list, and the work of building it, bounded however
//! many sessions a store has made.

use time::Duration;

use super::TokenService;
use crate::error::ConfigError;
use crate::session::SessionRecord;
use crate::store::RefreshStore;
use crate::token::status::StatusRef;

/// How many indexes each status list has: 2^20, 128 KiB before
/// compression.
pub const STATUS_LIST_SIZE: u64 = 1 << 20;

/// The largest status index a store may give out: the SQL stores keep it
/// as a signed 64-bit integer.
pub(crate) const MAX_STATUS_INDEX: u64 = i64::MAX as u64;

/// The largest list id: 2^43 - 1, the list of the largest status index a
/// store may give out (2^63 - 1, what the SQL stores can keep).
pub const MAX_STATUS_LIST_ID: u64 = MAX_STATUS_INDEX / STATUS_LIST_SIZE;

/// Where the lists are published and how long they may be cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusListSettings {
    /// The lists' base URI, without a trailing `/`.
    pub(crate) base_uri: String,
    /// The lists' `ttl`.
    pub(crate) ttl: Duration,
}

impl StatusListSettings {
    /// The default `ttl`: five minutes.
    #[cfg(feature = "status-list")]
    pub(crate) const DEFAULT_TTL: Duration = Duration::minutes(5);

    /// Refuses a base URI that is not an absolute `http(s)` URI without
    /// query or fragment (a list id is appended to it), and a `ttl` that is
    /// not whole seconds from 1 second to 1 day.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let uri = &self.base_uri;
        let rest = uri
            .strip_prefix("https://")
            .or_else(|| uri.strip_prefix("http://"));
        let fine = rest.is_some_and(|rest| {
            !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.ends_with('/')
                && rest
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !"?#\"\\".contains(c))
        });
        if !fine {
            return Err(ConfigError::new(
                "status_list: the base URI must be http(s)://host[/path], without a \
                 trailing slash, query or fragment",
            ));
        }
        if self.ttl.subsec_nanoseconds() != 0
            || self.ttl < Duration::SECOND
            || self.ttl > Duration::DAY
        {
            return Err(ConfigError::new(
                "status_list_ttl must be whole seconds from 1 second to 1 day",
            ));
        }
        Ok(())
    }

    /// The URI of list `id`.
    pub(crate) fn uri(&self, id: u64) -> String {
        format!("{}/{id}", self.base_uri)
    }
}

impl<S: RefreshStore, C> TokenService<S, C> {
    /// Whether the service publishes status lists, so sessions need a
    /// status index.
    pub(crate) fn status_list_enabled(&self) -> bool {
        self.inner.settings.status_list.is_some()
    }

    /// Where `record`'s status is published, when the service publishes
    /// lists and the store gave the session an index.
    pub(crate) fn status_ref(&self, record: &SessionRecord) -> Option<StatusRef> {
        let settings = self.inner.settings.status_list.as_ref()?;
        let index = record.status_index.filter(|&i| i <= MAX_STATUS_INDEX)?;
        Some(StatusRef {
            idx: index % STATUS_LIST_SIZE,
            uri: settings.uri(index / STATUS_LIST_SIZE),
        })
    }

    /// The longest `status` a token of this service can carry, for
    /// checking a token's room before its session's index is known.
    pub(crate) fn longest_status_ref(&self) -> Option<StatusRef> {
        let settings = self.inner.settings.status_list.as_ref()?;
        Some(StatusRef {
            idx: STATUS_LIST_SIZE - 1,
            uri: settings.uri(MAX_STATUS_LIST_ID),
        })
    }
}

#[cfg(feature = "status-list")]
mod publish;

#[cfg(feature = "status-list")]
pub use publish::{StatusList, StatusListToken};
