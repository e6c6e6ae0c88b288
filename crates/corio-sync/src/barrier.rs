//! asyncio's `Barrier`: tasks wait until `parties` of them have arrived.
//!
//! # Design
//!
//! One mutex around the arrival count, the broken flag and a [`Waiters`]
//! list. An arrival that does not fill the barrier queues a node and counts
//! itself; the arrival that fills it marks every queued node `Granted`,
//! storing in each its arrival index (0, 1, ... in FIFO order; the filling
//! task gets `parties - 1`), and resets the count, so the barrier is ready
//! for the next cycle at once (asyncio's "draining" phase takes no time
//! here: released tasks need nothing more from the barrier).
//!
//! A task dropped while the barrier fills removes its node and its count
//! (asyncio: a cancelled waiter leaves). A task dropped after the barrier
//! released it changes nothing: the cycle has completed for everyone.
//! `abort`/`reset` mark the queued nodes `Closed`, which their tasks report as
//! [`BrokenBarrierError`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::sync::{lock, Mutex};
use crate::waiters::{State, Waiters, WakeList};

/// A meeting point for a fixed number of tasks; asyncio's `asyncio.Barrier`.
///
/// Each task calls [`wait`](Barrier::wait); the calls return once `parties`
/// tasks are waiting, all at the same time, each with a distinct arrival
/// index. The barrier is then ready for the next round (it is cyclic).
/// [`abort`](Barrier::abort) breaks it: waiters and later callers get
/// [`BrokenBarrierError`] until [`reset`](Barrier::reset).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::Barrier;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// ex.block_on(async {
///     let barrier = Arc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let b = barrier.clone();
///             corio_executor::spawn(async move { b.wait().await.unwrap() })
///         })
///         .collect();
///     let mut leaders = 0;
///     let mut indices = Vec::new();
///     for t in tasks {
///         let r = t.await.unwrap();
///         leaders += r.is_leader() as usize;
///         indices.push(r.index());
///     }
///     indices.sort();
///     assert_eq!(indices, [0, 1, 2]);
///     assert_eq!(leaders, 1);
/// });
/// ```
pub struct Barrier {
    parties: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Each granted node's datum: its arrival index.
    waiters: Waiters,
    /// Tasks waiting in the current cycle.
    count: usize,
    broken: bool,
}

impl Barrier {
    /// Creates a barrier for `parties` tasks; like `asyncio.Barrier(parties)`.
    ///
    /// # Panics
    ///
    /// If `parties` is 0 (asyncio raises `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = corio_sync::Barrier::new(2);
    /// assert_eq!(barrier.parties(), 2);
    /// assert_eq!(barrier.n_waiting(), 0);
    /// ```
    pub fn new(parties: usize) -> Barrier {
        assert!(parties > 0, "Barrier::new: parties must be at least 1");
        Barrier {
            parties,
            inner: Mutex::new(Inner {
                waiters: Waiters::new(),
                count: 0,
                broken: false,
            }),
        }
    }

    /// Waits until `parties` tasks are waiting; asyncio's `await barrier.wait()`.
    ///
    /// The task that fills the barrier returns at once, as the leader; the
    /// others return when it arrives.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is broken, or gets broken
    /// ([`abort`](Self::abort)) or [`reset`](Self::reset) while waiting.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while the barrier fills takes the task out of the
    /// count (as if it never arrived). Dropped after the barrier was
    /// released, it changes nothing: the other tasks are released either way.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let barrier = corio_sync::Barrier::new(1);
    /// let r = barrier.wait().await.unwrap();
    /// assert!(r.is_leader());
    /// assert_eq!(r.index(), 0);
    /// # });
    /// ```
    pub async fn wait(&self) -> Result<BarrierWaitResult, BrokenBarrierError> {
        BarrierWait {
            barrier: self,
            key: None,
        }
        .await
    }

