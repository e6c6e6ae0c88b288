//! TCP on 127.0.0.1: echo round trips, many concurrent connections across
//! threads, split halves used from two threads, `incoming`, `peek`, options
//! and addresses. The fault cases live in `tcp_faults.rs`.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::thread;
use std::time::{Duration, Instant};

use corio_reactor::block_on;
use corio_reactor::net::{TcpListener, TcpStream};
use futures_lite::{future, AsyncReadExt, AsyncWriteExt, StreamExt};

/// Runs `fut` inside `block_on`, failing if it takes longer than `limit`.
fn within<T>(limit: Duration, fut: impl std::future::Future<Output = T>) -> T {
    block_on(corio_timer::timeout(limit, fut)).expect("the operation hung")
}

/// Echoes one connection until EOF.
async fn echo(mut conn: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0; 4096];
    let mut total = 0;
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        conn.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

/// A thread running an echo server for `conns` connections, all served
/// concurrently as futures of one `block_on`.
fn echo_server(conns: usize) -> (SocketAddr, thread::JoinHandle<u64>) {
    let listener = block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        block_on(async move {
            let mut incoming = listener.incoming();
            let mut served = Vec::new();
            for _ in 0..conns {
                let conn = incoming.next().await.unwrap().unwrap();
                served.push(echo(conn));
            }
            // The clients wait for their echoes, so they do not mind that
            // serving starts once all are accepted.
            let mut total = 0;
            for r in join_all(served).await {
                total += r.unwrap();
            }
            total
        })
    });
    (addr, handle)
}

/// Polls every future concurrently until all are done; outputs in order.
async fn join_all<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut futs: Vec<_> = futs.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut outs: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, out) in futs.iter_mut().zip(outs.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outs.into_iter().map(|o| o.unwrap()).collect()
}

#[test]
fn echo_round_trips() {
    let (addr, server) = echo_server(1);
    within(Duration::from_secs(10), async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        for i in 0..200u32 {
            let msg = format!("message number {i}");
            s.write_all(msg.as_bytes()).await.unwrap();
            let mut back = vec![0; msg.len()];
            s.read_exact(&mut back).await.unwrap();
            assert_eq!(back, msg.as_bytes());
        }
        // A large payload in both directions at once.
        let big: Vec<u8> = (0..1_000_000u32).map(|i| i as u8).collect();
        let mut rd = s.clone();
        let send = async {
            s.write_all(&big).await.unwrap();
            s.close().await.unwrap(); // the server sees EOF and finishes
        };
        let recv = async {
            let mut got = Vec::new();
            rd.read_to_end(&mut got).await.unwrap();
            got
        };
        let ((), got) = future::zip(send, recv).await;
        assert_eq!(got, big);
    });
    assert!(server.join().unwrap() > 1_000_000);
}

#[test]
fn two_hundred_connections_across_four_threads() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 50;
    let (addr, server) = echo_server(THREADS * PER_THREAD);
    let start = Instant::now();
    let clients: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                within(Duration::from_secs(30), async move {
                    let conns = (0..PER_THREAD).map(|c| async move {
                        let mut s = TcpStream::connect(addr).await?;
                        for round in 0..10 {
                            let msg = format!("t{t} c{c} r{round}");
                            s.write_all(msg.as_bytes()).await?;
                            let mut back = vec![0; msg.len()];
                            s.read_exact(&mut back).await?;
                            assert_eq!(back, msg.as_bytes());
                        }
                        s.shutdown(Shutdown::Write)?;
                        io::Result::Ok(())
                    });
                    for r in join_all(conns.collect()).await {
                        r.unwrap();
                    }
                })
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    server.join().unwrap();
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn split_halves_from_two_threads() {
    let (addr, server) = echo_server(1);
    let stream = block_on(TcpStream::connect(addr)).unwrap();
    let (mut rd, mut wr) = stream.split();
    const N: usize = 100_000;
    let writer = thread::spawn(move || {
        within(Duration::from_secs(10), async move {
            for chunk in (0..N).map(|i| i as u8).collect::<Vec<_>>().chunks(1000) {
                wr.write_all(chunk).await.unwrap();
            }
            // Dropping the write half shuts down the write side: the server
            // sees EOF, finishes, and closes, so the reader sees EOF.
        })
    });
    let reader = thread::spawn(move || {
        within(Duration::from_secs(10), async move {
            let mut got = Vec::new();
            rd.read_to_end(&mut got).await.unwrap();
            got
        })
    });
    writer.join().unwrap();
    let got = reader.join().unwrap();
    assert_eq!(got.len(), N);
    assert!(got.iter().enumerate().all(|(i, b)| *b == i as u8));
    assert_eq!(server.join().unwrap(), N as u64);
}

