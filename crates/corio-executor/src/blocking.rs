//! The blocking pool: asyncio's `loop.run_in_executor(None, f)` and
//! `asyncio.to_thread(f)`.
//!
//! A task must not block its worker thread: a file read, a DNS lookup or a
//! CPU-heavy loop would stop every other task on that worker. [`unblock`]
//! moves such a closure to a pool thread and gives back a future of its
//! result, which any executor can await: the pool knows nothing of corio's
//! runtime, only of [`Waker`]s.
//!
//! | asyncio | corio-executor |
//! |---|---|
//! | `await asyncio.to_thread(f)` | [`unblock`]`(f).await` |
//! | `await loop.run_in_executor(None, f)` | [`unblock`]`(f).await` (the [global](BlockingPool::global) pool) |
//! | `await loop.run_in_executor(ThreadPoolExecutor(4), f)` | [`BlockingPool::new`]`(4, ..)`, then [`pool.unblock(f)`](BlockingPool::unblock)`.await` |
//!
//! # Design
//!
//! Blocking work is coarse — a job lasts microseconds at the very least and
//! usually milliseconds — so the pool is a plain `Mutex<State>` and a
//! `Condvar`, not a lock-free structure. `State` holds the FIFO queue of jobs
//! (`Box<dyn FnOnce() + Send>`) and the thread counts.
//!
//! * **Submitting** pushes the job, then, under the same lock: if a thread is
//!   idle, claims it (`idle -= 1`, `notified += 1`) and wakes one waiter;
//!   otherwise, below the limit, starts a thread (`corio-blocking-N`);
//!   otherwise leaves the job queued for the first busy thread that finishes.
//!   Threads are started while holding the lock, as tokio's pool does, so that
//!   the counts never disagree with the threads that exist.
//! * **A worker** pops jobs until the queue is empty, running each outside
//!   the lock, then waits on the condvar as an idle thread. It leaves the wait
//!   when it takes a claim (`notified -= 1`), when the pool shuts down or
//!   shrank below the thread count, or when it has been idle for the idle
//!   timeout; in the last three cases it exits once the queue is empty.
//! * **Dropping** a [`BlockingPool`] shuts it down: its threads run the jobs
//!   still queued (their futures may still be awaited) and then exit at once
//!   instead of waiting out the idle timeout. The global pool lives forever.
//!
//! The result travels back through a one-shot slot shared by the job and the
//! [`Unblock`] future: one mutex around "pending, with the waker of the last
//! poll", "ready, with the result" or "closed". The job stores its result and
//! takes the waker under that lock, and the future checks for a result and
//! stores its waker under it too, so a job finishing between the future's
//! check and its registration cannot be missed, and nobody spins.
//!
//! A panic in the closure is caught on the pool thread (the thread survives)
//! and stored as the result; polling the future resumes it with
//! [`std::panic::resume_unwind`], so inside a corio task it becomes the
//! task's [`JoinError`](crate::JoinError), as any panic of the task would.
//!
//! # Invariants
//!
//! All under the state lock:
//!
//! 1. The threads blocked in (or waking from) the idle wait number exactly
//!    `idle + notified`: a thread enters the wait with `idle += 1` and leaves
//!    it by taking one unit of either, and a submitter moves one unit from
//!    `idle` to `notified` for each thread it claims. A waking thread checks
//!    `notified` first, so a claim is never dropped by a thread that timed
//!    out at the same moment: whichever thread takes it runs the queue.
//! 2. A thread starts waiting only after finding the queue empty, and every
//!    job pushed while some thread is idle claims one. So a queued job
//!    always has a claimed thread, a newly started thread or a busy thread
//!    (which pops the queue before it waits again) coming for it.
//! 3. `threads` counts the threads that have not yet decided to exit; it is
//!    raised before a thread starts and lowered by the thread itself, under
//!    the lock, as its last act. A thread that exits for the idle timeout or
//!    a lowered limit has found the queue empty, so `threads == 0` implies an
//!    empty queue, and [`BlockingPool::thread_count`] is exact.
//! 4. No user code runs under a lock: jobs run outside the state lock, and
//!    results and wakers leave the slot's lock before they are dropped or
//!    woken (only `Waker::clone` and `will_wake` run under it). Poisoning is
//!    therefore ignored: a lock never guards data left half-changed by a
//!    panic.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// The environment variable that sets the global pool's thread limit.
const MAX_THREADS_ENV: &str = "CORIO_MAX_BLOCKING_THREADS";

