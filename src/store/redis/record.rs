//! A session record as the fields of a Redis hash, and back.
//!
//! | field | value |
//! |---|---|
//! | `sub` | the subject |
//! | `gen` | the generation, in decimal |
//! | `hash` | the secret hash, 32 raw bytes |
//! | `created`, `refreshed`, `idle`, `absolute` | instants (below) |
//! | `claims` | the application's claims, JSON |
//! | `info` | the device info, JSON |
//! | `auth` | the authentication context, JSON (absent: none recorded) |
//! | `seen` | the client of the last refresh, JSON (absent: none yet) |
//! | `pgen`, `phash`, `prot`, `pwrap` | grace data: generation, secret hash, rotation instant, wrapped secret (all or none) |
//! | `rreason`, `rat` | revocation: reason ([`RevocationReason::as_str`]) and instant (both or none) |
//! | `jkt` | the DPoP key thumbprint, 32 raw bytes (absent: not bound) |
//! | `sidx` | the status index, in decimal (absent: none) |
//!
//! An instant is `<unix seconds, rounded down>.<nine digits of
//! nanoseconds>`, exact to the nanosecond, which the scripts compare as two
//! numbers. The session id is the key's, not a field.

use redis::Value;
use time::{Duration, OffsetDateTime};

use crate::error::{StoreError, StoreErrorKind};
use crate::session::{GraceData, LastSeen, Revocation, RevocationReason, SessionId, SessionRecord};
use crate::session::{Jkt, SecretHash, WrappedSecret};

/// An instant as the store writes it.
pub(super) fn instant(at: OffsetDateTime) -> String {
    format!("{}.{:09}", at.unix_timestamp(), at.nanosecond())
}

/// `value` as JSON: strings, numbers and an address, which cannot fail.
pub(super) fn json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec())
}

/// The fields of `record`, as `create` writes them.
pub(super) fn fields(record: &SessionRecord) -> Vec<(&'static str, Vec<u8>)> {
    // Strings and an address: serializing it cannot fail.
    let info = serde_json::to_vec(&record.info).unwrap_or_else(|_| b"{}".to_vec());
    let mut fields = vec![
        ("sub", record.subject.clone().into_bytes()),
        ("gen", record.generation.to_string().into_bytes()),
        ("hash", record.secret_hash.as_bytes().to_vec()),
        ("created", instant(record.created_at).into_bytes()),
        ("refreshed", instant(record.refreshed_at).into_bytes()),
        ("idle", instant(record.idle_expires_at).into_bytes()),
        ("absolute", instant(record.absolute_expires_at).into_bytes()),
        ("claims", record.claims_json.clone().into_bytes()),
        ("info", info),
    ];
    if let Some(auth) = &record.auth {
        fields.push(("auth", json(auth)));
    }
    if record.last_seen != LastSeen::default() {
        fields.push(("seen", json(&record.last_seen)));
    }
    if let Some(previous) = &record.previous {
        fields.extend([
            ("pgen", previous.generation.to_string().into_bytes()),
            ("phash", previous.secret_hash.as_bytes().to_vec()),
            ("prot", instant(previous.rotated_at).into_bytes()),
            ("pwrap", previous.wrapped_secret.as_bytes().to_vec()),
        ]);
    }
    if let Some(jkt) = &record.jkt {
        fields.push(("jkt", jkt.to_bytes().to_vec()));
    }
    if let Some(index) = record.status_index {
        fields.push(("sidx", index.to_string().into_bytes()));
    }
    if let Some(revoked) = &record.revoked {
        fields.extend([
            ("rreason", revoked.reason.as_str().as_bytes().to_vec()),
            ("rat", instant(revoked.at).into_bytes()),
        ]);
    }
    fields
}

/// The record of session `id` from an `HGETALL` reply (or our scripts' copy
/// of one); `None` for a missing key.
///
/// # Errors
/// `Corrupt` if a field is missing or malformed.
pub(super) fn decode(id: SessionId, reply: Value) -> Result<Option<SessionRecord>, StoreError> {
    let fields = Fields::from_reply(reply)?;
    if fields.0.is_empty() {
        return Ok(None);
    }
    fields.record(id).map(Some)
}

/// The field/value pairs of one hash.
pub(super) struct Fields(Vec<(Vec<u8>, Vec<u8>)>);

