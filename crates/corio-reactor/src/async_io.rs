//! [`Async<T>`]: a non-blocking fd registered with the reactor.
//!
//! # Design
//!
//! `Async::new` puts the fd in non-blocking mode and registers it once.
//! Every operation is "try while the reactor says ready; if it would block,
//! clear the readiness and wait for the next event": see the reactor's module
//! docs for why that never loses an event. [`Async::read_with`] /
//! [`Async::write_with`] wait as entries (any number of tasks may wait at
//! once); the `AsyncRead`/`AsyncWrite` impls wait through the direction's io
//! waker (one task per direction, which is what a stream split into a read
//! half and a write half needs). The public [`Async::readable`] /
//! [`Async::poll_readable`] waits ask the OS afresh instead, so that callers
//! doing their own I/O through [`Async::get_ref`] need no readiness
//! bookkeeping.
//!
//! # Invariants
//!
//! `io` is `Some` from `new` until `into_inner` or `Drop`, which deregister the
//! source (deleting the fd from the poller) *before* the I/O object is handed
//! back or dropped. No method gives out `&mut T`: replacing the I/O object
//! would close a registered fd (the poller's rule: delete before closing).
//! See invariant 1 in `reactor.rs`.

use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_lite::io::{AsyncRead, AsyncWrite};

use crate::reactor::{is_ready, Reactor, Source, Wait, READ, WRITE};