/// A unit of work for a pool thread.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// Locks `mutex`, ignoring poisoning (invariant 4 in the module docs).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` on a thread of the [global](BlockingPool::global) blocking pool
/// and returns a future of its result; like asyncio's `to_thread`.
///
/// The closure is queued at once, not when the future is first polled, and
/// runs on a pool thread while the caller's task keeps its worker free for
/// other tasks. The future resolves to the closure's return value; if the
/// closure panics, polling the future resumes that panic (inside a corio task
/// the task then ends with a [`JoinError`](crate::JoinError) that
/// [`is_panic`](crate::JoinError::is_panic)).
///
/// Any executor can await the future, or none ([`block_on`](crate::block_on)).
/// See [`BlockingPool::global`] for the pool's limits and
/// [`BlockingPool::unblock`] to run on a pool of your own.
///
/// # Cancel safety
///
/// The closure cannot be interrupted: dropping the future before it resolves
/// does not stop the closure — it runs to its end, even if it had not started
/// yet — but its result is dropped, on the pool thread, and a panic of the
/// closure is then lost (the panic hook has printed it already).
///
/// # Panics
///
/// When the pool has no thread at all and the operating system refuses to
/// start one. Polling the returned future panics if the closure panicked.
///
/// # Examples
///
/// ```
/// # corio_executor::block_on(async {
/// let contents = corio_executor::unblock(|| std::fs::read_to_string("Cargo.toml")).await;
/// assert!(contents.unwrap().contains("[package]"));
/// # });
/// ```
///
/// A panic in the closure reaches the task that awaits it:
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let task = ex.spawn(async { corio_executor::unblock(|| panic!("disk on fire")).await });
/// let err = ex.block_on(task).unwrap_err();
/// assert_eq!(err.panic_message().as_deref(), Some("disk on fire"));
/// ```
pub fn unblock<T, F>(f: F) -> Unblock<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    BlockingPool::global().unblock(f)
}

/// A pool of threads for blocking work, started on demand and stopped when
/// idle; like a `concurrent.futures.ThreadPoolExecutor` handed to asyncio's
/// `run_in_executor`.
///
/// [`unblock`] uses the [global](BlockingPool::global) pool; make your own
/// with [`new`](BlockingPool::new) to give some kind of work its own limit.
///
/// * A thread starts when a job arrives, no thread is idle and fewer than
///   [`max_threads`](BlockingPool::max_threads) threads exist; otherwise the
///   job waits in a FIFO queue for the next free thread.
/// * A thread that has had nothing to do for
///   [`idle_timeout`](BlockingPool::idle_timeout) exits.
/// * Threads are named `corio-blocking-N`, `N` counting from 0 in each pool.
/// * Dropping a pool lets its threads finish the jobs already queued, then
///   they exit without waiting for the idle timeout; the futures of those
///   jobs still resolve.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use corio_executor::BlockingPool;
///
/// let pool = BlockingPool::new(2, Duration::from_millis(100));
/// let sum = corio_executor::block_on(async {
///     let a = pool.unblock(|| 20);
///     let b = pool.unblock(|| 22);
///     a.await + b.await
/// });
/// assert_eq!(sum, 42);
/// assert!(pool.thread_count() <= 2);
/// ```
pub struct BlockingPool {
    inner: Arc<Inner>,
}

/// What the pool handle and its threads share.
struct Inner {
    state: Mutex<State>,
    /// Idle threads wait here; submitters, resizes and shutdown notify it.
    condvar: Condvar,
}

/// The pool's state; see the module docs for its invariants.
struct State {
    queue: VecDeque<Job>,
    /// Threads alive and not yet exiting (invariant 3).
    threads: usize,
    /// Idle threads nobody has claimed (invariant 1).
    idle: usize,
    /// Claims on idle threads not yet taken by a waking thread.
    notified: usize,
    /// The `N` of the next `corio-blocking-N`.
    next_id: usize,
    max_threads: usize,
    idle_timeout: Duration,
    /// Set when the pool handle is dropped.
    shutdown: bool,
}

impl BlockingPool {
    /// The global pool's thread limit unless `CORIO_MAX_BLOCKING_THREADS`
    /// says otherwise; the same as the `blocking` crate's.
    ///
    /// Blocking jobs mostly wait (on disks, on name servers), so the limit is
    /// high; it only stops a flood of jobs from starting a thread each.
    pub const DEFAULT_MAX_THREADS: usize = 500;

