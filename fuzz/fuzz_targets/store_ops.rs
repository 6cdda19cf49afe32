//! Random operation sequences (login, refresh with current, previous, old
//! and forged tokens, revocations, clock jumps, listing, purge) against
//! MemoryStore through the service, checked op by op against the test
//! suite's reference model (tests/state_machine_model/): its exact outcome,
//! then the store's records. `arbitrary` picks the ops, in the ranges the
//! proptest strategy of tests/state_machine_model.rs uses.
#![no_main]

#[path = "../../tests/state_machine_model/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../../tests/state_machine_model/reference.rs"]
#[allow(dead_code)]
mod reference;

/// What the model files take from the tests' `common` module.
mod common {
    pub use jwt_rotate_fuzz::{ACCESS_SECRET, REFRESH_SECRET, builder, start};
}

use std::sync::LazyLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use reference::{ABSOLUTE, ACCESS, Anchor, Forgery, IDLE, LEEWAY, Op, Pick, SUBJECTS};

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(jwt_rotate_fuzz::runtime);

#[derive(Arbitrary, Debug)]
enum FPick {
    Current,
    Previous,
    Older(u8),
    SigChar(u8),
    SigTrailingBits,
    PayloadChar(u16),
    WrongKey,
    Garbage,
    OtherType,
}

#[derive(Arbitrary, Debug)]
enum FAnchor {
    GraceEnd,
    AccessExpiry,
    SessionEnd,
    PreviousTokenExpiry,
    AbsoluteEnd,
}

#[derive(Arbitrary, Debug)]
enum FOp {
    Issue(u8),
    Refresh(u8, FPick),
    Revoke(u8, FPick),
    RevokeSession(u8),
    RevokeSubject(u8, Option<u8>),
    Advance(u8, u32),
    AdvanceAndRefreshAll(u32, u8),
    AdvanceTo(u8, FAnchor, u8, u32),
    VerifyLive(u8, FPick),
    Sessions(u8),
    PurgeExpired,
}

#[derive(Arbitrary, Debug)]
struct Input {
    strict: bool,
    ops: Vec<FOp>,
}

/// `lo..=hi` picked by `n`.
fn within(n: u32, lo: i64, hi: i64) -> i64 {
    lo + i64::from(n) % (hi - lo + 1)
}

fn pick(p: &FPick) -> Pick {
    match *p {
        FPick::Current => Pick::Current,
        FPick::Previous => Pick::Previous,
        FPick::Older(k) => Pick::Older(usize::from(k % 64)),
        FPick::SigChar(i) => Pick::Forged(Forgery::SigChar(usize::from(i % 64))),
        FPick::SigTrailingBits => Pick::Forged(Forgery::SigTrailingBits),
        FPick::PayloadChar(i) => Pick::Forged(Forgery::PayloadChar(usize::from(i % 512))),
        FPick::WrongKey => Pick::Forged(Forgery::WrongKey),
        FPick::Garbage => Pick::Forged(Forgery::Garbage),
        FPick::OtherType => Pick::Forged(Forgery::OtherType),
    }
}

fn op(op: &FOp) -> Op {
    let session = |k: u8| usize::from(k % 8);
    let subject = |s: u8| usize::from(s) % SUBJECTS.len();
    match op {
        FOp::Issue(s) => Op::Issue(subject(*s)),
        FOp::Refresh(k, p) => Op::Refresh(session(*k), pick(p)),
        FOp::Revoke(k, p) => Op::Revoke(session(*k), pick(p)),
        FOp::RevokeSession(k) => Op::RevokeSession(session(*k)),
        FOp::RevokeSubject(s, e) => Op::RevokeSubject(subject(*s), e.map(session)),
        FOp::Advance(bucket, n) => Op::Advance(match bucket % 6 {
            0 => within(*n, 0, 15),
            1 => within(*n, ACCESS - 10, ACCESS + 10),
            2 => within(*n, 3_600, 3 * 86_400),
            3 => within(*n, IDLE - 2 * 86_400, IDLE - 1),
            4 => within(*n, IDLE - 10, IDLE + 10),
            _ => within(*n, ABSOLUTE - 10, ABSOLUTE + 10),
        }),
        FOp::AdvanceAndRefreshAll(by, times) => Op::AdvanceAndRefreshAll(
            within(*by, 5 * 86_400, IDLE - 1),
            1 + usize::from(times % 5),
        ),
        FOp::AdvanceTo(k, anchor, bucket, n) => {
            let anchor = match anchor {
                FAnchor::GraceEnd => Anchor::GraceEnd,
                FAnchor::AccessExpiry => Anchor::AccessExpiry,
                FAnchor::SessionEnd => Anchor::SessionEnd,
                FAnchor::PreviousTokenExpiry => Anchor::PreviousTokenExpiry,
                FAnchor::AbsoluteEnd => Anchor::AbsoluteEnd,
            };
            let delta = match bucket % 3 {
                0 => within(*n, -(LEEWAY + 2), LEEWAY + 2),
                1 => within(*n, -ACCESS, -1),
                _ => within(*n, -2 * 86_400, -86_400),
            };
            Op::AdvanceTo(session(*k), anchor, delta)
        }
        FOp::VerifyLive(k, p) => Op::VerifyLive(session(*k), pick(p)),
        FOp::Sessions(s) => Op::Sessions(subject(*s)),
        FOp::PurgeExpired => Op::PurgeExpired,
    }
}

fuzz_target!(|input: Input| {
    let ops: Vec<Op> = input.ops.iter().take(40).map(op).collect();
    let grace = if input.strict { 0 } else { 10 };
    let stats = harness::Stats::default();
    if let Err(e) = RUNTIME.block_on(harness::run_case(grace, &ops, &stats)) {
        panic!("the service left the model: {e}");
    }
});
