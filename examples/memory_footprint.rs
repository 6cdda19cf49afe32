//! How much memory an idle session costs in `MemoryStore`, and whether a
//! refresh gets slower as the store fills.
//!
//! Logs in 1,000,000 sessions (one subject each, no claims, no device info,
//! through `issue`, so the records are exactly what the service stores),
//! reads the resident memory before and after (Linux only: it reads
//! `/proc/self/status`), rotates every session once (grace data kept, as
//! in any session refreshed at least once) and reads it again. Then it
//! compares the refresh median of sessions spread over the full store with
//! that of a store holding one session, interleaved in one run.
//!
//! ```sh
//! cargo run --release --example memory_footprint            # 1,000,000 sessions
//! cargo run --release --example memory_footprint -- 100000  # another size
//! ```

use std::time::{Duration, Instant};

use jwt_rotate::{Key, MemoryStore, NoClaims, RefreshToken, SessionId, SessionInfo, TokenService};

use jwt_rotate::store::{
    ExpectedGeneration, GraceData, RefreshStore, RotationUpdate, SecretHash, WrappedSecret,
};

type Service = TokenService<MemoryStore>;

/// Sessions refreshed per round in the full store: each is a different
/// record, so the refreshes touch the store the way real traffic does.
const SPREAD: usize = 10_000;
/// Refreshes timed per store and round.
const BLOCK: usize = 1_000;
const ROUNDS: usize = 20;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sessions: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 1_000_000,
    };
    let big = service()?;
    let small = service()?;
    // Allocated and touched before the baseline, so it is not counted.
    let mut ids = vec![SessionId::from_bytes([1; 16]); sessions];

    let baseline = resident_bytes()?;
    for (i, id) in ids.iter_mut().enumerate() {
        let pair = big
            .issue(&format!("user-{i:07}"), NoClaims {}, SessionInfo::default())
            .await?;
        *id = pair.session_id;
    }
    let issued = resident_bytes()?;
    rotate_each_once(big.store(), &ids).await?;
    let rotated = resident_bytes()?;

    let per_session = |bytes: u64| bytes.saturating_sub(baseline) as f64 / sessions as f64;
    println!("{sessions} sessions, one subject each, no claims, no device info");
    println!("resident memory before: {:.1} MiB", mib(baseline));
    println!(
        "after issue:             {:.1} MiB, {:.0} bytes per session",
        mib(issued),
        per_session(issued)
    );
    println!(
        "after one rotation each: {:.1} MiB, {:.0} bytes per session",
        mib(rotated),
        per_session(rotated)
    );

    let (at_one, at_full) = refresh_medians(&small, &big).await?;
    println!("refresh median (HS256), {BLOCK} x {ROUNDS} each, interleaved:");
    println!("  store of 1 session:  {:.2} µs", micros(at_one));
    println!(
        "  store of {} sessions: {:.2} µs ({SPREAD} of them in turn)",
        sessions + SPREAD,
        micros(at_full)
    );
    println!(
        "  ratio: {:.3}",
        at_full.as_secs_f64() / at_one.as_secs_f64()
    );
    Ok(())
}

fn service() -> Result<Service, jwt_rotate::Error> {
    TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_key(Key::hs256([0xA1; 32])?)
        .refresh_key(Key::hs256([0x5E; 32])?)
        .build(MemoryStore::new())
}

/// What a refresh does to the record, through the store directly (the
/// tokens of a million sessions would fill memory themselves).
async fn rotate_each_once(
    store: &MemoryStore,
    ids: &[SessionId],
) -> Result<(), Box<dyn std::error::Error>> {
    for (i, id) in ids.iter().enumerate() {
        let record = store.get(id).await?.ok_or("session vanished")?;
        let now = time::OffsetDateTime::now_utc().replace_nanosecond(0)?;
        let filler = (i as u64).to_le_bytes()[0];
        let rotation = RotationUpdate {
            generation: record.generation + 1,
            secret_hash: SecretHash::from_bytes([filler; 32]),
            previous: GraceData {
                generation: record.generation,
                secret_hash: record.secret_hash,
                rotated_at: now,
                wrapped_secret: WrappedSecret::from_bytes([!filler; 32]),
            },
            refreshed_at: now,
            idle_expires_at: now + time::Duration::days(7),
            claims_json: None,
            last_seen: None,
            auth: None,
        };
        let expected = ExpectedGeneration {
            generation: record.generation,
            secret_hash: record.secret_hash,
        };
        store
            .rotate(id, &expected, &rotation)
            .await?
            .ok_or("rotation refused")?;
    }
    Ok(())
}

/// Medians of single refreshes: one session rotated over and over in
/// `small`, against [`SPREAD`] sessions in turn in `big`; blocks of the two
/// alternate so that the machine's background noise hits both alike.
async fn refresh_medians(
    small: &Service,
    big: &Service,
) -> Result<(Duration, Duration), jwt_rotate::Error> {
    let login = |service: &Service| {
        let service = service.clone();
        async move {
            let pair = service
                .issue("user-timed", NoClaims {}, SessionInfo::default())
                .await?;
            Ok::<_, jwt_rotate::Error>(pair.refresh_token)
        }
    };
    let mut one = login(small).await?;
    let mut spread = Vec::with_capacity(SPREAD);
    for _ in 0..SPREAD {
        spread.push(login(big).await?);
    }
    let (mut at_one, mut at_full) = (Vec::new(), Vec::new());
    let mut next = 0;
    for _ in 0..ROUNDS {
        for _ in 0..BLOCK {
            at_one.push(timed_refresh(small, &mut one).await?);
        }
        for _ in 0..BLOCK {
            at_full.push(timed_refresh(big, &mut spread[next]).await?);
            next = (next + 1) % SPREAD;
        }
    }
    Ok((median(at_one), median(at_full)))
}

async fn timed_refresh(
    service: &Service,
    token: &mut RefreshToken,
) -> Result<Duration, jwt_rotate::Error> {
    let start = Instant::now();
    let pair = service.refresh(&*token).await?;
    let elapsed = start.elapsed();
    *token = pair.refresh_token;
    Ok(elapsed)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// `VmRSS` of this process, in bytes.
fn resident_bytes() -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("reading /proc/self/status (Linux only): {e}"))?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .ok_or("no VmRSS in /proc/self/status")?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse()?;
    Ok(kib * 1024)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
