//! The process-wide reactor: one OS poller ([`sys`](crate::sys)), the registered sources,
//! and the poll lock.
//!
//! # Design
//!
//! There is one [`Reactor`] per process, created on first use by
//! [`Reactor::get`]. It owns a [`Poller`] (epoll, kqueue or event ports) and a
//! slab of [`Source`]s, one per [`Async`](crate::Async) handle.
//!
//! * **Registration.** A source is added to the poller *once*, when its
//!   `Async` is created, interested in both directions and in edge-triggered
//!   mode: the poller reports a direction each time it *becomes* ready (new
//!   data, freed buffer space, a hang-up), and never needs re-arming. It is
//!   deleted once, when the `Async` is dropped or unwrapped.
//! * **Readiness.** Each source keeps what the poller last said in one atomic
//!   word ([`Source::readiness`]): a bit per direction, a bit saying the peer
//!   closed its side, and a tick that counts the events delivered. An
//!   operation runs while its direction's bit is set; when it fails with
//!   `WouldBlock` (or a stream read or write comes back short, which means
//!   the socket was drained or filled), the bit is cleared, but only if the
//!   tick is still the one read *before* the operation. A short read keeps
//!   the bit if the peer closed its side (the end of stream left to read
//!   comes with no further event), and always where the poller cannot say
//!   so (see [`sys`](crate::sys)). An
//!   event that arrives after the operation looked at the socket therefore
//!   always leaves the bit set: clearing can never hide readiness that is
//!   real. Bits start set, so a new source's first operation is simply tried.
//!   In the common case a read costs one system call and a wait none.
//! * **Waiters.** Each direction has an *io* waker (the task of the readiness
//!   path: `AsyncRead`/`AsyncWrite`, one task per direction, like tokio's
//!   `poll_read_ready`), a *slot* (the public `poll_readable` /
//!   `poll_writable`) and a slab of *entries* (the [`Readable`](crate::Readable)
//!   and [`Writable`](crate::Writable) futures and `read_with`/`write_with`:
//!   any number of tasks). An event for a direction wakes all of them. The
//!   public waits ask for *fresh* readiness: registering one re-arms the
//!   source with `modify`, which makes the OS report the direction again if
//!   it is ready now, so a caller that retries after `WouldBlock` never
//!   spins on a stale bit and never misses data already there.
//! * **Polling.** One thread at a time polls, through a [`PollGuard`] from
//!   [`Reactor::try_lock_poll`]. A poll computes its timeout as the smaller of
//!   the caller's and the time to the next timer deadline, waits, turns the
//!   events into wake-ups, fires the expired timers
//!   (`corio_timer::driver::fire_expired`) and wakes the tasks, outside every
//!   lock. Threads that want to poll while another one does can wait as
//!   *standbys*: when a `PollGuard` is dropped, one standby is woken to take
//!   over, so that whenever some thread is idle, one is polling (invariant 4).
//! * **Timers.** The reactor claims the timer driver
//!   (`corio_timer::driver::claim`) when it is created and keeps the claim for
//!   the life of the process. From then on the timer crate's helper thread stays
//!   idle and timers fire only when some thread polls the reactor: the
//!   [`block_on`](crate::block_on) threads, a [`Parker`](crate::Parker), or the
//!   corio runtime's idle workers. A program that never touches the reactor
//!   never creates it, and its timers run on the helper thread as usual.
//!
//! # Invariants
//!
//! 1. A source's fd is open while its `closed` flag is false. `closed` is set,
//!    under the source's state lock, before the fd is deleted from the poller,
//!    and the fd is closed only after that deletion (by
//!    [`Async`](crate::Async)'s `Drop`). Therefore every `modify` is made while
//!    holding the state lock with `closed == false`, and borrows an open fd.
//! 2. A direction's readiness bit is clear only if, after the last event the
//!    reactor processed for the source, an operation in that direction found
//!    nothing to do; any later change of the socket produces a new event
//!    (edge-triggered), which sets the bit and wakes the direction's waiters.
//!    The reactor sets bits and takes wakers under the source's state lock,
//!    and a waiter registers under the same lock after a last look at the
//!    bit, so no wake-up is lost.
//! 3. Lock order: the sources slab and a source's state lock are never held at
//!    the same time; the poll lock (`PollState`) may be held while taking either.
//! 4. While a thread waits as a standby, the poll lock is held, or a hand-over
//!    is on its way to a standby. The poll lock is only taken through
//!    [`PollGuard`], whose `Drop` pops one standby and releases it; a thread
//!    registers as a standby *before* its last look at the lock (and polls
//!    with the lock if it finds it free); a released standby either takes the
//!    lock or, if it leaves (unparked, timed out) or finds the lock taken by
//!    someone else, hands over to the next standby or relies on that someone.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{
    AtomicUsize,
    Ordering::{Acquire, SeqCst},
};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, TryLockError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::sys::{Events, Poller, Readiness, REPORTS_READ_CLOSED};
use slab::Slab;