    /// How long the global pool's threads stay alive with nothing to do.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

    /// A pool of at most `max_threads` threads, each exiting after
    /// `idle_timeout` without work.
    ///
    /// No thread starts until the first job arrives.
    ///
    /// # Panics
    ///
    /// When `max_threads` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = corio_executor::BlockingPool::new(4, Duration::from_secs(1));
    /// assert_eq!(pool.max_threads(), 4);
    /// assert_eq!(pool.idle_timeout(), Duration::from_secs(1));
    /// assert_eq!(pool.thread_count(), 0);
    /// ```
    pub fn new(max_threads: usize, idle_timeout: Duration) -> BlockingPool {
        assert!(max_threads > 0, "a BlockingPool needs at least one thread");
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    notified: 0,
                    next_id: 0,
                    max_threads,
                    idle_timeout,
                    shutdown: false,
                }),
                condvar: Condvar::new(),
            }),
        }
    }

    /// The pool that [`unblock`] uses, created on first use.
    ///
    /// Its threads exit after [`DEFAULT_IDLE_TIMEOUT`](Self::DEFAULT_IDLE_TIMEOUT)
    /// without work. Its thread limit is read once, when it is created, from
    /// the environment variable `CORIO_MAX_BLOCKING_THREADS` (a positive
    /// integer; any other value is ignored with a warning on stderr), and is
    /// otherwise [`DEFAULT_MAX_THREADS`](Self::DEFAULT_MAX_THREADS). Both can
    /// be changed later with [`set_max_threads`](Self::set_max_threads) and
    /// [`set_idle_timeout`](Self::set_idle_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_executor::BlockingPool;
    ///
    /// let pool = BlockingPool::global();
    /// assert!(pool.max_threads() > 0);
    /// let v = corio_executor::block_on(pool.unblock(|| 6 * 7));
    /// assert_eq!(v, 42);
    /// ```
    pub fn global() -> &'static BlockingPool {
        static GLOBAL: OnceLock<BlockingPool> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            BlockingPool::new(max_threads_from_env(), BlockingPool::DEFAULT_IDLE_TIMEOUT)
        })
    }

    /// Runs `f` on a thread of this pool and returns a future of its result.
    ///
    /// Everything [`unblock`] says holds, for this pool.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it resolves does not stop the closure,
    /// which runs to its end; its result (or panic) is dropped on the pool
    /// thread.
    ///
    /// # Panics
    ///
    /// When the pool has no thread at all and the operating system refuses to
    /// start one. Polling the returned future panics if the closure panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = corio_executor::BlockingPool::new(1, Duration::from_secs(1));
    /// let name = corio_executor::block_on(pool.unblock(|| {
    ///     std::thread::current().name().map(String::from)
    /// }));
    /// assert_eq!(name.as_deref(), Some("corio-blocking-0"));
    /// ```
    pub fn unblock<T, F>(&self, f: F) -> Unblock<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot = Arc::new(Slot {
            state: Mutex::new(SlotState::Pending(None)),
        });
        let job_slot = slot.clone();
        // `AssertUnwindSafe`: after a panic nothing observes the closure's
        // state again; only the payload travels on, to the awaiting side.
        self.submit(Box::new(move || {
            job_slot.complete(catch_unwind(AssertUnwindSafe(f)));
        }));
        Unblock { slot }
    }

    /// Queues `job` and makes sure a thread is coming for it.
    fn submit(&self, job: Job) {
        let inner = &self.inner;
        let mut state = lock(&inner.state);
        state.queue.push_back(job);
        if state.idle > 0 {
            state.idle -= 1;
            state.notified += 1;
            inner.condvar.notify_one();
            return;
        }
        if state.threads >= state.max_threads {
            // A busy thread pops the queue before it waits (invariant 2).
            return;
        }
        let id = state.next_id;
        state.next_id += 1;
        state.threads += 1;
        let worker = inner.clone();
        let spawned = thread::Builder::new()
            .name(format!("corio-blocking-{id}"))
            .spawn(move || worker.work());
        if let Err(err) = spawned {
            state.threads -= 1;
            if state.threads == 0 {
                // Nobody would ever run the job: take it back (it is the
                // last one; the queue was empty by invariant 3) and fail.
                let job = state.queue.pop_back();
                drop(state);
                drop(job);
                panic!("corio: cannot start a blocking-pool thread: {err}");
            }
            // Otherwise a busy thread will get to it.
        }
    }

    /// The number of threads the pool has now, busy or idle.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = corio_executor::BlockingPool::new(8, Duration::from_secs(60));
    /// assert_eq!(pool.thread_count(), 0);
    /// corio_executor::block_on(pool.unblock(|| ()));
    /// assert_eq!(pool.thread_count(), 1);
    /// ```
    pub fn thread_count(&self) -> usize {
        lock(&self.inner.state).threads
    }

    /// The most threads this pool runs at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = corio_executor::BlockingPool::new(3, Duration::from_secs(1));
    /// assert_eq!(pool.max_threads(), 3);
    /// ```
    pub fn max_threads(&self) -> usize {
        lock(&self.inner.state).max_threads
    }

    /// Changes the most threads this pool runs at once.
    ///
    /// Raising the limit lets queued jobs start new threads as further jobs
    /// arrive. Lowering it interrupts nothing: threads above the new limit
    /// finish their jobs and exit as soon as they find the queue empty.
    ///
    /// # Panics
    ///
    /// When `max_threads` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = corio_executor::BlockingPool::new(3, Duration::from_secs(1));
    /// pool.set_max_threads(16);
    /// assert_eq!(pool.max_threads(), 16);
    /// ```
    pub fn set_max_threads(&self, max_threads: usize) {
        assert!(max_threads > 0, "a BlockingPool needs at least one thread");
        lock(&self.inner.state).max_threads = max_threads;
        // Idle threads above the new limit exit.
        self.inner.condvar.notify_all();
    }

    /// How long a thread of this pool stays alive with nothing to do.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use corio_executor::BlockingPool;
    ///
    /// let pool = BlockingPool::new(1, Duration::from_millis(250));
    /// assert_eq!(pool.idle_timeout(), Duration::from_millis(250));
    /// ```
    pub fn idle_timeout(&self) -> Duration {
        lock(&self.inner.state).idle_timeout
    }

    /// Changes how long a thread stays alive with nothing to do.
    ///
    /// Threads already idle measure the new timeout from when they became
    /// idle. Mostly useful to make the global pool's threads exit sooner in
    /// tests and short-lived programs.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use corio_executor::BlockingPool;
    ///
    /// let pool = BlockingPool::new(1, Duration::from_secs(10));
    /// pool.set_idle_timeout(Duration::from_millis(10));
    /// assert_eq!(pool.idle_timeout(), Duration::from_millis(10));
    /// ```
    pub fn set_idle_timeout(&self, idle_timeout: Duration) {
        lock(&self.inner.state).idle_timeout = idle_timeout;
        self.inner.condvar.notify_all();
    }
}

