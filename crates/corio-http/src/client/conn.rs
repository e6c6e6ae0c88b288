//! Connections and the pool: [`Io`] (plain TCP, later TLS), [`Conn`] (a
//! stream with its read buffer) and [`Pool`] (idle connections per origin and
//! the connection limits).
//!
//! # Invariants
//!
//! * A connection is either *idle* (in `Pool::idle`, holding no permit) or
//!   *checked out* (owned by exactly one request or response, holding a
//!   [`Lease`]: one permit of the total limit and one of its host's limit).
//!   Dropping a checked-out connection closes its socket and releases the
//!   lease; nothing else needs cleaning up, which is what makes every future
//!   of the session cancel safe.
//! * A connection goes back to the pool only through [`Pool::put`], called
//!   by a response whose body was read to its end and whose headers allow
//!   keep-alive; its read buffer is then empty (the codec consumed exactly
//!   the body), so nothing of one exchange leaks into the next.
//! * The permits limit connections *in use*, like aiohttp's `limit`: a new
//!   socket is only opened for a request holding both permits when no idle
//!   connection to its origin is left, so the sockets open to one origin never
//!   outnumber its limit.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use corio_reactor::net::TcpStream;
use corio_sync::{OwnedSemaphorePermit, Semaphore};
#[cfg(feature = "tls")]
use futures_lite::future;
use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use super::trace::Trace;
use crate::Error;

/// The byte stream under a connection: plain TCP or TLS over TCP.
pub(crate) enum Io {
    /// `http://`.
    Plain(TcpStream),
    /// `https://`.
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::TlsStream>),
}

impl fmt::Debug for Io {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Io::Plain(_) => f.write_str("Io::Plain"),
            #[cfg(feature = "tls")]
            Io::Tls(_) => f.write_str("Io::Tls"),
        }
    }
}

/// A TLS connection that is dropped (idle too long, the pool full, the
/// session gone, a response abandoned) says goodbye with a `close_notify`
/// alert, as TLS asks, so that the server sees an orderly close rather than
/// a truncation. Best effort and without waiting: the alert is written only
/// if the socket takes it at once.
#[cfg(feature = "tls")]
impl Drop for Io {
    fn drop(&mut self) {
        if let Io::Tls(stream) = self {
            let (tcp, tls) = stream.get_mut();
            tls.send_close_notify();
            let mut socket = tcp.get_ref();
            while tls.wants_write() {
                match tls.write_tls(&mut socket) {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
            }
        }
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Io::Tls(s) => Pin::new(&mut **s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Io::Tls(s) => Pin::new(&mut **s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "tls")]
            Io::Tls(s) => Pin::new(&mut **s).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_close(cx),
            #[cfg(feature = "tls")]
            Io::Tls(s) => Pin::new(&mut **s).poll_close(cx),
        }
    }
}

/// Which origin a connection talks to: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) scheme: &'static str,
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// The permits a checked-out connection holds; released on drop.
#[derive(Debug)]
pub(crate) struct Lease {
    _host: Option<OwnedSemaphorePermit>,
    _total: OwnedSemaphorePermit,
}

/// One connection: its stream, what is buffered from it, where it goes.
pub(crate) struct Conn {
    pub(crate) io: Io,
    /// Bytes read from the peer and not yet consumed by the codec.
    pub(crate) buf: BytesMut,
    /// Where reads land before they are appended to `buf`: zeroed once when
    /// the connection is made, then reused, so a read costs a copy of the
    /// bytes it got rather than zeroing a whole read's worth of `buf`.
    scratch: Box<[u8]>,
    pub(crate) key: Key,
    pub(crate) addr: SocketAddr,
    /// Whether the connection came from the pool (it carried an exchange before).
    pub(crate) reused: bool,
    pub(crate) lease: Option<Lease>,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("io", &self.io)
            .field("buffered", &self.buf.len())
            .field("key", &self.key)
            .field("addr", &self.addr)
            .field("reused", &self.reused)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// How many bytes one read asks for.
const READ_SIZE: usize = 16 * 1024;

impl Conn {
    /// A connection over `io` to `key` at `addr`, with an empty buffer.
    fn new(io: Io, key: Key, addr: SocketAddr) -> Conn {
        Conn {
            io,
            buf: BytesMut::new(),
            scratch: vec![0; READ_SIZE].into_boxed_slice(),
            key,
            addr,
            reused: false,
            lease: None,
        }
    }

