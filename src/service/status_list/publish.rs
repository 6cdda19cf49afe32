//! `TokenService::status_list`: the signed `statuslist+jwt` of one list,
//! and reading one back.

use time::{Duration, OffsetDateTime};

use super::{MAX_STATUS_LIST_ID, STATUS_LIST_SIZE};
use crate::error::{ConfigError, Error};
use crate::service::TokenService;
use crate::store::{RefreshStore, StoreOp};
use crate::token::status::{ListTimes, ReadList, read_list, sign_list};

/// A signed status list token (`typ: statuslist+jwt`), as
/// [`TokenService::status_list`] builds it: serve it as
/// `application/statuslist+jwt`, cacheable for [`ttl`](Self::ttl).
#[derive(Clone, PartialEq, Eq)]
pub struct StatusListToken {
    token: String,
    ttl: Duration,
    expires_at: OffsetDateTime,
}

impl StatusListToken {
    /// The media type to serve it as.
    pub const MEDIA_TYPE: &'static str = "application/statuslist+jwt";

    /// The compact JWS.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// How long a consumer may cache it (its `ttl` claim): the
    /// `Cache-Control: max-age` to send with it.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Its `exp`: two `ttl`s after it was built, so that a consumer that
    /// fetches every `ttl` survives one failed fetch.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }
}

// Not a secret, but long: its length says more in a log.
impl std::fmt::Debug for StatusListToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusListToken")
            .field("bytes", &self.token.len())
            .field("ttl", &self.ttl)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A status list read back from a verified token, by
/// [`TokenService::read_status_list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList(ReadList);

impl StatusList {
    /// The list's URI (its `sub`): what an access token's
    /// `status.status_list.uri` names.
    pub fn uri(&self) -> &str {
        &self.0.uri
    }

    /// How many indexes it has.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// Whether it has no index at all.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// Whether the session at `idx` (an access token's
    /// `status.status_list.idx`) is revoked: `Some(true)` for INVALID,
    /// `Some(false)` for VALID, `None` past the end of the list.
    pub fn is_revoked(&self, idx: u64) -> Option<bool> {
        self.0.is_set(idx)
    }
}

impl<S: RefreshStore, C> TokenService<S, C> {
    /// The signed status list `id` (draft-ietf-oauth-status-list): one bit
    /// per status index from `id * STATUS_LIST_SIZE`, 1 (INVALID) for each
    /// revoked session the store still holds. `sub` is the list's URI,
    /// `ttl` the builder's `status_list_ttl`, signed with the access key.
    /// One store read ([`revoked_status_indexes`]) per call: serve it from
    /// a cache for its `ttl` when many resource servers fetch it.
    ///
    /// `Ok(None)` for an id past [`MAX_STATUS_LIST_ID`]. A list no session
    /// has reached yet is all zeros.
    ///
    /// [`revoked_status_indexes`]: crate::store::RefreshStore::revoked_status_indexes
    ///
    /// # Errors
    /// [`Error::Config`] when the service was built without
    /// [`status_list`](crate::TokenServiceBuilder::status_list);
    /// [`Error::Store`] when the store fails.
    pub async fn status_list(&self, id: u64) -> Result<Option<StatusListToken>, Error> {
        let inner = &*self.inner;
        let Some(settings) = inner.settings.status_list.as_ref() else {
            return Err(
                ConfigError::new("status lists need TokenServiceBuilder::status_list").into(),
            );
        };
        if id > MAX_STATUS_LIST_ID {
            return Ok(None);
        }
        let start = id * STATUS_LIST_SIZE;
        let range = start..start + STATUS_LIST_SIZE;
        let revoked = self
            .timed(
                StoreOp::StatusList,
                inner.store.revoked_status_indexes(range.clone()),
            )
            .await?;
        let now = self.now();
        let ttl = settings.ttl;
        let expires_at = now + ttl + ttl;
        let times = ListTimes {
            iat: now,
            exp: expires_at,
            ttl: ttl.whole_seconds(),
        };
        let offsets = revoked
            .into_iter()
            .filter(|i| range.contains(i))
            .map(|i| i - start);
        let token = sign_list(
            &inner.access,
            &settings.uri(id),
            STATUS_LIST_SIZE,
            offsets,
            times,
        )?;
        Ok(Some(StatusListToken {
            token,
            ttl,
            expires_at,
        }))
    }

    /// Reads a status list token signed by one of the service's access
    /// keys, as a resource server would: signature, `typ`, `exp` (with the
    /// service's leeway), then the list.
    ///
    /// # Errors
    /// [`Error::Malformed`] or [`Error::InvalidSignature`] for a token
    /// that is not such a list; [`Error::Expired`] past its `exp`.
    pub fn read_status_list(&self, token: &str) -> Result<StatusList, Error> {
        let inner = &*self.inner;
        let leeway = inner.settings.rules.leeway;
        read_list(&inner.access, token, self.now(), leeway).map(StatusList)
    }
}
