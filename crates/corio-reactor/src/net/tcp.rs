//! TCP: [`TcpListener`], [`TcpStream`] and its split halves.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::io::{AsyncRead, AsyncWrite};
use futures_lite::Stream;
use socket2::{Domain, Protocol, Socket, Type};

use super::addr::{try_each, ToSocketAddrs};
use crate::async_io::Used;
use crate::Async;

/// A TCP server socket; asyncio's `start_server` is `bind` plus an accept loop.
///
/// Clones share the socket; it closes when the last clone is dropped.
///
/// # Examples
///
/// ```
/// use corio_reactor::net::TcpListener;
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// corio_reactor::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let client = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
///         use std::io::{Read, Write};
///         let mut s = std::net::TcpStream::connect(addr)?;
///         s.write_all(b"hello")?;
///         let mut back = vec![0; 5];
///         s.read_exact(&mut back)?;
///         Ok(back)
///     });
///     let (mut conn, _peer) = listener.accept().await?;
///     let mut buf = [0; 5];
///     conn.read_exact(&mut buf).await?;
///     conn.write_all(&buf).await?;
///     assert_eq!(client.join().unwrap()?, b"hello");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct TcpListener {
    inner: Arc<Async<std::net::TcpListener>>,
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpListener")
            .field(self.inner.get_ref())
            .finish()
    }
}

impl TcpListener {
    /// Binds a listener to `addr` (host names are resolved off the loop).
    ///
    /// Each resolved address is tried in turn; port 0 picks a free port. The
    /// socket gets `SO_REUSEADDR` (as std sets it) and a backlog of
    /// [`BACKLOG`](TcpListener::BACKLOG) (as tokio's), so that a burst of
    /// connections is queued rather than retried by the clients a second
    /// later. Build the socket yourself and use `TryFrom` for other options.
    ///
    /// # Errors
    ///
    /// The resolution error, or the OS error of the last address tried (for
    /// example `AddrInUse`).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes binds nothing that outlives it.
    ///
    /// # Examples
    ///
    /// ```
    /// corio_reactor::block_on(async {
    ///     let listener = corio_reactor::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     assert_ne!(listener.local_addr()?.port(), 0);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        try_each(&addr, |a| async move { bind_one(a) }).await
    }

    /// The listen backlog of [`bind`](TcpListener::bind) (the OS may cap it,
    /// as Linux does at `net.core.somaxconn`).
    pub const BACKLOG: i32 = 1024;

    /// Accepts a connection: the stream and the peer's address.
    ///
    /// Any number of tasks may wait in `accept` on one listener; each
    /// connection goes to one of them.
    ///
    /// # Errors
    ///
    /// The OS error of `accept` (for example `EMFILE` when out of file
    /// descriptors).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a connection is taken from the OS only in the poll that
    /// returns it, so dropping the future loses none.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_conn, peer) = listener.accept().await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.inner.read_with(accept_nonblocking).await?;
        Ok((TcpStream::from_async(Async::new_nonblocking(stream)?), peer))
    }

    /// A stream of incoming connections: `accept` in a loop.
    ///
    /// It never ends; an error of one `accept` is an item, and the stream can
    /// be polled again after it.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    /// use futures_lite::StreamExt;
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     let _a = TcpStream::connect(addr).await?;
    ///     let _b = TcpStream::connect(addr).await?;
    ///     let conns: Vec<_> = listener.incoming().take(2).collect().await;
    ///     assert!(conns.iter().all(|c| c.is_ok()));
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// corio_reactor::block_on(async {
    ///     let listener = corio_reactor::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     assert!(listener.local_addr()?.ip().is_loopback());
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The std listener, for options this type does not wrap.
    ///
    /// # Examples
    ///
    /// ```
    /// corio_reactor::block_on(async {
    ///     let listener = corio_reactor::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     listener.get_ref().set_ttl(32)?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn get_ref(&self) -> &std::net::TcpListener {
        self.inner.get_ref()
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// Registers a std listener (making it non-blocking).
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            inner: Arc::new(Async::new(listener)?),
        })
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

