//! asyncio's `Event`: a flag that tasks can wait for.
//!
//! # Design
//!
//! A flag (`AtomicBool`) and a [`Waiters`] list behind a mutex. A waiter
//! queues only while the flag is clear, checked under the mutex; `set()`
//! raises the flag and marks every queued waiter `Granted` under the same
//! mutex, then wakes them after releasing it. A waiter returns once its node
//! is granted, whatever the flag says by then, so `set()` immediately
//! followed by `clear()` still releases every task that was waiting at the
//! `set()` (the grant is per waiter, the way a generation counter would be).
//! Invariant: while the flag is set, no node is `Waiting`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::sync::{lock, AtomicBool, Mutex, Ordering};
use crate::waiters::{State, Waiters, WakeList};

/// A flag tasks can wait for; asyncio's `asyncio.Event`.
///
/// [`wait`](Event::wait) returns at once while the flag is set, and
/// otherwise waits until [`set`](Event::set) is called. [`clear`](Event::clear)
/// lowers the flag again. Every task waiting when `set` is called is released,
/// even if the flag is cleared right after.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::Event;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// ex.block_on(async {
///     let ready = Arc::new(Event::new());
///     let r = ready.clone();
///     let waiter = corio_executor::spawn(async move {
///         r.wait().await;
///         "released"
///     });
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "released");
///     assert!(ready.is_set());
/// });
/// ```
pub struct Event {
    flag: AtomicBool,
    waiters: Mutex<Waiters>,
}

impl Event {
    /// Creates an event whose flag is clear.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!corio_sync::Event::new().is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            flag: AtomicBool::new(false),
            waiters: Mutex::new(Waiters::new()),
        }
    }

    /// Whether the flag is set; asyncio's `Event.is_set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = corio_sync::Event::new();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Sets the flag and releases every waiting task.
    ///
    /// Tasks that call [`wait`](Self::wait) while the flag stays set return
    /// at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let ev = corio_sync::Event::new();
    /// ev.set();
    /// ev.wait().await; // returns at once
    /// # });
    /// ```
    pub fn set(&self) {
        if self.flag.load(Ordering::Acquire) {
            // Set already: nobody waits (see the module invariant).
            return;
        }
        let mut wakers = WakeList::new();
        let mut waiters = lock(&self.waiters);
        self.flag.store(true, Ordering::Release);
        waiters.drain_into(State::Granted, &mut wakers);
        drop(waiters);
        wakers.wake_all();
    }

    /// Clears the flag; later [`wait`](Self::wait) calls wait for the next `set`.
    ///
    /// Tasks released by an earlier `set` still return.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = corio_sync::Event::new();
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// ```
    pub fn clear(&self) {
        self.flag.store(false, Ordering::Release);
    }

    /// Waits until the flag is set; asyncio's `await event.wait()`.
    ///
    /// Returns at once if the flag is set.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future removes the waiter and affects no
    /// other waiter (a `set` releases everyone anyway).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future;
    ///
    /// let ev = corio_sync::Event::new();
    /// let mut wait = Box::pin(ev.wait());
    /// assert!(future::block_on(future::poll_once(&mut wait)).is_none());
    /// ev.set();
    /// ev.clear(); // too late to hold back the waiter already queued
    /// assert!(future::block_on(future::poll_once(&mut wait)).is_some());
    /// ```
    pub async fn wait(&self) {
        EventWait {
            event: self,
            key: None,
        }
        .await
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

/// One waiter of [`Event::wait`]; owns its node until done or dropped.
struct EventWait<'a> {
    event: &'a Event,
    key: Option<usize>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(key) = this.key else {
            if this.event.flag.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            let mut waiters = lock(&this.event.waiters);
            // Re-check under the mutex: `set` raises the flag under it.
            if this.event.flag.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            this.key = Some(waiters.push(Some(cx.waker().clone()), 0));
            return Poll::Pending;
        };
        let mut waiters = lock(&this.event.waiters);
        match waiters.state(key) {
            State::Waiting => {
                waiters.set_waker(key, cx.waker());
                Poll::Pending
            }
            State::Granted | State::Closed => {
                waiters.remove(key);
                this.key = None;
                Poll::Ready(())
            }
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            lock(&self.event.waiters).remove(key);
        }
    }
}
