//! What a token status list costs at 10^6 sessions with 1% revoked:
//! its size, the time to build it (the store's read of the revoked
//! indexes, then compressing and signing), beside the time of one login
//! in the same run, and the bytes the `status` claim adds to an access
//! token.
//!
//! ```sh
//! cargo run --release --example status_list_cost --features status-list,testing
//! ```
//!
//! Times depend on the machine: compare them with each other (the ratio
//! to one `issue`), not across machines.

use std::time::Instant;

use jwt_rotate::store::RefreshStore;
use jwt_rotate::{
    Key, MemoryStore, NoClaims, RevocationReason, STATUS_LIST_SIZE, SessionInfo, TokenService,
    testing,
};
use time::OffsetDateTime;

const SESSIONS: u64 = 1_000_000;
/// One session in this many is revoked, at random: 1%.
const REVOKED_EVERY: u64 = 100;
const LOGINS: u32 = 2_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = MemoryStore::new();
    let why = jwt_rotate::store::Revocation {
        reason: RevocationReason::Logout,
        at: OffsetDateTime::now_utc(),
    };
    let subject = testing::unique_subject("cost");
    // xorshift64: revocations scattered at random, as logouts are (every
    // hundredth index would compress to almost nothing).
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..SESSIONS {
        let record = testing::sample_record(&subject);
        store.create_indexed(&record).await?;
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if state.is_multiple_of(REVOKED_EVERY) {
            store.revoke(&record.id, &why).await?;
        }
    }
    let service = TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256([1u8; 32])?)
        .refresh_key(Key::hs256([2u8; 32])?)
        .status_list("https://auth.example.com/statuslists")
        .build(store)?;
    let plain = TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256([1u8; 32])?)
        .refresh_key(Key::hs256([2u8; 32])?)
        .build(MemoryStore::new())?;

    let started = Instant::now();
    let revoked = service
        .store()
        .revoked_status_indexes(0..STATUS_LIST_SIZE)
        .await?;
    let scan = started.elapsed();
    let started = Instant::now();
    let list = service.status_list(0).await?.ok_or("list 0")?;
    let build = started.elapsed();
    let read = service.read_status_list(list.as_str())?;
    let set = (0..STATUS_LIST_SIZE)
        .filter(|&i| read.is_revoked(i) == Some(true))
        .count();

    let started = Instant::now();
    let mut with_status = 0;
    for _ in 0..LOGINS {
        let pair = service
            .issue("ann", NoClaims {}, SessionInfo::default())
            .await?;
        with_status = pair.access_token.as_str().len();
    }
    let login = started.elapsed() / LOGINS;
    let without_status = plain
        .issue("ann", NoClaims {}, SessionInfo::default())
        .await?
        .access_token
        .as_str()
        .len();

    println!("sessions: {SESSIONS}, revoked: {}", revoked.len());
    println!(
        "list 0: {STATUS_LIST_SIZE} indexes, {set} set; token {} bytes",
        list.as_str().len()
    );
    println!(
        "build: {:.1} ms (the store's read {:.1} ms); one issue: {:.1} us; build / issue = {:.0}",
        build.as_secs_f64() * 1e3,
        scan.as_secs_f64() * 1e3,
        login.as_secs_f64() * 1e6,
        build.as_secs_f64() / login.as_secs_f64()
    );
    println!(
        "access token: {with_status} bytes with status, {without_status} without (+{})",
        with_status - without_status
    );
    Ok(())
}