/// An I/O object registered with the reactor, in non-blocking mode.
///
/// This is the bridge from a blocking-style type (a socket, a pipe, a
/// terminal, anything that implements [`AsFd`] and supports polling) to async
/// code: its operations are retried when the reactor reports readiness instead
/// of blocking the thread. It is what asyncio's `loop.add_reader` /
/// `loop.add_writer` are for, packaged as a handle.
///
/// Regular files cannot be registered (the OS poller rejects them with an
/// error); use a blocking pool for them.
///
/// # Examples
///
/// ```
/// use corio_reactor::Async;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// corio_reactor::block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let (a, b) = (Async::new(a)?, Async::new(b)?);
///     a.write_with(|s| (&*s).write(b"hi")).await?;
///     let mut buf = [0; 2];
///     let n = b.read_with(|s| (&*s).read(&mut buf)).await?;
///     assert_eq!(&buf[..n], b"hi");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Async<T: AsFd> {
    source: Arc<Source>,
    /// `Some` until `into_inner`/`Drop` (see the module invariants).
    io: Option<T>,
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async").field("io", &self.io).finish()
    }
}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the reactor.
    ///
    /// # Errors
    ///
    /// The OS error if the fd cannot be made non-blocking or registered (for
    /// example a regular file, which epoll rejects with `EPERM`).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::Async;
    /// use std::net::TcpListener;
    ///
    /// let listener = Async::new(TcpListener::bind("127.0.0.1:0")?)?;
    /// assert!(listener.get_ref().local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new(io: T) -> io::Result<Async<T>> {
        set_nonblocking(io.as_fd())?;
        Async::new_nonblocking(io)
    }

    /// Registers `io`, which the caller has already put in non-blocking mode.
    ///
    /// Saves the `fcntl` calls of [`new`](Async::new). If `io` is in fact
    /// blocking, operations on it block the thread.
    ///
    /// # Errors
    ///
    /// The OS error if the fd cannot be registered.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::Async;
    /// use std::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0")?;
    /// socket.set_nonblocking(true)?;
    /// let socket = Async::new_nonblocking(socket)?;
    /// assert!(socket.get_ref().local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new_nonblocking(io: T) -> io::Result<Async<T>> {
        let source = Reactor::get().register(io.as_fd())?;
        Ok(Async {
            source,
            io: Some(io),
        })
    }

    /// The I/O object.
    ///
    /// There is no `get_mut`: replacing the object would close a registered
    /// fd. Types whose `&T` implements `Read`/`Write` (sockets, pipes) need
    /// only this.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::Async;
    /// use std::net::TcpListener;
    ///
    /// let listener = Async::new(TcpListener::bind("127.0.0.1:0")?)?;
    /// println!("listening on {}", listener.get_ref().local_addr()?);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("Async used after into_inner")
    }

    /// Deregisters the I/O object and returns it, still in non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error if the fd cannot be deleted from the poller; the object is
    /// dropped (closed) in that case.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::Async;
    /// use std::net::TcpListener;
    ///
    /// let listener = Async::new(TcpListener::bind("127.0.0.1:0")?)?;
    /// let listener: TcpListener = listener.into_inner()?;
    /// listener.set_nonblocking(false)?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect("Async used after into_inner");
        Reactor::get().deregister(&self.source, io.as_fd())?;
        Ok(io)
    }

    /// Waits until the I/O object is readable.
    ///
    /// The returned future registers interest on its first poll and completes
    /// after the reactor reports readiness (at once, in the next reactor poll,
    /// if the object is readable already). Readiness is a hint: the next read
    /// may still fail with `WouldBlock` (another task consumed the data), so
    /// retry in a loop, or use [`read_with`](Async::read_with).
    ///
    /// The future does not borrow `self`: if the `Async` is dropped while it
    /// waits, it fails with [`io::ErrorKind::NotConnected`] instead of hanging.
    ///
    /// # Errors
    ///
    /// `NotConnected` as above, or the OS error if interest cannot be armed.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future removes its registration; nothing is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::Async;
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    ///
    /// corio_reactor::block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     let b = Async::new(b)?;
    ///     (&a).write_all(b"x")?;
    ///     b.readable().await?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn readable(&self) -> Readable {
        Readable(Ready::new(&self.source, READ, Wait::Fresh))
    }

    /// Waits until the I/O object is writable; see [`readable`](Async::readable).
    ///
    /// # Errors
    ///
    /// `NotConnected` if the `Async` is dropped while the future waits, or the
    /// OS error if interest cannot be armed.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future removes its registration; nothing is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::Async;
    /// use std::os::unix::net::UnixStream;
    ///
    /// corio_reactor::block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     a.writable().await?; // an empty socket buffer is writable
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn writable(&self) -> Writable {
        Writable(Ready::new(&self.source, WRITE, Wait::Fresh))
    }

    /// Polls for readability, for hand-written `poll_*` functions.
    ///
    /// Returns `Ready(Ok(()))` once the reactor reported readiness since the
    /// previous `Pending`; otherwise registers `cx`'s waker and returns
    /// `Pending`. Call it after an operation failed with `WouldBlock`, then
    /// retry the operation.
    ///
    /// Only the waker of the most recent call is woken: one task per direction
    /// at a time (many tasks can wait with [`readable`](Async::readable)).
    ///
    /// # Errors
    ///
    /// `NotConnected` if the source was deregistered, or the OS error if
    /// interest cannot be armed.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::Async;
    /// use std::io::{self, Read};
    /// use std::os::unix::net::UnixStream;
    /// use std::task::{ready, Context, Poll};
    ///
    /// fn poll_read_some(s: &Async<UnixStream>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
    ///     loop {
    ///         match (&*s.get_ref()).read(buf) {
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
    ///             res => return Poll::Ready(res),
    ///         }
    ///         ready!(s.poll_readable(cx))?;
    ///     }
    /// }
    /// # let _ = poll_read_some;
    /// ```
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_ready(READ, cx)
    }

    /// Polls for writability; see [`poll_readable`](Async::poll_readable).
    ///
    /// # Errors
    ///
    /// `NotConnected` if the source was deregistered, or the OS error if
    /// interest cannot be armed.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::Async;
    /// use std::os::unix::net::UnixStream;
    ///
    /// corio_reactor::block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     std::future::poll_fn(|cx| a.poll_writable(cx)).await
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_ready(WRITE, cx)
    }

    /// Runs a read-like operation until it does not fail with `WouldBlock`,
    /// waiting for readability in between.
    ///
    /// `op` must be non-blocking and should fail with `WouldBlock` only when
    /// it cannot make progress. It is called at once unless an earlier
    /// operation in the same direction met `WouldBlock` and no event came
    /// since, and again after each readiness report.
    ///
    /// # Errors
    ///
    /// The first error of `op` other than `WouldBlock`, or an error of
    /// [`readable`](Async::readable).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future between two calls of `op` loses nothing; whatever
    /// an `op` call already did stays done.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::Async;
    /// use std::net::{TcpListener, TcpStream};
    ///
    /// corio_reactor::block_on(async {
    ///     let listener = Async::new(TcpListener::bind("127.0.0.1:0")?)?;
    ///     let _client = TcpStream::connect(listener.get_ref().local_addr()?)?;
    ///     let (_conn, _peer) = listener.read_with(|l| l.accept()).await?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn read_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.op_with(READ, op).await
    }

    /// Runs a write-like operation until it does not fail with `WouldBlock`,
    /// waiting for writability in between; see [`read_with`](Async::read_with).
    ///
    /// # Errors
    ///
    /// The first error of `op` other than `WouldBlock`, or an error of
    /// [`writable`](Async::writable).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future between two calls of `op` loses nothing; whatever
    /// an `op` call already did stays done.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_reactor::Async;
    /// use std::net::UdpSocket;
    ///
    /// corio_reactor::block_on(async {
    ///     let a = Async::new(UdpSocket::bind("127.0.0.1:0")?)?;
    ///     let b = UdpSocket::bind("127.0.0.1:0")?;
    ///     let to = b.local_addr()?;
    ///     a.write_with(|s| s.send_to(b"hi", to)).await?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn write_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.op_with(WRITE, op).await
    }

    /// `read_with`/`write_with`: `op` while `dir` is ready, waiting as an entry.
    async fn op_with<R>(
        &self,
        dir: usize,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let snapshot = self.source.readiness();
            if is_ready(snapshot, dir) {
                match op(self.get_ref()) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.source.clear_ready(dir, snapshot);
                    }
                    res => return res,
                }
            }
            Ready::new(&self.source, dir, Wait::Ready).await?;
        }
    }

    /// `op` in `poll` form, waiting for `dir` through its io waker (one task
    /// per direction). `used(&result)` says what a successful `op` tells of
    /// the readiness it used: see [`Used`].
    pub(crate) fn poll_io<R>(
        &self,
        dir: usize,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
        used: impl Fn(&R) -> Used,
    ) -> Poll<io::Result<R>> {
        loop {
            let snapshot = std::task::ready!(self.source.poll_io_ready(dir, cx))?;
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.source.clear_ready(dir, snapshot);
                }
                Ok(r) => {
                    match used(&r) {
                        Used::Unknown => {}
                        Used::Short => self.source.clear_drained(dir, snapshot),
                        Used::Empty => self.source.clear_ready(dir, snapshot),
                    }
                    return Poll::Ready(Ok(r));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// [`poll_io`](Async::poll_io) for reading, with nothing treated as drained.
    pub(crate) fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(READ, cx, op, |_| Used::Unknown)
    }

    /// [`poll_io`](Async::poll_io) for writing, with nothing treated as drained.
    pub(crate) fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(WRITE, cx, op, |_| Used::Unknown)
    }

    /// A stream read into `bufs`: a short read (`0 < n <` their length)
    /// drained the socket, and the OS reports the next data (or the end of
    /// stream) as an event; see [`Source::clear_drained`] for when the
    /// readiness is kept anyway.
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>>
    where
        for<'a> &'a T: Read,
    {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.poll_io(
            READ,
            cx,
            |mut io| io.read_vectored(bufs),
            |&n| Used::short(n, len),
        )
    }

    /// A stream write of `len` bytes: a short write (`0 < n < len`) filled
    /// the socket's buffer, and the OS reports the next freed space as an
    /// event.
    pub(crate) fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io(WRITE, cx, op, |&n| Used::short(n, len))
    }
}

