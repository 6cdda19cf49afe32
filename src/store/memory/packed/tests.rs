//! `Slot` packs every record it is given and gives it back whole.

use time::{Duration, UtcOffset};

use super::*;

fn at(nanos: i128) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap()
}

fn record() -> SessionRecord {
    let t = at(1_767_225_600_123_456_789);
    SessionRecord {
        id: SessionId::from_bytes([7; 16]),
        subject: "user-42".into(),
        generation: 3,
        secret_hash: SecretHash::from_bytes([1; 32]),
        jkt: None,
        previous: None,
        created_at: t,
        refreshed_at: t,
        idle_expires_at: t + Duration::days(7),
        absolute_expires_at: t + Duration::days(30),
        revoked: None,
        claims_json: NO_CLAIMS.into(),
        info: SessionInfo::default(),
        auth: login_auth(t),
        last_seen: LastSeen::default(),
        status_index: None,
    }
}

/// The budget the idle-session target rests on (see the module doc).
#[test]
fn a_slot_is_248_bytes() {
    assert_eq!(std::mem::size_of::<Stamp>(), 12);
    assert_eq!(std::mem::size_of::<Option<Grace>>(), 88);
    assert_eq!(std::mem::size_of::<Option<Slot>>(), 248);
}

#[test]
fn stamps_keep_every_instant_and_order_it() {
    let east = UtcOffset::from_hms(2, 0, 0).unwrap();
    for instant in [
        OffsetDateTime::UNIX_EPOCH,
        at(-1),
        at(-1_000_000_000),
        at(1_767_225_600_500_000_000).to_offset(east),
        // The range `time` supports by default: years -9999 to 9999.
        at(-377_705_116_800_000_000_000),
        at(253_402_300_799_999_999_999),
    ] {
        let back = Stamp::new(instant).get().unwrap();
        assert_eq!(back, instant);
        assert_eq!(back.offset(), UtcOffset::UTC);
    }
    let a = Stamp::new(at(-500_000_000));
    let b = Stamp::new(at(250_000_000));
    assert!(a.before(b) && !b.before(a) && !a.before(a));
}

#[test]
fn records_round_trip_with_and_without_extras() {
    let plain = record();
    assert!(
        Slot::new(&plain, plain.status_index)
            .unwrap()
            .extras
            .is_none(),
        "nothing boxed"
    );
    assert_eq!(
        Slot::new(&plain, plain.status_index)
            .unwrap()
            .record()
            .unwrap(),
        plain
    );

    let mut bound = record();
    bound.jkt = Some(Jkt::from_bytes([7; 32]));
    assert!(
        Slot::new(&bound, bound.status_index)
            .unwrap()
            .extras
            .is_some()
    );
    assert_eq!(
        Slot::new(&bound, bound.status_index)
            .unwrap()
            .record()
            .unwrap(),
        bound
    );

    let mut rich = record();
    rich.claims_json = r#"{"role":"admin"}"#.into();
    rich.info = SessionInfo::default().with_label("laptop");
    assert_eq!(
        Slot::new(&rich, rich.status_index)
            .unwrap()
            .record()
            .unwrap(),
        rich
    );
    rich.auth = None;
    assert_eq!(
        Slot::new(&rich, rich.status_index)
            .unwrap()
            .record()
            .unwrap(),
        rich,
        "no context kept"
    );
    rich.auth = Some(AuthContext::new(rich.created_at, vec!["otp".into()], None));
    rich.last_seen = LastSeen::new().with_user_agent("curl");
    rich.revoked = Some(Revocation {
        reason: RevocationReason::Logout,
        at: rich.created_at + Duration::seconds(1),
    });
    rich.previous = Some(GraceData {
        generation: 2,
        secret_hash: SecretHash::from_bytes([2; 32]),
        rotated_at: rich.created_at,
        wrapped_secret: WrappedSecret::from_bytes([3; 32]),
    });
    assert_eq!(
        Slot::new(&rich, rich.status_index)
            .unwrap()
            .record()
            .unwrap(),
        rich
    );
}

#[test]
fn a_rotation_replaces_what_it_names() {
    let plain = record();
    let mut slot = Slot::new(&plain, plain.status_index).unwrap();
    let at = plain.created_at + Duration::minutes(1);
    let next = RotationUpdate {
        generation: 4,
        secret_hash: SecretHash::from_bytes([9; 32]),
        previous: GraceData {
            generation: 3,
            secret_hash: plain.secret_hash,
            rotated_at: at,
            wrapped_secret: WrappedSecret::from_bytes([5; 32]),
        },
        refreshed_at: at,
        idle_expires_at: at + Duration::days(7),
        claims_json: Some(r#"{"a":1}"#.into()),
        last_seen: None,
        auth: None,
    };
    let expected = ExpectedGeneration {
        generation: 3,
        secret_hash: plain.secret_hash,
    };
    assert!(slot.accepts(&expected, &next));
    slot.apply(&next, next.claims_json.as_deref().map(Box::from));
    let after = slot.record().unwrap();
    assert_eq!(after.generation, 4);
    assert_eq!(after.previous, Some(next.previous.clone()));
    assert_eq!(after.claims_json, r#"{"a":1}"#);
    assert_eq!(after.idle_expires_at, at + Duration::days(7));
    assert_eq!(after.created_at, plain.created_at);
    assert!(!slot.accepts(&expected, &next), "spent");
}

#[test]
fn expiry_is_at_or_before_now() {
    let plain = record();
    let slot = Slot::new(&plain, plain.status_index).unwrap();
    assert!(!slot.expired(Stamp::new(plain.idle_expires_at - Duration::nanoseconds(1))));
    assert!(slot.expired(Stamp::new(plain.idle_expires_at)));
}
