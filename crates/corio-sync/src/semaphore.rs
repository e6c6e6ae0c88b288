//! asyncio's `Semaphore` and `BoundedSemaphore`: a FIFO-fair counting semaphore.
//!
//! # Design
//!
//! One word of state, `state = permits << 2 | WAITERS | CLOSED`, and a wait
//! list ([`Waiters`]) behind a mutex, with `partial`: the permits already
//! handed to the head waiter while it still needs more.
//!
//! Invariants:
//! 1. If a waiter is queued, `WAITERS` is set (set by the acquirer, under the
//!    mutex, in the same CAS that takes the last free permits).
//! 2. If `WAITERS` is set, the word holds no permits: permits released while
//!    waiters are queued go straight to the head waiter (under the mutex), and
//!    only what is left once the queue is empty returns to the word, in the
//!    same update that clears `WAITERS`.
//!
//! So the uncontended paths are one CAS on the word (acquire: take permits;
//! release: add them back while `WAITERS` is clear), and nobody barges: with
//! waiters queued the word holds no permits, so `try_acquire` fails and a new
//! `acquire` queues behind them. Only a waiter at the head can hold `partial`
//! permits; a large `acquire_many` at the head collects permits as they are
//! released and later waiters wait behind it.
//!
//! Cancellation: a waiter's future owns its node until it completes or drops.
//! Dropped while waiting, it gives back the partial permits it had collected
//! (if it was the head); dropped after being granted but before being polled,
//! it gives back the whole grant. Either way the permits go through the
//! release path, i.e. to the next waiter. Nothing is lost, nothing is given
//! twice.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::sync::{lock, AtomicUsize, Mutex, Ordering};
use crate::waiters::{State, Waiters, WakeList};

const CLOSED: usize = 1;
const WAITERS: usize = 2;
const SHIFT: usize = 2;

/// A counting semaphore; asyncio's `asyncio.Semaphore`, FIFO-fair.
///
/// The semaphore holds a number of permits. [`acquire`](Semaphore::acquire)
/// waits until it can take one and returns it as a [`SemaphorePermit`];
/// dropping the permit gives it back. asyncio's `release()` is
/// [`release`](Semaphore::release) (or [`add_permits`](Semaphore::add_permits)),
/// for permits taken out with [`SemaphorePermit::forget`].
///
/// Waiters are served in arrival order, and no one jumps the queue: while a
/// task waits, [`try_acquire`](Semaphore::try_acquire) fails and a new
/// `acquire` queues behind it, even if a permit is momentarily free. A
/// released permit is handed directly to the first waiter. An
/// [`acquire_many`](Semaphore::acquire_many) at the head of the queue collects
/// permits as they are released, holding back the waiters behind it.
///
/// The semaphore needs no runtime: it works under any executor.
///
/// # Examples
///
/// ```
/// use corio_sync::Semaphore;
///
/// # futures_lite::future::block_on(async {
/// let sem = Semaphore::new(2);
/// let a = sem.acquire().await.unwrap();
/// let b = sem.acquire().await.unwrap();
/// assert_eq!(sem.available_permits(), 0);
/// assert!(sem.try_acquire().is_err());
/// drop(a);
/// assert_eq!(sem.available_permits(), 1);
/// drop(b);
/// assert_eq!(sem.available_permits(), 2);
/// # });
/// ```
pub struct Semaphore {
    state: AtomicUsize,
    inner: Mutex<Inner>,
    /// The most permits `release` may bring the semaphore to (bounded only).
    bound: usize,
}

#[derive(Debug)]
struct Inner {
    /// Each node's datum: the permits it still needs.
    waiters: Waiters,
    /// Permits already given to the head waiter, which needs more.
    partial: usize,
}