    /// The number of tasks needed to pass the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_sync::Barrier::new(4).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of tasks waiting in the current cycle.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future;
    ///
    /// let barrier = corio_sync::Barrier::new(2);
    /// let mut w = Box::pin(barrier.wait());
    /// assert!(future::block_on(future::poll_once(&mut w)).is_none());
    /// assert_eq!(barrier.n_waiting(), 1);
    /// drop(w); // the waiter leaves
    /// assert_eq!(barrier.n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        lock(&self.inner).count
    }

    /// Whether the barrier is broken (by [`abort`](Self::abort)).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = corio_sync::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        lock(&self.inner).broken
    }

    /// Breaks the barrier: waiting tasks and later callers of
    /// [`wait`](Self::wait) get [`BrokenBarrierError`] until
    /// [`reset`](Self::reset). asyncio's `Barrier.abort()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let barrier = corio_sync::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.wait().await.is_err());
    /// barrier.reset();
    /// assert!(!barrier.is_broken());
    /// # });
    /// ```
    pub fn abort(&self) {
        self.close_all(true);
    }

    /// Returns the barrier to its empty, unbroken state; asyncio's
    /// `Barrier.reset()`. Tasks waiting get [`BrokenBarrierError`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future;
    ///
    /// let barrier = corio_sync::Barrier::new(2);
    /// let mut w = Box::pin(barrier.wait());
    /// assert!(future::block_on(future::poll_once(&mut w)).is_none());
    /// barrier.reset();
    /// assert!(future::block_on(w).is_err());
    /// assert_eq!(barrier.n_waiting(), 0);
    /// ```
    pub fn reset(&self) {
        self.close_all(false);
    }

    fn close_all(&self, broken: bool) {
        let mut wakers = WakeList::new();
        let mut inner = lock(&self.inner);
        inner.broken = broken;
        inner.count = 0;
        inner.waiters.drain_into(State::Closed, &mut wakers);
        drop(inner);
        wakers.wake_all();
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = lock(&self.inner);
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &inner.count)
            .field("broken", &inner.broken)
            .finish()
    }
}

/// One task's arrival at a [`Barrier`]; owns its node until done or dropped.
struct BarrierWait<'a> {
    barrier: &'a Barrier,
    key: Option<usize>,
}

impl Future for BarrierWait<'_> {
    type Output = Result<BarrierWaitResult, BrokenBarrierError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let parties = this.barrier.parties;
        let mut inner = lock(&this.barrier.inner);
        let Some(key) = this.key else {
            if inner.broken {
                return Poll::Ready(Err(BrokenBarrierError(())));
            }
            if inner.count + 1 < parties {
                inner.count += 1;
                this.key = Some(inner.waiters.push(Some(cx.waker().clone()), 0));
                return Poll::Pending;
            }
            // This arrival fills the barrier: release everyone, in order.
            let mut wakers = WakeList::new();
            let mut index = 0;
            while let Some(head) = inner.waiters.head() {
                inner.waiters.set_data(head, index);
                wakers.push(inner.waiters.pop_front(State::Granted).flatten());
                index += 1;
            }
            debug_assert_eq!(index, parties - 1);
            inner.count = 0;
            drop(inner);
            wakers.wake_all();
            return Poll::Ready(Ok(BarrierWaitResult {
                index: parties - 1,
                parties,
            }));
        };
        match inner.waiters.state(key) {
            State::Waiting => {
                inner.waiters.set_waker(key, cx.waker());
                Poll::Pending
            }
            State::Granted => {
                let (_, index) = inner.waiters.remove(key);
                this.key = None;
                Poll::Ready(Ok(BarrierWaitResult { index, parties }))
            }
            State::Closed => {
                inner.waiters.remove(key);
                this.key = None;
                Poll::Ready(Err(BrokenBarrierError(())))
            }
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut inner = lock(&self.barrier.inner);
            let (state, _) = inner.waiters.remove(key);
            if state == State::Waiting {
                inner.count -= 1;
            }
        }
    }
}

/// What [`Barrier::wait`] returns: this task's arrival index.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let r = corio_sync::Barrier::new(1).wait().await.unwrap();
/// assert_eq!((r.index(), r.is_leader()), (0, true));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    index: usize,
    parties: usize,
}

impl BarrierWaitResult {
    /// The arrival index, `0..parties`, distinct for each task of a cycle
    /// (asyncio's return value of `wait()`).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let r = corio_sync::Barrier::new(1).wait().await.unwrap();
    /// assert_eq!(r.index(), 0);
    /// # });
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// Whether this task filled the barrier (index `parties - 1`): exactly one
    /// task per cycle is the leader.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// assert!(corio_sync::Barrier::new(1).wait().await.unwrap().is_leader());
    /// # });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.index + 1 == self.parties
    }
}

/// The error of [`Barrier::wait`]: the barrier was broken or reset;
/// asyncio's `BrokenBarrierError`.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let barrier = corio_sync::Barrier::new(2);
/// barrier.abort();
/// let err = barrier.wait().await.unwrap_err();
/// assert_eq!(err.to_string(), "the barrier is broken (aborted or reset)");
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenBarrierError(());

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier is broken (aborted or reset)")
    }
}

impl std::error::Error for BrokenBarrierError {}
