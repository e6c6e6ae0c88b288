//! Unix domain sockets in a temporary directory: stream pairs, a listener
//! with connecting clients, datagram pairs and bound datagram sockets, and
//! the fault cases (no such socket file, peer closes while a task waits).

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use corio_reactor::block_on;
use corio_reactor::net::{UnixDatagram, UnixListener, UnixStream};
use futures_lite::{future, AsyncReadExt, AsyncWriteExt, StreamExt};

const MS: Duration = Duration::from_millis(1);

/// Runs `fut` inside `block_on`, failing if it takes longer than `limit`.
fn within<T>(limit: Duration, fut: impl std::future::Future<Output = T>) -> T {
    block_on(corio_timer::timeout(limit, fut)).expect("the operation hung")
}

/// A fresh socket path in the temp dir, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(what: &str) -> TempPath {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "corio-reactor-{what}-{}-{}.sock",
            std::process::id(),
            N.fetch_add(1, SeqCst)
        );
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn stream_pair_round_trip() {
    within(Duration::from_secs(5), async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        for i in 0..100u32 {
            a.write_all(&i.to_le_bytes()).await.unwrap();
            let mut buf = [0; 4];
            b.read_exact(&mut buf).await.unwrap();
            assert_eq!(u32::from_le_bytes(buf), i);
        }
        assert!(a.local_addr().unwrap().is_unnamed());
        assert!(a.peer_addr().unwrap().is_unnamed());
    });
}

#[test]
fn listener_serves_clients() {
    let path = TempPath::new("listener");
    within(Duration::from_secs(10), async {
        let listener = UnixListener::bind(&path.0).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.0.as_path())
        );
        let server = async {
            let mut incoming = listener.incoming();
            for _ in 0..10 {
                let mut conn = incoming.next().await.unwrap().unwrap();
                let mut buf = [0; 5];
                conn.read_exact(&mut buf).await.unwrap();
                conn.write_all(&buf).await.unwrap();
            }
        };
        let clients = async {
            for _ in 0..10 {
                let mut c = UnixStream::connect(&path.0).await.unwrap();
                c.write_all(b"hello").await.unwrap();
                let mut buf = [0; 5];
                c.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"hello");
            }
        };
        future::zip(server, clients).await;
        // `accept` too.
        let (c, (s, _peer)) = future::try_zip(UnixStream::connect(&path.0), listener.accept())
            .await
            .unwrap();
        assert!(s.peer_addr().unwrap().is_unnamed());
        assert_eq!(c.peer_addr().unwrap().as_pathname(), Some(path.0.as_path()));
    });
}

#[test]
fn connect_to_a_missing_socket_fails() {
    let path = TempPath::new("missing");
    let err = within(Duration::from_secs(5), UnixStream::connect(&path.0)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err:?}");
}

#[test]
fn connect_to_a_closed_listener_is_refused() {
    let path = TempPath::new("closed");
    drop(UnixListener::bind(&path.0).unwrap()); // the file stays, nobody listens
    let err = within(Duration::from_secs(5), UnixStream::connect(&path.0)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err:?}");
}

#[test]
fn peer_closes_while_a_task_waits() {
    within(Duration::from_secs(5), async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let read = async { a.read(&mut [0; 8]).await };
        let close = async {
            corio_timer::sleep(20 * MS).await;
            drop(b);
        };
        let (res, ()) = future::zip(read, close).await;
        assert_eq!(res.unwrap(), 0);
    });
}

#[test]
fn a_reader_and_a_writer_on_clones_from_two_threads() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut reader = a.clone();
    let mut writer = a;
    let echo = std::thread::spawn(move || {
        within(Duration::from_secs(10), async move {
            let mut b = b;
            let mut buf = vec![0; 8192];
            loop {
                let n = b.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                b.write_all(&buf[..n]).await.unwrap();
            }
        })
    });
    const N: usize = 200_000;
    let w = std::thread::spawn(move || {
        within(Duration::from_secs(10), async move {
            let data: Vec<u8> = (0..N).map(|i| (i % 251) as u8).collect();
            writer.write_all(&data).await.unwrap();
            writer.close().await.unwrap();
        })
    });
    let got = within(Duration::from_secs(10), async move {
        let mut got = Vec::new();
        reader.read_to_end(&mut got).await.unwrap();
        got
    });
    w.join().unwrap();
    echo.join().unwrap();
    assert_eq!(got.len(), N);
    assert!(got.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
}

#[test]
fn datagram_pair() {
    within(Duration::from_secs(5), async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let recv = async {
            let mut buf = [0; 16];
            let n = b.recv(&mut buf).await.unwrap();
            buf[..n].to_vec()
        };
        let send = async {
            corio_timer::sleep(10 * MS).await;
            a.send(b"datagram").await.unwrap();
        };
        let (got, ()) = future::zip(recv, send).await;
        assert_eq!(got, b"datagram");
        b.send(b"back").await.unwrap();
        let (n, from) = a.recv_from(&mut [0; 16]).await.unwrap();
        assert_eq!(n, 4);
        assert!(from.is_unnamed());
    });
}

#[test]
fn bound_datagram_sockets() {
    let server_path = TempPath::new("dgram-server");
    let client_path = TempPath::new("dgram-client");
    within(Duration::from_secs(5), async {
        let server = UnixDatagram::bind(&server_path.0).unwrap();
        let client = UnixDatagram::bind(&client_path.0).unwrap();
        client.send_to(b"request", &server_path.0).await.unwrap();
        let mut buf = [0; 16];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"request");
        let from = from.as_pathname().unwrap().to_path_buf();
        assert_eq!(from, client_path.0);
        server.send_to(b"reply", &from).await.unwrap();
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"reply");
        // An unbound socket connected to the server.
        let anon = UnixDatagram::unbound().unwrap();
        anon.connect(&server_path.0).unwrap();
        assert_eq!(
            anon.peer_addr().unwrap().as_pathname(),
            Some(server_path.0.as_path())
        );
        anon.send(b"hi").await.unwrap();
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hi");
        assert!(from.is_unnamed());
    });
}