impl Semaphore {
    /// The most permits a semaphore can hold: `usize::MAX >> 3`.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// Creates a semaphore with `permits` permits; like `asyncio.Semaphore(value)`.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::Semaphore;
    ///
    /// static LIMIT: Semaphore = Semaphore::new(10);
    /// assert_eq!(LIMIT.available_permits(), 10);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(permits: usize) -> Semaphore {
        Self::with_bound(permits, usize::MAX)
    }

    /// Creates a semaphore with `permits` permits (loom build: not `const`).
    #[cfg(loom)]
    pub fn new(permits: usize) -> Semaphore {
        Self::with_bound(permits, usize::MAX)
    }

    #[cfg(not(loom))]
    const fn with_bound(permits: usize, bound: usize) -> Semaphore {
        assert!(
            permits <= Self::MAX_PERMITS,
            "a semaphore holds at most Semaphore::MAX_PERMITS permits"
        );
        Semaphore {
            state: AtomicUsize::new(permits << SHIFT),
            inner: Mutex::new(Inner {
                waiters: Waiters::new(),
                partial: 0,
            }),
            bound,
        }
    }

    #[cfg(loom)]
    fn with_bound(permits: usize, bound: usize) -> Semaphore {
        assert!(
            permits <= Self::MAX_PERMITS,
            "a semaphore holds at most Semaphore::MAX_PERMITS permits"
        );
        Semaphore {
            state: AtomicUsize::new(permits << SHIFT),
            inner: Mutex::new(Inner {
                waiters: Waiters::new(),
                partial: 0,
            }),
            bound,
        }
    }

    /// The number of permits free right now.
    ///
    /// Permits already collected by a waiting [`acquire_many`](Self::acquire_many)
    /// are not counted: they are reserved for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(3);
    /// let p = sem.try_acquire_many(2).unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// drop(p);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    /// Waits for one permit; like `async with sem:` / `await sem.acquire()`.
    ///
    /// Waiters get permits in the order they first polled this future.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is, or gets, [closed](Self::close).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, and the place in the queue is lost. If the future is
    /// dropped after a permit was handed to it but before it returned the
    /// permit, the permit goes to the next waiter (or back to the semaphore):
    /// no permit is lost or handed out twice.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::Semaphore;
    ///
    /// # futures_lite::future::block_on(async {
    /// let sem = Semaphore::new(1);
    /// let permit = sem.acquire().await.unwrap();
    /// assert_eq!(permit.num_permits(), 1);
    /// assert_eq!(sem.available_permits(), 0);
    /// # });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once.
    ///
    /// The request waits in the queue as one waiter; at the head it collects
    /// permits as they are released until it has `n`, and the waiters behind
    /// it wait. `n == 0` completes at once (unless closed).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is, or gets, [closed](Self::close).
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if dropped while waiting, the permits it had collected go
    /// to the next waiter; if dropped after all `n` were handed to it, all `n`
    /// go to the next waiter. The place in the queue is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::Semaphore;
    ///
    /// # futures_lite::future::block_on(async {
    /// let sem = Semaphore::new(5);
    /// let permit = sem.acquire_many(3).await.unwrap();
    /// assert_eq!(permit.num_permits(), 3);
    /// assert_eq!(sem.available_permits(), 2);
    /// # });
    /// ```
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        assert!(
            n <= Self::MAX_PERMITS,
            "cannot acquire more than Semaphore::MAX_PERMITS permits"
        );
        Acquire {
            raw: RawAcquire::new(self, n),
        }
    }

    /// Takes one permit if one is free and nobody waits.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if no permit is free, or tasks are
    /// already waiting (no barging); [`TryAcquireError::Closed`] if closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::{Semaphore, TryAcquireError};
    ///
    /// let sem = Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// drop(p);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if that many are free and nobody waits.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(3);
    /// assert!(sem.try_acquire_many(4).is_err());
    /// assert_eq!(sem.try_acquire_many(3).unwrap().num_permits(), 3);
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        assert!(
            n <= Self::MAX_PERMITS,
            "cannot acquire more than Semaphore::MAX_PERMITS permits"
        );
        self.try_acquire_raw(n)?;
        Ok(SemaphorePermit { sem: self, n })
    }

    /// Waits for one permit and returns it tied to an `Arc` of the semaphore.
    ///
    /// The [`OwnedSemaphorePermit`] is `'static`, so it can move into spawned
    /// tasks.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is, or gets, closed.
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire): a permit handed to a dropped future
    /// goes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use corio_sync::Semaphore;
    ///
    /// # futures_lite::future::block_on(async {
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit = sem.clone().acquire_owned().await.unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// # });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Waits for `n` permits and returns them tied to an `Arc` of the semaphore.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is, or gets, closed.
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Cancel safety
    ///
    /// As [`acquire_many`](Self::acquire_many).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use corio_sync::Semaphore;
    ///
    /// # futures_lite::future::block_on(async {
    /// let sem = Arc::new(Semaphore::new(4));
    /// let permit = sem.clone().acquire_many_owned(3).await.unwrap();
    /// assert_eq!(permit.num_permits(), 3);
    /// # });
    /// ```
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: usize,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many(n).await?.forget();
        Ok(OwnedSemaphorePermit { sem: self, n })
    }

    /// Takes one permit, if free and nobody waits, tied to an `Arc`.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(sem.clone().try_acquire_owned().is_err());
    /// drop(p);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Takes `n` permits, if free and nobody waits, tied to an `Arc`.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(2));
    /// assert_eq!(sem.clone().try_acquire_many_owned(2).unwrap().num_permits(), 2);
    /// ```
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: usize,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many(n)?.forget();
        Ok(OwnedSemaphorePermit { sem: self, n })
    }

    /// Gives one permit back; asyncio's `Semaphore.release()`.
    ///
    /// The permit goes to the first waiter if there is one. Use it for permits
    /// taken out with [`SemaphorePermit::forget`]; calling it more often than
    /// permits were taken raises the count, as in asyncio.
    ///
    /// # Panics
    ///
    /// If the count would exceed [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// sem.release();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn release(&self) {
        self.add_permits(1);
    }

    /// Adds `n` permits, handing them to waiters first, in FIFO order.
    ///
    /// # Panics
    ///
    /// If the count would exceed [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(0);
    /// sem.add_permits(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn add_permits(&self, n: usize) {
        // Unbounded: the bound check cannot fail.
        let _ = self.release_n(n, false);
    }

    /// Closes the semaphore: every waiter, now and later, gets [`AcquireError`].
    ///
    /// Permits already handed out stay valid and are returned as usual when
    /// dropped; a waiter that was granted its permits before the close keeps
    /// them. `try_acquire` fails with [`TryAcquireError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::{Semaphore, TryAcquireError};
    ///
    /// # futures_lite::future::block_on(async {
    /// let sem = Semaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// assert!(sem.acquire().await.is_err());
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    /// # });
    /// ```
    pub fn close(&self) {
        let mut wakers = WakeList::new();
        loop {
            let mut inner = lock(&self.inner);
            self.state.fetch_or(CLOSED, Ordering::AcqRel);
            while !wakers.is_full() {
                match inner.waiters.pop_front(State::Closed) {
                    Some(w) => wakers.push(w),
                    None => break,
                }
            }
            let done = inner.waiters.is_empty();
            if done {
                let partial = std::mem::take(&mut inner.partial);
                self.deposit_locked(partial);
            }
            drop(inner);
            wakers.wake_all();
            if done {
                return;
            }
        }
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(1);
    /// assert!(!sem.is_closed());
    /// sem.close();
    /// assert!(sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// The fast path: takes `n` permits from the word if it holds them.
    pub(crate) fn try_acquire_raw(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            // Invariant 2: a word with permits has no waiters behind it.
            if cur >> SHIFT < n {
                return Err(TryAcquireError::NoPermits);
            }
            match self.state.compare_exchange_weak(
                cur,
                cur - (n << SHIFT),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Returns `n` permits, to the waiters first. With `checked`, fails
    /// instead if the count of free permits would exceed the bound.
    pub(crate) fn release_n(&self, mut n: usize, checked: bool) -> Result<(), BoundedReleaseError> {
        if n == 0 {
            return Ok(());
        }
        let mut checked = checked;
        let mut wakers = WakeList::new();
        loop {
            // Fast path: nobody waits, add to the word.
            let mut cur = self.state.load(Ordering::Relaxed);
            while cur & WAITERS == 0 {
                let total = (cur >> SHIFT).checked_add(n);
                if checked && total.is_none_or(|t| t > self.bound) {
                    return Err(BoundedReleaseError { bound: self.bound });
                }
                assert!(
                    total.is_some_and(|t| t <= Self::MAX_PERMITS),
                    "a semaphore holds at most Semaphore::MAX_PERMITS permits"
                );
                match self.state.compare_exchange_weak(
                    cur,
                    cur + (n << SHIFT),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok(()),
                    Err(actual) => cur = actual,
                }
            }

            // Slow path: hand the permits to the waiters, under the mutex.
            let mut guard = lock(&self.inner);
            if self.state.load(Ordering::Acquire) & WAITERS == 0 {
                // The queue emptied before we got the lock: fast path again.
                continue;
            }
            let inner = &mut *guard;
            if checked {
                // Invariant 2: the word holds no permits; the head holds `partial`.
                if inner.partial.checked_add(n).is_none_or(|t| t > self.bound) {
                    return Err(BoundedReleaseError { bound: self.bound });
                }
                checked = false;
            }
            while n > 0 && !wakers.is_full() {
                let Some(head) = inner.waiters.head() else {
                    break;
                };
                let need = inner.waiters.data(head);
                if n >= need {
                    n -= need;
                    inner.partial = 0;
                    inner.waiters.set_data(head, 0);
                    wakers.push(inner.waiters.pop_front(State::Granted).flatten());
                } else {
                    inner.waiters.set_data(head, need - n);
                    inner.partial += n;
                    n = 0;
                }
            }
            if inner.waiters.is_empty() {
                self.deposit_locked(n);
                n = 0;
            }
            drop(guard);
            wakers.wake_all();
            if n == 0 {
                return Ok(());
            }
        }
    }

    /// With the mutex held and the queue empty: puts `n` permits in the word
    /// and clears `WAITERS` (invariants 1 and 2).
    fn deposit_locked(&self, n: usize) {
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            let total = (cur >> SHIFT).checked_add(n);
            assert!(
                total.is_some_and(|t| t <= Self::MAX_PERMITS),
                "a semaphore holds at most Semaphore::MAX_PERMITS permits"
            );
            let new = (cur & !WAITERS) + (n << SHIFT);
            match self
                .state
                .compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Polls a waiter for `n` permits; `key` is its node once queued.
    fn poll_acquire(
        &self,
        cx: &mut Context<'_>,
        n: usize,
        key: &mut Option<usize>,
    ) -> Poll<Result<(), AcquireError>> {
        let Some(k) = *key else {
            match self.try_acquire_raw(n) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(TryAcquireError::Closed) => return Poll::Ready(Err(AcquireError(()))),
                Err(TryAcquireError::NoPermits) => {}
            }
            let mut inner = lock(&self.inner);
            let mut cur = self.state.load(Ordering::Acquire);
            let taken = loop {
                if cur & CLOSED != 0 {
                    return Poll::Ready(Err(AcquireError(())));
                }
                let avail = cur >> SHIFT;
                let (new, done) = if avail >= n {
                    (cur - (n << SHIFT), true)
                } else {
                    // Take what is there and announce a waiter (invariant 1).
                    ((cur & CLOSED) | WAITERS, false)
                };
                match self.state.compare_exchange_weak(
                    cur,
                    new,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) if done => return Poll::Ready(Ok(())),
                    Ok(_) => break avail,
                    Err(actual) => cur = actual,
                }
            };
            // Invariant 2: if anyone was queued, the word held nothing.
            debug_assert!(taken == 0 || inner.waiters.is_empty());
            inner.partial += taken;
            *key = Some(inner.waiters.push(Some(cx.waker().clone()), n - taken));
            return Poll::Pending;
        };
        let mut inner = lock(&self.inner);
        match inner.waiters.state(k) {
            State::Waiting => {
                inner.waiters.set_waker(k, cx.waker());
                Poll::Pending
            }
            State::Granted => {
                inner.waiters.remove(k);
                *key = None;
                Poll::Ready(Ok(()))
            }
            State::Closed => {
                inner.waiters.remove(k);
                *key = None;
                Poll::Ready(Err(AcquireError(())))
            }
        }
    }

    /// A queued waiter for `n` permits went away: give back what it had.
    fn cancel_acquire(&self, key: usize, n: usize) {
        let mut inner = lock(&self.inner);
        let was_head = inner.waiters.head() == Some(key);
        let (state, _) = inner.waiters.remove(key);
        let give_back = match state {
            State::Waiting if was_head => std::mem::take(&mut inner.partial),
            State::Waiting | State::Closed => 0,
            State::Granted => n,
        };
        if give_back == 0 && inner.waiters.is_empty() {
            // The word holds no permits (invariant 2); just drop the flag.
            self.state.fetch_and(!WAITERS, Ordering::AcqRel);
        }
        drop(inner);
        if give_back > 0 {
            // Through the release path: to the next waiter, or the word.
            let _ = self.release_n(give_back, false);
        }
    }
}

impl Default for Semaphore {
    /// A semaphore with one permit, as `asyncio.Semaphore()`.
    fn default() -> Semaphore {
        Semaphore::new(1)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Semaphore")
            .field("available_permits", &(state >> SHIFT))
            .field("waiters", &(state & WAITERS != 0))
            .field("closed", &(state & CLOSED != 0))
            .finish()
    }
}

/// The queue position of one acquire; owns its node until done or dropped.
#[derive(Debug)]
pub(crate) struct RawAcquire<'a> {
    sem: &'a Semaphore,
    n: usize,
    key: Option<usize>,
}

