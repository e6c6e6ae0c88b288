//! Waiting for work by driving the reactor: [`Parker`] and [`block_on`].
//!
//! # Design
//!
//! A [`Parker`] is a one-thread wait with a stored token, like
//! `std::thread::park`, whose wait drives the reactor: an idle thread that
//! parks takes the reactor's poll lock and polls the OS poller, processing the
//! I/O events and timers of every thread, until its own token arrives, its
//! timeout passes, or a poll wakes some task. If another thread already polls, it waits on a condition
//! variable as a *standby*, and takes over polling when that thread releases
//! the lock (see `Reactor::wake_standby`: every release reaches a standby
//! that takes the lock or passes the hand-over on, so while some thread waits
//! as a standby, some thread polls). `unpark` stores the token and interrupts
//! whichever wait the thread is in: `Reactor::notify` for a poll, the
//! condition variable for a standby.
//!
//! [`block_on`] is a loop of "poll the future, park until woken" over a
//! thread-local `Parker`, with a non-blocking reactor poll now and then while
//! the future keeps waking itself, so that I/O and timers still make progress.
//!
//! # States
//!
//! `EMPTY` (no token, not parked), `NOTIFIED` (a token is stored),
//! `PARKED_POLL` (the parking thread polls the reactor), `PARKED_STANDBY` (it
//! waits on its condition variable). Only the parking thread moves the state
//! out of `NOTIFIED` and into a `PARKED_*` state; `unpark` only swaps in
//! `NOTIFIED` and then interrupts what the swapped-out state says the thread
//! was doing, so no wake-up is lost: a token stored before `park` makes `park`
//! return at once. A waker that runs inside the parked thread's own poll (the
//! common case: an I/O event for the task this thread runs) skips the
//! interruption, since that thread returns from the poll anyway.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::reactor::{lock, PollGuard, Reactor, Standby};

thread_local! {
    /// The parker whose thread is polling the reactor on this thread, if any
    /// (compared by address only).
    static POLLING: Cell<*const Inner> = const { Cell::new(std::ptr::null()) };
}

const EMPTY: usize = 0;
const NOTIFIED: usize = 1;
const PARKED_POLL: usize = 2;
const PARKED_STANDBY: usize = 3;

/// How many times in a row `block_on` polls a future that woke itself before
/// it polls the reactor without blocking.
const DRIVER_INTERVAL: u32 = 61;

/// Parks a thread by driving the reactor; the hook an executor's idle worker
/// waits through.
///
/// [`park`](Parker::park) blocks until [`unpark`](Parker::unpark) or the
/// timeout. While it blocks, the thread drives the reactor if no other thread
/// does: it processes I/O events and fires timers for every thread's tasks,
/// and returns after a poll that woke any task (which may be one this thread
/// runs: an executor's waker called on a worker thread can queue the task on
/// that worker without unparking it), so spurious returns happen. A token
/// stored by `unpark` before `park` makes that `park` return at once.
/// `park(Some(Duration::ZERO))` never blocks: it processes whatever events
/// are ready, if no other thread is polling, and consumes the token.
///
/// Clones share one parker. Only one thread may park on it at a time; any
/// thread may unpark it.
///
/// This is what corio's runtime plugs into the executor's `Park` hook: each
/// worker gets a `Parker`, so that an idle worker waits on I/O and timers.
///
/// # Panics
///
/// `park` panics if two threads park on the same parker at once.
///
/// # Examples
///
/// ```
/// use corio_reactor::Parker;
/// use std::time::Duration;
///
/// let parker = Parker::new();
/// let p = parker.clone();
/// let t = std::thread::spawn(move || p.park(None));
/// parker.unpark();
/// t.join().unwrap();
///
/// parker.park(Some(Duration::from_millis(1))); // times out
/// ```
#[derive(Clone)]
pub struct Parker {
    inner: Arc<Inner>,
}

struct Inner {
    state: AtomicUsize,
    standby: Arc<Standby>,
}

impl fmt::Debug for Parker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.inner.state.load(SeqCst) {
            EMPTY => "empty",
            NOTIFIED => "notified",
            PARKED_POLL => "parked (polling)",
            _ => "parked (standby)",
        };
        f.debug_struct("Parker").field("state", &state).finish()
    }
}

impl Default for Parker {
    fn default() -> Self {
        Parker::new()
    }
}

