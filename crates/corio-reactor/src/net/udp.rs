//! UDP: [`UdpSocket`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;

use super::addr::{resolve, try_each, ToSocketAddrs};
use crate::Async;

/// A UDP socket; asyncio's `create_datagram_endpoint`, as a handle.
///
/// Clones share the socket; it closes when the last clone is dropped.
///
/// # Examples
///
/// ```
/// use corio_reactor::net::UdpSocket;
///
/// corio_reactor::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"hello", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!(&buf[..n], b"hello");
///     assert_eq!(from, a.local_addr()?);
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct UdpSocket {
    inner: Arc<Async<std::net::UdpSocket>>,
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UdpSocket")
            .field(self.inner.get_ref())
            .finish()
    }
}

impl UdpSocket {
    /// Binds a socket to `addr` (host names are resolved off the loop); port 0
    /// picks a free port.
    ///
    /// # Errors
    ///
    /// The resolution error, or the OS error of the last address tried.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes binds nothing that outlives it.
    ///
    /// # Examples
    ///
    /// ```
    /// corio_reactor::block_on(async {
    ///     let socket = corio_reactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_ne!(socket.local_addr()?.port(), 0);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        try_each(&addr, |a| async move {
            UdpSocket::try_from(std::net::UdpSocket::bind(a)?)
        })
        .await
    }

    /// Sends one datagram to `addr` (resolved off the loop; the first address
    /// is used). Returns the number of bytes sent.
    ///
    /// # Errors
    ///
    /// The resolution error or the OS error of `sendto`.
    ///
    /// # Cancel safety
    ///
    /// The datagram is sent in the poll that returns `Ready`, or not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UdpSocket;
    ///
    /// corio_reactor::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_eq!(a.send_to(b"hi", b.local_addr()?).await?, 2);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], addr: A) -> io::Result<usize> {
        let to = resolve(&addr).await?[0];
        self.inner.write_with(|s| s.send_to(buf, to)).await
    }

    /// Receives one datagram: its length and sender. A datagram longer than
    /// `buf` is truncated.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom` (on Linux, `ConnectionRefused` after a send
    /// to a closed port was answered with ICMP).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a datagram is taken only in the poll that returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UdpSocket;
    ///
    /// corio_reactor::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"hi", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = b.recv_from(&mut buf).await?;
    ///     assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr()?));
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.recv_from(buf)).await
    }

    /// Like [`recv_from`](UdpSocket::recv_from), but leaves the datagram queued.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: nothing is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UdpSocket;
    ///
    /// corio_reactor::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"hi", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, _) = b.peek_from(&mut buf).await?;
    ///     assert_eq!(b.recv_from(&mut buf).await?.0, n);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.peek_from(buf)).await
    }

    /// Sets the default peer (resolved off the loop; the first address that
    /// works): [`send`](UdpSocket::send) goes there, and
    /// [`recv`](UdpSocket::recv) takes datagrams from there only.
    ///
    /// # Errors
    ///
    /// The resolution error or the OS error of `connect`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future during resolution leaves the socket as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UdpSocket;
    ///
    /// corio_reactor::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(a.peer_addr()?, b.local_addr()?);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        try_each(&addr, |a| async move { self.inner.get_ref().connect(a) }).await
    }

    /// Sends one datagram to the peer set by [`connect`](UdpSocket::connect).
    ///
    /// # Errors
    ///
    /// `NotConnected` without a peer, or the OS error of `send`.
    ///
    /// # Cancel safety
    ///
    /// The datagram is sent in the poll that returns `Ready`, or not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UdpSocket;
    ///
    /// corio_reactor::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     a.send(b"ping").await?;
    ///     let mut buf = [0; 8];
    ///     let n = b.recv(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"ping");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_with(|s| s.send(buf)).await
    }

    /// Receives one datagram from the peer set by [`connect`](UdpSocket::connect).
    ///
    /// # Errors
    ///
    /// The OS error of `recv` (`ConnectionRefused` after the peer's port
    /// answered a send with ICMP "port unreachable").
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a datagram is taken only in the poll that returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UdpSocket;
    ///
    /// corio_reactor::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     a.send_to(b"x", b.local_addr()?).await?;
    ///     assert_eq!(b.recv(&mut [0; 4]).await?, 1);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.recv(buf)).await
    }

    /// The address this socket is bound to.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// corio_reactor::block_on(async {
    ///     let socket = corio_reactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(socket.local_addr()?.ip().is_loopback());
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The peer set by [`connect`](UdpSocket::connect).
    ///
    /// # Errors
    ///
    /// `NotConnected` without a peer.
    ///
    /// # Examples
    ///
    /// ```
    /// corio_reactor::block_on(async {
    ///     let socket = corio_reactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(socket.peer_addr().is_err());
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// The std socket, for options this type does not wrap (broadcast,
    /// multicast, TTL).
    ///
    /// # Examples
    ///
    /// ```
    /// corio_reactor::block_on(async {
    ///     let socket = corio_reactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.get_ref().set_broadcast(true)?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn get_ref(&self) -> &std::net::UdpSocket {
        self.inner.get_ref()
    }
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// Registers a std socket (making it non-blocking).
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            inner: Arc::new(Async::new(socket)?),
        })
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}
