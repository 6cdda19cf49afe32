//! `cargo run -p resource-demo`: a resource server beside a demo auth
//! server. `JWKS_URL` is the auth server's key set, `DATABASE_URL` or
//! `REDIS_URL` its session store, whose revocations `GET /me` follows.
#![forbid(unsafe_code)]

use resource_demo::{BoxError, Settings, revocation_feed, serve};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let settings = Settings::from_env()?;
    let feed = match &settings.feed_url {
        Some(url) => Some(revocation_feed(url, settings.redis_prefix.as_deref()).await?),
        None => {
            tracing::warn!(
                "no DATABASE_URL or REDIS_URL: revoked sessions' tokens pass until they expire"
            );
            None
        }
    };
    let verifier = settings.verifier(feed)?;
    // Keeps the revocation view current; ends with the last verifier.
    tokio::spawn(verifier.follow());

    let listener = tokio::net::TcpListener::bind(&settings.bind_addr).await?;
    tracing::info!("resource server on http://{}/me", listener.local_addr()?);
    serve(listener, verifier, async {
        // Without a signal handler there is nothing to wait for: run on.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await?;
    Ok(())
}
