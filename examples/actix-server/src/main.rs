//! `cargo run -p actix-demo`: the demo on `BIND_ADDR` (default
//! `127.0.0.1:3000`). Log in as `alice` / `correct horse battery staple`.
#![forbid(unsafe_code)]

use actix_demo::server;
use demo_support::{AppState, Config};
use tracing_subscriber::EnvFilter;

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let state = AppState::new(Config::from_env().await?)?;
    let listener = std::net::TcpListener::bind(&addr)?;
    tracing::info!("actix-web demo on http://{}/", listener.local_addr()?);
    // Stops on Ctrl-C (actix-web listens for it).
    server(listener, state)?.await?;
    Ok(())
}