/// The read direction's index into [`State::dirs`].
pub(crate) const READ: usize = 0;
/// The write direction's index into [`State::dirs`].
pub(crate) const WRITE: usize = 1;

/// Locks a mutex, ignoring poisoning: every critical section here leaves its
/// data consistent before anything that could panic (wakers run outside locks).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wakes every waker, even if one panics; the first panic is resumed after
/// all are woken, so that one bad waker cannot strand the other tasks.
fn wake_all(wakers: impl Iterator<Item = Waker>) {
    let mut panic = None;
    for w in wakers {
        if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.wake())) {
            panic.get_or_insert(p);
        }
    }
    if let Some(p) = panic {
        std::panic::resume_unwind(p);
    }
}

/// The process-wide I/O driver.
///
/// Most programs never touch it: [`Async`](crate::Async) and the [`net`](crate::net)
/// types register with it, and [`block_on`](crate::block_on) (or the corio
/// runtime) drives it. Code that runs its own event loop drives it through
/// [`try_lock_poll`](Reactor::try_lock_poll), or more simply through a
/// [`Parker`](crate::Parker).
///
/// # Examples
///
/// ```
/// use corio_reactor::Reactor;
/// use std::time::Duration;
///
/// let reactor = Reactor::get();
/// if let Some(mut guard) = reactor.try_lock_poll() {
///     // Processes whatever is ready, without blocking.
///     let _woken = guard.poll(Some(Duration::ZERO)).unwrap();
/// }
/// ```
pub struct Reactor {
    /// The OS poller; shared with the timer driver's `notify` callback.
    poller: Arc<Poller>,
    /// Registered sources, keyed by their poller key.
    sources: Mutex<Slab<Arc<Source>>>,
    /// The poll lock and the buffers of one poll.
    poll_state: Mutex<PollState>,
    /// Threads waiting to take over polling; see [`Standby`].
    standby: Mutex<Vec<Arc<Standby>>>,
    /// `standby.len()`, readable without the lock.
    standby_count: AtomicUsize,
    /// Whether this reactor holds the timer driver (and so must fire timers).
    drives_timers: bool,
    /// The claim on the timer driver, kept for the life of the process.
    _timer_claim: Option<corio_timer::driver::DriverGuard>,
}

/// What only the polling thread touches.
struct PollState {
    events: Events,
    /// Sources with events in this poll, copied out of the slab so that the
    /// slab lock is not held while their states are locked (invariant 3).
    ready: Vec<(Arc<Source>, Readiness)>,
    wakers: Vec<Waker>,
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("sources", &lock(&self.sources).len())
            .field("standby", &self.standby_count.load(SeqCst))
            .field("drives_timers", &self.drives_timers)
            .finish_non_exhaustive()
    }
}

