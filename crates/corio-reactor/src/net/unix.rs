//! Unix domain sockets: [`UnixListener`], [`UnixStream`], [`UnixDatagram`].

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self as std_unix, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_lite::Stream;
use socket2::{Domain, SockAddr, Socket, Type};

use super::tcp::{connect_in_progress, finish_connect, impl_stream_io};
use crate::Async;

/// A Unix stream server socket; asyncio's `start_unix_server`.
///
/// Binding creates the socket file; dropping the listener does not remove it.
/// Clones share the socket.
///
/// # Examples
///
/// ```
/// use corio_reactor::net::{UnixListener, UnixStream};
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// let path = std::env::temp_dir().join(format!("corio-doc-{}.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// corio_reactor::block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"hi").await?;
///     let mut buf = [0; 2];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Clone)]
pub struct UnixListener {
    inner: Arc<Async<std_unix::UnixListener>>,
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixListener")
            .field(self.inner.get_ref())
            .finish()
    }
}

impl UnixListener {
    /// Creates a socket file at `path` and listens on it.
    ///
    /// # Errors
    ///
    /// The OS error of `bind`/`listen` (`AddrInUse` if the file exists).
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("corio-doc-bind-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// corio_reactor::block_on(async {
    ///     let listener = corio_reactor::net::UnixListener::bind(&path)?;
    ///     assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        UnixListener::try_from(std_unix::UnixListener::bind(path)?)
    }

    /// Accepts a connection: the stream and the peer's address (usually
    /// unnamed).
    ///
    /// # Errors
    ///
    /// The OS error of `accept`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a connection is taken only in the poll that returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("corio-doc-accept-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// corio_reactor::block_on(async {
    ///     let listener = UnixListener::bind(&path)?;
    ///     let _client = UnixStream::connect(&path).await?;
    ///     let (_server, peer) = listener.accept().await?;
    ///     assert!(peer.is_unnamed());
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, peer) = self.inner.read_with(|l| l.accept()).await?;
        Ok((UnixStream::try_from(stream)?, peer))
    }

    /// A stream of incoming connections: `accept` in a loop; it never ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::{UnixListener, UnixStream};
    /// use futures_lite::StreamExt;
    ///
    /// let path = std::env::temp_dir().join(format!("corio-doc-incoming-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// corio_reactor::block_on(async {
    ///     let listener = UnixListener::bind(&path)?;
    ///     let _client = UnixStream::connect(&path).await?;
    ///     let first = listener.incoming().next().await.unwrap();
    ///     assert!(first.is_ok());
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn incoming(&self) -> UnixIncoming<'_> {
        UnixIncoming { listener: self }
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
    /// let path = std::env::temp_dir().join(format!("corio-doc-addr-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = corio_reactor::net::UnixListener::bind(&path)?;
    /// assert!(listener.local_addr()?.as_pathname().is_some());
    /// std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }
}

impl TryFrom<std_unix::UnixListener> for UnixListener {
    type Error = io::Error;

    /// Registers a std listener (making it non-blocking).
    fn try_from(listener: std_unix::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            inner: Arc::new(Async::new(listener)?),
        })
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

/// The stream of [`UnixListener::incoming`].
#[must_use = "streams do nothing unless polled"]
pub struct UnixIncoming<'a> {
    listener: &'a UnixListener,
}

impl fmt::Debug for UnixIncoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixIncoming")
            .field("listener", self.listener)
            .finish()
    }
}

impl Stream for UnixIncoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let accepted = std::task::ready!(self.listener.inner.poll_read_with(cx, |l| l.accept()));
        Poll::Ready(Some(
            accepted.and_then(|(stream, _)| UnixStream::try_from(stream)),
        ))
    }
}

/// A Unix stream connection; asyncio's `open_unix_connection`.
///
/// Implements [`AsyncRead`](futures_lite::AsyncRead) and
/// [`AsyncWrite`](futures_lite::AsyncWrite) (also for `&UnixStream`). Clones
/// share the socket, so one task may read while another writes.
///
/// # Examples
///
/// ```
/// use corio_reactor::net::UnixStream;
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// corio_reactor::block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct UnixStream {
    inner: Arc<Async<std_unix::UnixStream>>,
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixStream")
            .field(self.inner.get_ref())
            .finish()
    }
}

impl UnixStream {
    /// Connects to the socket file at `path`.
    ///
    /// # Errors
    ///
    /// The OS error of `connect`: `NotFound` if there is no such file,
    /// `ConnectionRefused` if nothing listens on it.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UnixStream;
    ///
    /// corio_reactor::block_on(async {
    ///     let missing = std::env::temp_dir().join("corio-doc-no-such.sock");
    ///     let err = UnixStream::connect(&missing).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let addr = SockAddr::unix(path)?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        let pending = match socket.connect(&addr) {
            Ok(()) => false,
            Err(e) if connect_in_progress(&e) => true,
            Err(e) => return Err(e),
        };
        let io = Async::new_nonblocking(std_unix::UnixStream::from(std::os::fd::OwnedFd::from(
            socket,
        )))?;
        if pending {
            finish_connect(&io).await?;
        }
        Ok(UnixStream {
            inner: Arc::new(io),
        })
    }

    /// A pair of connected sockets.
    ///
    /// # Errors
    ///
    /// The OS error of `socketpair`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = corio_reactor::net::UnixStream::pair()?;
    /// # let _ = (a, b);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std_unix::UnixStream::pair()?;
        Ok((UnixStream::try_from(a)?, UnixStream::try_from(b)?))
    }

    /// The address of this end.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, _b) = corio_reactor::net::UnixStream::pair()?;
    /// assert!(a.local_addr()?.is_unnamed());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, _b) = corio_reactor::net::UnixStream::pair()?;
    /// assert!(a.peer_addr()?.is_unnamed());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side or both, for every clone.
    ///
    /// # Errors
    ///
    /// The OS error of `shutdown`.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UnixStream;
    /// use futures_lite::AsyncReadExt;
    ///
    /// corio_reactor::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.shutdown(std::net::Shutdown::Write)?;
    ///     assert_eq!(b.read(&mut [0; 4]).await?, 0);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// The std stream, for options this type does not wrap.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, _b) = corio_reactor::net::UnixStream::pair()?;
    /// assert!(a.get_ref().take_error()?.is_none());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn get_ref(&self) -> &std_unix::UnixStream {
        self.inner.get_ref()
    }
}

