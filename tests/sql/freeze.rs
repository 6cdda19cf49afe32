//! A loopback relay in front of a real server that can stop passing bytes
//! on: what a frozen server (`SIGSTOP`) or a silent line looks like to a
//! client, with no harm to a server other engineers share.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The relay: connections to [`addr`](Self::addr) go on to the server
/// while it is not frozen; bytes sent meanwhile wait, in both directions.
pub(crate) struct Relay {
    addr: SocketAddr,
    frozen: watch::Sender<bool>,
}

impl Relay {
    /// A relay to `server` on a free loopback port.
    pub(crate) async fn start(server: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("an address");
        let (frozen, watching) = watch::channel(false);
        tokio::spawn(async move {
            // Ends with the test's runtime.
            while let Ok((client, _)) = listener.accept().await {
                let Ok(upstream) = TcpStream::connect(server).await else {
                    continue;
                };
                let (client_in, client_out) = client.into_split();
                let (server_in, server_out) = upstream.into_split();
                tokio::spawn(pass(client_in, server_out, watching.clone()));
                tokio::spawn(pass(server_in, client_out, watching.clone()));
            }
        });
        Self { addr, frozen }
    }

    /// Where clients connect.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops passing bytes on (`true`) or resumes (`false`).
    pub(crate) fn freeze(&self, frozen: bool) {
        self.frozen.send_replace(frozen);
    }
}

/// Copies `from` to `to`, holding each chunk while frozen; ends when either
/// side closes.
async fn pass(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if frozen.wait_for(|frozen| !frozen).await.is_err() {
            break;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
