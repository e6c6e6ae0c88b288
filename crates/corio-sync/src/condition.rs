//! asyncio's `Condition`: a condition variable bound to its own [`Lock`].
//!
//! # Design
//!
//! A [`Lock<T>`] plus a [`Waiters`] list of tasks waiting for a notification.
//! [`Condition::wait`] queues its node *before* it unlocks, so a `notify`
//! issued by the next lock holder cannot slip between the unlock and the
//! wait. `notify(n)` unlinks up to `n` waiting nodes in FIFO order and marks
//! them `Granted`; a notified waiter then re-acquires the lock (in the
//! lock's own FIFO order) and returns.
//!
//! Cancellation: a waiter that was notified but is dropped before it returns
//! its guard (while its node is granted but not yet seen, or while it waits
//! to re-acquire the lock) passes the notification on with `notify(1)`, so a
//! notification is never swallowed by a task that went away (CPython 3.13
//! fixed exactly this in asyncio). A waiter dropped before being notified
//! just leaves the queue.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::lock::{Lock, LockGuard, TryLockError};
use crate::sync::{lock, Mutex};
use crate::waiters::{State, Waiters, WakeList};

/// A condition variable bound to its own lock; asyncio's `asyncio.Condition`.
///
/// Lock it with [`lock`](Condition::lock), then [`wait`](Condition::wait)
/// (or [`wait_for`](Condition::wait_for) a predicate) with the guard: the
/// lock is released while waiting and held again when `wait` returns. Other
/// tasks change the data under the lock and call
/// [`notify`](Condition::notify) or [`notify_all`](Condition::notify_all).
///
/// Unlike asyncio, `notify` does **not** require holding the lock (as tokio's
/// `Notify`): it may be called from anywhere. A notification reaches only the
/// tasks waiting at that moment; it is not stored for later waiters. Waiters
/// are notified in FIFO order.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::Condition;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// ex.block_on(async {
///     let cond = Arc::new(Condition::new(Vec::<u32>::new()));
///     let c = cond.clone();
///     let consumer = corio_executor::spawn(async move {
///         let items = c.lock().await;
///         let items = c.wait_for(items, |v| !v.is_empty()).await;
///         items[0]
///     });
///     cond.lock().await.push(7);
///     cond.notify_all();
///     assert_eq!(consumer.await.unwrap(), 7);
/// });
/// ```
pub struct Condition<T: ?Sized> {
    waiters: Mutex<Waiters>,
    lock: Lock<T>,
}

impl<T> Condition<T> {
    /// Creates a condition whose lock holds `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = corio_sync::Condition::new(0);
    /// assert!(!cond.is_locked());
    /// ```
    pub fn new(value: T) -> Condition<T> {
        Condition::from(Lock::new(value))
    }

    /// Consumes the condition and returns the value.
    ///
    /// # Panics
    ///
    /// If a guard was leaked (`std::mem::forget`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_sync::Condition::new(4).into_inner(), 4);
    /// ```
    pub fn into_inner(self) -> T {
        self.lock.into_inner()
    }
}

impl<T: ?Sized> From<Lock<T>> for Condition<T> {
    /// Creates a condition bound to `lock`.
    fn from(lock: Lock<T>) -> Condition<T> {
        Condition {
            waiters: Mutex::new(Waiters::new()),
            lock,
        }
    }
}

impl<T: Default> Default for Condition<T> {
    fn default() -> Condition<T> {
        Condition::new(T::default())
    }
}