impl TryFrom<std_unix::UnixStream> for UnixStream {
    type Error = io::Error;

    /// Registers a std stream (making it non-blocking).
    fn try_from(stream: std_unix::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            inner: Arc::new(Async::new(stream)?),
        })
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl UnixStream {
    /// Every read of the stream: a short read is taken as drained, as
    /// [`Async::poll_read_stream`] says.
    fn poll_read_bufs(
        &self,
        cx: &mut std::task::Context<'_>,
        bufs: &mut [std::io::IoSliceMut<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        self.inner.poll_read_stream(cx, bufs)
    }
}

impl_stream_io!(UnixStream, std_unix::UnixStream);
impl_stream_io!(&UnixStream, std_unix::UnixStream);

/// A Unix datagram socket.
///
/// Clones share the socket.
///
/// # Examples
///
/// ```
/// use corio_reactor::net::UnixDatagram;
///
/// corio_reactor::block_on(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"one").await?;
///     let mut buf = [0; 8];
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"one");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct UnixDatagram {
    inner: Arc<Async<std_unix::UnixDatagram>>,
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixDatagram")
            .field(self.inner.get_ref())
            .finish()
    }
}

impl UnixDatagram {
    /// Creates a socket bound to the file `path`.
    ///
    /// # Errors
    ///
    /// The OS error of `bind` (`AddrInUse` if the file exists).
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("corio-doc-dgram-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let socket = corio_reactor::net::UnixDatagram::bind(&path)?;
    /// assert_eq!(socket.local_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::try_from(std_unix::UnixDatagram::bind(path)?)
    }

    /// Creates a socket bound to no address (it can send, and receive replies
    /// only once connected).
    ///
    /// # Errors
    ///
    /// The OS error of `socket`.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = corio_reactor::net::UnixDatagram::unbound()?;
    /// assert!(socket.local_addr()?.is_unnamed());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::try_from(std_unix::UnixDatagram::unbound()?)
    }

    /// A pair of connected sockets.
    ///
    /// # Errors
    ///
    /// The OS error of `socketpair`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = corio_reactor::net::UnixDatagram::pair()?;
    /// # let _ = (a, b);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std_unix::UnixDatagram::pair()?;
        Ok((UnixDatagram::try_from(a)?, UnixDatagram::try_from(b)?))
    }

    /// Sets the default peer to the socket file `path` (this does not block).
    ///
    /// # Errors
    ///
    /// The OS error of `connect` (`NotFound`, `ConnectionRefused`).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("corio-doc-dconn-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let server = UnixDatagram::bind(&path)?;
    /// let client = UnixDatagram::unbound()?;
    /// client.connect(&path)?;
    /// assert_eq!(client.peer_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # drop(server);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.inner.get_ref().connect(path)
    }

    /// Sends one datagram to the socket file `path`.
    ///
    /// # Errors
    ///
    /// The OS error of `sendto`.
    ///
    /// # Cancel safety
    ///
    /// The datagram is sent in the poll that returns `Ready`, or not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("corio-doc-dsend-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// corio_reactor::block_on(async {
    ///     let server = UnixDatagram::bind(&path)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     client.send_to(b"hi", &path).await?;
    ///     let mut buf = [0; 4];
    ///     let (n, _from) = server.recv_from(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.inner.write_with(|s| s.send_to(buf, path)).await
    }

    /// Receives one datagram and the sender's address; a datagram longer than
    /// `buf` is truncated.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a datagram is taken only in the poll that returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UnixDatagram;
    ///
    /// corio_reactor::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.send(b"x").await?;
    ///     let (n, _from) = b.recv_from(&mut [0; 4]).await?;
    ///     assert_eq!(n, 1);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.recv_from(buf)).await
    }

    /// Sends one datagram to the connected peer.
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
    /// use corio_reactor::net::UnixDatagram;
    ///
    /// corio_reactor::block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     assert_eq!(a.send(b"abc").await?, 3);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_with(|s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// The OS error of `recv`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a datagram is taken only in the poll that returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::net::UnixDatagram;
    ///
    /// corio_reactor::block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     b.send(b"abc").await?;
    ///     assert_eq!(a.recv(&mut [0; 8]).await?, 3);
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
    /// let socket = corio_reactor::net::UnixDatagram::unbound()?;
    /// assert!(socket.local_addr()?.as_pathname().is_none());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` without a peer.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = corio_reactor::net::UnixDatagram::unbound()?;
    /// assert!(socket.peer_addr().is_err());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side or both, for every clone.
    ///
    /// # Errors
    ///
    /// The OS error of `shutdown`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, _b) = corio_reactor::net::UnixDatagram::pair()?;
    /// a.shutdown(std::net::Shutdown::Both)?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }
}

impl TryFrom<std_unix::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// Registers a std socket (making it non-blocking).
    fn try_from(socket: std_unix::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            inner: Arc::new(Async::new(socket)?),
        })
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}
