//! Sessions that outlive the process: a login on one `SqliteStore`, a
//! "restart" (the store closed, a new one opened on the same file), and the
//! user's refresh token still working, while the spent one is still known
//! as spent.
//!
//! Run it with `cargo run --example sqlite_persistent --features sqlite`.
//! Give a file path as the argument to keep the database; by default it
//! lives in a temporary directory removed at the end.

use jwt_rotate::{Error, Key, ManualClock, NoClaims, SessionInfo, TokenService};

use jwt_rotate::store::SqliteStore;
use time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = tempfile::Builder::new()
        .prefix("jwt-rotate-example-")
        .tempdir()?;
    let path = match std::env::args_os().nth(1) {
        Some(path) => path.into(),
        None => scratch.path().join("sessions.db"),
    };
    let url = format!("sqlite://{}", path.display());
    // Real services load both secrets from their secret store, so every
    // process signs and checks with the same keys.
    let (access_secret, refresh_secret) = (random_secret(), random_secret());
    let clock = ManualClock::starting_now();
    let service = |store: SqliteStore| {
        TokenService::builder()
            .issuer("https://auth.example.com")
            .audience("api.example.com")
            .access_key(Key::hs256(access_secret)?)
            .refresh_key(Key::hs256(refresh_secret)?)
            .clock(clock.clone())
            .build(store)
    };

    println!("The service starts on {}.", path.display());
    let store = SqliteStore::connect(&url).await?;
    store.migrate().await?; // creates the tables; a no-op once they exist
    let first = service(store)?;
    let info = SessionInfo::default().with_label("Alice's laptop");
    let login = first.issue("alice", NoClaims {}, info).await?;
    let second = first.refresh(&login.refresh_token).await?;
    println!(
        "  Alice logged in and refreshed once (session {}).",
        login.session_id
    );
    first.store().pool().close().await;
    drop(first);
    println!("The service stops. Nothing of the session is left in memory.");

    clock.advance(Duration::hours(3));
    println!("Three hours later it starts again on the same file.");
    let store = SqliteStore::connect(&url).await?;
    store.migrate().await?;
    let restarted = service(store)?;
    let devices = restarted.sessions("alice").await?;
    println!(
        "  Alice's devices: {:?}",
        devices
            .iter()
            .map(|d| d.info.label.as_deref())
            .collect::<Vec<_>>()
    );
    let third = restarted.refresh(&second.refresh_token).await?;
    assert_eq!(third.session_id, login.session_id);
    println!("  her refresh token from before the restart still rotates.");

    match restarted.refresh(&login.refresh_token).await {
        Err(Error::ReuseDetected) => {
            println!(
                "  her first token, spent before the restart, is still reuse: session revoked."
            )
        }
        other => return Err(format!("expected reuse detection, got {other:?}").into()),
    }
    restarted.store().pool().close().await;
    Ok(())
}

fn random_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    secret
}