impl<'a> RawAcquire<'a> {
    pub(crate) fn new(sem: &'a Semaphore, n: usize) -> RawAcquire<'a> {
        RawAcquire { sem, n, key: None }
    }
}

impl Future for RawAcquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.sem.poll_acquire(cx, this.n, &mut this.key)
    }
}

impl Drop for RawAcquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.sem.cancel_acquire(key, self.n);
        }
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
///
/// # Cancel safety
///
/// Dropping it gives any permits handed to it to the next waiter.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Acquire<'a> {
    raw: RawAcquire<'a>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let sem = self.raw.sem;
        let n = self.raw.n;
        Pin::new(&mut self.raw)
            .poll(cx)
            .map_ok(|()| SemaphorePermit { sem, n })
    }
}

/// Permits taken from a [`Semaphore`]; dropping it gives them back.
///
/// # Examples
///
/// ```
/// let sem = corio_sync::Semaphore::new(1);
/// {
///     let _permit = sem.try_acquire().unwrap();
///     assert_eq!(sem.available_permits(), 0);
/// }
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "dropping a permit releases it at once"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good (until a
    /// [`Semaphore::release`] or [`Semaphore::add_permits`] adds some back).
    ///
    /// This is asyncio's `acquire()` without the matching `release()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.n = 0;
    }

    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(4);
    /// assert_eq!(sem.try_acquire_many(3).unwrap().num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        let _ = self.sem.release_n(self.n, false);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}

