//! A small HTTP/1.1 server: aiohttp's `web` module for corio.
//!
//! ```
//! use corio_http::server::{Request, Response, Router, Server};
//! use corio::net::TcpStream;
//! use futures_lite::{AsyncReadExt, AsyncWriteExt};
//!
//! async fn handle(req: Request) -> Response {
//!     let name = req.param("name").unwrap_or("Anonymous");
//!     Response::text(format!("Hello, {name}!"))
//! }
//!
//! corio::run(async {
//!     let router = Router::new().get("/", handle).get("/{name}", handle);
//!     let server = Server::bind("127.0.0.1:0").await?.serve(router);
//!
//!     let mut client = TcpStream::connect(server.local_addr()).await?;
//!     client.write_all(b"GET /corio HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
//!     let mut reply = String::new();
//!     client.read_to_string(&mut reply).await?;
//!     assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
//!     assert!(reply.ends_with("\r\n\r\nHello, corio!"));
//!
//!     server.shutdown().await;
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```
//!
//! | aiohttp | corio-http |
//! |---|---|
//! | `web.Application()` + `app.add_routes([...])` | [`Router::new`]`().get(..).post(..)` |
//! | `web.get('/{name}', handle)` | [`Router::get`]`("/{name}", handle)` |
//! | `request.match_info['name']` | [`Request::param`]`("name")` |
//! | `request.query`, `await request.read()` | [`Request::query_pairs`], [`Request::body`] |
//! | `web.Response(text=...)`, `web.json_response` | [`Response::text`], [`Response::json_str`] |
//! | `web.StreamResponse` | [`Response::stream`] |
//! | `web.run_app(app)` | [`Server::bind`]`(addr).await?.`[`run`](Server::run)`(router).await` |
//! | `await runner.cleanup()` | [`ServerHandle::shutdown`] |
//!
//! # How the pieces relate
//!
//! * A [`Router`] maps a method and a path pattern to a handler, an
//!   `async fn(Request) -> Response`.
//! * A [`Server`] is a bound listener plus its limits and timeouts.
//!   [`Server::serve`] spawns an accept loop and returns a [`ServerHandle`];
//!   each accepted connection runs in a task of its own.
//! * A connection reads a request head (bounded by
//!   [`max_head_size`](Server::max_head_size),
//!   [`max_headers`](Server::max_headers) and
//!   [`header_read_timeout`](Server::header_read_timeout)), reads the body in
//!   full (bounded by [`max_body_size`](Server::max_body_size)), calls the
//!   handler, writes the response, and repeats while the connection is kept
//!   alive. Requests on one connection are answered in the order they came
//!   (pipelining is supported; handling is one at a time).
//!
//! # Shutdown
//!
//! [`ServerHandle::shutdown`] stops accepting at once, closes idle kept-alive
//! connections, lets the requests in flight finish (their responses carry
//! `Connection: close`) for up to the [grace period](Server::shutdown_grace),
//! then cancels the connections still open. The shared state behind it is
//! small: a "shutting down" flag, the set of connection tasks (inserted by the
//! accept loop, each removed by its own task when it ends) and two wake-up
//! lists — one for the accept loop and idle connections (woken once, when the
//! shutdown begins), one for whoever waits for the server to drain or stop.
//! A waiter registers its waker *before* it checks its condition, and every
//! state change is made before the list is woken, so no wake-up is lost.

mod conn;
mod request;
mod response;
mod router;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use corio_executor::Task;
use corio_reactor::net::{TcpListener, ToSocketAddrs};
use futures_lite::{future, FutureExt};

pub use request::Request;
pub use response::Response;
pub use router::Router;

/// Limits and timeouts of a server.
#[derive(Debug, Clone)]
struct Config {
    header_read_timeout: Duration,
    idle_timeout: Duration,
    body_timeout: Duration,
    max_head_size: usize,
    max_headers: usize,
    max_body_size: usize,
    shutdown_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            max_head_size: 16 * 1024,
            max_headers: 100,
            max_body_size: 1024 * 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data behind our locks stays consistent even if a holder panicked
    // (every critical section is a single insert, remove or drain).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A list of wakers woken all at once (std only: corio-http does not depend
/// on corio-sync).
#[derive(Default)]
struct Notifier {
    wakers: Mutex<(u64, HashMap<u64, Waker>)>,
}

impl Notifier {
    fn notify_all(&self) {
        let wakers: Vec<Waker> = lock(&self.wakers).1.drain().map(|(_, w)| w).collect();
        for w in wakers {
            w.wake();
        }
    }

    /// Resolves once `cond()` holds, re-checked after every notification.
    fn wait<F: Fn() -> bool + Unpin>(&self, cond: F) -> Wait<'_, F> {
        Wait {
            notifier: self,
            cond,
            key: None,
        }
    }
}

struct Wait<'a, F> {
    notifier: &'a Notifier,
    cond: F,
    key: Option<u64>,
}

impl<F: Fn() -> bool + Unpin> Future for Wait<'_, F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if (this.cond)() {
            return Poll::Ready(());
        }
        {
            let mut guard = lock(&this.notifier.wakers);
            let (next, map) = &mut *guard;
            match this.key.and_then(|k| map.get_mut(&k)) {
                Some(w) => w.clone_from(cx.waker()),
                None => {
                    *next += 1;
                    map.insert(*next, cx.waker().clone());
                    this.key = Some(*next);
                }
            }
        }
        // Checked again after registering: a change made before the
        // registration is seen here, one made after it wakes us.
        if (this.cond)() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<F> Drop for Wait<'_, F> {
    fn drop(&mut self) {
        if let Some(k) = self.key {
            lock(&self.notifier.wakers).1.remove(&k);
        }
    }
}

/// State shared by the accept loop, the connections and the handles.
struct Shared {
    shutting_down: AtomicBool,
    /// Woken when the shutdown begins: the accept loop. (Idle connections
    /// are woken through their slots in `conns`.)
    shutdown: Notifier,
    /// Live connection tasks by id, with their idle slots; each task
    /// removes itself when it ends.
    conns: Mutex<HashMap<u64, ConnEntry>>,
    next_id: AtomicU64,
    active: AtomicUsize,
    accepting: AtomicBool,
    stopped: AtomicBool,
    /// Woken when the accept loop ends, the last connection ends, or the
    /// server has stopped.
    state: Notifier,
    local_addr: SocketAddr,
    grace: Duration,
}

impl Shared {
    fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    fn begin_shutdown(&self) {
        if !self.shutting_down.swap(true, Ordering::SeqCst) {
            self.shutdown.notify_all();
            let idle: Vec<Waker> = lock(&self.conns)
                .values()
                .filter_map(|(_, slot)| lock(&slot.0).take())
                .collect();
            for w in idle {
                w.wake();
            }
        }
    }

    async fn wait_shutdown(&self) {
        self.shutdown.wait(|| self.is_shutting_down()).await;
    }

    /// A connection's wait, between requests, for the shutdown: `Ready` once
    /// it has begun; otherwise the task is woken through `slot` when it does.
    fn poll_idle_shutdown(&self, slot: &IdleSlot, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_shutting_down() {
            return Poll::Ready(());
        }
        {
            let mut waker = lock(&slot.0);
            match &mut *waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                w => *w = Some(cx.waker().clone()),
            }
        }
        // Checked again after registering: `begin_shutdown` sets the flag
        // before it empties the slots, so either it finds this waker or this
        // sees the flag.
        if self.is_shutting_down() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// A live connection: its task and its idle slot.
type ConnEntry = (Task<()>, Arc<IdleSlot>);

/// Where a connection waiting between requests leaves its waker for the
/// shutdown: one per connection, so going idle (every request on a kept-alive
/// connection) takes no lock that other connections share. A waker left
/// behind after the wait ended costs at most one spurious wake-up.
#[derive(Default)]
pub(super) struct IdleSlot(Mutex<Option<Waker>>);

/// Removes a connection from the shared state when its task ends or is
/// cancelled.
struct ConnGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        // Dropping our own `Task` handle detaches it: harmless, we are ending.
        let me = lock(&self.shared.conns).remove(&self.id);
        drop(me);
        if self.shared.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.state.notify_all();
        }
    }
}

/// A bound HTTP server not yet serving: a listener plus limits and timeouts
/// (aiohttp's `web.TCPSite` + `AppRunner` settings).
///
/// Configure it with the builder methods, then [`serve`](Server::serve) a
/// [`Router`] in the background (getting a [`ServerHandle`]), or
/// [`run`](Server::run) it on the current task. The defaults:
///
/// | setting | default | on violation |
/// |---|---|---|
/// | [`header_read_timeout`](Server::header_read_timeout) | 10 s | `408`, close (silently if no byte came) |
/// | [`idle_timeout`](Server::idle_timeout) | 60 s | close |
/// | [`body_timeout`](Server::body_timeout) | 30 s per read/write | close |
/// | [`max_head_size`](Server::max_head_size) | 16 KiB | `431`, close |
/// | [`max_headers`](Server::max_headers) | 100 | `431`, close |
/// | [`max_body_size`](Server::max_body_size) | 1 MiB | `413`, close |
/// | [`shutdown_grace`](Server::shutdown_grace) | 10 s | connections cancelled |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use corio_http::server::{Request, Response, Router, Server};
///
/// corio::run(async {
///     let server = Server::bind("127.0.0.1:0")
///         .await
///         .unwrap()
///         .header_read_timeout(Duration::from_secs(5))
///         .max_body_size(64 * 1024);
///     let router = Router::new().get("/", |_req: Request| async { Response::text("hi") });
///     let handle = server.serve(router);
///     assert!(handle.local_addr().ip().is_loopback());
///     handle.shutdown().await;
/// });
/// ```
pub struct Server {
    listener: TcpListener,
    config: Config,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("config", &self.config)
            .finish()
    }
}

