//! What needs no server: reading entries, and finding gaps. tests/redis/
//! runs the feed against a real server.

use redis::Value;
use time::OffsetDateTime;

use super::subscription::chained;
use super::*;
use crate::session::SessionId;

fn text(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

/// A stream entry as XRANGE gives it: `[id, [field, value, ...]]`.
fn raw(id: &str, fields: &[(&str, &str)]) -> Value {
    let fields = fields
        .iter()
        .flat_map(|(f, v)| [text(f), text(v)])
        .collect();
    Value::Array(vec![text(id), Value::Array(fields)])
}

/// An entry revoking session `n` at cursor `cursor`, after `previous`.
fn session(cursor: u64, previous: u64) -> Entry {
    Entry {
        previous,
        // The latest instant so far: the cursor, as seconds.
        latest: OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(cursor as i64),
        event: RevocationEvent {
            revoked: Revoked::Session(SessionId::from_bytes([cursor as u8; 16])),
            at: OffsetDateTime::UNIX_EPOCH,
            cursor: Cursor::new(cursor),
        },
    }
}

#[test]
fn entries_decode_sessions_and_subjects() {
    let id = SessionId::from_bytes([7; 16]).to_string();
    let reply = Value::Array(vec![
        raw(
            "1700000000000-0",
            &[("p", "0"), ("at", "5.000000001"), ("t", "s"), ("id", &id)],
        ),
        raw(
            "1700000000001-0",
            &[
                ("p", "1700000000000"),
                ("t", "u"),
                ("sub", "ann"),
                ("at", "6.000000000"),
                ("m", "6.000000000"),
                ("ex", &id),
            ],
        ),
        raw(
            "1700000000002-0",
            &[
                ("p", "1700000000001"),
                ("t", "u"),
                ("sub", "bob"),
                ("at", "7.000000000"),
                ("m", "8.000000000"),
            ],
        ),
    ]);
    let found = entries(reply).unwrap();
    let at = |s: i64, n: i64| OffsetDateTime::UNIX_EPOCH + time::Duration::new(s, n as i32);
    assert_eq!(
        found,
        [
            Entry {
                previous: 0,
                latest: at(5, 1),
                event: RevocationEvent {
                    revoked: Revoked::Session(SessionId::from_bytes([7; 16])),
                    at: at(5, 1),
                    cursor: Cursor::new(1_700_000_000_000),
                },
            },
            Entry {
                previous: 1_700_000_000_000,
                latest: at(6, 0),
                event: RevocationEvent {
                    revoked: Revoked::Subject {
                        subject: "ann".into(),
                        except: Some(SessionId::from_bytes([7; 16])),
                    },
                    at: at(6, 0),
                    cursor: Cursor::new(1_700_000_000_001),
                },
            },
            Entry {
                previous: 1_700_000_000_001,
                latest: at(8, 0),
                event: RevocationEvent {
                    revoked: Revoked::Subject {
                        subject: "bob".into(),
                        except: None,
                    },
                    at: at(7, 0),
                    cursor: Cursor::new(1_700_000_000_002),
                },
            },
        ]
    );
    assert_eq!(entries(Value::Nil).unwrap(), []);
}

#[test]
fn malformed_entries_are_corrupt_not_skipped() {
    let good = [
        ("p", "0"),
        ("t", "u"),
        ("sub", "ann"),
        ("at", "6.000000000"),
        ("m", "6.000000000"),
    ];
    let ok = entries(Value::Array(vec![raw("9-0", &good)]));
    assert!(ok.is_ok());
    let bad = [
        raw("9-1", &good),
        raw("9", &good),
        raw("-9-0", &good),
        raw("x-0", &good),
        raw("99999999999999999999-0", &good),
        raw("9-0", &good[1..]),
        raw(
            "9-0",
            &[
                ("p", "0"),
                ("t", "z"),
                ("sub", "ann"),
                ("at", "6.000000000"),
                ("m", "6.000000000"),
            ],
        ),
        raw(
            "9-0",
            &[
                ("p", "0"),
                ("t", "s"),
                ("id", "nope"),
                ("at", "6.000000000"),
                ("m", "6.000000000"),
            ],
        ),
        raw(
            "9-0",
            &[
                ("p", "0"),
                ("t", "u"),
                ("sub", "ann"),
                ("at", "6"),
                ("m", "6.000000000"),
            ],
        ),
        raw(
            "9-0",
            &[
                ("p", "x"),
                ("t", "u"),
                ("sub", "ann"),
                ("at", "6.000000000"),
                ("m", "6.000000000"),
            ],
        ),
        raw(
            "9-0",
            &[
                ("p", "0"),
                ("t", "u"),
                ("sub", "ann"),
                ("at", "6.000000000"),
                ("m", "6"),
            ],
        ),
        Value::Int(3),
        Value::Array(vec![text("9-0")]),
    ];
    for item in bad {
        let error = entries(Value::Array(vec![item.clone()])).unwrap_err();
        assert_eq!(error.kind(), StoreErrorKind::Corrupt, "{item:?}");
    }
    assert!(entries(Value::Int(1)).is_err());
}

#[test]
fn catch_up_answers_only_without_a_gap() {
    let head = Cursor::new(30);
    let events = |c: &[Entry]| c.iter().map(|e| e.event.clone()).collect::<Vec<_>>();
    let run = vec![session(10, 0), session(20, 10), session(30, 20)];
    // From the start of a stream never trimmed, and from within it.
    assert_eq!(
        catch_up(Cursor::START, run.clone(), head),
        CatchUp::Events {
            events: events(&run),
            head
        }
    );
    assert_eq!(
        catch_up(Cursor::new(10), run[1..].to_vec(), head),
        CatchUp::Events {
            events: events(&run[1..]),
            head
        }
    );
    // Current: nothing after the head.
    assert_eq!(
        catch_up(head, vec![], head),
        CatchUp::Events {
            events: vec![],
            head
        }
    );
    let second = |n| Some(OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(n));
    // Trimmed: the first entry left does not point back at the cursor;
    // its latest instant bounds those trimmed.
    assert_eq!(
        catch_up(Cursor::START, run[1..].to_vec(), head),
        CatchUp::TooOld {
            head,
            missed_until: second(20)
        }
    );
    // An entry pointing back before the cursor: another history, no bound.
    assert_eq!(
        catch_up(Cursor::new(5), run.clone(), head),
        CatchUp::TooOld {
            head,
            missed_until: None
        }
    );
    // A gap further on (a lost write) is no partial answer either.
    let gap = vec![session(10, 0), session(30, 25)];
    assert_eq!(
        catch_up(Cursor::START, gap, head),
        CatchUp::TooOld {
            head,
            missed_until: second(30)
        }
    );
    // A cursor past the head: the stream lost its last entries.
    assert_eq!(
        catch_up(Cursor::new(31), vec![], head),
        CatchUp::TooOld {
            head,
            missed_until: None
        }
    );
}

#[test]
fn a_subscription_takes_what_chains_on_and_lags_at_a_gap() {
    let at = Cursor::new(10);
    let read = vec![session(20, 10), session(30, 20), session(40, 35)];
    let taken = chained(at, read).unwrap();
    // The break at 40 is left for the next read, from 30.
    assert_eq!(
        taken.iter().map(|e| e.cursor.get()).collect::<Vec<_>>(),
        [20, 30]
    );
    assert_eq!(
        chained(Cursor::new(30), vec![session(40, 35), session(50, 40)]),
        Err(Cursor::new(50))
    );
    assert_eq!(chained(at, vec![]), Ok(vec![]));
}
