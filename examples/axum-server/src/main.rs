//! `cargo run -p axum-demo`: the demo on `BIND_ADDR` (default
//! `127.0.0.1:3000`). Log in as `alice` / `correct horse battery staple`.
#![forbid(unsafe_code)]

use axum_demo::serve;
use demo_support::{AppState, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let state = AppState::new(Config::from_env().await?)?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("axum demo on http://{}/", listener.local_addr()?);
    serve(listener, state, async {
        // Without a signal handler there is nothing to wait for: run on.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await?;
    Ok(())
}