impl Server {
    /// Binds a listener to `addr` (`"127.0.0.1:8080"`, port 0 for any free
    /// port) with the default settings.
    ///
    /// # Errors
    ///
    /// When the address cannot be resolved or bound (in use, no permission).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it resolves closes the socket if it was
    /// already bound; nothing else happens.
    ///
    /// # Examples
    ///
    /// ```
    /// corio::run(async {
    ///     let server = corio_http::server::Server::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(server.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server::from_listener(listener))
    }

    /// A server on an already bound listener, with the default settings.
    ///
    /// # Examples
    ///
    /// ```
    /// corio::run(async {
    ///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let server = corio_http::server::Server::from_listener(listener);
    ///     assert_eq!(server.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn from_listener(listener: TcpListener) -> Server {
        Server {
            listener,
            config: Config::default(),
        }
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// When the OS cannot report the address.
    ///
    /// # Examples
    ///
    /// ```
    /// corio::run(async {
    ///     let server = corio_http::server::Server::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(server.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// How long a client may take to send a complete request head, counted
    /// from the accept (first request) or from the first byte (later ones).
    ///
    /// A client that drips bytes or sends nothing is cut off: with `408
    /// Request Timeout` if part of a head arrived, silently otherwise.
    /// Default 10 s.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio::run(async {
    /// use std::time::Duration;
    /// let server = corio_http::server::Server::bind("127.0.0.1:0").await.unwrap()
    ///     .header_read_timeout(Duration::from_secs(2));
    /// # drop(server);
    /// # });
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Server {
        self.config.header_read_timeout = timeout;
        self
    }

    /// How long a kept-alive connection may stay silent between requests
    /// before it is closed. Default 60 s.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio::run(async {
    /// use std::time::Duration;
    /// let server = corio_http::server::Server::bind("127.0.0.1:0").await.unwrap()
    ///     .idle_timeout(Duration::from_secs(5));
    /// # drop(server);
    /// # });
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Server {
        self.config.idle_timeout = timeout;
        self
    }

    /// How long one read of a request body, one write of a response or one
    /// item of a streamed response may stall before the connection is
    /// closed. Default 30 s.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio::run(async {
    /// use std::time::Duration;
    /// let server = corio_http::server::Server::bind("127.0.0.1:0").await.unwrap()
    ///     .body_timeout(Duration::from_secs(5));
    /// # drop(server);
    /// # });
    /// ```
    pub fn body_timeout(mut self, timeout: Duration) -> Server {
        self.config.body_timeout = timeout;
        self
    }

    /// The largest request head (request line plus headers) in bytes;
    /// larger ones get `431 Request Header Fields Too Large`. Default 16 KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio::run(async {
    /// let server = corio_http::server::Server::bind("127.0.0.1:0").await.unwrap()
    ///     .max_head_size(8 * 1024);
    /// # drop(server);
    /// # });
    /// ```
    pub fn max_head_size(mut self, bytes: usize) -> Server {
        self.config.max_head_size = bytes;
        self
    }

    /// The most header lines a request may have; more get `431 Request
    /// Header Fields Too Large`. Default 100.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio::run(async {
    /// let server = corio_http::server::Server::bind("127.0.0.1:0").await.unwrap()
    ///     .max_headers(32);
    /// # drop(server);
    /// # });
    /// ```
    pub fn max_headers(mut self, count: usize) -> Server {
        self.config.max_headers = count;
        self
    }

    /// The largest request body in bytes (after de-chunking); larger ones get
    /// `413 Payload Too Large` without the handler being called. Default 1 MiB.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio::run(async {
    /// let server = corio_http::server::Server::bind("127.0.0.1:0").await.unwrap()
    ///     .max_body_size(10 * 1024 * 1024);
    /// # drop(server);
    /// # });
    /// ```
    pub fn max_body_size(mut self, bytes: usize) -> Server {
        self.config.max_body_size = bytes;
        self
    }

    /// How long [`ServerHandle::shutdown`] lets requests in flight finish
    /// before it cancels their connections. Default 10 s.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio::run(async {
    /// use std::time::Duration;
    /// let server = corio_http::server::Server::bind("127.0.0.1:0").await.unwrap()
    ///     .shutdown_grace(Duration::from_secs(1));
    /// # drop(server);
    /// # });
    /// ```
    pub fn shutdown_grace(mut self, grace: Duration) -> Server {
        self.config.shutdown_grace = grace;
        self
    }

    /// Starts serving `router` in the background and returns a handle.
    ///
    /// The accept loop runs in a spawned task, each connection in a task of
    /// its own. Dropping the handle does not stop the server (as dropping a
    /// `Task` detaches it); call [`ServerHandle::shutdown`].
    ///
    /// # Panics
    ///
    /// When called outside a corio runtime (there is nowhere to spawn), or
    /// when the listener cannot report its address.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Request, Response, Router, Server};
    ///
    /// corio::run(async {
    ///     let router = Router::new().get("/", |_req: Request| async { Response::text("hi") });
    ///     let handle = Server::bind("127.0.0.1:0").await.unwrap().serve(router);
    ///     handle.shutdown().await;
    ///     assert!(handle.is_stopped());
    /// });
    /// ```
    pub fn serve(self, router: Router) -> ServerHandle {
        let local_addr = self
            .listener
            .local_addr()
            .expect("the listener has no local address");
        let shared = Arc::new(Shared {
            shutting_down: AtomicBool::new(false),
            shutdown: Notifier::default(),
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            active: AtomicUsize::new(0),
            accepting: AtomicBool::new(true),
            stopped: AtomicBool::new(false),
            state: Notifier::default(),
            local_addr,
            grace: self.config.shutdown_grace,
        });
        let accept = accept_loop(
            self.listener,
            Arc::new(router),
            Arc::new(self.config),
            Arc::clone(&shared),
        );
        drop(corio_executor::spawn(accept)); // detached: the handle controls it
        ServerHandle { shared }
    }

    /// Serves `router` until the future is dropped (`web.run_app(app)`).
    ///
    /// The accept loop and the connections run in spawned tasks, as with
    /// [`serve`](Server::serve); this future just keeps the server up and
    /// never completes on its own.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future begins a shutdown: the listener closes, idle
    /// connections close, and requests in flight finish in the background
    /// (without the grace-period limit). Use
    /// [`run_until`](Server::run_until) or [`serve`](Server::serve) for a
    /// shutdown you can await.
    ///
    /// # Panics
    ///
    /// As [`serve`](Server::serve).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use corio_http::server::{Request, Response, Router, Server};
    ///
    /// corio::run(async {
    ///     let router = Router::new().get("/", |_req: Request| async { Response::text("hi") });
    ///     let server = Server::bind("127.0.0.1:0").await.unwrap();
    ///     // Serve for a moment; dropping `run`'s future shuts the server down.
    ///     let out = corio::timeout(Duration::from_millis(20), server.run(router)).await;
    ///     assert!(out.is_err());
    /// });
    /// ```
    pub async fn run(self, router: Router) {
        self.run_until(router, future::pending::<()>()).await;
    }

    /// Serves `router` until `signal` completes, then shuts down gracefully
    /// (hyper's `with_graceful_shutdown`).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future begins a shutdown as for [`run`](Server::run);
    /// requests in flight finish in the background.
    ///
    /// # Panics
    ///
    /// As [`serve`](Server::serve).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use corio_http::server::{Request, Response, Router, Server};
    ///
    /// corio::run(async {
    ///     let router = Router::new().get("/", |_req: Request| async { Response::text("hi") });
    ///     let server = Server::bind("127.0.0.1:0").await.unwrap();
    ///     server.run_until(router, corio::sleep(Duration::from_millis(10))).await;
    /// });
    /// ```
    pub async fn run_until(self, router: Router, signal: impl Future<Output = ()>) {
        let handle = self.serve(router);
        let guard = ShutdownOnDrop(&handle);
        signal.await;
        handle.shutdown().await;
        drop(guard);
    }
}