impl Parker {
    /// A parker with no stored token.
    ///
    /// # Examples
    ///
    /// ```
    /// let parker = corio_reactor::Parker::new();
    /// parker.park(Some(std::time::Duration::ZERO)); // does not block
    /// ```
    pub fn new() -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                standby: Arc::new(Standby::new()),
            }),
        }
    }

    /// Blocks the calling thread until [`unpark`](Parker::unpark) or
    /// `timeout`, driving the reactor meanwhile; see the [type docs](Parker).
    ///
    /// # Panics
    ///
    /// If another thread is parked on this parker.
    ///
    /// # Examples
    ///
    /// ```
    /// let parker = corio_reactor::Parker::new();
    /// parker.unpark();
    /// parker.park(None); // returns at once: the token was stored
    /// ```
    pub fn park(&self, timeout: Option<Duration>) {
        self.park_inner(timeout);
    }

    /// Wakes the thread parked on this parker, or makes its next
    /// [`park`](Parker::park) return at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let parker = corio_reactor::Parker::new();
    /// parker.unpark();
    /// parker.unpark(); // tokens do not add up
    /// parker.park(None);
    /// ```
    pub fn unpark(&self) {
        self.inner.unpark();
    }

    /// A waker that unparks this parker.
    ///
    /// # Examples
    ///
    /// ```
    /// let parker = corio_reactor::Parker::new();
    /// parker.waker().wake();
    /// parker.park(None); // returns at once
    /// ```
    pub fn waker(&self) -> Waker {
        Waker::from(self.inner.clone())
    }

    /// Takes the stored token, if there is one, without blocking.
    fn take_token(&self) -> bool {
        self.inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
    }

    /// Enters `PARKED_*` from `EMPTY`; `false` if a token was stored (taken).
    fn enter(&self, parked: usize) -> bool {
        match self
            .inner
            .state
            .compare_exchange(EMPTY, parked, SeqCst, SeqCst)
        {
            Ok(_) => true,
            Err(NOTIFIED) => {
                self.inner.state.store(EMPTY, SeqCst);
                false
            }
            Err(_) => panic!("corio_reactor::Parker: two threads parked on one parker"),
        }
    }

    /// [`park`](Parker::park); returns whether it consumed a token (was
    /// unparked) rather than timed out or returned spuriously.
    fn park_inner(&self, timeout: Option<Duration>) -> bool {
        let reactor = Reactor::get();
        if timeout == Some(Duration::ZERO) {
            if let Some(mut guard) = reactor.try_lock_poll() {
                let _ = guard.poll(Some(Duration::ZERO));
            }
            return self.take_token();
        }
        if self.take_token() {
            return true;
        }
        // `None` for "no deadline", including a timeout too large for `Instant`.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        // Whether a poller handed the poll lock over to this thread (popped it
        // from the standbys) and this thread has not taken the lock yet: if it
        // leaves, it must pass the hand-over on, or the other standbys could
        // wait with nobody polling.
        let mut handed_over = false;
        let mut notified = false;
        loop {
            let remaining = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(r) if !r.is_zero() => Some(r),
                    _ => break,
                },
                None => None,
            };

            if let Some(guard) = reactor.try_lock_poll() {
                return self.poll_with(guard, deadline, remaining);
            }
            // Another thread polls, and hands over when it stops: from here
            // on, an earlier hand-over is void (the `return`s below skip it).

            // Wait as a standby.
            let standby = &self.inner.standby;
            let (mutex, cvar) = standby.parts();
            let mut released = lock(mutex);
            *released = false;
            if !self.enter(PARKED_STANDBY) {
                return true;
            }
            if let Some(guard) = reactor.add_standby(standby) {
                // The poll lock was released meanwhile: poll with it.
                drop(released);
                if self.inner.state.swap(EMPTY, SeqCst) == NOTIFIED {
                    return true; // dropping `guard` hands over to another standby
                }
                return self.poll_with(guard, deadline, remaining);
            }
            let mut timed_out = false;
            while !*released && self.inner.state.load(SeqCst) != NOTIFIED {
                match remaining {
                    None => released = cvar.wait(released).unwrap_or_else(|e| e.into_inner()),
                    Some(_) => {
                        let Some(left) =
                            deadline.and_then(|d| d.checked_duration_since(Instant::now()))
                        else {
                            timed_out = true;
                            break;
                        };
                        released = cvar
                            .wait_timeout(released, left)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                }
            }
            drop(released);
            // Not in the list any more: a poller popped this thread, whether
            // or not its `release` arrived yet.
            handed_over = !reactor.remove_standby(standby);
            notified = self.inner.state.swap(EMPTY, SeqCst) == NOTIFIED;
            if notified || timed_out {
                break;
            }
            // Released (or a spurious wake-up): try to take over polling.
        }
        if handed_over {
            reactor.wake_standby();
        }
        notified
    }

    /// Polls the reactor with the lock just taken, as this parker's wait:
    /// until this parker is unparked, the deadline passes, or a poll wakes
    /// some waker. (A waker that runs inside the poll on an executor's worker
    /// thread may queue its task on that very worker without unparking it, so
    /// the worker must look at its queues after any poll that woke something.)
    fn poll_with(
        &self,
        mut guard: PollGuard<'_>,
        deadline: Option<Instant>,
        remaining: Option<Duration>,
    ) -> bool {
        if !self.enter(PARKED_POLL) {
            return true; // dropping `guard` hands over to a standby
        }
        // Wakers that run inside the poll and unpark this very parker need not
        // interrupt the poller: this thread returns anyway.
        POLLING.with(|p| p.set(Arc::as_ptr(&self.inner)));
        /// Leaves `PARKED_POLL` even if a waker panics inside the poll.
        struct Leave<'a>(&'a Inner);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                POLLING.with(|p| p.set(std::ptr::null()));
                self.0
                    .state
                    .compare_exchange(PARKED_POLL, EMPTY, SeqCst, SeqCst)
                    .ok();
            }
        }
        let leave = Leave(&self.inner);
        let mut remaining = remaining;
        loop {
            // An error of the OS poller leaves nothing to do but return
            // (spuriously); the caller re-checks its work and parks again.
            match guard.poll(remaining) {
                Ok(0) if self.inner.state.load(SeqCst) != NOTIFIED => {}
                _ => break,
            }
            if let Some(d) = deadline {
                match d.checked_duration_since(Instant::now()) {
                    Some(r) if !r.is_zero() => remaining = Some(r),
                    _ => break,
                }
            }
        }
        std::mem::forget(leave);
        POLLING.with(|p| p.set(std::ptr::null()));
        self.inner.state.swap(EMPTY, SeqCst) == NOTIFIED
    }
}

