//! `tcp_echo`: small request/response traffic over loopback TCP: the reactor's
//! readiness path, one read and one write per message each way.
//!
//! The main future binds a listener on 127.0.0.1, spawns `connections` client tasks and
//! accepts as many connections, spawning one echo task per connection. Each client
//! connects, sets `TCP_NODELAY`, and does `trips` round trips: it writes a [`MESSAGE`]-byte
//! message and reads the echo back whole, counting the round trips whose echo matched.
//! Each echo task (also `TCP_NODELAY`) writes back what it reads until the client closes.
//! The time runs from the first client spawn to the last echo task's end, connecting
//! included. Sockets are each runtime's own: `corio::net`, `tokio::net`, and for smol
//! `async_io::Async<std::net::TcpStream>` (what `async_net::TcpStream` wraps in an `Arc`).

use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::time::Instant;

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::Measured;
use crate::runtime::{Family, Join, Spawner};

/// Bytes per message, each way.
pub(crate) const MESSAGE: usize = 64;

/// Every round trip of every connection came back intact.
pub(super) fn expected(connections: u64, trips: u64) -> u64 {
    connections * trips
}

pub(super) async fn run(spawner: &Spawner, connections: u64, trips: u64) -> Measured {
    let any_port = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    match spawner.family() {
        Family::Corio => {
            let listener = corio::net::TcpListener::bind(any_port)
                .await
                .expect("bind a corio listener");
            let addr = listener.local_addr().expect("the listener's address");
            let start = Instant::now();
            let clients = spawn_clients(spawner, connections, || {
                client(
                    async move {
                        let stream = corio::net::TcpStream::connect(addr).await?;
                        stream.set_nodelay(true)?;
                        Ok(stream)
                    },
                    trips,
                )
            });
            let mut echoes = Vec::with_capacity(clients.len());
            for _ in 0..connections {
                let (stream, _) = listener.accept().await.expect("accept");
                stream.set_nodelay(true).expect("set TCP_NODELAY");
                echoes.push(spawner.spawn(echo(stream)));
            }
            finish(start, clients, echoes).await
        }
        Family::Tokio => {
            let listener = tokio::net::TcpListener::bind(any_port)
                .await
                .expect("bind a tokio listener");
            let addr = listener.local_addr().expect("the listener's address");
            let start = Instant::now();
            let clients = spawn_clients(spawner, connections, || tokio_client(addr, trips));
            let mut echoes = Vec::with_capacity(clients.len());
            for _ in 0..connections {
                let (stream, _) = listener.accept().await.expect("accept");
                stream.set_nodelay(true).expect("set TCP_NODELAY");
                echoes.push(spawner.spawn(tokio_echo(stream)));
            }
            finish(start, clients, echoes).await
        }
        Family::Smol => {
            let listener =
                async_io::Async::<StdListener>::bind(any_port).expect("bind an async-io listener");
            let addr = listener
                .get_ref()
                .local_addr()
                .expect("the listener's address");
            let start = Instant::now();
            let clients = spawn_clients(spawner, connections, || {
                client(
                    async move {
                        let stream = async_io::Async::<StdStream>::connect(addr).await?;
                        stream.get_ref().set_nodelay(true)?;
                        Ok(stream)
                    },
                    trips,
                )
            });
            let mut echoes = Vec::with_capacity(clients.len());
            for _ in 0..connections {
                let (stream, _) = listener.accept().await.expect("accept");
                stream.get_ref().set_nodelay(true).expect("set TCP_NODELAY");
                echoes.push(spawner.spawn(echo(stream)));
            }
            finish(start, clients, echoes).await
        }
    }
}

/// Spawns `connections` clients made by `client`.
fn spawn_clients<C, F>(spawner: &Spawner, connections: u64, client: C) -> Vec<Join<u64>>
where
    C: Fn() -> F,
    F: std::future::Future<Output = u64> + Send + 'static,
{
    (0..connections).map(|_| spawner.spawn(client())).collect()
}

/// Awaits every client, then every echo task (each ends when its client closes).
async fn finish(start: Instant, clients: Vec<Join<u64>>, echoes: Vec<Join<()>>) -> Measured {
    let mut trips = 0;
    for client in clients {
        trips += client.await;
    }
    for echo in echoes {
        echo.await;
    }
    Measured {
        elapsed: start.elapsed(),
        check: trips,
    }
}

/// A client over the futures-io traits (corio, async-io): connects, then `trips` round
/// trips; returns how many echoes matched.
async fn client<S, C>(connect: C, trips: u64) -> u64
where
    S: AsyncRead + AsyncWrite + Unpin,
    C: std::future::Future<Output = std::io::Result<S>>,
{
    let mut stream = connect.await.expect("connect");
    let message = [0x5a_u8; MESSAGE];
    let mut back = [0_u8; MESSAGE];
    let mut matched = 0;
    for _ in 0..trips {
        stream.write_all(&message).await.expect("client write");
        stream.read_exact(&mut back).await.expect("client read");
        matched += u64::from(back == message);
    }
    matched
}

/// An echo task over the futures-io traits: writes back what it reads until EOF.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let mut buf = [0_u8; 4 * MESSAGE];
    loop {
        let n = stream.read(&mut buf).await.expect("echo read");
        if n == 0 {
            return;
        }
        stream.write_all(&buf[..n]).await.expect("echo write");
    }
}

/// [`client`] with tokio's sockets and I/O traits.
async fn tokio_client(addr: SocketAddr, trips: u64) -> u64 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("set TCP_NODELAY");
    let message = [0x5a_u8; MESSAGE];
    let mut back = [0_u8; MESSAGE];
    let mut matched = 0;
    for _ in 0..trips {
        stream.write_all(&message).await.expect("client write");
        stream.read_exact(&mut back).await.expect("client read");
        matched += u64::from(back == message);
    }
    matched
}

/// [`echo`] with tokio's sockets and I/O traits.
async fn tokio_echo(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut buf = [0_u8; 4 * MESSAGE];
    loop {
        let n = stream.read(&mut buf).await.expect("echo read");
        if n == 0 {
            return;
        }
        stream.write_all(&buf[..n]).await.expect("echo write");
    }
}