struct ShutdownOnDrop<'a>(&'a ServerHandle);

impl Drop for ShutdownOnDrop<'_> {
    fn drop(&mut self) {
        self.0.shared.begin_shutdown();
    }
}

async fn accept_loop(
    listener: TcpListener,
    router: Arc<Router>,
    config: Arc<Config>,
    shared: Arc<Shared>,
) {
    loop {
        let accepted = async { Some(listener.accept().await) }
            .or(async {
                shared.wait_shutdown().await;
                None
            })
            .await;
        match accepted {
            None => break,
            Some(Ok((stream, peer))) => {
                let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
                shared.active.fetch_add(1, Ordering::SeqCst);
                let guard = ConnGuard {
                    shared: Arc::clone(&shared),
                    id,
                };
                let slot = Arc::new(IdleSlot::default());
                let (router, config, conn_shared, conn_slot) = (
                    Arc::clone(&router),
                    Arc::clone(&config),
                    Arc::clone(&shared),
                    Arc::clone(&slot),
                );
                let fut = async move {
                    let _guard = guard;
                    // A panic anywhere in the connection (a response stream,
                    // say) just closes it; handler panics are already 500s.
                    let serve = conn::serve(stream, peer, router, config, conn_shared, conn_slot);
                    let _ = std::panic::AssertUnwindSafe(serve).catch_unwind().await;
                };
                // Spawned under the lock, so the task's own removal (which
                // takes the lock) always comes after this insert.
                let mut conns = lock(&shared.conns);
                let task = corio_executor::spawn(fut);
                conns.insert(id, (task, slot));
            }
            Some(Err(_)) => {
                // Out of file descriptors or a connection reset before it
                // was accepted: wait a little rather than spin.
                corio_timer::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    drop(listener);
    shared.accepting.store(false, Ordering::SeqCst);
    shared.state.notify_all();
}

/// A handle to a running server: its address and its graceful shutdown
/// (asyncio's `Server` object with `close()` + `wait_closed()`, aiohttp's
/// `AppRunner`).
///
/// Returned by [`Server::serve`] and [`serve`]. Cloning gives another handle
/// to the same server. Dropping every handle leaves the server running.
///
/// # Examples
///
/// ```
/// use corio_http::server::{Request, Response, Router, Server};
///
/// corio::run(async {
///     let router = Router::new().get("/", |_req: Request| async { Response::text("hi") });
///     let handle = Server::bind("127.0.0.1:0").await.unwrap().serve(router);
///     let other = handle.clone();
///     let waiter = corio::spawn(async move { other.stopped().await });
///     handle.shutdown().await;
///     waiter.await.unwrap();
/// });
/// ```
#[derive(Clone)]
pub struct ServerHandle {
    shared: Arc<Shared>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.shared.local_addr)
            .field("shutting_down", &self.shared.is_shutting_down())
            .field("connections", &self.connections())
            .finish()
    }
}

impl ServerHandle {
    /// The address the server listens on.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Router, Server};
    ///
    /// corio::run(async {
    ///     let handle = Server::bind("127.0.0.1:0").await.unwrap().serve(Router::new());
    ///     assert_ne!(handle.local_addr().port(), 0);
    ///     handle.shutdown().await;
    /// });
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// The number of open connections.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Router, Server};
    ///
    /// corio::run(async {
    ///     let handle = Server::bind("127.0.0.1:0").await.unwrap().serve(Router::new());
    ///     assert_eq!(handle.connections(), 0);
    ///     handle.shutdown().await;
    /// });
    /// ```
    pub fn connections(&self) -> usize {
        self.shared.active.load(Ordering::SeqCst)
    }

    /// Whether the server has completely stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Router, Server};
    ///
    /// corio::run(async {
    ///     let handle = Server::bind("127.0.0.1:0").await.unwrap().serve(Router::new());
    ///     assert!(!handle.is_stopped());
    ///     handle.shutdown().await;
    ///     assert!(handle.is_stopped());
    /// });
    /// ```
    pub fn is_stopped(&self) -> bool {
        self.shared.stopped.load(Ordering::SeqCst)
    }

    /// Shuts the server down gracefully and waits until it has stopped
    /// (aiohttp's `runner.cleanup()`, asyncio's `server.close()` +
    /// `wait_closed()`).
    ///
    /// The listener stops accepting and is closed; idle kept-alive
    /// connections are closed; requests in flight run to completion and
    /// their responses carry `Connection: close`. Connections still open
    /// after the grace period ([`Server::shutdown_grace`]) are cancelled.
    /// Calling it again, from any handle, waits for the same shutdown.
    ///
    /// # Cancel safety
    ///
    /// The shutdown begins at the first poll and is not undone by dropping
    /// the future: the server stops accepting and drains in the background,
    /// but the grace-period cancellation is only done by a `shutdown` future
    /// that is still being awaited when the period ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Router, Server};
    ///
    /// corio::run(async {
    ///     let handle = Server::bind("127.0.0.1:0").await.unwrap().serve(Router::new());
    ///     let addr = handle.local_addr();
    ///     handle.shutdown().await;
    ///     assert!(corio::net::TcpStream::connect(addr).await.is_err());
    /// });
    /// ```
    pub async fn shutdown(&self) {
        let shared = &*self.shared;
        shared.begin_shutdown();
        shared
            .state
            .wait(|| !shared.accepting.load(Ordering::SeqCst))
            .await;
        let drained = shared
            .state
            .wait(|| shared.active.load(Ordering::SeqCst) == 0);
        if corio_timer::timeout(shared.grace, drained).await.is_err() {
            let tasks: Vec<Task<()>> = lock(&shared.conns).drain().map(|(_, (t, _))| t).collect();
            for task in tasks {
                let _ = task.cancel().await;
            }
            shared
                .state
                .wait(|| shared.active.load(Ordering::SeqCst) == 0)
                .await;
        }
        shared.stopped.store(true, Ordering::SeqCst);
        shared.state.notify_all();
    }

    /// Waits until the server has stopped (after a [`shutdown`](ServerHandle::shutdown)
    /// from some handle has finished).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future only stops waiting; the server is unaffected.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Router, Server};
    ///
    /// corio::run(async {
    ///     let handle = Server::bind("127.0.0.1:0").await.unwrap().serve(Router::new());
    ///     let h2 = handle.clone();
    ///     drop(corio::spawn(async move { h2.shutdown().await }));
    ///     handle.stopped().await;
    ///     assert!(handle.is_stopped());
    /// });
    /// ```
    pub async fn stopped(&self) {
        let shared = &*self.shared;
        shared
            .state
            .wait(|| shared.stopped.load(Ordering::SeqCst))
            .await;
    }
}

/// Serves `router` on `listener` in the background with the default
/// settings: `Server::from_listener(listener).serve(router)`.
///
/// # Panics
///
/// As [`Server::serve`].
///
/// # Examples
///
/// ```
/// use corio_http::server::{serve, Request, Response, Router};
///
/// corio::run(async {
///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let router = Router::new().get("/", |_req: Request| async { Response::text("hi") });
///     let handle = serve(listener, router);
///     handle.shutdown().await;
/// });
/// ```
pub fn serve(listener: TcpListener, router: Router) -> ServerHandle {
    Server::from_listener(listener).serve(router)
}