impl Fields {
    pub(super) fn from_reply(reply: Value) -> Result<Self, StoreError> {
        let pairs = match reply {
            Value::Nil => Vec::new(),
            // RESP2 answers HGETALL with a flat array, RESP3 with a map.
            Value::Array(items) => {
                if items.len() % 2 != 0 {
                    return Err(corrupt("a hash reply with an odd number of items"));
                }
                let mut items = items.into_iter();
                let mut pairs = Vec::with_capacity(items.len() / 2);
                while let (Some(field), Some(value)) = (items.next(), items.next()) {
                    pairs.push((bytes(field)?, bytes(value)?));
                }
                pairs
            }
            Value::Map(items) => items
                .into_iter()
                .map(|(field, value)| Ok((bytes(field)?, bytes(value)?)))
                .collect::<Result<_, StoreError>>()?,
            _ => return Err(corrupt("a reply that is not a hash")),
        };
        Ok(Self(pairs))
    }

    pub(super) fn get(&self, name: &str) -> Option<&[u8]> {
        let found = self.0.iter().find(|(field, _)| field == name.as_bytes());
        found.map(|(_, value)| value.as_slice())
    }

    /// Whether any of `names` is set: then all must be.
    fn any(&self, names: &[&str]) -> bool {
        names.iter().any(|name| self.get(name).is_some())
    }

    fn required(&self, name: &'static str) -> Result<&[u8], StoreError> {
        self.get(name).ok_or_else(|| corrupt(name))
    }

    pub(super) fn text(&self, name: &'static str) -> Result<&str, StoreError> {
        std::str::from_utf8(self.required(name)?).map_err(|_| corrupt(name))
    }

    fn number(&self, name: &'static str) -> Result<u64, StoreError> {
        self.text(name)?.parse().map_err(|_| corrupt(name))
    }

    fn bytes32(&self, name: &'static str) -> Result<[u8; 32], StoreError> {
        self.required(name)?.try_into().map_err(|_| corrupt(name))
    }

    pub(super) fn instant(&self, name: &'static str) -> Result<OffsetDateTime, StoreError> {
        parse_instant(self.text(name)?).ok_or_else(|| corrupt(name))
    }

    fn record(&self, id: SessionId) -> Result<SessionRecord, StoreError> {
        let previous = match self.any(&["pgen", "phash", "prot", "pwrap"]) {
            false => None,
            true => Some(GraceData {
                generation: self.number("pgen")?,
                secret_hash: SecretHash::from_bytes(self.bytes32("phash")?),
                rotated_at: self.instant("prot")?,
                wrapped_secret: WrappedSecret::from_bytes(self.bytes32("pwrap")?),
            }),
        };
        let revoked = match self.any(&["rreason", "rat"]) {
            false => None,
            true => Some(Revocation {
                reason: self
                    .text("rreason")?
                    .parse::<RevocationReason>()
                    .map_err(|_| corrupt("rreason"))?,
                at: self.instant("rat")?,
            }),
        };
        let info = serde_json::from_slice(self.required("info")?).map_err(|e| {
            StoreError::new(StoreErrorKind::Corrupt, "corrupt session record: info").with_source(e)
        })?;
        let auth = self.optional_json("auth")?;
        let last_seen = self.optional_json("seen")?.unwrap_or_default();
        Ok(SessionRecord {
            id,
            subject: self.text("sub")?.to_owned(),
            generation: self.number("gen")?,
            secret_hash: SecretHash::from_bytes(self.bytes32("hash")?),
            jkt: match self.any(&["jkt"]) {
                false => None,
                true => Some(Jkt::from_bytes(self.bytes32("jkt")?)),
            },
            previous,
            created_at: self.instant("created")?,
            refreshed_at: self.instant("refreshed")?,
            idle_expires_at: self.instant("idle")?,
            absolute_expires_at: self.instant("absolute")?,
            revoked,
            claims_json: self.text("claims")?.to_owned(),
            info,
            auth,
            last_seen,
            status_index: match self.any(&["sidx"]) {
                false => None,
                true => Some(self.number("sidx")?),
            },
        })
    }

    fn optional_json<T: serde::de::DeserializeOwned>(
        &self,
        name: &'static str,
    ) -> Result<Option<T>, StoreError> {
        if !self.any(&[name]) {
            return Ok(None);
        }
        serde_json::from_slice(self.required(name)?)
            .map(Some)
            .map_err(|e| corrupt(name).with_source(e))
    }
}

fn bytes(value: Value) -> Result<Vec<u8>, StoreError> {
    match value {
        Value::BulkString(bytes) => Ok(bytes),
        Value::SimpleString(text) => Ok(text.into_bytes()),
        _ => Err(corrupt("a hash item that is not a string")),
    }
}

/// Parses what [`instant`] writes, and nothing else.
fn parse_instant(text: &str) -> Option<OffsetDateTime> {
    let (seconds, nanos) = text.split_once('.')?;
    if nanos.len() != 9 || !nanos.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: i64 = seconds.parse().ok()?;
    let nanos: i64 = nanos.parse().ok()?;
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()?
        .checked_add(Duration::nanoseconds(nanos))
}

fn corrupt(what: &'static str) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, "corrupt session record").with_source(Field(what))
}

