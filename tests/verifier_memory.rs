//! The memory of a `Verifier`'s revocation view at 100,000 revoked
//! sessions, counted by a wrapping global allocator. One test in this
//! binary: the count is process-wide.

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

use jwt_rotate::store::{
    CatchUp, Cursor, RevocationEvent, RevocationFeed, RevocationSubscription, Revoked, StoreError,
};
use jwt_rotate::{Key, ManualClock, SessionId, Verifier};
use time::{Duration, OffsetDateTime};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const ENTRIES: u64 = 100_000;
/// Most bytes an entry may cost: 25 in the hash map (id, drop instant,
/// control byte) and 24 in the expiry queue, times the slack of tables
/// that grow by doubling (100,000 entries in 131,072 slots).
const BOUND_PER_ENTRY: f64 = 70.0;

/// A feed that has only ever held the given events.
struct Fixed(Vec<RevocationEvent>);

#[async_trait]
impl RevocationFeed for Fixed {
    async fn since(&self, cursor: Cursor) -> Result<CatchUp, StoreError> {
        let events: Vec<_> = self
            .0
            .iter()
            .filter(|e| e.cursor > cursor)
            .cloned()
            .collect();
        let head = self.0.last().map_or(cursor, |e| e.cursor);
        Ok(CatchUp::Events { events, head })
    }

    async fn subscribe(&self) -> Result<Box<dyn RevocationSubscription>, StoreError> {
        Err(StoreError::unavailable("no push in this test"))
    }
}

/// The output of a future that never waits, without a runtime's own
/// allocations in the count.
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut context = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut context) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the fixed feed never waits"),
    }
}

/// Bytes still held: stats_alloc already counts a `realloc`'s growth in
/// `bytes_allocated` (and its shrinking in `bytes_deallocated`), so
/// `bytes_reallocated` is not added again.
fn net_bytes(stats: stats_alloc::Stats) -> f64 {
    stats.bytes_allocated as f64 - stats.bytes_deallocated as f64
}

#[test]
fn revocation_view_memory_at_100_000_sessions() {
    let start = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
    let events: Vec<RevocationEvent> = (1..=ENTRIES)
        .map(|n| {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&n.to_le_bytes());
            id[8..].copy_from_slice(&n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
            RevocationEvent {
                revoked: Revoked::Session(SessionId::from_bytes(id)),
                at: start,
                cursor: Cursor::new(n),
            }
        })
        .collect();
    let clock = ManualClock::new(start);
    let verifier = Verifier::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .key(Key::hs256([7u8; 32]).unwrap())
        .revocation_feed(Fixed(events))
        .clock(clock.clone())
        .build()
        .unwrap();

    let region = Region::new(GLOBAL);
    ready(verifier.sync_revocations()).unwrap();
    let held = net_bytes(region.change());
    let status = verifier.revocations().unwrap();
    assert_eq!(status.sessions as u64, ENTRIES);
    let per_entry = held / ENTRIES as f64;
    println!(
        "revocation view: {ENTRIES} sessions in {:.2} MiB, {per_entry:.1} bytes each",
        held / f64::from(1 << 20)
    );
    assert!(
        per_entry <= BOUND_PER_ENTRY,
        "{per_entry:.1} bytes per entry"
    );
    assert!(
        per_entry >= 40.0,
        "{per_entry:.1}: the count missed the tables"
    );

    // After access_ttl (15 min) + leeway (5 s), all of it goes.
    let region = Region::new(GLOBAL);
    clock.advance(Duration::minutes(15) + Duration::seconds(5));
    ready(verifier.sync_revocations()).unwrap();
    assert_eq!(verifier.revocations().unwrap().sessions, 0);
    let released = -net_bytes(region.change());
    assert!(
        released >= held * 0.9,
        "released {released} of {held} bytes"
    );
}
