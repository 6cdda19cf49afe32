//! The memory of the in-memory DPoP replay cache, counted by a wrapping
//! global allocator: per entry, and at 10,000 proofs a second held over
//! the default window (60 s `max_age` + 1 s, as `Dpop` remembers them).
//! One test in this binary: the count is process-wide.

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

use jwt_rotate::{DpopReplayCache, Jkt, MemoryReplayCache, Replay, ReplayKey};
use time::{Duration, OffsetDateTime};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const RATE: u64 = 10_000;
/// How long `Dpop` keeps a proof with the default `max_age` of 60 s.
const KEPT_SECS: i64 = 61;
/// Most bytes an entry may cost at that rate: 17 in the hash set (key
/// and control byte) and 24 in the heap, times the slack of tables that
/// grow by doubling; and in steady state the set's deleted slots make it
/// grow once more (measured: 112).
const BOUND_PER_ENTRY: f64 = 120.0;
/// A window and a half: the cache fills, then sheds as many as it takes in.
const SECONDS: u64 = 92;

/// The output of a future that never waits (MemoryReplayCache's), without
/// a runtime's own allocations in the count.
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut context = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut context) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the in-memory replay cache never waits"),
    }
}

fn net_bytes(stats: stats_alloc::Stats) -> f64 {
    stats.bytes_allocated as f64 + stats.bytes_reallocated as f64 - stats.bytes_deallocated as f64
}

#[test]
fn replay_cache_memory_at_10_000_proofs_per_second() {
    let jkt = Jkt::parse("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs").unwrap();
    // Keys made up front, outside the measured region.
    let keys: Vec<ReplayKey> = (0..RATE * SECONDS)
        .map(|i| ReplayKey::new(&jkt, &i.to_string()))
        .collect();
    let start = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();

    let region = Region::new(GLOBAL);
    let cache = MemoryReplayCache::new(1 << 20).unwrap();
    let mut peak_bytes = 0.0f64;
    // A second's proofs at a time.
    for (second, batch) in keys.chunks(RATE as usize).enumerate() {
        let now = start + Duration::seconds(second as i64);
        let expires_at = now + Duration::seconds(KEPT_SECS);
        for key in batch {
            let fresh = ready(cache.insert_if_absent(key, now, expires_at));
            assert_eq!(fresh.unwrap(), Replay::Fresh);
        }
        peak_bytes = peak_bytes.max(net_bytes(region.change()));
    }
    // The steady state holds exactly the proofs of the last 61 seconds.
    assert_eq!(cache.len(), (RATE * KEPT_SECS as u64) as usize);
    let steady_entries = cache.len();
    let per_entry = net_bytes(region.change()) / steady_entries as f64;
    println!(
        "replay cache at {RATE} proofs/s over {KEPT_SECS} s: {steady_entries} entries, \
         {:.1} MB at peak, {per_entry:.1} bytes per entry in steady state",
        peak_bytes / 1e6
    );
    assert!(peak_bytes <= BOUND_PER_ENTRY * steady_entries as f64);
    assert!(
        per_entry <= BOUND_PER_ENTRY,
        "{per_entry:.1} bytes per entry, over {BOUND_PER_ENTRY}"
    );
    // And the entries really are remembered: every key of the last second
    // is still a replay.
    let now = start + Duration::seconds(keys.len() as i64 / RATE as i64 - 1);
    let last = &keys[keys.len() - 1];
    let again = ready(cache.insert_if_absent(last, now, now + Duration::seconds(KEPT_SECS)));
    assert_eq!(again.unwrap(), Replay::Seen);
    drop(cache);
}
