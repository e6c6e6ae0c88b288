//! corio: asyncio for Rust.
//!
//! Python's asyncio makes a concurrent program short: `asyncio.run(main())`,
//! `create_task`, `await` a task, `task.cancel()`. corio gives Rust the same,
//! on a fast work-stealing runtime:
//!
//! ```
//! #[corio::main]
//! async fn main() {
//!     // asyncio.create_task: the task starts running at once.
//!     let task = corio::spawn(async { 6 * 7 });
//!     // await task
//!     assert_eq!(task.await.unwrap(), 42);
//!
//!     // A panic stays inside its task and reaches whoever awaits it.
//!     let err = corio::spawn(async { panic!("oops") }).await.unwrap_err();
//!     assert!(err.is_panic());
//!
//!     // task.cancel(); await task
//!     let sleeper = corio::spawn(std::future::pending::<()>());
//!     assert!(sleeper.cancel().await.unwrap_err().is_cancelled());
//! }
//! ```
//!
//! | asyncio | corio |
//! |---|---|
//! | `asyncio.run(main())` | [`run`]`(main())` or [`#[corio::main]`](main) |
//! | `asyncio.create_task(c)` | [`spawn`]`(fut)` → [`Task<T>`] |
//! | `await task` | `task.await` → `Result<T, JoinError>` |
//! | `task.cancel()`; `await task` | [`Task::cancel`]`().await` |
//! | `await asyncio.sleep(0)` | [`yield_now`]`().await` |
//! | `await asyncio.sleep(s)` | [`sleep`]`(dur).await` |
//! | `await asyncio.wait_for(aw, s)` | [`timeout`]`(dur, fut).await` → `Result<T, Elapsed>` |
//! | `await asyncio.to_thread(f)` | [`unblock`]`(f).await` |
//! | `asyncio.open_connection`, `start_server` | [`net::TcpStream::connect`], [`net::TcpListener::bind`] |
//! | a task nobody awaits raised | [`UnhandledPanic`]: logged with its name and spawn location |
//!
//! # The crates behind it
//!
//! This facade wires the runtime together and re-exports the pieces; each
//! piece is also usable alone:
//!
//! * [`corio-executor`](corio_executor): the task spawner — [`Executor`],
//!   [`LocalExecutor`], [`block_on`], [`Task`], [`JoinError`].
//! * [`corio-timer`](corio_timer): the timer wheel — [`sleep`], [`timeout`],
//!   [`time::Interval`].
//! * [`corio-reactor`](corio_reactor): the I/O driver (epoll on Linux,
//!   `polling` elsewhere) — [`Async`], the sockets in [`net`].
//! * `corio-macros`: [`#[corio::main]`](main) and [`#[corio::test]`](test).
//!
//! The runtime wires them together: an idle worker waits in the reactor
//! (through the executor's [`Park`] hook), which sleeps until the next I/O
//! event or timer deadline and fires expired timers itself. In the
//! multi-threaded runtime only the workers drive the reactor; the thread in
//! `block_on` sleeps until its future is woken, so every event lands on a
//! thread that runs tasks.
//!
//! # Runtimes
//!
//! [`run`] builds a multi-threaded [`Runtime`] with one worker per core, runs
//! the main future on the calling thread and drops the runtime. To configure
//! one, use [`Runtime::builder`]. The thread that calls `block_on` also runs
//! the `!Send` tasks spawned with [`spawn_local`].

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

pub use corio_executor::{
    as_completed, as_completed_tasks, gather, gather_settled, race, shield, task_group, try_gather,
    wait, wait_until, AsCompleted, ChildError, ChildPanic, Done, Failure, Gather, GatherError,
    GatherSettled, GroupTask, Race, ReturnWhen, Shield, TaskGroup, TaskGroupError, TaskGroupHandle,
    TryGather, Wait,
};
pub use corio_executor::{
    coop, spawn, spawn_local, unblock, yield_now, BlockingPool, CancelOnDrop, Diagnostics,
    Executor, JoinError, LocalExecutor, Park, SlowPoll, Task, TaskBuilder, ThreadPark, Unblock,
    UnhandledPanic, UnobservedPanic, YieldNow,
};
pub use corio_reactor::{block_on, Async};
pub use corio_timer::{sleep, sleep_until, timeout, timeout_at, Deadline, Elapsed};

