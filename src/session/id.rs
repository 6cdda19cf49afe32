//! [`SessionId`]: the public, non-secret name of a session.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The id of a session: 128 random bits, shown as 22 base64url characters.
///
/// Not a credential (the refresh token's signed secret is), so it may be
/// logged, shown to users and used in URLs such as `DELETE /sessions/{id}`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; 16]);

impl SessionId {
    /// A fresh random id from the thread-local CSPRNG.
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        rand::fill(&mut bytes);
        Self(bytes)
    }

    /// The id from its 16 raw bytes (as a store may keep it).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The id's text written into `buf`, without allocating.
    pub(crate) fn encode<'b>(&self, buf: &'b mut [u8; 22]) -> &'b str {
        let written = URL_SAFE_NO_PAD.encode_slice(self.0, buf);
        debug_assert_eq!(written, Ok(22));
        // Base64url is ASCII.
        std::str::from_utf8(buf).unwrap_or_default()
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode(&mut [0u8; 22]))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// The text was not a session id: 22 canonical base64url characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a session id")]
pub struct ParseSessionIdError;

impl FromStr for SessionId {
    type Err = ParseSessionIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 22 {
            return Err(ParseSessionIdError);
        }
        let mut bytes = [0u8; 16];
        // The engine rejects padding and non-zero trailing bits, so each id
        // has exactly one spelling.
        match URL_SAFE_NO_PAD.decode_slice(s, &mut bytes) {
            Ok(16) => Ok(Self(bytes)),
            _ => Err(ParseSessionIdError),
        }
    }
}

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_round_trips_through_text() {
        let id = SessionId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 22);
        assert_eq!(text.parse::<SessionId>(), Ok(id));
        assert_ne!(SessionId::random(), id);
    }

    #[test]
    fn session_id_rejects_non_canonical_text() {
        let text = SessionId::from_bytes([0xff; 16]).to_string();
        assert_eq!(text, "_____________________w");
        // Same bits but non-zero trailing bits, padding, standard alphabet.
        for bad in [
            "_____________________x",
            "_____________________w==",
            "/////////////////////w",
            "",
            "short",
            "_____________________w_",
        ] {
            assert_eq!(bad.parse::<SessionId>(), Err(ParseSessionIdError), "{bad}");
        }
    }

    #[test]
    fn session_id_serializes_as_its_text() {
        let id = SessionId::random();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<SessionId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<SessionId>("\"nope\"").is_err());
    }
}
