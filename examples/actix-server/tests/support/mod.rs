//! Runs the actix-web server in-process for the tests.

use actix_demo::server;
use demo_support::{AppState, Config};

use demo_support::testing::suite::TestServer;

/// The server on a free loopback port; its workers run on their own
/// threads, its accept loop in this test's runtime.
pub async fn spawn(config: Config) -> TestServer {
    let state = AppState::new(config).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let running = server(listener, state.clone()).unwrap();
    let handle = running.handle();
    let task = tokio::spawn(running);
    TestServer::new(
        addr,
        state,
        Box::new(move || {
            Box::pin(async move {
                handle.stop(true).await;
                task.await.unwrap().unwrap();
            })
        }),
    )
}
