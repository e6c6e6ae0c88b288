//! UDP on 127.0.0.1: `send_to`/`recv_from`, connected `send`/`recv`, a
//! receiver that waits for a late datagram, and many datagrams in flight.

use std::io;
use std::time::{Duration, Instant};

use corio_reactor::block_on;
use corio_reactor::net::UdpSocket;
use futures_lite::future;

const MS: Duration = Duration::from_millis(1);

/// Runs `fut` inside `block_on`, failing if it takes longer than `limit`.
fn within<T>(limit: Duration, fut: impl std::future::Future<Output = T>) -> T {
    block_on(corio_timer::timeout(limit, fut)).expect("the operation hung")
}

#[test]
fn send_to_and_recv_from() {
    within(Duration::from_secs(5), async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(
            a.send_to(b"hello", b.local_addr().unwrap()).await.unwrap(),
            5
        );
        let mut buf = [0; 64];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello");
        assert_eq!(from, a.local_addr().unwrap());
        // Reply to the sender, addressed by a string.
        b.send_to(b"world", from.to_string()).await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"world"[..], b.local_addr().unwrap()));
        assert!(a.peer_addr().is_err());
    });
}

#[test]
fn recv_waits_for_a_late_datagram() {
    within(Duration::from_secs(5), async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = b.local_addr().unwrap();
        let start = Instant::now();
        let recv = async {
            let mut buf = [0; 16];
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            buf[..n].to_vec()
        };
        let send = async {
            corio_timer::sleep(20 * MS).await;
            a.send_to(b"late", to).await.unwrap();
        };
        let (got, ()) = future::zip(recv, send).await;
        assert_eq!(got, b"late");
        assert!(start.elapsed() >= 20 * MS);
    });
}

#[test]
fn connected_send_and_recv() {
    within(Duration::from_secs(5), async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        a.send(b"ping").await.unwrap();
        let mut buf = [0; 8];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        // Peek leaves the datagram queued.
        b.send(b"pong").await.unwrap();
        let (n, from) = a.peek_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"pong"[..], b.local_addr().unwrap()));
        assert_eq!(a.recv(&mut buf).await.unwrap(), 4);
    });
}

#[test]
fn sending_to_a_closed_port_is_reported_on_the_connected_socket() {
    within(Duration::from_secs(5), async {
        let closed = {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            s.local_addr().unwrap()
        };
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(closed).await.unwrap();
        a.send(b"anyone?").await.unwrap();
        // Linux reports the ICMP "port unreachable" as ECONNREFUSED on the
        // next receive; the receive must end with it, not hang.
        let err = a.recv(&mut [0; 8]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err:?}");
    });
}

#[test]
fn many_datagrams_between_two_threads() {
    const N: usize = 500;
    let b = block_on(UdpSocket::bind("127.0.0.1:0")).unwrap();
    let to = b.local_addr().unwrap();
    let receiver = std::thread::spawn(move || {
        within(Duration::from_secs(10), async {
            let mut seen = vec![false; N];
            let mut buf = [0; 8];
            let mut count = 0;
            while count < N {
                let (n, _) = b.recv_from(&mut buf).await.unwrap();
                assert_eq!(n, 8);
                let i = u64::from_le_bytes(buf) as usize;
                if !seen[i] {
                    seen[i] = true;
                    count += 1;
                }
            }
        })
    });
    within(Duration::from_secs(10), async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        // Loopback drops datagrams when the receiver's buffer is full, so
        // send in rounds until the receiver has seen every one.
        let mut rounds = 0;
        while !receiver.is_finished() && rounds < 100 {
            for i in 0..N as u64 {
                a.send_to(&i.to_le_bytes(), to).await.unwrap();
                if i % 50 == 0 {
                    corio_timer::sleep(MS).await;
                }
            }
            corio_timer::sleep(10 * MS).await;
            rounds += 1;
        }
    });
    receiver.join().unwrap();
}