impl Reactor {
    /// The process-wide reactor, created on first use.
    ///
    /// Creating it makes the OS poller and claims the corio-timer driver, so
    /// that from then on timers fire when a thread polls the reactor rather than
    /// on the timer crate's helper thread (see the [crate docs](crate)).
    ///
    /// # Panics
    ///
    /// If the OS poller cannot be created (for example when the process is out
    /// of file descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = corio_reactor::Reactor::get();
    /// let b = corio_reactor::Reactor::get();
    /// assert!(std::ptr::eq(a, b));
    /// ```
    pub fn get() -> &'static Reactor {
        static REACTOR: OnceLock<Reactor> = OnceLock::new();
        REACTOR.get_or_init(|| {
            let poller = Arc::new(
                Poller::new()
                    .unwrap_or_else(|e| panic!("corio-reactor: cannot create the OS poller: {e}")),
            );
            let notify_poller = poller.clone();
            let claim = corio_timer::driver::claim(Arc::new(move || {
                // A timer with an earlier deadline was inserted: interrupt the
                // blocked poll so that it recomputes its timeout.
                let _ = notify_poller.notify();
            }));
            Reactor {
                poller,
                sources: Mutex::new(Slab::new()),
                poll_state: Mutex::new(PollState {
                    events: Events::new(),
                    ready: Vec::new(),
                    wakers: Vec::new(),
                }),
                standby: Mutex::new(Vec::new()),
                standby_count: AtomicUsize::new(0),
                drives_timers: claim.is_some(),
                _timer_claim: claim,
            }
        })
    }

    /// Takes the poll lock, if no other thread holds it.
    ///
    /// Only one thread polls at a time. A thread that gets `None` should wait
    /// some other way (a [`Parker`](crate::Parker) waits as a standby and takes
    /// over when the lock is released).
    ///
    /// # Examples
    ///
    /// ```
    /// let reactor = corio_reactor::Reactor::get();
    /// let guard = reactor.try_lock_poll();
    /// # if guard.is_some() {
    /// assert!(reactor.try_lock_poll().is_none()); // held by `guard`
    /// # }
    /// ```
    pub fn try_lock_poll(&self) -> Option<PollGuard<'_>> {
        let state = match self.poll_state.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(PollGuard {
            reactor: self,
            state: Some(state),
        })
    }

    /// Interrupts the thread blocked in [`PollGuard::poll`], or makes the next
    /// poll return at once if none is blocked.
    ///
    /// # Errors
    ///
    /// The OS error, if the poller cannot be notified.
    ///
    /// # Examples
    ///
    /// ```
    /// let reactor = corio_reactor::Reactor::get();
    /// reactor.notify().unwrap();
    /// if let Some(mut guard) = reactor.try_lock_poll() {
    ///     guard.poll(None).unwrap(); // returns at once: it was notified
    /// }
    /// ```
    pub fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }

    /// Registers `fd` with the poller (no interest yet) and returns its source.
    ///
    /// The caller ([`Async::new`](crate::Async::new)) must call
    /// [`deregister`](Reactor::deregister) before the fd is closed.
    pub(crate) fn register(&self, fd: BorrowedFd<'_>) -> io::Result<Arc<Source>> {
        let raw = fd.as_raw_fd();
        let source = {
            let mut sources = lock(&self.sources);
            let entry = sources.vacant_entry();
            let source = Arc::new(Source {
                raw,
                key: entry.key(),
                readiness: AtomicUsize::new(READY_BITS),
                state: Mutex::new(State::default()),
            });
            entry.insert(source.clone());
            source
        };
        // The fd must be deleted from the poller before it is closed: every
        // `Source` belongs to one `Async`, which calls `Reactor::deregister`
        // (which deletes the fd) in `into_inner` and in `Drop`, before it
        // drops (closes) the I/O object. See invariant 1 in this module's docs.
        let added = self.poller.add(fd, source.key);
        if let Err(e) = added {
            lock(&self.sources).try_remove(source.key);
            return Err(e);
        }
        Ok(source)
    }

    /// Removes `source` from the poller and the slab, and wakes its waiters,
    /// which then fail with [`closed_error`]. `fd` must be the source's fd and
    /// still open.
    pub(crate) fn deregister(&self, source: &Source, fd: BorrowedFd<'_>) -> io::Result<()> {
        let mut wakers = Vec::new();
        {
            let mut state = lock(&source.state);
            state.closed = true;
            for dir in &mut state.dirs {
                dir.notify_all(&mut wakers);
            }
        }
        lock(&self.sources).try_remove(source.key);
        let result = self.poller.delete(fd);
        wake_all(wakers.into_iter());
        result
    }

    /// Registers this thread as a standby poller and re-checks the poll lock.
    ///
    /// Returns the poll lock if it is free: a poller that released it before
    /// the registration did not see this thread (see `PollGuard::drop`), so the
    /// caller must poll with it (or drop it, which hands over to another
    /// standby). Returns `None` if the thread is registered and will be
    /// released through `standby` when the current poller stops.
    pub(crate) fn add_standby(&self, standby: &Arc<Standby>) -> Option<PollGuard<'_>> {
        lock(&self.standby).push(standby.clone());
        self.standby_count.fetch_add(1, SeqCst);
        let guard = self.try_lock_poll()?;
        self.remove_standby(standby);
        Some(guard)
    }

    /// Removes a standby registration. Returns `false` if it was not there:
    /// a poller popped it to hand over the poll lock, and the standby must
    /// take over or pass the hand-over on ([`wake_standby`](Self::wake_standby)).
    pub(crate) fn remove_standby(&self, standby: &Arc<Standby>) -> bool {
        let mut list = lock(&self.standby);
        match list.iter().position(|s| Arc::ptr_eq(s, standby)) {
            Some(i) => {
                list.swap_remove(i);
                self.standby_count.fetch_sub(1, SeqCst);
                true
            }
            None => false,
        }
    }

    /// Wakes one standby thread so that it takes over polling.
    ///
    /// Called when the poll lock is released, and by a released standby that
    /// leaves without polling. Every release thus reaches a standby that
    /// either takes the lock (and hands over again when it releases it) or
    /// passes the hand-over on, so that while any thread waits as a standby,
    /// some thread polls.
    pub(crate) fn wake_standby(&self) {
        if self.standby_count.load(SeqCst) == 0 {
            return;
        }
        let standby = {
            let mut list = lock(&self.standby);
            let s = list.pop();
            if s.is_some() {
                self.standby_count.fetch_sub(1, SeqCst);
            }
            s
        };
        if let Some(s) = standby {
            s.release();
        }
    }

    /// Re-arms `source` (same interest, same mode), which makes the poller
    /// report every direction that is ready *now* as a new event: what a
    /// waiter that asks for fresh readiness registers with. Called with the
    /// source's state lock held and `closed == false`.
    fn rearm(&self, source: &Source, state: &State) -> io::Result<()> {
        debug_assert!(!state.closed);
        // SAFETY: the caller holds the state lock and has checked that the
        // source is not closed, so its fd is still open (invariant 1) for the
        // duration of this borrow.
        let fd = unsafe { BorrowedFd::borrow_raw(source.raw) };
        self.poller.rearm(fd, source.key)
    }
}