impl<T: ?Sized> Condition<T> {
    /// Waits for the condition's lock; like `async with cond:`.
    ///
    /// # Cancel safety
    ///
    /// As [`Lock::lock`]: cancel-safe, the place in the queue is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let cond = corio_sync::Condition::new(1);
    /// *cond.lock().await += 1;
    /// assert_eq!(*cond.lock().await, 2);
    /// # });
    /// ```
    pub async fn lock(&self) -> LockGuard<'_, T> {
        self.lock.lock().await
    }

    /// Locks the condition's lock if it is free and nobody waits for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or tasks wait for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = corio_sync::Condition::new(());
    /// let g = cond.try_lock().unwrap();
    /// assert!(cond.try_lock().is_err());
    /// drop(g);
    /// ```
    pub fn try_lock(&self) -> Result<LockGuard<'_, T>, TryLockError> {
        self.lock.try_lock()
    }

    /// Whether the condition's lock is held; asyncio's `Condition.locked()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = corio_sync::Condition::new(());
    /// let _g = cond.try_lock().unwrap();
    /// assert!(cond.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.lock.is_locked()
    }

    /// Releases the lock, waits for a notification, then locks again;
    /// asyncio's `await cond.wait()`.
    ///
    /// The waiter is queued before the lock is released, so a `notify` made
    /// by the next holder of the lock reaches it. After the notification the
    /// task waits for the lock in the lock's FIFO order. As with every
    /// condition variable, re-check the state after `wait` returns (or use
    /// [`wait_for`](Self::wait_for)): another task may have changed it first.
    ///
    /// # Panics
    ///
    /// If `guard` belongs to another lock than this condition's.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped, the lock is *not* held any more (the guard
    /// was consumed). If it had been notified (and not yet returned), the
    /// notification passes to the next waiter, as `notify(1)` would; if not,
    /// nothing else changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use corio_sync::Condition;
    ///
    /// let ex = corio_executor::Executor::new().unwrap();
    /// ex.block_on(async {
    ///     let cond = Arc::new(Condition::new(false));
    ///     let c = cond.clone();
    ///     let waiter = corio_executor::spawn(async move {
    ///         let mut done = c.lock().await;
    ///         while !*done {
    ///             done = c.wait(done).await;
    ///         }
    ///     });
    ///     *cond.lock().await = true;
    ///     cond.notify(1);
    ///     waiter.await.unwrap();
    /// });
    /// ```
    pub async fn wait<'a>(&'a self, guard: LockGuard<'a, T>) -> LockGuard<'a, T> {
        assert!(
            std::ptr::eq(guard.lock_ref(), &self.lock),
            "Condition::wait: the guard belongs to another lock"
        );
        let mut waiter = CondWait {
            cond: self,
            key: Some(lock(&self.waiters).push(None, 0)),
            notified: false,
        };
        drop(guard);
        (&mut waiter).await;
        let guard = self.lock.lock().await;
        // Returned to the caller: the notification is consumed.
        waiter.notified = false;
        guard
    }

    /// Waits until `predicate` holds for the data; asyncio's
    /// `await cond.wait_for(predicate)`.
    ///
    /// Checks `predicate` first (with the lock held) and returns at once if it
    /// holds; otherwise [`wait`](Self::wait)s and checks again after each
    /// notification.
    ///
    /// # Panics
    ///
    /// If `guard` belongs to another lock than this condition's.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait): if dropped, the lock is not held, and a
    /// notification it had received passes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let cond = corio_sync::Condition::new(3);
    /// let g = cond.lock().await;
    /// let g = cond.wait_for(g, |n| *n == 3).await; // already true
    /// assert_eq!(*g, 3);
    /// # });
    /// ```
    pub async fn wait_for<'a, F>(
        &'a self,
        mut guard: LockGuard<'a, T>,
        mut predicate: F,
    ) -> LockGuard<'a, T>
    where
        F: FnMut(&T) -> bool,
    {
        while !predicate(&guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` waiting tasks, first come first served; returns how
    /// many were woken. asyncio's `Condition.notify(n)`.
    ///
    /// Does not need the lock. Tasks that start waiting later are not woken.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = corio_sync::Condition::new(());
    /// assert_eq!(cond.notify(1), 0); // nobody waits: nothing happens
    /// ```
    pub fn notify(&self, n: usize) -> usize {
        let mut wakers = WakeList::new();
        let mut waiters = lock(&self.waiters);
        let mut woken = 0;
        while woken < n {
            match waiters.pop_front(State::Granted) {
                Some(w) => wakers.push(w),
                None => break,
            }
            woken += 1;
        }
        drop(waiters);
        wakers.wake_all();
        woken
    }

    /// Wakes every waiting task; returns how many. asyncio's `notify_all()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = corio_sync::Condition::new(());
    /// assert_eq!(cond.notify_all(), 0);
    /// ```
    pub fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }

    /// A mutable reference to the value; the borrow proves exclusive access.
    ///
    /// # Panics
    ///
    /// If a guard was leaked (`std::mem::forget`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cond = corio_sync::Condition::new(1);
    /// *cond.get_mut() = 5;
    /// assert_eq!(cond.into_inner(), 5);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.lock.get_mut()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.lock)
            .field("waiters", &lock(&self.waiters).len())
            .finish()
    }
}

/// The notification half of [`Condition::wait`].
///
/// `key` is `Some` while the node is queued or granted-but-unseen;
/// `notified` is true from the moment a grant was seen until `wait` returns.
struct CondWait<'a, T: ?Sized> {
    cond: &'a Condition<T>,
    key: Option<usize>,
    notified: bool,
}

impl<T: ?Sized> Future for CondWait<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(key) = this.key else {
            return Poll::Ready(());
        };
        let mut waiters = lock(&this.cond.waiters);
        match waiters.state(key) {
            State::Waiting => {
                waiters.set_waker(key, cx.waker());
                Poll::Pending
            }
            State::Granted | State::Closed => {
                waiters.remove(key);
                this.key = None;
                this.notified = true;
                Poll::Ready(())
            }
        }
    }
}

impl<T: ?Sized> Drop for CondWait<'_, T> {
    fn drop(&mut self) {
        let mut pass_on = self.notified;
        if let Some(key) = self.key.take() {
            let (state, _) = lock(&self.cond.waiters).remove(key);
            pass_on = state == State::Granted;
        }
        if pass_on {
            self.cond.notify(1);
        }
    }
}
