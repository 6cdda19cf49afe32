//! The session state machine against a model: random op sequences run
//! against the real service and a small reference model
//! (tests/state_machine_model/reference.rs) that predicts the exact outcome
//! of every op. After each op the store's records must match too.
//!
//! `JWT_ROTATE_PROPTEST_CASES` sets the number of cases (default 1000); run
//! with `--nocapture` to see the case count, wall time and outcome coverage.

mod common;
#[path = "state_machine_model/harness.rs"]
mod harness;
#[path = "state_machine_model/reference.rs"]
mod reference;

use std::time::Instant;

use jwt_rotate::{ManualClock, MemoryStore, NoClaims, SessionInfo};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use harness::{Stats, run_case};
use reference::{ABSOLUTE, ACCESS, Anchor, Forgery, IDLE, LEEWAY, Op, Pick, SUBJECTS, forge};

fn cases() -> u32 {
    let var = std::env::var("JWT_ROTATE_PROPTEST_CASES").ok();
    var.and_then(|v| v.parse().ok()).unwrap_or(1000)
}

fn run_property(name: &str, grace: i64) {
    let config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases())
    };
    let mut runner = TestRunner::new(config);
    let stats = Stats::default();
    let runs = std::cell::Cell::new(0u32);
    let started = Instant::now();
    let result = runner.run(&prop::collection::vec(op_strategy(), 1..40), |ops| {
        runs.set(runs.get() + 1);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(run_case(grace, &ops, &stats))
    });
    println!(
        "{name}: {} cases run in {:.1?} ({} passed)",
        runs.get(),
        started.elapsed(),
        if result.is_ok() {
            "all"
        } else {
            "not all; the count includes shrinking"
        },
    );
    for (outcome, count) in stats.borrow().iter() {
        println!("  {count:>6}  {outcome}");
    }
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

#[test]
fn service_matches_model_with_grace_window() {
    run_property("grace 10 s", 10);
}

#[test]
fn service_matches_model_in_strict_mode() {
    run_property("strict (grace 0)", 0);
}

/// Paths the random walk seldom reaches, through the same harness: the
/// absolute end (an access token capped by it, the refresh and purge
/// boundaries after it) and both edges of the grace window.
#[test]
fn directed_sequences() {
    use Op::*;
    let day = 86_400;
    let absolute_end = vec![
        Issue(0),
        AdvanceAndRefreshAll(6 * day, 4),
        AdvanceTo(0, Anchor::AbsoluteEnd, -600),
        Refresh(0, Pick::Current),
        AdvanceTo(0, Anchor::AbsoluteEnd, -1),
        VerifyLive(0, Pick::Current),
        Advance(1),
        VerifyLive(0, Pick::Current),
        Refresh(0, Pick::Current),
        Refresh(0, Pick::Previous),
        Sessions(0),
        AdvanceTo(0, Anchor::AbsoluteEnd, LEEWAY - 1),
        PurgeExpired,
        VerifyLive(0, Pick::Current),
        Advance(1),
        VerifyLive(0, Pick::Current),
        Refresh(0, Pick::Current),
        PurgeExpired,
        Revoke(0, Pick::Current),
        Revoke(0, Pick::Forged(Forgery::WrongKey)),
    ];
    let grace_edges = vec![
        Issue(1),
        Issue(1),
        Refresh(0, Pick::Current),
        Advance(9),
        Refresh(0, Pick::Previous),
        Advance(1),
        Refresh(0, Pick::Previous),
        Refresh(0, Pick::Current),
        Refresh(1, Pick::Current),
        Refresh(1, Pick::Current),
        Refresh(1, Pick::Older(0)),
        Sessions(1),
        RevokeSubject(1, Some(1)),
        Sessions(1),
    ];
    let stats = Stats::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for grace in [10, 0] {
        for ops in [&absolute_end, &grace_edges] {
            let result = runtime.block_on(run_case(grace, ops, &stats));
            result.unwrap_or_else(|e| panic!("grace {grace}: {e}"));
        }
    }
    let stats = stats.borrow();
    for outcome in [
        "verify_live   SessionExpired",
        "refresh       Ok (grace replay)",
    ] {
        assert!(
            stats.keys().any(|k| k.starts_with(outcome)),
            "{outcome} not reached"
        );
    }
}

