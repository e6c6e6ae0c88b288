//! TCP fault cases on 127.0.0.1, each of which must end within a bound with
//! the right error or EOF: refused connections, a peer that resets the
//! connection mid-read, a peer that closes while a task waits, a connect that
//! times out, and a socket shut down by one task while another waits on it.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use corio_reactor::block_on;
use corio_reactor::net::{TcpListener, TcpStream};
use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use socket2::{Domain, SockRef, Socket, Type};

const MS: Duration = Duration::from_millis(1);

/// Runs `fut` inside `block_on`, failing if it takes longer than `limit`.
fn within<T>(limit: Duration, fut: impl std::future::Future<Output = T>) -> T {
    block_on(corio_timer::timeout(limit, fut)).expect("the operation hung")
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

#[test]
fn refused_connection() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    }; // dropped: nothing listens on `addr` now
    let start = Instant::now();
    let err = within(Duration::from_secs(5), TcpStream::connect(addr)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err:?}");
    assert!(err.raw_os_error().is_some(), "keeps the OS error: {err:?}");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn refused_connection_with_timeout_is_refused_not_timed_out() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let err = within(
        Duration::from_secs(5),
        TcpStream::connect_timeout(addr, Duration::from_secs(3)),
    )
    .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err:?}");
}

#[test]
fn peer_resets_while_a_task_waits_in_read() {
    within(Duration::from_secs(5), async {
        let (mut client, server) = pair().await;
        let read = async {
            let mut buf = [0; 16];
            client.read(&mut buf).await
        };
        let reset = async {
            corio_timer::sleep(20 * MS).await;
            linger_zero(&server);
            drop(server);
        };
        let (res, ()) = future::zip(read, reset).await;
        match res {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e:?}"),
            Ok(n) => assert_eq!(n, 0, "a reset reads as an error or EOF"),
        }
    });
}

#[test]
fn peer_resets_mid_stream() {
    // The peer sends part of a message, then resets: the reader gets the
    // error (or EOF), never a hang, whether or not it read the first part.
    within(Duration::from_secs(5), async {
        let (mut client, mut server) = pair().await;
        let read = async {
            let mut buf = [0; 1024];
            let mut total = 0;
            loop {
                match client.read(&mut buf).await {
                    Ok(0) => return Ok(total),
                    Ok(n) => total += n,
                    Err(e) => return Err(e),
                }
            }
        };
        let reset = async {
            server.write_all(b"partial").await.unwrap();
            corio_timer::sleep(20 * MS).await;
            linger_zero(&server);
            drop(server);
        };
        let (res, ()) = future::zip(read, reset).await;
        if let Err(e) = res {
            assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e:?}");
        }
    });
}

#[test]
fn writing_to_a_reset_peer_fails() {
    within(Duration::from_secs(5), async {
        let (mut client, server) = pair().await;
        linger_zero(&server);
        drop(server);
        corio_timer::sleep(20 * MS).await;
        let chunk = [0u8; 65536];
        let mut result = Ok(());
        for _ in 0..64 {
            result = client.write_all(&chunk).await;
            if result.is_err() {
                break;
            }
        }
        let err = result.unwrap_err();
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ),
            "{err:?}"
        );
    });
}

#[test]
fn peer_closes_while_a_task_waits_in_read() {
    within(Duration::from_secs(5), async {
        let (mut client, server) = pair().await;
        let read = async {
            let mut buf = [0; 16];
            client.read(&mut buf).await
        };
        let close = async {
            corio_timer::sleep(20 * MS).await;
            drop(server);
        };
        let (res, ()) = future::zip(read, close).await;
        assert_eq!(res.unwrap(), 0, "EOF");
    });
}

#[test]
fn half_close_delivers_the_rest_then_eof() {
    within(Duration::from_secs(5), async {
        let (mut client, mut server) = pair().await;
        server.write_all(b"last words").await.unwrap();
        server.close().await.unwrap(); // shutdown(Write)
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last words");
        // The other direction still works after the peer's half close.
        client.write_all(b"reply").await.unwrap();
        let mut buf = [0; 5];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"reply");
    });
}

#[test]
fn shutdown_by_another_task_ends_a_waiting_read() {
    // One task waits in a read; another shuts the socket down through a
    // clone. The reader gets EOF instead of hanging.
    within(Duration::from_secs(5), async {
        let (client, _server) = pair().await;
        let mut reader = client.clone();
        let read = async {
            let mut buf = [0; 16];
            reader.read(&mut buf).await
        };
        let shut = async {
            corio_timer::sleep(20 * MS).await;
            client.shutdown(Shutdown::Both).unwrap();
        };
        let (res, ()) = future::zip(read, shut).await;
        assert_eq!(res.unwrap(), 0);
    });
}

#[test]
fn shutdown_from_another_thread_ends_a_waiting_read() {
    let (client, _server) = block_on(pair());
    let other = client.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(20 * MS);
        other.shutdown(Shutdown::Read).unwrap();
    });
    let mut reader = client;
    let n = within(Duration::from_secs(5), async {
        let mut buf = [0; 16];
        reader.read(&mut buf).await
    })
    .unwrap();
    assert_eq!(n, 0);
    t.join().unwrap();
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
    within(Duration::from_secs(20), async {
        let mut kept = Vec::new();
        for _ in 0..32 {
            let start = Instant::now();
            match TcpStream::connect_timeout(addr, limit).await {
                Ok(s) => kept.push(s), // still room in the queue: fill it
                Err(e) => {
                    let took = start.elapsed();
                    assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e:?}");
                    assert!(took >= limit, "timed out early: {took:?}");
                    assert!(
                        took < limit + Duration::from_secs(2),
                        "timed out late: {took:?}"
                    );
                    return;
                }
            }
        }
        panic!("no connect stayed pending after {} connections", kept.len());
    });
}

#[test]
fn readiness_wait_can_be_bounded_by_a_timeout() {
    // The general form of the timeout path: a socket that never becomes
    // readable, awaited under corio-timer's `timeout`.
    within(Duration::from_secs(5), async {
        let (mut client, _server) = pair().await;
        let start = Instant::now();
        let res = corio_timer::timeout(30 * MS, client.read(&mut [0; 8])).await;
        assert!(res.is_err(), "nothing was sent, so the read must time out");
        assert!(start.elapsed() >= 30 * MS);
    });
}