/// A thread waiting to take over polling when the current poller stops.
pub(crate) struct Standby {
    released: Mutex<bool>,
    cvar: Condvar,
}

impl Standby {
    pub(crate) fn new() -> Standby {
        Standby {
            released: Mutex::new(false),
            cvar: Condvar::new(),
        }
    }

    /// Tells the standby thread that the poll lock was released.
    fn release(&self) {
        *lock(&self.released) = true;
        self.cvar.notify_one();
    }

    /// Wakes the standby thread for another reason (an unpark).
    pub(crate) fn interrupt(&self) {
        drop(lock(&self.released));
        self.cvar.notify_one();
    }

    /// The mutex and condition variable the standby thread waits on.
    pub(crate) fn parts(&self) -> (&Mutex<bool>, &Condvar) {
        (&self.released, &self.cvar)
    }
}

/// The right to poll the [`Reactor`]; see [`Reactor::try_lock_poll`].
///
/// Dropping the guard releases the lock and wakes one thread waiting to take
/// over polling, if there is one.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let reactor = corio_reactor::Reactor::get();
/// if let Some(mut guard) = reactor.try_lock_poll() {
///     let start = Instant::now();
///     guard.poll(Some(Duration::from_millis(5))).unwrap();
///     # let _ = start;
/// }
/// ```
pub struct PollGuard<'a> {
    reactor: &'a Reactor,
    /// `Some` until `Drop`, which releases it before waking a standby.
    state: Option<MutexGuard<'a, PollState>>,
}