#[test]
fn a_reader_and_a_writer_task_in_one_thread() {
    // The same split, as two futures of one `block_on`.
    let (addr, server) = echo_server(1);
    within(Duration::from_secs(10), async {
        let (mut rd, mut wr) = TcpStream::connect(addr).await.unwrap().split();
        let send = async move {
            for i in 0..1000u32 {
                wr.write_all(&i.to_le_bytes()).await.unwrap();
            }
        };
        let recv = async move {
            let mut got = Vec::new();
            rd.read_to_end(&mut got).await.unwrap();
            got
        };
        let ((), got) = future::zip(send, recv).await;
        let expect: Vec<u8> = (0..1000u32).flat_map(|i| i.to_le_bytes()).collect();
        assert_eq!(got, expect);
    });
    server.join().unwrap();
}

#[test]
fn accept_and_connect_addresses_match() {
    within(Duration::from_secs(10), async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, (server, peer)) = future::try_zip(TcpStream::connect(addr), listener.accept())
            .await
            .unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        assert_eq!(client.peer_addr().unwrap(), addr);
        assert!(!client.nodelay().unwrap());
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
    });
}

#[test]
fn many_tasks_accept_on_one_listener() {
    within(Duration::from_secs(10), async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptors = join_all((0..8).map(|_| listener.accept()).collect());
        let connectors = join_all((0..8).map(|_| TcpStream::connect(addr)).collect());
        let (accepted, connected) = future::zip(acceptors, connectors).await;
        assert!(accepted.iter().all(|r| r.is_ok()));
        assert!(connected.iter().all(|r| r.is_ok()));
    });
}

#[test]
fn host_names_resolve_off_the_loop() {
    within(Duration::from_secs(10), async {
        let listener = TcpListener::bind(("localhost", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let ip = listener.local_addr().unwrap().ip();
        // Connect by name: "localhost" may resolve to ::1 first; the listener
        // is on one family, and the other address is tried after a refusal.
        let s = TcpStream::connect(format!("localhost:{port}"))
            .await
            .unwrap();
        assert_eq!(s.peer_addr().unwrap().ip(), ip);
        let err = TcpStream::connect("not an address").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    });
}

#[test]
fn peek_leaves_the_data() {
    within(Duration::from_secs(10), async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let peek = async {
            let mut buf = [0; 5];
            let n = server.peek(&mut buf).await.unwrap();
            assert!(n > 0 && buf[..n] == b"hello"[..n]);
        };
        let write = async {
            corio_timer::sleep(Duration::from_millis(10)).await;
            client.write_all(b"hello").await.unwrap();
        };
        future::zip(peek, write).await;
        let mut buf = [0; 5];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
    });
}

#[test]
fn incoming_yields_each_connection() {
    within(Duration::from_secs(10), async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connect = async {
            let mut v = Vec::new();
            for _ in 0..5 {
                v.push(TcpStream::connect(addr).await.unwrap());
                corio_timer::sleep(Duration::from_millis(2)).await;
            }
            v
        };
        let (clients, accepted) =
            future::zip(connect, listener.incoming().take(5).collect::<Vec<_>>()).await;
        assert_eq!(clients.len(), 5);
        assert!(accepted.into_iter().all(|c| c.is_ok()));
    });
}