/// Time: `sleep`, `timeout`, `Interval` (asyncio's `sleep`, `wait_for`, periodic loops).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// corio::run(async {
///     let mut ticks = corio::time::interval(Duration::from_millis(5));
///     ticks.tick().await; // the first tick is immediate
///     ticks.tick().await;
///     let slow = corio::time::sleep(Duration::from_secs(10));
///     assert!(corio::time::timeout(Duration::from_millis(5), slow).await.is_err());
/// });
/// ```
pub mod time {
    pub use corio_timer::{
        interval, interval_at, sleep, sleep_until, timeout, timeout_at, Deadline, DeadlineScope,
        Elapsed, Interval, MissedTickBehavior, Sleep, Timeout,
    };
}

/// Synchronization: locks, events, semaphores, queues, promises and channels
/// (asyncio's `Lock`, `Event`, `Condition`, `Semaphore`, `Queue`, `Future`).
///
/// This is the [`corio-sync`](corio_sync) crate, which needs no runtime: its
/// primitives also work under other executors.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use corio::sync::{Lock, Queue};
///
/// corio::run(async {
///     let counter = Arc::new(Lock::new(0));
///     let queue = Arc::new(Queue::new(0));
///     let workers: Vec<_> = (0..4)
///         .map(|_| {
///             let (counter, queue) = (counter.clone(), queue.clone());
///             corio::spawn(async move {
///                 while let Ok(n) = queue.get().await {
///                     *counter.lock().await += n;
///                     queue.task_done().unwrap();
///                 }
///             })
///         })
///         .collect();
///     for n in 1..=10 {
///         queue.put(n).await.unwrap();
///     }
///     queue.join().await; // every item was taken and marked done
///     assert_eq!(*counter.lock().await, 55);
///     queue.shutdown(false); // the workers' get() now fails: they end
///     for w in workers {
///         w.await.unwrap();
///     }
/// });
/// ```
pub mod sync {
    pub use corio_sync::*;
}

/// HTTP: a pooled client session and a small server (aiohttp's
/// `ClientSession` and `web`), with the `http` feature.
///
/// This is the [`corio-http`](corio_http) crate.
///
/// # Examples
///
/// ```
/// use corio::http::server::{Response, Router, Server};
///
/// corio::run(async {
///     let router = Router::new().get("/", |_req| async { Response::text("hi") });
///     let server = Server::bind("127.0.0.1:0").await.unwrap().serve(router);
///     let url = format!("http://{}/", server.local_addr());
///     let body = corio::http::Session::new().get(&url).send().await.unwrap().text().await.unwrap();
///     assert_eq!(body, "hi");
///     server.shutdown().await;
/// });
/// ```
#[cfg(feature = "http")]
pub mod http {
    pub use corio_http::*;
}

/// Networking: TCP, UDP and Unix sockets (asyncio's `open_connection`, `start_server`).
///
/// # Examples
///
/// ```
/// use corio::net::{TcpListener, TcpStream};
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// corio::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = corio::spawn(async move {
///         let (mut stream, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await.unwrap();
///         stream.write_all(&buf).await.unwrap();
///     });
///     let mut client = TcpStream::connect(addr).await.unwrap();
///     client.write_all(b"hello").await.unwrap();
///     let mut back = [0; 5];
///     client.read_exact(&mut back).await.unwrap();
///     assert_eq!(&back, b"hello");
///     server.await.unwrap();
/// });
/// ```
pub mod net {
    pub use corio_reactor::net::*;
}

/// Marks `async fn main` as the program's entry point, run by a corio runtime.
///
/// `#[corio::main]` builds a multi-threaded [`Runtime`] (one worker per core)
/// and blocks on the body. Arguments: `flavor = "current_thread"` runs
/// everything on the main thread; `worker_threads = N` sets the pool size.
///
/// # Examples
///
/// ```
/// #[corio::main(worker_threads = 2)]
/// async fn main() {
///     let t = corio::spawn(async { "hello" });
///     assert_eq!(t.await.unwrap(), "hello");
/// }
/// ```
pub use corio_macros::main;