    /// Reads more bytes into `buf`; `Ok(0)` at end of stream.
    ///
    /// Cancel safe: bytes reach `buf` only once the read has completed, so
    /// a dropped read loses nothing that was buffered.
    pub(crate) async fn fill(&mut self) -> io::Result<usize> {
        let n = self.io.read(&mut self.scratch).await?;
        self.buf.extend_from_slice(&self.scratch[..n]);
        Ok(n)
    }

    /// Whether an idle connection is still usable: nothing to read, no EOF,
    /// no error, checked without waiting.
    fn looks_alive(&mut self) -> bool {
        let mut probe = [0u8; 1];
        // Ready at all (EOF, an error, or bytes nobody asked for) means "do
        // not use"; only "would block" means the connection is quiet.
        match &self.io {
            // Ask the socket itself: the reactor may not have reported a
            // close that already arrived.
            Io::Plain(s) => matches!(
                s.get_ref().peek(&mut probe),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock
            ),
            // Through TLS, so that post-handshake records (session tickets)
            // do not count as stray bytes.
            #[cfg(feature = "tls")]
            Io::Tls(_) => future::block_on(future::poll_once(self.io.read(&mut probe))).is_none(),
        }
    }
}

/// How long a connection may sit idle before [`Pool::take`] checks it for
/// a close even for a request that could be retried.
pub(crate) const PROBE_AFTER: Duration = Duration::from_secs(1);

struct IdleConn {
    conn: Conn,
    since: Instant,
}

/// The connection pool of a session.
pub(crate) struct Pool {
    total: Arc<Semaphore>,
    per_host_limit: usize,
    per_host: Mutex<HashMap<Key, Arc<Semaphore>>>,
    idle: Mutex<HashMap<Key, Vec<IdleConn>>>,
    idle_timeout: Duration,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("available", &self.total.available_permits())
            .field("per_host_limit", &self.per_host_limit)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Pool {
    pub(crate) fn new(limit: usize, per_host_limit: usize, idle_timeout: Duration) -> Pool {
        let limit = if limit == 0 {
            Semaphore::MAX_PERMITS
        } else {
            limit
        };
        Pool {
            total: Arc::new(Semaphore::new(limit)),
            per_host_limit,
            per_host: Mutex::new(HashMap::new()),
            idle: Mutex::new(HashMap::new()),
            idle_timeout,
        }
    }

    /// Waits for a permit of `key`'s host limit, then one of the total limit.
    ///
    /// Cancel safe: a dropped wait holds no permit (the semaphore hands a
    /// permit given to a dropped waiter to the next one).
    pub(crate) async fn lease(&self, key: &Key) -> Lease {
        let host = if self.per_host_limit == 0 {
            None
        } else {
            let sem = lock(&self.per_host)
                .entry(key.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host_limit)))
                .clone();
            Some(
                sem.acquire_owned()
                    .await
                    .expect("the pool never closes its semaphores"),
            )
        };
        let total = self
            .total
            .clone()
            .acquire_owned()
            .await
            .expect("the pool never closes its semaphores");
        Lease {
            _host: host,
            _total: total,
        }
    }

    /// Takes the most recently used idle connection to `key` that is neither
    /// expired nor closed by the peer; drops the ones that are.
    ///
    /// Whether the peer closed it is checked with a read that must not find
    /// anything (one system call). With `retryable` (the request may be sent
    /// again on a fresh connection if this one turns out stale, which covers
    /// a close) the check is skipped for a connection idle for less than
    /// [`PROBE_AFTER`]: a server closes a keep-alive connection after its own
    /// idle timeout, so one used a moment ago is all but certainly open.
    pub(crate) fn take(&self, key: &Key, retryable: bool) -> Option<Conn> {
        let now = Instant::now();
        let mut idle = lock(&self.idle);
        let list = idle.get_mut(key)?;
        while let Some(IdleConn { mut conn, since }) = list.pop() {
            let age = now.duration_since(since);
            let probe = !retryable || age >= PROBE_AFTER;
            if age < self.idle_timeout && (!probe || conn.looks_alive()) {
                conn.reused = true;
                return Some(conn);
            }
        }
        None
    }

