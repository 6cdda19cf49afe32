//! Heap allocations per call, counted by a wrapping global allocator, so
//! that a change that allocates more fails here rather than in a benchmark
//! nobody reads. One test in this binary: the count is process-wide, and
//! tests running beside it would add theirs.

mod common;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Allocations (new blocks and reallocations) per HS256 refresh over
/// MemoryStore: the two tokens handed out, the record the store returns
/// (its subject and claims), the presented token's subject, and the boxed
/// futures of the store and the hooks. (23 before keys were prepared once;
/// the goal was at most 8.)
const REFRESH_BOUND: u64 = 7;

/// Per HS256 verify: the four strings of `AccessClaims` and nothing else.
const VERIFY_BOUND: u64 = 4;

const CALLS: u64 = 200;

/// Batches of `CALLS` measured; the fewest allocations count.
const BATCHES: usize = 5;

#[test]
fn refresh_and_verify_allocate_within_their_bounds() {
    let (service, _clock) = common::service();
    let pair = ready(service.issue("user-42", Default::default(), Default::default())).unwrap();
    let mut token = pair.refresh_token;
    let mut refresh = || token = ready(service.refresh(&token)).unwrap().refresh_token;
    // First-use costs (lazy statics, thread-locals) are not per call.
    (0..10).for_each(|_| refresh());

    // The counter is process-wide: another thread (the test harness's)
    // may allocate while a batch runs. A regression shows in every batch,
    // that noise in one, so the fewest of a few batches is what each call
    // costs.
    let per_call =
        |stats: stats_alloc::Stats| (stats.allocations + stats.reallocations) as f64 / CALLS as f64;
    let fewest = |mut batch: Box<dyn FnMut() -> f64 + '_>| {
        (0..BATCHES).map(|_| batch()).fold(f64::INFINITY, f64::min)
    };
    let refresh = fewest(Box::new(|| {
        let region = Region::new(GLOBAL);
        (0..CALLS).for_each(|_| refresh());
        per_call(region.change())
    }));

    let access = pair.access_token;
    let verify = fewest(Box::new(|| {
        let region = Region::new(GLOBAL);
        for _ in 0..CALLS {
            assert_eq!(service.verify(&access).unwrap().sub, "user-42");
        }
        per_call(region.change())
    }));
    println!("allocations per call: refresh {refresh}, verify {verify}");
    assert!(
        refresh <= REFRESH_BOUND as f64,
        "refresh: {refresh} allocations per call"
    );
    assert!(
        verify <= VERIFY_BOUND as f64,
        "verify: {verify} allocations per call"
    );
}

/// The output of a future that needs no waiting (every MemoryStore call).
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
}