/// Marks `async fn` as a test run by a corio runtime.
///
/// Multi-threaded by default; `#[corio::test(flavor = "current_thread")]`
/// runs the test and its tasks on the test's thread.
///
/// # Examples
///
/// ```
/// #[corio::test]
/// async fn adds() {
///     assert_eq!(corio::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
/// # fn main() {}
/// ```
pub use corio_macros::test;

/// Task-related items under one path: `corio::task::spawn`, `corio::task::Builder`, ...
pub mod task {
    pub use corio_executor::{
        spawn, spawn_local, yield_now, CancelOnDrop, JoinError, Task, TaskBuilder as Builder,
    };
}

/// Waits for `tasks` until `return_when` holds or `timeout` passes:
/// `asyncio.wait(tasks, timeout=..., return_when=...)`.
///
/// [`wait_until`] with a [`sleep`] as its deadline. Resolves to
/// `(done, pending)`: the finished tasks (in input order, each holding its
/// result) and the ones still running. As in asyncio, nothing is cancelled,
/// neither when the condition holds nor when the timeout passes: the pending
/// tasks keep running, and are handed back to await, cancel or drop.
///
/// # Cancel safety
///
/// Dropping the future before it resolves drops the tasks it holds, which
/// detaches them: they keep running, and their results are lost.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use corio::ReturnWhen;
///
/// corio::run(async {
///     let quick = corio::spawn(async { 1 });
///     let slow = corio::spawn(corio::sleep(Duration::from_secs(60)));
///     let quick_done = corio::spawn(async move { quick.await.unwrap() });
///     let (done, pending) =
///         corio::wait_timeout([quick_done], ReturnWhen::AllCompleted, Duration::from_secs(5)).await;
///     assert_eq!(done.len(), 1);
///     assert!(pending.is_empty());
///
///     let (done, pending) =
///         corio::wait_timeout([slow], ReturnWhen::AllCompleted, Duration::from_millis(10)).await;
///     assert!(done.is_empty());
///     assert_eq!(pending.len(), 1); // still running: asyncio's wait cancels nothing
/// });
/// ```
pub fn wait_timeout<T, I>(
    tasks: I,
    return_when: ReturnWhen,
    timeout: std::time::Duration,
) -> Wait<T, corio_timer::Sleep>
where
    I: IntoIterator<Item = Task<T>>,
{
    wait_until(tasks, return_when, sleep(timeout))
}

/// Runs `future` to completion on a new multi-threaded runtime: `asyncio.run`.
///
/// The runtime has one worker thread per core. `future` runs on the calling
/// thread (it need not be `Send`); tasks it [`spawn`]s run on the workers.
///
/// When `future` completes, the runtime shuts down: **tasks still pending are
/// cancelled** (their futures are dropped, running their destructors), as
/// `asyncio.run` cancels the tasks left over when the main coroutine returns.
/// `run` returns only after every worker thread has stopped.
///
/// With `CORIO_DEBUG=1` in the environment, the runtime is in debug mode
/// ([`Builder::debug`]): slow task polls and tasks still pending at shutdown
/// are reported on stderr.
///
/// # Panics
///
/// When the runtime's threads cannot be started, and when `future` panics.
///
/// # Examples
///
/// ```
/// let total = corio::run(async {
///     let tasks: Vec<_> = (1..=3).map(|i| corio::spawn(async move { i * 10 })).collect();
///     let mut total = 0;
///     for t in tasks {
///         total += t.await.unwrap();
///     }
///     total
/// });
/// assert_eq!(total, 60);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    Runtime::new()
        .expect("failed to start the corio runtime")
        .block_on(future)
}

enum Flavor {
    Multi(Executor),
    Current(LocalExecutor),
}