/// Permits taken from an `Arc<Semaphore>`; dropping it gives them back.
///
/// Unlike [`SemaphorePermit`] it borrows nothing, so it can move into a
/// spawned task.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let sem = Arc::new(corio_sync::Semaphore::new(1));
/// let permit = sem.clone().try_acquire_owned().unwrap();
/// let handle = std::thread::spawn(move || drop(permit));
/// handle.join().unwrap();
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "dropping a permit releases it at once"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    n: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good; see
    /// [`SemaphorePermit::forget`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.n = 0;
    }

    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(2));
    /// assert_eq!(sem.try_acquire_many_owned(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// The semaphore these permits came from.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        let _ = self.sem.release_n(self.n, false);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}

/// A semaphore whose count cannot be raised above its initial value;
/// asyncio's `asyncio.BoundedSemaphore`.
///
/// It behaves as a [`Semaphore`] (FIFO-fair, no barging, cancel-safe), but
/// [`release`](BoundedSemaphore::release) and
/// [`add_permits`](BoundedSemaphore::add_permits) fail with
/// [`BoundedReleaseError`] instead of raising the number of free permits
/// (including those already collected by a waiting `acquire_many`) above the
/// bound. Dropping a permit always succeeds.
///
/// # Examples
///
/// ```
/// use corio_sync::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// assert!(sem.release().is_err()); // already at the bound
/// sem.try_acquire().unwrap().forget();
/// assert!(sem.release().is_ok());
/// assert_eq!(sem.available_permits(), 1);
/// ```
pub struct BoundedSemaphore {
    sem: Semaphore,
}

