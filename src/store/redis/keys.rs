//! The store's key names, and the Lua scripts that work on them.

use std::sync::LazyLock;

use redis::Script;

use crate::error::ConfigError;
use crate::session::SessionId;

/// The key names under one prefix.
///
/// - `<prefix>:s:{<session id>}`: a session's hash. The hash tag is the id,
///   so sessions spread over Cluster slots, and every script that touches a
///   session touches only its key.
/// - `<prefix>:u:{<subject>}`: a subject's index, a sorted set of session
///   ids, in the subject's slot. (A subject with a `}` gets a shorter tag,
///   still one slot.)
/// - `<prefix>:feed`: the revocation feed, a stream (one server only).
/// - `<prefix>:j:{<replay key>}`: a DPoP proof remembered until it is
///   stale (`replay.rs`), expired by Redis itself.
///
/// The prefix may hold no `{`, `}` (hash tags) and no `*`, `?`, `[`, `]`,
/// `\` (SCAN patterns), so the first `{` of a key ends its prefix and no
/// store's keys match another prefix's pattern.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    prefix: String,
}

/// Characters a prefix must not contain.
const FORBIDDEN: &[char] = &['{', '}', '*', '?', '[', ']', '\\'];

/// The longest prefix accepted: it is repeated in every key.
pub(super) const MAX_PREFIX_LEN: usize = 128;

impl Keys {
    /// The keys under `prefix`, if it is usable.
    ///
    /// # Errors
    /// An empty or over-long prefix, or one with a character outside
    /// printable ASCII or among `{ } * ? [ ] \`.
    pub(super) fn new(prefix: &str) -> Result<Self, ConfigError> {
        if prefix.is_empty() || prefix.len() > MAX_PREFIX_LEN {
            return Err(ConfigError::new(format!(
                "Redis key prefix must be 1 to {MAX_PREFIX_LEN} bytes long"
            )));
        }
        let bad = |c: char| !c.is_ascii_graphic() || FORBIDDEN.contains(&c);
        if prefix.chars().any(bad) {
            return Err(ConfigError::new(
                "Redis key prefix must be printable ASCII without spaces or any of { } * ? [ ] \\",
            ));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
        })
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The hash of session `id`.
    pub(super) fn session(&self, id: &SessionId) -> String {
        format!("{}:s:{{{id}}}", self.prefix)
    }

    /// The index of `subject`'s sessions (bytes: a subject may be any text).
    pub(super) fn subject(&self, subject: &str) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.prefix.len() + subject.len() + 5);
        key.extend_from_slice(self.prefix.as_bytes());
        key.extend_from_slice(b":u:{");
        key.extend_from_slice(subject.as_bytes());
        key.push(b'}');
        key
    }

    /// The revocation feed's stream (one server only, so no hash tag).
    pub(super) fn feed(&self) -> String {
        format!("{}:feed", self.prefix)
    }

    /// The SCAN pattern matching every session hash under this prefix.
    pub(super) fn session_pattern(&self) -> String {
        format!("{}:s:{{*", self.prefix)
    }

    /// The session id in a key matched by [`Keys::session_pattern`].
    pub(super) fn session_id(&self, key: &[u8]) -> Option<SessionId> {
        let rest = key.strip_prefix(self.prefix.as_bytes())?;
        let id = rest.strip_prefix(b":s:{")?.strip_suffix(b"}")?;
        std::str::from_utf8(id).ok()?.parse().ok()
    }
}

/// One Lua script per atomic operation, each with the shared prelude.
pub(super) struct Scripts {
    pub(super) create: Script,
    pub(super) index: Script,
    pub(super) rotate: Script,
    pub(super) revoke: Script,
    pub(super) revoke_subject: Script,
    pub(super) purge: Script,
}

macro_rules! script {
    ($($file:literal),+) => {
        Script::new(concat!(include_str!("prelude.lua"), $(include_str!($file)),+))
    };
}

/// The scripts, hashed once per process.
pub(super) fn scripts() -> &'static Scripts {
    static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
        create: script!("create.lua"),
        index: script!("index.lua"),
        rotate: script!("rotate.lua"),
        revoke: script!("feed.lua", "revoke.lua"),
        revoke_subject: script!("feed.lua", "revoke_subject.lua"),
        purge: script!("purge.lua"),
    });
    &SCRIPTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_tagged_by_session_and_by_subject() {
        let keys = Keys::new("app:auth").unwrap();
        let id = SessionId::from_bytes([0; 16]);
        let session = keys.session(&id);
        assert_eq!(session, "app:auth:s:{AAAAAAAAAAAAAAAAAAAAAA}");
        assert_eq!(keys.session_id(session.as_bytes()), Some(id));
        assert_eq!(keys.subject("ann"), b"app:auth:u:{ann}");
        assert_eq!(keys.session_pattern(), "app:auth:s:{*");
        // Another prefix's keys, or an index, are no session of ours.
        let other = Keys::new("app:auth:s:").unwrap();
        assert_eq!(keys.session_id(other.session(&id).as_bytes()), None);
        assert_eq!(keys.session_id(b"app:auth:u:{ann}"), None);
        assert_eq!(keys.session_id(b"app:auth:s:{nope}"), None);
    }

    #[test]
    fn prefixes_that_would_break_tags_or_patterns_are_refused() {
        let long = "x".repeat(MAX_PREFIX_LEN + 1);
        for bad in [
            "", "a{b", "a}b", "a*", "a?", "a[b]", "a\\b", "a b", "é", &long,
        ] {
            assert!(Keys::new(bad).is_err(), "{bad:?}");
        }
        for good in ["jwt-rotate", "app:auth", "a", &long[1..]] {
            assert!(Keys::new(good).is_ok(), "{good:?}");
        }
    }
}