/// A corio runtime: the executor plus its configuration.
///
/// Dropping a runtime cancels its pending tasks and stops its threads.
///
/// A multi-threaded runtime (the default) runs tasks on a pool of worker
/// threads. A current-thread runtime runs everything on the thread that
/// calls [`block_on`](Runtime::block_on); it belongs to the thread that built
/// it, which is why `Runtime` is neither `Send` nor `Sync` — use
/// [`handle`](Runtime::handle) to spawn from other threads.
///
/// # Examples
///
/// ```
/// let rt = corio::Runtime::builder().worker_threads(2).build().unwrap();
/// let out = rt.block_on(async { corio::spawn(async { 1 }).await.unwrap() + 1 });
/// assert_eq!(out, 2);
/// ```
pub struct Runtime {
    flavor: Flavor,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.flavor {
            Flavor::Multi(ex) => f.debug_tuple("Runtime").field(ex).finish(),
            Flavor::Current(ex) => f.debug_tuple("Runtime").field(ex).finish(),
        }
    }
}

impl Runtime {
    /// A multi-threaded runtime with one worker per core.
    ///
    /// # Errors
    ///
    /// When a worker thread cannot be started.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = corio::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 5 }), 5);
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = corio::Runtime::builder().current_thread().build().unwrap();
    /// assert_eq!(rt.block_on(async { 5 }), 5);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs `future` to completion on the current thread.
    ///
    /// Tasks spawned inside with [`spawn`] run on the worker threads (on this
    /// thread for a current-thread runtime); `!Send` tasks spawned with
    /// [`spawn_local`] run on this thread and are cancelled when `block_on`
    /// returns (for a current-thread runtime, when the runtime is dropped).
    ///
    /// # Panics
    ///
    /// When `future` panics; with [`UnhandledPanic::ShutdownRuntime`], when a
    /// task nobody awaits panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = corio::Runtime::new().unwrap();
    /// let rc = std::rc::Rc::new(1); // the main future need not be Send
    /// assert_eq!(rt.block_on(async move { *rc }), 1);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match &self.flavor {
            Flavor::Multi(ex) => ex.block_on(future),
            Flavor::Current(ex) => ex.block_on(future),
        }
    }

    /// Spawns a task onto this runtime from outside it.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = corio::Runtime::new().unwrap();
    /// let t = rt.spawn(async { 3 });
    /// assert_eq!(rt.block_on(t).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.flavor {
            Flavor::Multi(ex) => ex.spawn(future),
            Flavor::Current(ex) => ex.handle().spawn(future),
        }
    }

    /// A handle that spawns onto this runtime from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = corio::Runtime::new().unwrap();
    /// let h = rt.handle();
    /// let t = std::thread::spawn(move || h.spawn(async { 4 })).join().unwrap();
    /// assert_eq!(rt.block_on(t).unwrap(), 4);
    /// ```
    pub fn handle(&self) -> Handle {
        Handle {
            inner: match &self.flavor {
                Flavor::Multi(ex) => HandleInner::Multi(ex.handle()),
                Flavor::Current(ex) => HandleInner::Current(ex.handle()),
            },
        }
    }
}

#[derive(Clone)]
enum HandleInner {
    Multi(corio_executor::Handle),
    Current(corio_executor::LocalHandle),
}

/// Spawns onto a [`Runtime`] from any thread; see [`Runtime::handle`].
///
/// # Examples
///
/// ```
/// let rt = corio::Runtime::builder().current_thread().build().unwrap();
/// let h = rt.handle();
/// let t = h.spawn(async { 8 });
/// assert_eq!(rt.block_on(t).unwrap(), 8);
/// ```
#[derive(Clone)]
pub struct Handle {
    inner: HandleInner,
}

impl Handle {
    /// Spawns a task onto the runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = corio::Runtime::new().unwrap();
    /// let t = rt.handle().spawn(async { 1 });
    /// assert_eq!(rt.block_on(t).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.inner {
            HandleInner::Multi(h) => h.spawn(future),
            HandleInner::Current(h) => h.spawn(future),
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    MultiThread,
    CurrentThread,
}