/// The stream of [`TcpListener::incoming`].
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("listener", self.listener)
            .finish()
    }
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let accepted =
            std::task::ready!(self.listener.inner.poll_read_with(cx, accept_nonblocking));
        Poll::Ready(Some(accepted.and_then(|(stream, _)| {
            Ok(TcpStream::from_async(Async::new_nonblocking(stream)?))
        })))
    }
}

/// Accepts one connection, already in non-blocking mode. On Linux `accept4`
/// creates it so, which saves the two `fcntl` calls of making it
/// non-blocking afterwards.
#[cfg(target_os = "linux")]
fn accept_nonblocking(
    listener: &std::net::TcpListener,
) -> io::Result<(std::net::TcpStream, SocketAddr)> {
    use rustix::net::{acceptfrom_with, SocketFlags};
    let (fd, addr) = acceptfrom_with(listener, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC)?;
    let stream = std::net::TcpStream::from(fd);
    let peer = match addr.and_then(|a| SocketAddr::try_from(a).ok()) {
        Some(peer) => peer,
        None => stream.peer_addr()?,
    };
    Ok((stream, peer))
}

/// Accepts one connection and puts it in non-blocking mode.
#[cfg(not(target_os = "linux"))]
fn accept_nonblocking(
    listener: &std::net::TcpListener,
) -> io::Result<(std::net::TcpStream, SocketAddr)> {
    let (stream, peer) = listener.accept()?;
    stream.set_nonblocking(true)?;
    Ok((stream, peer))
}

/// A TCP connection; asyncio's `open_connection` (reader and writer in one).
///
/// It implements [`AsyncRead`] and [`AsyncWrite`], so futures-lite's
/// `AsyncReadExt`/`AsyncWriteExt` and the futures-io ecosystem (codecs, TLS)
/// work with it. Clones share the socket: one task may read while another
/// writes (or use [`split`](TcpStream::split)); the socket closes when the
/// last clone is dropped.
///
/// Reading returns `Ok(0)` at end of stream (the peer shut down its side);
/// a reset connection is `ConnectionReset`.
///
/// # Examples
///
/// ```
/// use corio_reactor::net::{TcpListener, TcpStream};
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// corio_reactor::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"ping").await?;
///     client.close().await?; // shuts down the write side: the server sees EOF
///     let mut got = Vec::new();
///     server.read_to_end(&mut got).await?;
///     assert_eq!(got, b"ping");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct TcpStream {
    inner: Arc<Async<std::net::TcpStream>>,
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpStream")
            .field(self.inner.get_ref())
            .finish()
    }
}

/// Whether a `connect` error means "in progress": `EINPROGRESS`, or
/// `EAGAIN` (`WouldBlock`).
pub(crate) fn connect_in_progress(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
        || e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error())
}

/// Waits for a non-blocking `connect` on `io` to finish and reports its outcome.
pub(crate) async fn finish_connect<T: AsFd>(io: &Async<T>) -> io::Result<()> {
    io.writable().await?;
    let sock = socket2::SockRef::from(io.get_ref());
    if let Some(e) = sock.take_error()? {
        return Err(e);
    }
    // Writability without a pending error means connected; confirm it, so a
    // failure the OS reports differently still ends with an error.
    sock.peer_addr().map(drop)
}

