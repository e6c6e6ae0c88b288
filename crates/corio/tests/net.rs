//! The facade's TCP on the multi-thread runtime: 1,000 concurrent connections
//! echo correctly, and each fault case — a refused connect, a peer that
//! resets mid-read, a peer that closes while a task waits, a connect that
//! times out — ends within a bound with the right error or EOF.
//!
//! Every test runs under `corio::timeout`, so a lost wakeup fails the test
//! instead of hanging it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use corio::net::{TcpListener, TcpStream};
use corio::Runtime;
use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use socket2::{Domain, SockRef, Socket, Type};

const MS: Duration = Duration::from_millis(1);

/// Runs `fut` on a two-worker runtime, failing if it takes longer than `limit`.
fn within<F>(limit: Duration, fut: F) -> F::Output
where
    F: Future,
{
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    rt.block_on(corio::timeout(limit, fut))
        .unwrap_or_else(|_| panic!("the test did not finish within {limit:?}"))
}

/// A connected pair: (client, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (client, (server, _)) = future::try_zip(
        TcpStream::connect(listener.local_addr().unwrap()),
        listener.accept(),
    )
    .await
    .unwrap();
    (client, server)
}

/// Makes dropping `s` send RST instead of FIN.
fn linger_zero(s: &TcpStream) {
    SockRef::from(s).set_linger(Some(Duration::ZERO)).unwrap();
}

/// The soft limit on open files, from `/proc/self/limits` (None if unknown).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.split_whitespace().nth(3)?;
    soft.parse().ok() // "unlimited" reads as unknown: no need to lower
}

/// How many connections the echo test may open: 1,000, or fewer when the
/// file descriptor limit cannot hold both ends of each (and some to spare).
fn connection_count() -> usize {
    const WANTED: usize = 1000;
    const SPARE: usize = 200; // the test harness, the runtime, other tests
    match open_files_limit() {
        Some(limit) if limit < 2 * WANTED + SPARE => {
            let n = limit.saturating_sub(SPARE) / 2;
            eprintln!("note: `ulimit -n` is {limit}: testing {n} connections instead of {WANTED}");
            n.max(1)
        }
        _ => WANTED,
    }
}

/// Echoes what it reads until EOF.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = [0; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// The bytes client `i` sends: a pattern that differs between clients.
fn message(i: usize) -> Vec<u8> {
    (0..1024).map(|j| (i * 31 + j * 7) as u8).collect()
}

#[test]
fn thousand_concurrent_connections_echo() {
    let count = connection_count();
    let start = Instant::now();
    within(Duration::from_secs(30), async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = corio::spawn(async move {
            let mut handlers = Vec::with_capacity(count);
            for _ in 0..count {
                let (stream, _) = listener.accept().await.unwrap();
                handlers.push(corio::spawn(echo(stream)));
            }
            for h in handlers {
                h.await.unwrap().unwrap();
            }
        });
        let clients: Vec<_> = (0..count)
            .map(|i| {
                corio::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await?;
                    let sent = message(i);
                    for chunk in sent.chunks(256) {
                        stream.write_all(chunk).await?;
                    }
                    let mut back = vec![0; sent.len()];
                    stream.read_exact(&mut back).await?;
                    assert!(back == sent, "client {i} got someone else's bytes");
                    io::Result::Ok(back.len())
                })
            })
            .collect();
        let mut echoed = 0;
        for c in clients {
            echoed += c.await.unwrap().unwrap();
        }
        assert_eq!(echoed, count * 1024);
        // Every client has dropped its stream, so every handler saw EOF.
        server.await.unwrap();
    });
    eprintln!("{count} connections echoed in {:?}", start.elapsed());
}

#[test]
fn refused_connection() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    }; // dropped: nothing listens on `addr` now
    let start = Instant::now();
    let err = within(Duration::from_secs(5), TcpStream::connect(addr)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn peer_resets_while_a_task_waits_in_read() {
    within(Duration::from_secs(5), async {
        let (mut client, server) = pair().await;
        let reader = corio::spawn(async move {
            let mut buf = [0; 16];
            client.read(&mut buf).await
        });
        corio::sleep(20 * MS).await;
        linger_zero(&server);
        drop(server);
        match reader.await.unwrap() {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e:?}"),
            Ok(n) => assert_eq!(n, 0, "a reset reads as an error or EOF"),
        }
    });
}

#[test]
fn peer_resets_mid_stream() {
    // Part of a message, then a reset: the reader ends with the error (or
    // EOF), never a hang, whether or not it read the first part.
    within(Duration::from_secs(5), async {
        let (mut client, mut server) = pair().await;
        let reader = corio::spawn(async move {
            let mut buf = [0; 1024];
            let mut total = 0;
            loop {
                match client.read(&mut buf).await {
                    Ok(0) => return Ok(total),
                    Ok(n) => total += n,
                    Err(e) => return Err(e),
                }
            }
        });
        server.write_all(b"partial").await.unwrap();
        corio::sleep(20 * MS).await;
        linger_zero(&server);
        drop(server);
        if let Err(e) = reader.await.unwrap() {
            assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e:?}");
        }
    });
}

#[test]
fn peer_closes_while_a_task_waits_in_read() {
    within(Duration::from_secs(5), async {
        let (mut client, server) = pair().await;
        let reader = corio::spawn(async move {
            let mut buf = [0; 16];
            client.read(&mut buf).await
        });
        corio::sleep(20 * MS).await;
        drop(server);
        assert_eq!(reader.await.unwrap().unwrap(), 0, "EOF");
    });
}

/// A listener whose accept queue is full: further connects stay pending.
fn full_listener() -> (Socket, SocketAddr) {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    (socket, addr)
}

#[test]
fn connect_timeout_times_out() {
    // Loopback refuses or accepts at once, so make a connect that stays
    // pending: a listener that never accepts, with its accept queue full.
    // Linux then drops further SYNs, and the connect waits for a retry.
    let (_listener, addr) = full_listener();
    let limit = 100 * MS;
    within(Duration::from_secs(20), async move {
        let mut kept = Vec::new();
        for _ in 0..32 {
            let start = Instant::now();
            match TcpStream::connect_timeout(addr, limit).await {
                Ok(s) => kept.push(s), // still room in the queue: fill it
                Err(e) => {
                    let took = start.elapsed();
                    assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e:?}");
                    assert!(took >= limit, "timed out early: {took:?}");
                    assert!(took < limit + Duration::from_secs(2), "late: {took:?}");
                    return;
                }
            }
        }
        panic!("no connect stayed pending after {} connections", kept.len());
    });
}