/// The wrong-key forgery is a genuine HMAC under another key: the same
/// construction under the right key reproduces the service's signature.
#[test]
fn wrong_key_forgery_is_a_real_hmac() {
    let clock = ManualClock::new(common::start());
    let service = common::builder(&clock).build(MemoryStore::new()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let pair = runtime.block_on(service.issue("x", NoClaims {}, SessionInfo::default()));
    let token = pair.unwrap().refresh_token;
    let (signed, signature) = token.as_str().rsplit_once('.').unwrap();
    assert_eq!(
        reference::hs256(&common::REFRESH_SECRET, signed.as_bytes()),
        signature
    );
    let (forged, _) = forge(
        token.as_str(),
        "",
        Forgery::WrongKey,
        &common::REFRESH_SECRET,
    );
    assert!(forged.starts_with(signed) && forged != token.as_str());
}

fn session() -> impl Strategy<Value = usize> {
    0usize..8
}

fn subject() -> impl Strategy<Value = usize> {
    0..SUBJECTS.len()
}

fn pick() -> impl Strategy<Value = Pick> {
    let forgery = prop_oneof![
        (0usize..64).prop_map(Forgery::SigChar),
        Just(Forgery::SigTrailingBits),
        (0usize..512).prop_map(Forgery::PayloadChar),
        Just(Forgery::WrongKey),
        Just(Forgery::Garbage),
        Just(Forgery::OtherType),
    ];
    prop_oneof![
        4 => Just(Pick::Current),
        3 => Just(Pick::Previous),
        2 => (0usize..64).prop_map(Pick::Older),
        2 => forgery.prop_map(Pick::Forged),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let advance = prop_oneof![
        4 => 0i64..=15,
        2 => (ACCESS - 10)..=(ACCESS + 10),
        1 => 3_600i64..=3 * 86_400,
        1 => (IDLE - 2 * 86_400)..IDLE,
        1 => (IDLE - 10)..=(IDLE + 10),
        1 => (ABSOLUTE - 10)..=(ABSOLUTE + 10),
    ];
    let anchor = prop_oneof![
        Just(Anchor::GraceEnd),
        Just(Anchor::AccessExpiry),
        Just(Anchor::SessionEnd),
        Just(Anchor::PreviousTokenExpiry),
        Just(Anchor::AbsoluteEnd),
    ];
    let delta = prop_oneof![
        4 => -(LEEWAY + 2)..=LEEWAY + 2,
        1 => -ACCESS..0,
        1 => -2 * 86_400i64..=-86_400,
    ];
    prop_oneof![
        3 => subject().prop_map(Op::Issue),
        8 => (session(), pick()).prop_map(|(k, p)| Op::Refresh(k, p)),
        1 => (session(), pick()).prop_map(|(k, p)| Op::Revoke(k, p)),
        1 => session().prop_map(Op::RevokeSession),
        1 => (subject(), prop::option::of(session())).prop_map(|(s, e)| Op::RevokeSubject(s, e)),
        4 => advance.prop_map(Op::Advance),
        2 => (5 * 86_400..IDLE, 1usize..=5).prop_map(|(by, n)| Op::AdvanceAndRefreshAll(by, n)),
        3 => (session(), anchor, delta).prop_map(|(k, a, d)| Op::AdvanceTo(k, a, d)),
        3 => (session(), pick()).prop_map(|(k, p)| Op::VerifyLive(k, p)),
        2 => subject().prop_map(Op::Sessions),
        1 => Just(Op::PurgeExpired),
    ]
}