impl TcpStream {
    /// Connects to `addr` (host names are resolved off the loop).
    ///
    /// Each resolved address is tried in turn, like std's `connect`.
    ///
    /// # Errors
    ///
    /// The resolution error, or the OS error of the last address tried:
    /// `ConnectionRefused` when nothing listens there, `TimedOut` when the OS
    /// gives up.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        try_each(&addr, connect_one).await
    }

    /// Connects to `addr`, giving up after `timeout`; asyncio's
    /// `wait_for(open_connection(...), timeout)`.
    ///
    /// The time limit covers the whole call, name resolution included.
    ///
    /// # Errors
    ///
    /// `TimedOut` if the time runs out; otherwise as [`connect`](TcpStream::connect).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    /// use std::time::Duration;
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     let _stream = TcpStream::connect_timeout(addr, Duration::from_secs(5)).await?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn connect_timeout<A: ToSocketAddrs>(
        addr: A,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        match corio_timer::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(res) => res,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connect timed out after {timeout:?}"),
            )),
        }
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` if the connection is gone, or another OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// The local address of this end.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert!(stream.local_addr()?.ip().is_loopback());
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY`: send small writes at once instead of coalescing them
    /// (Nagle's algorithm off).
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_nodelay(true)?;
    ///     assert!(stream.nodelay()?);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set; see [`set_nodelay`](TcpStream::set_nodelay).
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert!(!stream.nodelay()?);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get_ref().nodelay()
    }

    /// Shuts down the read side, the write side or both, for every clone.
    ///
    /// After `Shutdown::Write` the peer reads EOF; after `Shutdown::Read` (or
    /// `Both`) a task waiting in a read on this stream gets `Ok(0)`.
    ///
    /// # Errors
    ///
    /// The OS error of `shutdown` (`NotConnected` if the connection is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    /// use futures_lite::AsyncReadExt;
    /// use std::net::Shutdown;
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.shutdown(Shutdown::Write)?;
    ///     assert_eq!(server.read(&mut [0; 8]).await?, 0); // EOF
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// Reads into `buf` without removing the data from the socket's queue.
    ///
    /// # Errors
    ///
    /// The OS error of `recv` (`ConnectionReset`, ...).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: nothing is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(b"abc").await?;
    ///     let mut buf = [0; 3];
    ///     let n = server.peek(&mut buf).await?;
    ///     assert_eq!(&buf[..n], &b"abc"[..n]);
    ///     server.read_exact(&mut buf).await?; // still there
    ///     assert_eq!(&buf, b"abc");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.peek(buf)).await
    }

    /// Splits the stream into a read half and a write half that can move to
    /// two tasks; asyncio's `(reader, writer)` pair.
    ///
    /// Dropping the [`WriteHalf`] shuts down the write side, so the peer
    /// reads EOF (the read half keeps working). The halves share the socket
    /// with every clone of this stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    /// use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let (mut rd, mut wr) = client.split();
    ///     let send = async move { wr.write_all(b"hi").await };
    ///     let echo = async {
    ///         let mut buf = [0; 2];
    ///         server.read_exact(&mut buf).await?;
    ///         server.write_all(&buf).await
    ///     };
    ///     let (a, b) = future::zip(send, echo).await;
    ///     a?;
    ///     b?;
    ///     let mut back = [0; 2];
    ///     rd.read_exact(&mut back).await?;
    ///     assert_eq!(&back, b"hi");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn split(self) -> (ReadHalf, WriteHalf) {
        (ReadHalf(self.clone()), WriteHalf(self))
    }

    /// The std stream, for options this type does not wrap.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.get_ref().set_ttl(32)?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn get_ref(&self) -> &std::net::TcpStream {
        self.inner.get_ref()
    }
}

/// Binds and listens on one address.
fn bind_one(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(TcpListener::BACKLOG)?;
    let inner = Async::new_nonblocking(std::net::TcpListener::from(socket))?;
    Ok(TcpListener {
        inner: Arc::new(inner),
    })
}

/// Connects one socket to one address, without blocking.
async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
    // On Linux the socket is created non-blocking (no `fcntl` calls).
    #[cfg(target_os = "linux")]
    let kind = Type::STREAM.nonblocking();
    #[cfg(not(target_os = "linux"))]
    let kind = Type::STREAM;
    let socket = Socket::new(Domain::for_address(addr), kind, Some(Protocol::TCP))?;
    #[cfg(not(target_os = "linux"))]
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if connect_in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    let io = Async::new_nonblocking(std::net::TcpStream::from(socket))?;
    finish_connect(&io).await?;
    Ok(TcpStream::from_async(io))
}

impl TcpStream {
    /// Wraps a registered, connected socket. On Linux it asks for `TCP_INQ`
    /// reports (see [`poll_read_bufs`](TcpStream::poll_read_bufs)).
    fn from_async(io: Async<std::net::TcpStream>) -> TcpStream {
        #[cfg(target_os = "linux")]
        crate::sys::inq::enable(io.as_fd());
        TcpStream {
            inner: Arc::new(io),
        }
    }