impl fmt::Debug for PollGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollGuard").finish_non_exhaustive()
    }
}

impl PollGuard<'_> {
    /// Waits for I/O events up to `timeout`, then wakes the ready tasks and
    /// fires the expired timers.
    ///
    /// `None` waits until an event, the next timer deadline or
    /// [`Reactor::notify`]; `Some(Duration::ZERO)` never blocks. The wait also
    /// ends at the next timer deadline. Returns how many wakers it woke
    /// (I/O waiters plus fired timers). Wakers run on this thread, outside the
    /// reactor's internal locks but with the poll lock still held, so a waker
    /// must not block (wakers never do).
    ///
    /// # Errors
    ///
    /// The OS error of the poller's wait (an interrupted wait, `EINTR`, is not
    /// an error: it returns `Ok`). The ready tasks are woken and the expired
    /// timers fired even then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let reactor = corio_reactor::Reactor::get();
    /// if let Some(mut guard) = reactor.try_lock_poll() {
    ///     let start = Instant::now();
    ///     guard.poll(Some(Duration::from_millis(10))).unwrap();
    ///     // It may return early (a notification, an event), never much later.
    ///     assert!(start.elapsed() < Duration::from_secs(5));
    /// }
    /// ```
    pub fn poll(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        let reactor = self.reactor;
        let st = self.state.as_mut().expect("PollGuard used after drop");
        // A non-blocking poll needs no deadline (its timeout is already the
        // shortest), and skipping the timer lock matters: every busy worker
        // calls this every few dozen tasks.
        let timeout = if reactor.drives_timers && timeout != Some(Duration::ZERO) {
            match corio_timer::driver::next_deadline() {
                Some(deadline) => {
                    let until = deadline.saturating_duration_since(Instant::now());
                    Some(timeout.map_or(until, |t| t.min(until)))
                }
                None => timeout,
            }
        } else {
            timeout
        };

        st.events.clear();
        // A non-blocking poll with no source registered has nothing to ask
        // the OS: the busy executors call this every few dozen tasks.
        let skip_os = timeout == Some(Duration::ZERO) && lock(&reactor.sources).is_empty();
        let result = if skip_os {
            Ok(())
        } else {
            match reactor.poller.wait(&mut st.events, timeout) {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
                Err(e) => Err(e),
            }
        };

        let PollState {
            events,
            ready,
            wakers,
        } = &mut **st;
        // Copy the ready sources out of the slab (invariant 3).
        {
            let sources = lock(&reactor.sources);
            for ev in events.iter() {
                if let Some(source) = sources.get(ev.key) {
                    ready.push((source.clone(), ev));
                }
            }
        }
        for (source, ev) in ready.drain(..) {
            let bits = (usize::from(ev.readable) << READ)
                | (usize::from(ev.writable) << WRITE)
                | if ev.read_closed { READ_CLOSED } else { 0 };
            if bits == 0 {
                continue;
            }
            let mut state = lock(&source.state);
            if state.closed {
                continue;
            }
            // Set the bits and advance the tick under the state lock
            // (invariant 2); the update is a CAS loop because `clear_ready`
            // runs without the lock.
            let _ = source
                .readiness
                .fetch_update(SeqCst, SeqCst, |r| Some(r.wrapping_add(TICK) | bits));
            if ev.readable {
                state.dirs[READ].notify_all(wakers);
            }
            if ev.writable {
                state.dirs[WRITE].notify_all(wakers);
            }
        }

        let fired = if reactor.drives_timers {
            corio_timer::driver::fire_expired()
        } else {
            0
        };
        let woken = wakers.len();
        wake_all(wakers.drain(..));
        result.map(|()| woken + fired)
    }
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        // Release the lock first, then look for a standby: a thread that
        // registers after this point re-checks the lock itself.
        drop(self.state.take());
        self.reactor.wake_standby();
    }
}

