//! [`StoreError`]: a session store's failure, with its cause kept.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use super::BoxError;

/// What kind of failure a [`StoreError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// Connection lost, timeout, pool exhausted, serialization failure:
    /// the same call may succeed later.
    Unavailable,
    /// `create` was given an id that already exists.
    AlreadyExists,
    /// The store holds data it cannot read back as a session.
    Corrupt,
    /// Anything else; retrying will not help.
    Other,
    /// The store does not implement this operation (an optional method of
    /// the contract left to its default, such as
    /// [`insert_dpop_jti`](crate::store::RefreshStore::insert_dpop_jti)).
    Unsupported,
}

/// A failure of the session store, with its cause kept as the source.
///
/// Never means the token was bad. [`StoreError::is_retryable`] says whether
/// the same call may succeed later.
#[derive(Debug)]
pub struct StoreError {
    kind: StoreErrorKind,
    message: Cow<'static, str>,
    source: Option<BoxError>,
}

impl StoreError {
    /// A store error of `kind`, described by `message`.
    pub fn new(kind: StoreErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A retryable failure (connection, timeout, pool...).
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StoreErrorKind::Unavailable, message)
    }

    /// A non-retryable failure.
    pub fn other(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StoreErrorKind::Other, message)
    }

    /// Attaches the underlying error (a driver error, say) as the source.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        self.kind == StoreErrorKind::Unavailable
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