/// Which field of a record was missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("missing or malformed: {0}")]
struct Field(&'static str);

#[cfg(test)]
mod tests {
    use super::*;

    /// A record with every optional part set.
    fn sample() -> SessionRecord {
        let t = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        SessionRecord {
            id: SessionId::random(),
            subject: "Zoë".into(),
            generation: 8,
            secret_hash: SecretHash::from_bytes([1; 32]),
            jkt: None,
            previous: Some(GraceData {
                generation: 7,
                secret_hash: SecretHash::from_bytes([2; 32]),
                rotated_at: t + Duration::seconds(9),
                wrapped_secret: WrappedSecret::from_bytes([3; 32]),
            }),
            created_at: t + Duration::microseconds(5),
            refreshed_at: t + Duration::seconds(9),
            idle_expires_at: t + Duration::hours(1),
            absolute_expires_at: t + Duration::days(1),
            revoked: Some(Revocation {
                reason: RevocationReason::SessionLimit,
                at: t + Duration::seconds(10),
            }),
            claims_json: r#"{"role":"admin"}"#.into(),
            info: crate::SessionInfo::default()
                .with_label("phone")
                .with_kind("mobile"),
            auth: Some(crate::AuthContext::new(
                t,
                vec!["pwd".into(), "hwk".into()],
                Some("urn:example:mfa".into()),
            )),
            last_seen: LastSeen::new()
                .with_ip([192, 0, 2, 7].into())
                .with_user_agent("Firefox"),
            status_index: Some(77),
        }
    }

    #[test]
    fn instants_round_trip_to_the_nanosecond_before_and_after_1970() {
        for (unix, nanos) in [
            (1_767_225_600, 0),
            (1_767_225_600, 123_456_789),
            (-1, 500_000_000),
            (-86_401, 999_999_999),
            (0, 1),
        ] {
            let at =
                OffsetDateTime::from_unix_timestamp(unix).unwrap() + Duration::nanoseconds(nanos);
            let text = instant(at);
            assert_eq!(parse_instant(&text), Some(at), "{text}");
        }
        // Seconds rounded down, so the nanoseconds never make it negative.
        let half_before = OffsetDateTime::UNIX_EPOCH - Duration::milliseconds(500);
        assert_eq!(instant(half_before), "-1.500000000");
    }

    #[test]
    fn malformed_instants_are_refused() {
        for bad in [
            "",
            "1",
            "1.5",
            "1.0000000000",
            "x.000000000",
            "1.00000000x",
            "1.-00000000",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_missing_or_malformed_field_is_corrupt() {
        let record = sample();
        let good: Vec<Value> = fields(&record)
            .into_iter()
            .flat_map(|(f, v)| [Value::BulkString(f.into()), Value::BulkString(v)])
            .collect();
        let back = decode(record.id, Value::Array(good.clone())).unwrap();
        assert_eq!(back, Some(record.clone()));
        assert_eq!(decode(record.id, Value::Array(Vec::new())).unwrap(), None);
        // Drop each field in turn, then garble each value.
        for i in (0..good.len()).step_by(2) {
            let mut missing = good.clone();
            let field = missing.drain(i..i + 2).next();
            let optional = ["auth", "seen", "sidx"].map(|f| Value::BulkString(f.into()));
            match decode(record.id, Value::Array(missing)) {
                // A session stored before these fields existed.
                Ok(Some(back)) if field.as_ref().is_some_and(|f| optional.contains(f)) => {
                    assert_ne!(back, record);
                }
                other => assert_eq!(other.unwrap_err().kind(), StoreErrorKind::Corrupt),
            }
            let mut garbled = good.clone();
            garbled[i + 1] = Value::BulkString(vec![0xff, b'x']);
            let err = decode(record.id, Value::Array(garbled)).unwrap_err();
            assert_eq!(err.kind(), StoreErrorKind::Corrupt);
        }
        let bound = SessionRecord {
            jkt: Some(Jkt::from_bytes([4; 32])),
            ..record.clone()
        };
        let pairs = |r: &SessionRecord| -> Vec<Value> {
            fields(r)
                .into_iter()
                .flat_map(|(f, v)| [Value::BulkString(f.into()), Value::BulkString(v)])
                .collect()
        };
        let back = decode(bound.id, Value::Array(pairs(&bound))).unwrap();
        assert_eq!(back, Some(bound.clone()));
        let mut short = pairs(&bound);
        let at = short
            .iter()
            .position(|v| *v == Value::BulkString(b"jkt".to_vec()));
        short[at.unwrap() + 1] = Value::BulkString(vec![4; 31]);
        let err = decode(bound.id, Value::Array(short)).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Corrupt);
        let err = decode(record.id, Value::Int(3)).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    }
}