/// The readiness bits of both directions in [`Source::readiness`].
const READY_BITS: usize = 1 << READ | 1 << WRITE;
/// Set with the read bit by an event that says the peer will send nothing
/// more (`EPOLLRDHUP`, a hang-up); cleared with it. While it is set, a short
/// stream read is not taken as drained: what is left is the end of stream.
const READ_CLOSED: usize = 1 << 2;
/// One event in [`Source::readiness`]'s tick (the bits above the readiness bits).
const TICK: usize = 1 << 3;

/// Whether `snapshot` (a [`Source::readiness`] value) has `dir`'s bit set.
pub(crate) fn is_ready(snapshot: usize, dir: usize) -> bool {
    snapshot & (1 << dir) != 0
}

/// One registered fd: its key in the poller, its readiness and the tasks
/// waiting on it.
pub(crate) struct Source {
    /// The fd; open while `state.closed` is false (invariant 1).
    raw: RawFd,
    /// The key of this source in the poller and in the slab.
    key: usize,
    /// Bit `1 << dir` per ready direction, and the count of events delivered
    /// (in units of [`TICK`]); see the module docs.
    readiness: AtomicUsize,
    state: Mutex<State>,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("fd", &self.raw)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    /// Set when the source is deregistered; waiters then fail.
    closed: bool,
    dirs: [Direction; 2],
}

/// The waiters of one direction (read or write) of a source.
#[derive(Default)]
struct Direction {
    /// The task of the readiness path (`poll_io_ready`).
    io: Option<Waker>,
    /// The waiter of the public `poll_readable`/`poll_writable`.
    slot: Option<Waiter>,
    /// The waiters of `Readable`/`Writable` futures and `read_with`/`write_with`.
    entries: Slab<Waiter>,
}

enum Waiter {
    Waiting(Waker),
    Notified,
}

impl Direction {
    /// Takes every waker of this direction; `Waiting` waiters become `Notified`.
    fn notify_all(&mut self, wakers: &mut Vec<Waker>) {
        if let Some(waker) = self.io.take() {
            wakers.push(waker);
        }
        if let Some(w) = self.slot.as_mut() {
            if let Waiter::Waiting(waker) = std::mem::replace(w, Waiter::Notified) {
                wakers.push(waker);
            }
        }
        for (_, w) in self.entries.iter_mut() {
            if let Waiter::Waiting(waker) = std::mem::replace(w, Waiter::Notified) {
                wakers.push(waker);
            }
        }
    }
}

/// The error of an operation on a source that was deregistered (its `Async`
/// dropped) while the operation waited.
pub(crate) fn closed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the I/O source was closed (deregistered from the reactor) while a task waited on it",
    )
}

/// How an entry waits: see [`Source::poll_entry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Until the readiness bit is set (at once if it is).
    Ready,
    /// Until an event that comes after the registration (which re-arms the
    /// source, so a direction that is ready now is reported again).
    Fresh,
}

impl Source {
    /// The readiness word: read it before an operation, and hand it to
    /// [`clear_ready`](Source::clear_ready) if the operation found nothing to do.
    pub(crate) fn readiness(&self) -> usize {
        self.readiness.load(Acquire)
    }

    /// Clears `dir`'s readiness bit (and, for reads, [`READ_CLOSED`]: the
    /// operation found the socket empty, not at its end), unless an event
    /// arrived since `snapshot` was read (invariant 2).
    pub(crate) fn clear_ready(&self, dir: usize, snapshot: usize) {
        let mask = if dir == READ {
            1 << READ | READ_CLOSED
        } else {
            1 << dir
        };
        let _ = self
            .readiness
            .compare_exchange(snapshot, snapshot & !mask, SeqCst, Acquire);
    }

    /// After a stream operation that came back short (`0 < n < len`): clears
    /// `dir`'s readiness like [`clear_ready`](Source::clear_ready), since the
    /// socket was drained (a read) or filled (a write) and the OS reports the
    /// next change as an event. A read is left ready when the snapshot says
    /// the peer closed its side (what is left to read is the end of stream,
    /// and no further event will announce it), and everywhere the poller
    /// does not report that ([`REPORTS_READ_CLOSED`] is false).
    pub(crate) fn clear_drained(&self, dir: usize, snapshot: usize) {
        if dir == READ && (!REPORTS_READ_CLOSED || snapshot & READ_CLOSED != 0) {
            return;
        }
        self.clear_ready(dir, snapshot);
    }