impl Drop for BlockingPool {
    fn drop(&mut self) {
        lock(&self.inner.state).shutdown = true;
        self.inner.condvar.notify_all();
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.inner.state);
        f.debug_struct("BlockingPool")
            .field("threads", &state.threads)
            .field("idle", &(state.idle + state.notified))
            .field("queued", &state.queue.len())
            .field("max_threads", &state.max_threads)
            .field("idle_timeout", &state.idle_timeout)
            .finish()
    }
}

impl Inner {
    /// The body of a pool thread.
    fn work(&self) {
        let mut state = lock(&self.state);
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                // The job catches the closure's panic itself; this catches a
                // panicking destructor of an abandoned result, so that the
                // thread and its count survive whatever the job does.
                let _ = catch_unwind(AssertUnwindSafe(job));
                state = lock(&self.state);
                continue;
            }
            if state.shutdown || state.threads > state.max_threads {
                break;
            }
            state.idle += 1;
            let since = Instant::now();
            let timed_out = loop {
                let left = state.idle_timeout.saturating_sub(since.elapsed());
                state = self
                    .condvar
                    .wait_timeout(state, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                // A claim first, even if the timeout has also passed
                // (invariant 1).
                if state.notified > 0 {
                    state.notified -= 1;
                    break false;
                }
                if state.shutdown || state.threads > state.max_threads {
                    state.idle -= 1;
                    break false;
                }
                if since.elapsed() >= state.idle_timeout {
                    state.idle -= 1;
                    break true;
                }
                // A spurious wake-up, or a new idle timeout: wait again.
            };
            if timed_out && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }
}