impl BoundedSemaphore {
    /// Creates a bounded semaphore with `permits` permits, which is also its bound.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(3);
    /// assert_eq!(sem.bound(), 3);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            sem: Semaphore::with_bound(permits, permits),
        }
    }

    /// Creates a bounded semaphore (loom build: not `const`).
    #[cfg(loom)]
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            sem: Semaphore::with_bound(permits, permits),
        }
    }

    /// The bound: the initial number of permits.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_sync::BoundedSemaphore::new(2).bound(), 2);
    /// ```
    pub fn bound(&self) -> usize {
        self.sem.bound
    }

    /// The number of permits free right now; see [`Semaphore::available_permits`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_sync::BoundedSemaphore::new(2).available_permits(), 2);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.sem.available_permits()
    }

    /// Waits for one permit; see [`Semaphore::acquire`].
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is, or gets, closed.
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire`]: permits handed to a dropped future go to
    /// the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// let _p = sem.acquire().await.unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// # });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.sem.acquire()
    }

    /// Waits for `n` permits; see [`Semaphore::acquire_many`].
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is, or gets, closed.
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire_many`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let sem = corio_sync::BoundedSemaphore::new(3);
    /// assert_eq!(sem.acquire_many(2).await.unwrap().num_permits(), 2);
    /// # });
    /// ```
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        self.sem.acquire_many(n)
    }

    /// Takes one permit if free and nobody waits; see [`Semaphore::try_acquire`].
    ///
    /// # Errors
    ///
    /// As [`Semaphore::try_acquire`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// let _p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.sem.try_acquire()
    }

    /// Takes `n` permits if free and nobody waits; see [`Semaphore::try_acquire_many`].
    ///
    /// # Errors
    ///
    /// As [`Semaphore::try_acquire`].
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.sem.try_acquire_many(n)
    }

    /// Gives one permit back; asyncio's `BoundedSemaphore.release()`.
    ///
    /// # Errors
    ///
    /// [`BoundedReleaseError`] (asyncio's `ValueError`) if the semaphore is
    /// already at its bound; nothing changes then.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// sem.release().unwrap();
    /// assert!(sem.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), BoundedReleaseError> {
        self.add_permits(1)
    }

    /// Adds `n` permits, to the waiters first, unless that exceeds the bound.
    ///
    /// # Errors
    ///
    /// [`BoundedReleaseError`] if the free permits would exceed the bound;
    /// nothing changes then.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(3);
    /// sem.try_acquire_many(2).unwrap().forget();
    /// assert!(sem.add_permits(3).is_err());
    /// assert!(sem.add_permits(2).is_ok());
    /// ```
    pub fn add_permits(&self, n: usize) -> Result<(), BoundedReleaseError> {
        self.sem.release_n(n, true)
    }

    /// Closes the semaphore; see [`Semaphore::close`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// sem.close();
    /// assert!(sem.try_acquire().is_err());
    /// ```
    pub fn close(&self) {
        self.sem.close();
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.sem.is_closed()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("bound", &self.sem.bound)
            .field("semaphore", &self.sem)
            .finish()
    }
}

