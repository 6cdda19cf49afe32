//! Checks on one session at a time: create, get, rotate, revoke.

use time::Duration;

use super::{
    assert_records_match, assert_stored, next_rotation, ok, random_bytes, random_secret_hash,
    rotated, sample_record, unique_subject,
};
use crate::error::StoreErrorKind;
use crate::session::{AuthContext, LastSeen};
use crate::session::{GraceData, Revocation, RevocationReason, SessionId, SessionInfo};
use crate::session::{Jkt, WrappedSecret};
use crate::store::{ExpectedGeneration, RefreshStore};

/// Every reason a store must keep apart (the enum is non-exhaustive).
pub(super) const REASONS: [RevocationReason; 6] = RevocationReason::ALL;

/// `get` returns exactly what `create` stored: every field, grace data,
/// each revocation reason, device info (kind too), the authentication
/// context (or none), last seen, claims, a DPoP key thumbprint (and its
/// absence), and a non-ASCII subject
/// with characters that trip up careless SQL (`'`, `"`, `%`, `_`, `\`).
pub async fn create_then_get_round_trips<S: RefreshStore + ?Sized>(store: &S) {
    let subject = unique_subject("Zoë 用户 🔑 o'brien \"%_\\");
    let mut full = sample_record(&subject);
    let t = full.created_at;
    full.generation = 7;
    full.previous = Some(GraceData {
        generation: 6,
        secret_hash: random_secret_hash(),
        rotated_at: t + Duration::seconds(30),
        wrapped_secret: WrappedSecret::from_bytes(random_bytes()),
    });
    full.refreshed_at = t + Duration::seconds(30);
    full.jkt = Some(Jkt::from_bytes(random_bytes()));
    full.claims_json = r#"{"role":"admin","tenant":"Åcme","scopes":["a","b"],"n":1}"#.into();
    full.info = SessionInfo::default()
        .with_user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Firefox/140.0 – ü")
        .with_ip("2001:db8::42".parse().expect("an IPv6 address"))
        .with_label("Büro-Laptop 💻")
        .with_kind("web");
    full.last_seen = LastSeen::new()
        .with_ip("198.51.100.9".parse().expect("an IPv4 address"))
        .with_user_agent("Safari ü");

    let mut bare = sample_record(&subject);
    bare.info = SessionInfo::default().with_ip("192.0.2.7".parse().expect("an IPv4 address"));
    bare.claims_json = "{}".into();
    bare.auth = None;

    let mut records = vec![full.clone(), bare];
    for (i, reason) in (0..).zip(REASONS) {
        let mut revoked = full.clone();
        revoked.id = SessionId::random();
        revoked.revoked = Some(Revocation {
            reason,
            at: t + Duration::seconds(60 + i),
        });
        records.push(revoked);
    }
    for record in &records {
        ok(store.create(record).await, "create");
        let context = format!("get after create (revoked: {:?})", record.revoked);
        assert_stored(store, record, &context).await;
    }
}

/// `create` fails with `AlreadyExists` for a taken id and leaves the stored
/// session as it was.
pub async fn create_refuses_a_taken_id<S: RefreshStore + ?Sized>(store: &S) {
    let first = sample_record(&unique_subject("taken"));
    ok(store.create(&first).await, "create");
    let mut other = sample_record(&unique_subject("taker"));
    other.id = first.id;
    for attempt in [&first, &other] {
        match store.create(attempt).await {
            Err(e) if e.kind() == StoreErrorKind::AlreadyExists => {}
            Err(e) => panic!("create of a taken id must fail with AlreadyExists, got {e:?}"),
            Ok(()) => panic!("create of a taken id succeeded; it must fail with AlreadyExists"),
        }
    }
    assert_stored(store, &first, "after create of a taken id").await;
}