    /// Every read of the stream. On Linux a `recvmsg` that reports the bytes
    /// left in the receive queue: a read that leaves it empty waits for the
    /// next event without another system call, even if it filled `bufs`
    /// exactly. Elsewhere (or if the kernel does not report it) a short read
    /// is taken as drained, as [`Async::poll_read_stream`] says.
    fn poll_read_bufs(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        #[cfg(target_os = "linux")]
        {
            let len = bufs.iter().map(|b| b.len()).sum();
            self.inner
                .poll_io(
                    crate::reactor::READ,
                    cx,
                    |s| crate::sys::inq::recv(s.as_fd(), bufs),
                    |&(n, left)| match left {
                        Some(0) => Used::Empty,
                        Some(_) => Used::Unknown,
                        None => Used::short(n, len),
                    },
                )
                .map_ok(|(n, _)| n)
        }
        #[cfg(not(target_os = "linux"))]
        self.inner.poll_read_stream(cx, bufs)
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// Registers a connected std stream (making it non-blocking, and on
    /// Linux turning on its `TCP_INQ` option, which only adds a report to
    /// `recvmsg` calls that ask for it).
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream::from_async(Async::new(stream)?))
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

/// `AsyncRead`/`AsyncWrite` for a stream type with an `inner: Async<S>`
/// (`&S: Write`) and a `poll_read_bufs` method; `poll_close` shuts down the
/// write side.
macro_rules! impl_stream_io {
    ($ty:ty, $std:ty) => {
        impl futures_lite::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_read_bufs(cx, &mut [std::io::IoSliceMut::new(buf)])
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_read_bufs(cx, bufs)
            }
        }

        impl futures_lite::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner
                    .poll_write_stream(cx, buf.len(), |mut s| std::io::Write::write(&mut s, buf))
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let len = bufs.iter().map(|b| b.len()).sum();
                self.inner.poll_write_stream(cx, len, |mut s| {
                    std::io::Write::write_vectored(&mut s, bufs)
                })
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(<$std>::shutdown(
                    self.inner.get_ref(),
                    std::net::Shutdown::Write,
                ))
            }
        }
    };
}
pub(crate) use impl_stream_io;

impl_stream_io!(TcpStream, std::net::TcpStream);
impl_stream_io!(&TcpStream, std::net::TcpStream);

/// The read half of a [`TcpStream`]; see [`TcpStream::split`].
///
/// # Examples
///
/// ```
/// use corio_reactor::net::{TcpListener, TcpStream};
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// corio_reactor::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     let (mut rd, _wr) = client.split();
///     server.write_all(b"x").await?;
///     let mut b = [0];
///     rd.read_exact(&mut b).await?;
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
pub struct ReadHalf(TcpStream);

/// The write half of a [`TcpStream`]; see [`TcpStream::split`].
///
/// Dropping it shuts down the write side of the connection (the peer reads
/// EOF).
///
/// # Examples
///
/// ```
/// use corio_reactor::net::{TcpListener, TcpStream};
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// corio_reactor::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     let (_rd, mut wr) = client.split();
///     wr.write_all(b"bye").await?;
///     drop(wr);
///     let mut got = Vec::new();
///     server.read_to_end(&mut got).await?;
///     assert_eq!(got, b"bye");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
pub struct WriteHalf(TcpStream);

impl ReadHalf {
    /// The stream this half reads from.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let (rd, _wr) = TcpStream::connect(listener.local_addr()?).await?.split();
    ///     assert_eq!(rd.stream().peer_addr()?, listener.local_addr()?);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn stream(&self) -> &TcpStream {
        &self.0
    }
}

impl WriteHalf {
    /// The stream this half writes to.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{TcpListener, TcpStream};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let (_rd, wr) = TcpStream::connect(listener.local_addr()?).await?.split();
    ///     wr.stream().set_nodelay(true)?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn stream(&self) -> &TcpStream {
        &self.0
    }
}

impl Drop for WriteHalf {
    fn drop(&mut self) {
        // The peer may be gone already (`NotConnected`): nothing to report.
        let _ = self.0.shutdown(Shutdown::Write);
    }
}

// The halves delegate to `&TcpStream`'s impls (one task per direction each).
impl AsyncRead for ReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &self.0).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &self.0).poll_read_vectored(cx, bufs)
    }
}

impl AsyncWrite for WriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &self.0).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &self.0).poll_close(cx)
    }
}
