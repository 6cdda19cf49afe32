//! A database error made up for tests of the dialects' error judging.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use sqlx::error::{DatabaseError, ErrorKind};

#[derive(Debug)]
struct Fake {
    code: &'static str,
    message: &'static str,
    kind: ErrorKind,
}

impl fmt::Display for Fake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl StdError for Fake {}

impl DatabaseError for Fake {
    fn message(&self) -> &str {
        self.message
    }
    fn code(&self) -> Option<Cow<'_, str>> {
        Some(self.code.into())
    }
    fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        self
    }
    fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
        self
    }
    fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
        self
    }
    fn kind(&self) -> ErrorKind {
        match self.kind {
            ErrorKind::UniqueViolation => ErrorKind::UniqueViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// A database error with this code and message.
pub(super) fn error(code: &'static str, message: &'static str) -> sqlx::Error {
    let kind = ErrorKind::Other;
    sqlx::Error::Database(Box::new(Fake {
        code,
        message,
        kind,
    }))
}

/// A unique violation with this code.
pub(super) fn unique(code: &'static str) -> sqlx::Error {
    let kind = ErrorKind::UniqueViolation;
    let message = "duplicate key";
    sqlx::Error::Database(Box::new(Fake {
        code,
        message,
        kind,
    }))
}