/// Configures a [`Runtime`].
///
/// # Examples
///
/// ```
/// use corio::{Runtime, UnhandledPanic};
///
/// let rt = Runtime::builder()
///     .multi_thread()
///     .worker_threads(4)
///     .thread_name("app-worker")
///     .unhandled_panic(UnhandledPanic::Log)
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 }), 1);
/// ```
#[derive(Debug)]
pub struct Builder {
    kind: Kind,
    worker_threads: Option<usize>,
    thread_name: Option<String>,
    stack_size: Option<usize>,
    unhandled_panic: UnhandledPanic,
    diagnostics: Diagnostics,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// The defaults: multi-threaded, one worker per core, unobserved panics logged.
    pub fn new() -> Builder {
        Builder {
            kind: Kind::MultiThread,
            worker_threads: None,
            thread_name: None,
            stack_size: None,
            unhandled_panic: UnhandledPanic::Log,
            diagnostics: Diagnostics::from_env(),
        }
    }

    /// A runtime with a pool of worker threads (the default).
    pub fn multi_thread(mut self) -> Builder {
        self.kind = Kind::MultiThread;
        self
    }

    /// A runtime that runs everything on the thread calling `block_on`.
    pub fn current_thread(mut self) -> Builder {
        self.kind = Kind::CurrentThread;
        self
    }

    /// The number of worker threads of a multi-threaded runtime.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    pub fn worker_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "a runtime needs at least one worker thread");
        self.worker_threads = Some(n);
        self
    }

    /// The prefix of the worker threads' names.
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = Some(name.into());
        self
    }

    /// The stack size of the worker threads.
    pub fn thread_stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// What to do with the panic of a task nobody awaits (default: log it).
    pub fn unhandled_panic(mut self, policy: UnhandledPanic) -> Builder {
        self.unhandled_panic = policy;
        self
    }

    /// Debug mode on or off, whatever `CORIO_DEBUG` says: on reports task
    /// polls of 100 ms or more (the loop was blocked) and tasks still pending
    /// at shutdown on standard error ([`Diagnostics::debug`]); off reports
    /// nothing. Unobserved panics follow
    /// [`unhandled_panic`](Builder::unhandled_panic) either way.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = corio::Runtime::builder().debug(true).build().unwrap();
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// ```
    pub fn debug(self, on: bool) -> Builder {
        self.diagnostics(if on {
            Diagnostics::debug()
        } else {
            Diagnostics::new()
        })
    }

    /// What debug mode reports, in detail (default:
    /// [`Diagnostics::from_env`], so `CORIO_DEBUG=1` turns debug mode on
    /// for every runtime, [`run`] included).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio::Diagnostics;
    /// use std::time::Duration;
    ///
    /// let rt = corio::Runtime::builder()
    ///     .diagnostics(Diagnostics::debug().slow_poll_threshold(Some(Duration::from_millis(20))))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(async { 2 }), 2);
    /// ```
    pub fn diagnostics(mut self, diagnostics: Diagnostics) -> Builder {
        self.diagnostics = diagnostics;
        self
    }

    /// Builds the runtime, starting its worker threads.
    ///
    /// # Errors
    ///
    /// When a worker thread cannot be started.
    pub fn build(self) -> io::Result<Runtime> {
        let flavor = match self.kind {
            Kind::CurrentThread => Flavor::Current(LocalExecutor::with_diagnostics(
                self.unhandled_panic,
                Arc::new(ReactorPark::default()),
                self.diagnostics,
            )),
            Kind::MultiThread => {
                let mut b = Executor::builder()
                    .unhandled_panic(self.unhandled_panic)
                    .diagnostics(self.diagnostics)
                    .park(Arc::new(|_| {
                        Arc::new(ReactorPark::default()) as Arc<dyn Park>
                    }));
                if let Some(n) = self.worker_threads {
                    b = b.worker_threads(n);
                }
                if let Some(name) = self.thread_name {
                    b = b.thread_name(name);
                }
                if let Some(size) = self.stack_size {
                    b = b.thread_stack_size(size);
                }
                Flavor::Multi(b.build()?)
            }
        };
        Ok(Runtime { flavor })
    }
}

/// The executor's park hook, driving the reactor: an idle worker (the
/// current-thread runtime's thread, or a worker of the multi-threaded one)
/// waits for I/O events and timer deadlines.
#[derive(Debug, Default)]
struct ReactorPark(corio_reactor::Parker);

impl Park for ReactorPark {
    fn park(&self, timeout: Option<Duration>) {
        self.0.park(timeout);
    }

    fn unpark(&self) {
        self.0.unpark();
    }
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
