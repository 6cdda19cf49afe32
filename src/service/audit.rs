//! The audit-event schema: each [`Event`] as one line of JSON, for a SIEM.
//!
//! The schema is documented on [`Event::to_json_line`].

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::hooks::Event;

/// The schema version every line carries.
const VERSION: u8 = 1;

impl Event<'_> {
    /// The event's name in the audit schema, e.g. `"reuse_detected"`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Issued { .. } => "issued",
            Event::Refreshed { .. } => "refreshed",
            Event::GraceReplay { .. } => "grace_replay",
            Event::RotationInDoubt { .. } => "rotation_in_doubt",
            Event::ReuseDetected { .. } => "reuse_detected",
            Event::Revoked { .. } => "revoked",
            Event::SubjectRevoked { .. } => "subject_revoked",
        }
    }

    /// The event as one line of JSON in the audit schema, without a
    /// newline: hand it to the log shipper of your SIEM.
    ///
    /// # Audit schema
    /// The schema is a stable interface (version `v: 1`): fields are only ever
    /// added, never renamed or retyped, and a change that cannot be made so
    /// gets a new `v`.
    ///
    /// | `event` | other fields |
    /// |---|---|
    /// | `issued` | `subject`, `session_id` |
    /// | `refreshed` | `subject`, `session_id`, `generation` |
    /// | `grace_replay` | `subject`, `session_id`, `generation` |
    /// | `rotation_in_doubt` | `subject`, `session_id`, `generation` |
    /// | `reuse_detected` | `subject`, `session_id`, `presented`, `current` |
    /// | `revoked` | `session_id`, `reason` |
    /// | `subject_revoked` | `subject`, `count`, `reason` |
    ///
    /// Every line also has `v` (1) and `level` (`info`, or `warn` for the two
    /// events worth a look: `reuse_detected` and `rotation_in_doubt`).
    /// `session_id` is the session's id as it prints; `reason` is
    /// [`RevocationReason::as_str`](crate::RevocationReason::as_str);
    /// generations and counts are numbers. No token or secret is ever in an
    /// event; the subject is, since an audit trail needs it (unlike the
    /// `tracing` lines, which name it only at `DEBUG`). The line has no timestamp: the collector that receives it adds
    /// its own, as it does for every other log line.
    ///
    /// ```
    /// use jwt_rotate::{Event, RevocationReason, SessionId};
    ///
    /// let id: SessionId = "AAAAAAAAAAAAAAAAAAAAAA".parse()?;
    /// let line = Event::Revoked { session_id: &id, reason: RevocationReason::Logout }.to_json_line();
    /// assert_eq!(
    ///     line,
    ///     r#"{"v":1,"event":"revoked","level":"info","session_id":"AAAAAAAAAAAAAAAAAAAAAA","reason":"logout"}"#
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_json_line(&self) -> String {
        // Strings, numbers and fixed names only: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    fn level(&self) -> &'static str {
        match self {
            Event::ReuseDetected { .. } | Event::RotationInDoubt { .. } => "warn",
            _ => "info",
        }
    }
}

/// The audit schema (see the module docs).
impl Serialize for Event<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("v", &VERSION)?;
        map.serialize_entry("event", self.name())?;
        map.serialize_entry("level", self.level())?;
        match *self {
            Event::Issued {
                subject,
                session_id,
            } => {
                map.serialize_entry("subject", subject)?;
                map.serialize_entry("session_id", session_id)?;
            }
            Event::Refreshed {
                subject,
                session_id,
                generation,
            }
            | Event::GraceReplay {
                subject,
                session_id,
                generation,
            }
            | Event::RotationInDoubt {
                subject,
                session_id,
                generation,
            } => {
                map.serialize_entry("subject", subject)?;
                map.serialize_entry("session_id", session_id)?;
                map.serialize_entry("generation", &generation)?;
            }
            Event::ReuseDetected {
                subject,
                session_id,
                presented,
                current,
            } => {
                map.serialize_entry("subject", subject)?;
                map.serialize_entry("session_id", session_id)?;
                map.serialize_entry("presented", &presented)?;
                map.serialize_entry("current", &current)?;
            }
            Event::Revoked { session_id, reason } => {
                map.serialize_entry("session_id", session_id)?;
                map.serialize_entry("reason", reason.as_str())?;
            }
            Event::SubjectRevoked {
                subject,
                count,
                reason,
            } => {
                map.serialize_entry("subject", subject)?;
                map.serialize_entry("count", &count)?;
                map.serialize_entry("reason", reason.as_str())?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::session::{RevocationReason, SessionId};

    fn parsed(event: Event<'_>) -> Value {
        let line = event.to_json_line();
        assert!(!line.contains('\n'), "{line}");
        serde_json::from_str(&line).unwrap()
    }

    #[test]
    fn every_event_has_its_fields() {
        let id = SessionId::from_bytes([7; 16]);
        let sid = id.to_string();
        let cases = [
            (
                Event::Issued {
                    subject: "alice",
                    session_id: &id,
                },
                json!({"v": 1, "event": "issued", "level": "info", "subject": "alice", "session_id": sid}),
            ),
            (
                Event::Refreshed {
                    subject: "alice",
                    session_id: &id,
                    generation: 4,
                },
                json!({"v": 1, "event": "refreshed", "level": "info", "subject": "alice", "session_id": sid, "generation": 4}),
            ),
            (
                Event::GraceReplay {
                    subject: "alice",
                    session_id: &id,
                    generation: 4,
                },
                json!({"v": 1, "event": "grace_replay", "level": "info", "subject": "alice", "session_id": sid, "generation": 4}),
            ),
            (
                Event::RotationInDoubt {
                    subject: "alice",
                    session_id: &id,
                    generation: 4,
                },
                json!({"v": 1, "event": "rotation_in_doubt", "level": "warn", "subject": "alice", "session_id": sid, "generation": 4}),
            ),
            (
                Event::ReuseDetected {
                    subject: "alice",
                    session_id: &id,
                    presented: 2,
                    current: 5,
                },
                json!({"v": 1, "event": "reuse_detected", "level": "warn", "subject": "alice", "session_id": sid, "presented": 2, "current": 5}),
            ),
            (
                Event::Revoked {
                    session_id: &id,
                    reason: RevocationReason::Revoked,
                },
                json!({"v": 1, "event": "revoked", "level": "info", "session_id": sid, "reason": "revoked"}),
            ),
            (
                Event::SubjectRevoked {
                    subject: "alice",
                    count: 3,
                    reason: RevocationReason::SubjectRevoked,
                },
                json!({"v": 1, "event": "subject_revoked", "level": "info", "subject": "alice", "count": 3, "reason": "subject_revoked"}),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(parsed(event), expected, "{event:?}");
        }
    }

    #[test]
    fn a_subject_with_quotes_stays_one_json_string() {
        let id = SessionId::from_bytes([1; 16]);
        let subject = "eve\",\"event\":\"forged\n";
        let value = parsed(Event::Issued {
            subject,
            session_id: &id,
        });
        assert_eq!(value["event"], "issued");
        assert_eq!(value["subject"], subject);
    }
}