/// The error of [`Semaphore::acquire`]: the semaphore was closed.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let sem = corio_sync::Semaphore::new(0);
/// sem.close();
/// let err = sem.acquire().await.unwrap_err();
/// assert_eq!(err.to_string(), "the semaphore was closed");
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore was closed")
    }
}

impl std::error::Error for AcquireError {}

/// The error of [`Semaphore::try_acquire`].
///
/// # Examples
///
/// ```
/// use corio_sync::{Semaphore, TryAcquireError};
/// let sem = Semaphore::new(0);
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// Not enough permits are free, or other tasks are already waiting.
    NoPermits,
    /// The semaphore was closed.
    Closed,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::NoPermits => {
                f.write_str("no semaphore permits free (or tasks are waiting for them)")
            }
            TryAcquireError::Closed => f.write_str("the semaphore was closed"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

/// The error of [`BoundedSemaphore::release`]: the release would have raised
/// the count above the bound (asyncio's `ValueError`).
///
/// # Examples
///
/// ```
/// let sem = corio_sync::BoundedSemaphore::new(2);
/// let err = sem.release().unwrap_err();
/// assert_eq!(err.bound(), 2);
/// assert_eq!(
///     err.to_string(),
///     "BoundedSemaphore released too many times: it would hold more than its bound of 2 permits"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedReleaseError {
    bound: usize,
}

impl BoundedReleaseError {
    /// The semaphore's bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// assert_eq!(sem.release().unwrap_err().bound(), 1);
    /// ```
    pub fn bound(&self) -> usize {
        self.bound
    }
}

impl fmt::Display for BoundedReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BoundedSemaphore released too many times: it would hold more than its bound of {} permits",
            self.bound
        )
    }
}

impl std::error::Error for BoundedReleaseError {}