/// The global pool's thread limit: `CORIO_MAX_BLOCKING_THREADS` or the default.
fn max_threads_from_env() -> usize {
    let Some(value) = std::env::var_os(MAX_THREADS_ENV) else {
        return BlockingPool::DEFAULT_MAX_THREADS;
    };
    match value.to_str().and_then(|v| v.trim().parse::<usize>().ok()) {
        Some(n) if n > 0 => n,
        _ => {
            eprintln!(
                "corio: ignoring {MAX_THREADS_ENV}={value:?}: not a positive integer; \
                 using {}",
                BlockingPool::DEFAULT_MAX_THREADS
            );
            BlockingPool::DEFAULT_MAX_THREADS
        }
    }
}

/// The one-shot hand-off from a job to its [`Unblock`] future.
struct Slot<T> {
    state: Mutex<SlotState<T>>,
}

enum SlotState<T> {
    /// The closure has not finished; the waker of the future's last poll.
    Pending(Option<Waker>),
    /// The closure finished; its result waits for the future.
    Ready(thread::Result<T>),
    /// The future took the result, or was dropped.
    Closed,
}

impl<T> Slot<T> {
    /// Stores the job's result and wakes the future, or drops the result if
    /// the future is gone.
    fn complete(&self, result: thread::Result<T>) {
        let mut state = lock(&self.state);
        match std::mem::replace(&mut *state, SlotState::Closed) {
            SlotState::Pending(waker) => {
                *state = SlotState::Ready(result);
                drop(state);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            // The future was dropped: the result goes, outside the lock.
            SlotState::Closed => {
                drop(state);
                drop(result);
            }
            SlotState::Ready(_) => unreachable!("a blocking job completed twice"),
        }
    }
}

/// The future of a closure running on the blocking pool, returned by
/// [`unblock`] and [`BlockingPool::unblock`].
///
/// It resolves to the closure's return value, or resumes the closure's
/// panic when polled.
///
/// # Cancel safety
///
/// Dropping an `Unblock` before it resolves does not stop the closure, which
/// cannot be interrupted: it runs to its end (even if it had not started
/// yet), and its result — or its panic — is then dropped on the pool thread.
/// Nothing else is lost, and the pool carries on with its other jobs.
///
/// # Panics
///
/// Polling panics when the closure panicked (with the closure's payload),
/// and when the future is polled again after it resolved.
///
/// # Examples
///
/// ```
/// use corio_executor::{unblock, Unblock};
///
/// let fut: Unblock<u64> = unblock(|| (1..=20).product());
/// assert_eq!(corio_executor::block_on(fut), 2_432_902_008_176_640_000);
/// ```
#[must_use = "the closure runs even if this is dropped, but its result and any panic are lost"]
pub struct Unblock<T> {
    slot: Arc<Slot<T>>,
}

impl<T> Unblock<T> {
    /// Whether the closure has finished (returned or panicked) and the result
    /// is waiting to be taken by polling.
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = corio_executor::unblock(|| 1);
    /// while !fut.is_finished() {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(corio_executor::block_on(fut), 1);
    /// ```
    pub fn is_finished(&self) -> bool {
        matches!(*lock(&self.slot.state), SlotState::Ready(_))
    }
}

impl<T> Future for Unblock<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = lock(&self.slot.state);
        match std::mem::replace(&mut *state, SlotState::Closed) {
            SlotState::Ready(result) => {
                drop(state);
                match result {
                    Ok(value) => Poll::Ready(value),
                    Err(payload) => resume_unwind(payload),
                }
            }
            SlotState::Pending(waker) => {
                // Registered under the lock `complete` takes: a result stored
                // after this poll's check finds this waker (no lost wake-up).
                let stale = match waker {
                    Some(w) if w.will_wake(cx.waker()) => {
                        *state = SlotState::Pending(Some(w));
                        None
                    }
                    other => {
                        *state = SlotState::Pending(Some(cx.waker().clone()));
                        other
                    }
                };
                drop(state);
                drop(stale);
                Poll::Pending
            }
            SlotState::Closed => {
                drop(state);
                panic!("Unblock polled after completion")
            }
        }
    }
}

impl<T> Drop for Unblock<T> {
    fn drop(&mut self) {
        let old = std::mem::replace(&mut *lock(&self.slot.state), SlotState::Closed);
        // A result not taken yet (or the stale waker) goes outside the lock.
        drop(old);
    }
}

impl<T> fmt::Debug for Unblock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*lock(&self.slot.state) {
            SlotState::Pending(_) => "running",
            SlotState::Ready(Ok(_)) => "returned",
            SlotState::Ready(Err(_)) => "panicked",
            SlotState::Closed => "taken",
        };
        f.debug_struct("Unblock").field("state", &state).finish()
    }
}