impl Inner {
    fn unpark(&self) {
        match self.state.swap(NOTIFIED, SeqCst) {
            PARKED_POLL => {
                let this: *const Inner = self;
                if POLLING.with(|p| p.get()) != this {
                    let _ = Reactor::get().notify();
                }
            }
            PARKED_STANDBY => self.standby.interrupt(),
            _ => {}
        }
    }
}

impl Wake for Inner {
    fn wake(self: Arc<Self>) {
        self.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.unpark();
    }
}

/// Runs a future to completion on the current thread, driving the reactor
/// while it waits; like async-io's `block_on`.
///
/// This makes the crate usable on its own: sockets, [`Async`](crate::Async)
/// handles and corio-timer's `sleep`/`timeout` all work inside it. While the
/// future is pending, the thread polls the reactor (or, if another thread
/// already does, waits to take over from it). It is what `asyncio.run` is for
/// one coroutine with no tasks; the corio runtime adds tasks and worker
/// threads.
///
/// # Panics
///
/// If the future panics (the panic propagates).
///
/// # Examples
///
/// ```
/// use corio_reactor::net::{TcpListener, TcpStream};
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// corio_reactor::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let mut client = TcpStream::connect(addr).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    thread_local! {
        static CACHE: RefCell<Option<(Parker, Waker)>> = const { RefCell::new(None) };
    }

    /// Puts the parker back into the cache when `block_on` returns or unwinds.
    struct Restore(Option<(Parker, Waker)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let pair = self.0.take();
            let _ = CACHE.try_with(|c| {
                if let Ok(mut c) = c.try_borrow_mut() {
                    if c.is_none() {
                        *c = pair;
                    }
                }
            });
        }
    }

    // A nested `block_on` finds the cache empty and makes its own parker.
    let pair = CACHE
        .try_with(|c| c.try_borrow_mut().ok().and_then(|mut c| c.take()))
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            let parker = Parker::new();
            let waker = parker.waker();
            (parker, waker)
        });
    let restore = Restore(Some(pair));
    let (parker, waker) = restore.0.as_ref().expect("set above");

    let mut future = pin!(future);
    let mut cx = Context::from_waker(waker);
    let mut busy = 0u32;
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        if parker.take_token() {
            // Woken while being polled: poll again, but let the reactor run
            // now and then so a self-waking future cannot starve I/O and timers.
            busy += 1;
            if busy >= DRIVER_INTERVAL {
                busy = 0;
                parker.park(Some(Duration::ZERO));
            }
            continue;
        }
        busy = 0;
        // Re-poll the future only once its waker was called; a park that
        // returns for another reason (a poll that woke other threads' tasks)
        // just parks again.
        while !parker.park_inner(None) {}
    }
}