/// What a successful operation tells of the readiness it used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Used {
    /// Nothing: the direction stays ready, and the next operation finds out.
    Unknown,
    /// A stream read or write came back short: the socket was drained or
    /// filled, with the exceptions of [`Source::clear_drained`].
    Short,
    /// The OS said nothing is left to read and the peer has not closed its
    /// side: the direction waits for the next event.
    Empty,
}

impl Used {
    /// [`Used::Short`] if `n` of `len` bytes is short (`0 < n < len`).
    pub(crate) fn short(n: usize, len: usize) -> Used {
        if n > 0 && n < len {
            Used::Short
        } else {
            Used::Unknown
        }
    }
}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Delete the fd from the poller before `io` closes it.
            let _ = Reactor::get().deregister(&self.source, io.as_fd());
            drop(io);
        }
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_fd().as_raw_fd()
    }
}

/// Puts `fd` in non-blocking mode.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};
    let flags = fcntl_getfl(fd)?;
    if !flags.contains(OFlags::NONBLOCK) {
        fcntl_setfl(fd, flags | OFlags::NONBLOCK)?;
    }
    Ok(())
}

impl<T: AsFd> AsyncRead for Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read_vectored(bufs))
    }
}

impl<T: AsFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read_vectored(bufs))
    }
}

impl<T: AsFd> AsyncWrite for Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_with(cx, |mut io| io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsFd> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_with(cx, |mut io| io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// The state shared by [`Readable`] and [`Writable`], and the wait of
/// `read_with`/`write_with`.
struct Ready {
    source: Arc<Source>,
    dir: usize,
    wait: Wait,
    /// This future's waiter entry, once registered.
    key: Option<usize>,
}

impl Ready {
    fn new(source: &Arc<Source>, dir: usize, wait: Wait) -> Ready {
        Ready {
            source: source.clone(),
            dir,
            wait,
            key: None,
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source
            .poll_entry(self.dir, self.wait, &mut self.key, cx)
    }
}

impl Future for Ready {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Ready::poll(self.get_mut(), cx)
    }
}

impl Drop for Ready {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.source.remove_entry(self.dir, key);
        }
    }
}

/// The future of [`Async::readable`].
#[must_use = "futures do nothing unless awaited"]
pub struct Readable(Ready);

/// The future of [`Async::writable`].
#[must_use = "futures do nothing unless awaited"]
pub struct Writable(Ready);

impl fmt::Debug for Readable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Readable").finish_non_exhaustive()
    }
}

impl fmt::Debug for Writable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writable").finish_non_exhaustive()
    }
}

impl Future for Readable {
    type Output = io::Result<()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.poll(cx)
    }
}

impl Future for Writable {
    type Output = io::Result<()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.poll(cx)
    }
}