    /// Puts a connection whose exchange is complete back for reuse,
    /// releasing its lease.
    pub(crate) fn put(&self, mut conn: Conn) {
        conn.lease = None;
        if !conn.buf.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut idle = lock(&self.idle);
        let list = idle.entry(conn.key.clone()).or_default();
        list.retain(|c| now.duration_since(c.since) < self.idle_timeout);
        list.push(IdleConn { conn, since: now });
    }

    /// How many idle connections the pool holds.
    pub(crate) fn idle_count(&self) -> usize {
        lock(&self.idle).values().map(Vec::len).sum()
    }
}

/// Resolves and connects to `key`, within `connect_timeout`.
pub(crate) async fn connect(
    key: &Key,
    connect_timeout: Option<Duration>,
    trace: Option<&Arc<dyn Trace>>,
    #[cfg(feature = "tls")] tls: Option<&crate::tls::TlsConfig>,
) -> Result<Conn, Error> {
    let work = async {
        let host = key.host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, key.port)],
            Err(_) => {
                let started = Instant::now();
                let (name, port) = (host.to_owned(), key.port);
                let addrs = corio_executor::unblock(move || {
                    std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), port))
                        .map(|it| it.collect::<Vec<_>>())
                })
                .await
                .map_err(Error::connect)?;
                if let Some(trace) = trace {
                    trace.on_dns_resolved(host, &addrs, started.elapsed());
                }
                addrs
            }
        };
        let started = Instant::now();
        let mut last = None;
        for addr in &addrs {
            match TcpStream::connect(*addr).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    if let Some(trace) = trace {
                        trace.on_connection_create(*addr, started.elapsed());
                    }
                    let io = wrap(
                        stream,
                        key,
                        #[cfg(feature = "tls")]
                        tls,
                    )
                    .await?;
                    return Ok(Conn::new(io, key.clone(), *addr));
                }
                Err(err) => last = Some(err),
            }
        }
        Err(Error::connect(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "host resolved to no address")
        })))
    };
    match connect_timeout {
        Some(limit) => corio_timer::timeout(limit, work)
            .await
            .unwrap_or_else(|_| Err(Error::timeout().with_source(ConnectTimeout(limit)))),
        None => work.await,
    }
}

/// Wraps a TCP stream for the scheme of `key`.
async fn wrap(
    stream: TcpStream,
    key: &Key,
    #[cfg(feature = "tls")] tls: Option<&crate::tls::TlsConfig>,
) -> Result<Io, Error> {
    match key.scheme {
        "http" => Ok(Io::Plain(stream)),
        #[cfg(feature = "tls")]
        "https" => match tls {
            Some(tls) => Ok(Io::Tls(Box::new(
                crate::tls::connect(stream, &key.host, tls).await?,
            ))),
            None => Err(Error::request("no TLS configuration for an https URL")),
        },
        #[cfg(not(feature = "tls"))]
        "https" => Err(Error::request("https needs the `tls` feature").with_source(TlsMissing)),
        other => Err(Error::request(format!("unsupported URL scheme `{other}`"))),
    }
}

/// The cause of refusing an `https` URL when TLS is not built in.
#[cfg(not(feature = "tls"))]
#[derive(Debug)]
struct TlsMissing;

#[cfg(not(feature = "tls"))]
impl fmt::Display for TlsMissing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TLS support is not available in this build")
    }
}

#[cfg(not(feature = "tls"))]
impl std::error::Error for TlsMissing {}

/// The cause of a connect timeout.
#[derive(Debug)]
struct ConnectTimeout(Duration);

impl fmt::Display for ConnectTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connecting took longer than {:?}", self.0)
    }
}

impl std::error::Error for ConnectTimeout {}
