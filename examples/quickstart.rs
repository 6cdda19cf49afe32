//! One session's life on the in-memory store: login, an API call, expiry,
//! a refresh, a thief replaying a stolen refresh token, the family revoked,
//! and the victim asked to log in again.
//!
//! Run it with `cargo run --example quickstart`. A manual clock stands in
//! for the passing of minutes, so the story takes no time at all.

use jwt_rotate::{
    Error, ErrorClass, Key, ManualClock, MemoryStore, NoClaims, SessionInfo, TokenService,
};
use time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::starting_now();
    // Real services load these secrets from their secret store. They must
    // be random and at least 32 bytes; access and refresh keys differ.
    let service = TokenService::builder()
        .issuer("https://auth.example.com")
        .audience("api.example.com")
        .access_ttl(Duration::minutes(15))
        .refresh_ttl(Duration::days(7))
        .session_ttl(Duration::days(30))
        .reuse_grace(Duration::seconds(10))
        .access_key(Key::hs256(random_secret())?)
        .refresh_key(Key::hs256(random_secret())?)
        .clock(clock.clone())
        .build(MemoryStore::new())?;

    println!("Alice logs in (the app has checked her password).");
    let info = SessionInfo::default().with_user_agent("Firefox on Linux");
    let login = service.issue("alice", NoClaims {}, info).await?;
    println!(
        "  session {} started; access token valid until {}",
        login.session_id, login.access_expires_at
    );

    println!("She calls the API: the access token is checked without any store access.");
    let claims = service.verify(&login.access_token)?;
    println!("  verified: sub={} sid={}", claims.sub, claims.sid);

    println!("16 minutes pass.");
    clock.advance(Duration::minutes(16));
    match service.verify(&login.access_token) {
        Err(Error::Expired) => println!("  the access token has expired, as it should."),
        other => return Err(format!("expected an expired token, got {other:?}").into()),
    }

    println!("Her app refreshes: the refresh token is spent and a new pair issued.");
    let second = service.refresh(&login.refresh_token).await?;
    service.verify(&second.access_token)?;
    println!("  new access token verified; the old refresh token is now spent.");

    println!("Meanwhile a thief who copied her first refresh token replays it.");
    clock.advance(Duration::minutes(1));
    match service.refresh(&login.refresh_token).await {
        Err(Error::ReuseDetected) => {
            println!("  reuse detected: the whole session (token family) is revoked.")
        }
        other => return Err(format!("expected reuse detection, got {other:?}").into()),
    }

    println!("Alice's next refresh, with her own valid token, is refused too.");
    let refused = service
        .refresh(&second.refresh_token)
        .await
        .expect_err("a revoked session never refreshes");
    assert_eq!(refused.class(), ErrorClass::Unauthorized);
    println!(
        "  {refused} -> answer 401 ({}), Alice logs in again.",
        refused.code()
    );

    let again = service
        .issue("alice", NoClaims {}, SessionInfo::default())
        .await?;
    let live = service.sessions("alice").await?;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].id, again.session_id);
    println!("  a fresh session; the thief's copy is worthless. Done.");
    Ok(())
}

fn random_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    secret
}