/// An unknown id is no error: `get` and `rotate` return `None`, `revoke`
/// returns `false`, and none of them creates a session.
pub async fn unknown_ids_are_not_errors<S: RefreshStore + ?Sized>(store: &S) {
    let ghost = sample_record(&unique_subject("ghost"));
    let (expected, next) = next_rotation(&ghost, ghost.created_at + Duration::minutes(1));
    let id = ghost.id;
    assert!(
        ok(store.get(&id).await, "get").is_none(),
        "get of an unknown id must return None"
    );
    let rotation = ok(store.rotate(&id, &expected, &next).await, "rotate");
    assert!(
        rotation.is_none(),
        "rotate of an unknown id must return None"
    );
    let why = Revocation {
        reason: RevocationReason::Revoked,
        at: ghost.created_at,
    };
    let revoked = ok(store.revoke(&id, &why).await, "revoke");
    assert!(!revoked, "revoke of an unknown id must return false");
    let created = ok(store.get(&id).await, "get");
    assert!(
        created.is_none(),
        "rotate or revoke of an unknown id created a session"
    );
}

/// `rotate` applies only at the expected generation with the expected
/// secret hash, returns the updated record, sets exactly the fields of the
/// rotation, never applies the same expectation twice, keeps the claims
/// when given `None` and replaces them when given `Some`, likewise writes
/// last seen and a new authentication context in the same call, and keeps
/// the DPoP key thumbprint.
pub async fn rotate_is_compare_and_swap<S: RefreshStore + ?Sized>(store: &S) {
    let mut record = sample_record(&unique_subject("rotate"));
    record.generation = 3;
    record.jkt = Some(Jkt::from_bytes(random_bytes()));
    ok(store.create(&record).await, "create");
    let t = record.created_at + Duration::minutes(1);
    let (expected, next) = next_rotation(&record, t);

    let wrong = [
        ("an older generation", 2, expected.secret_hash),
        ("a newer generation", 4, expected.secret_hash),
        ("another secret hash", 3, random_secret_hash()),
        ("the new secret hash", 3, next.secret_hash),
    ];
    for (what, generation, secret_hash) in wrong {
        let wrong = ExpectedGeneration {
            generation,
            secret_hash,
        };
        let got = ok(store.rotate(&record.id, &wrong, &next).await, "rotate");
        assert!(
            got.is_none(),
            "rotate applied with {what}: it must compare both"
        );
        assert_stored(store, &record, &format!("after rotate with {what}")).await;
    }

    let first = ok(store.rotate(&record.id, &expected, &next).await, "rotate")
        .expect("rotate refused the stored generation and secret hash of a live session");
    let want = rotated(&record, &next);
    assert_records_match(&first, &want, "the record rotate returned (claims None)");
    assert_stored(store, &want, "after rotate (claims None)").await;
    let again = ok(store.rotate(&record.id, &expected, &next).await, "rotate");
    assert!(
        again.is_none(),
        "rotate applied twice with the same expected generation"
    );
    assert_stored(store, &want, "after a second rotate of one generation").await;

    let (expected, mut next) = next_rotation(&want, t + Duration::minutes(1));
    next.claims_json = Some(r#"{"role":"admin","since":2}"#.into());
    let second = ok(store.rotate(&record.id, &expected, &next).await, "rotate")
        .expect("rotate refused the generation its previous call returned");
    let want = rotated(&want, &next);
    assert_records_match(&second, &want, "the record rotate returned (claims Some)");
    assert_stored(store, &want, "after rotate (claims Some)").await;

    // Last seen and a step-up are written by the rotation itself, in the
    // same call; `None` keeps them (checked above: the sample has both).
    let (expected, mut next) = next_rotation(&want, t + Duration::minutes(2));
    let ip = "2001:db8::7".parse().expect("an IPv6 address");
    next.last_seen = Some(LastSeen::new().with_ip(ip).with_user_agent("curl/8 – ü"));
    next.auth = Some(AuthContext::new(
        t + Duration::minutes(2),
        vec!["hwk".into()],
        None,
    ));
    let third = ok(store.rotate(&record.id, &expected, &next).await, "rotate")
        .expect("rotate refused the generation its previous call returned");
    let want = rotated(&want, &next);
    let context = "rotate with last seen and a new authentication context";
    assert_records_match(&third, &want, context);
    assert_stored(store, &want, context).await;
}

/// A revoked session never rotates, even with the right generation and hash.
pub async fn rotate_refuses_revoked<S: RefreshStore + ?Sized>(store: &S) {
    let mut record = sample_record(&unique_subject("revoked"));
    ok(store.create(&record).await, "create");
    let why = Revocation {
        reason: RevocationReason::ReuseDetected,
        at: record.created_at,
    };
    assert!(
        ok(store.revoke(&record.id, &why).await, "revoke"),
        "revoke of a live session returned false"
    );
    record.revoked = Some(why);
    let (expected, next) = next_rotation(&record, record.created_at + Duration::minutes(1));
    let got = ok(store.rotate(&record.id, &expected, &next).await, "rotate");
    assert!(got.is_none(), "rotate applied to a revoked session");
    assert_stored(store, &record, "after rotate of a revoked session").await;
}

/// `rotate` refuses a session whose idle or absolute expiry is at or before
/// the rotation instant, and applies when both are one second after it.
pub async fn rotate_refuses_expired<S: RefreshStore + ?Sized>(store: &S) {
    let subject = unique_subject("expired");
    let t = sample_record(&subject).created_at + Duration::minutes(1);
    let (second, day) = (Duration::seconds(1), Duration::days(1));
    let cases = [
        ("the idle expiry equals the rotation instant", t, t + day),
        (
            "the absolute expiry equals the rotation instant",
            t + day,
            t,
        ),
        (
            "the idle expiry is before the rotation instant",
            t - second,
            t + day,
        ),
        (
            "the absolute expiry is before the rotation instant",
            t + day,
            t - second,
        ),
    ];
    for (what, idle, absolute) in cases {
        let mut record = sample_record(&subject);
        (record.idle_expires_at, record.absolute_expires_at) = (idle, absolute);
        ok(store.create(&record).await, "create");
        let (expected, next) = next_rotation(&record, t);
        let got = ok(store.rotate(&record.id, &expected, &next).await, "rotate");
        assert!(got.is_none(), "rotate applied although {what}");
        assert_stored(
            store,
            &record,
            &format!("after rotate refused because {what}"),
        )
        .await;
    }
    let mut record = sample_record(&subject);
    (record.idle_expires_at, record.absolute_expires_at) = (t + second, t + second);
    ok(store.create(&record).await, "create");
    let (expected, next) = next_rotation(&record, t);
    let got = ok(store.rotate(&record.id, &expected, &next).await, "rotate");
    assert!(
        got.is_some(),
        "rotate refused a session whose expiries are one second after the rotation instant"
    );
}

/// `revoke` returns `true` once, then `false`, and keeps the first
/// revocation; the revoked session stays readable.
pub async fn revoke_keeps_the_first_revocation<S: RefreshStore + ?Sized>(store: &S) {
    let mut record = sample_record(&unique_subject("revoke"));
    ok(store.create(&record).await, "create");
    let first = Revocation {
        reason: RevocationReason::Logout,
        at: record.created_at + Duration::seconds(5),
    };
    let second = Revocation {
        reason: RevocationReason::ReuseDetected,
        at: record.created_at + Duration::seconds(9),
    };
    let changed = ok(store.revoke(&record.id, &first).await, "revoke");
    assert!(changed, "revoke of a live session must return true");
    record.revoked = Some(first);
    assert_stored(store, &record, "after revoke").await;
    let changed = ok(store.revoke(&record.id, &second).await, "revoke");
    assert!(!changed, "revoke of a revoked session must return false");
    assert_stored(
        store,
        &record,
        "after a second revoke (the first must stay)",
    )
    .await;
}