    /// The readiness path's wait: `Ready(Ok(snapshot))` while `dir`'s bit is
    /// set (no lock taken); otherwise registers `cx`'s waker as the
    /// direction's io waker (replacing the previous task's) and returns
    /// `Pending` until the next event for `dir`.
    pub(crate) fn poll_io_ready(
        &self,
        dir: usize,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        let snapshot = self.readiness();
        if is_ready(snapshot, dir) {
            return Poll::Ready(Ok(snapshot));
        }
        let mut state = lock(&self.state);
        if state.closed {
            return Poll::Ready(Err(closed_error()));
        }
        // The last look, under the lock the reactor sets bits under.
        let snapshot = self.readiness();
        if is_ready(snapshot, dir) {
            return Poll::Ready(Ok(snapshot));
        }
        match &mut state.dirs[dir].io {
            Some(w) if w.will_wake(cx.waker()) => {}
            Some(w) => w.clone_from(cx.waker()),
            io @ None => *io = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The slot-based poll behind the public `poll_readable`/`poll_writable`.
    ///
    /// Ready once an event for `dir` arrived after the slot was registered;
    /// otherwise registers `cx`'s waker (replacing the previous task's: one
    /// task per direction) and, when the slot is new, re-arms the source so
    /// that a direction that is ready now is reported again.
    pub(crate) fn poll_ready(&self, dir: usize, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = lock(&self.state);
        if state.closed {
            return Poll::Ready(Err(closed_error()));
        }
        let d = &mut state.dirs[dir];
        match &mut d.slot {
            Some(Waiter::Notified) => {
                d.slot = None;
                return Poll::Ready(Ok(()));
            }
            Some(Waiter::Waiting(w)) => {
                if !w.will_wake(cx.waker()) {
                    w.clone_from(cx.waker());
                }
                return Poll::Pending;
            }
            None => d.slot = Some(Waiter::Waiting(cx.waker().clone())),
        }
        if let Err(e) = Reactor::get().rearm(self, &state) {
            state.dirs[dir].slot = None;
            return Poll::Ready(Err(e));
        }
        Poll::Pending
    }

    /// The entry-based poll behind the `Readable`/`Writable` futures and
    /// `read_with`/`write_with`; `key` is the future's entry, `None` before
    /// its first poll. `wait` says what completes it.
    pub(crate) fn poll_entry(
        &self,
        dir: usize,
        wait: Wait,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        if wait == Wait::Ready && key.is_none() && is_ready(self.readiness(), dir) {
            return Poll::Ready(Ok(()));
        }
        let mut state = lock(&self.state);
        if state.closed {
            if let Some(k) = key.take() {
                state.dirs[dir].entries.try_remove(k);
            }
            return Poll::Ready(Err(closed_error()));
        }
        let d = &mut state.dirs[dir];
        if let Some(k) = *key {
            if let Some(Waiter::Waiting(w)) = d.entries.get_mut(k) {
                if !w.will_wake(cx.waker()) {
                    w.clone_from(cx.waker());
                }
                return Poll::Pending;
            }
            d.entries.try_remove(k);
            *key = None;
            return Poll::Ready(Ok(()));
        }
        if wait == Wait::Ready && is_ready(self.readiness(), dir) {
            return Poll::Ready(Ok(()));
        }
        *key = Some(d.entries.insert(Waiter::Waiting(cx.waker().clone())));
        if wait == Wait::Fresh {
            if let Err(e) = Reactor::get().rearm(self, &state) {
                if let Some(k) = key.take() {
                    state.dirs[dir].entries.try_remove(k);
                }
                return Poll::Ready(Err(e));
            }
        }
        Poll::Pending
    }

    /// Removes a future's entry (the future was dropped before it completed).
    pub(crate) fn remove_entry(&self, dir: usize, key: usize) {
        lock(&self.state).dirs[dir].entries.try_remove(key);
    }
}
