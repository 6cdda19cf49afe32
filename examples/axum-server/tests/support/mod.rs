//! Runs the axum server in-process for the tests.

use axum_demo::serve;
use demo_support::{AppState, Config};

use demo_support::testing::suite::TestServer;

/// The server on a free loopback port, in this test's runtime.
pub async fn spawn(config: Config) -> TestServer {
    let state = AppState::new(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state.clone(), async {
        stopped.await.ok();
    }));
    TestServer::new(
        addr,
        state,
        Box::new(move || {
            Box::pin(async move {
                stop.send(()).ok();
                task.await.unwrap().unwrap();
            })
        }),
    )
}
