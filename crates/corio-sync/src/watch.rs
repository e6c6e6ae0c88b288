//! A single-value channel: receivers watch the latest value and learn when it
//! changes.
//!
//! asyncio's nearest thing is a shared variable plus an `asyncio.Condition`
//! that is notified on every change (`async with cond: await cond.wait()`).
//! This module packs that pattern into one type, with
//! `tokio::sync::watch`'s semantics:
//!
//! * [`channel`]`(init)` makes one [`Sender`] and a first [`Receiver`]. The
//!   channel always holds exactly one value; there is no queue.
//! * [`Sender::send`], [`Sender::send_replace`] and [`Sender::send_modify`]
//!   store a new value and wake every receiver waiting in
//!   [`Receiver::changed`].
//! * Changes coalesce: a receiver that was not looking while several values
//!   were sent sees one change and reads the latest value.
//! * When the sender is dropped, [`Receiver::changed`] reports
//!   [`RecvError`] (after any change not yet seen).
//!
//! # Examples
//!
//! ```
//! use corio_sync::watch;
//!
//! futures_lite::future::block_on(async {
//!     let (tx, mut rx) = watch::channel("starting");
//!
//!     tx.send("running").unwrap();
//!     tx.send("stopping").unwrap();
//!
//!     // Two sends, one change: the receiver reads the latest value.
//!     rx.changed().await.unwrap();
//!     assert_eq!(*rx.borrow_and_update(), "stopping");
//!     assert!(!rx.has_changed().unwrap());
//!
//!     drop(tx);
//!     assert!(rx.changed().await.is_err());
//! });
//! ```
//!
//! # Design
//!
//! The value sits in a [`std::sync::RwLock`]; a *version* counter grows by one
//! with every change and is bumped while the write lock is held, so a reader
//! holding the read lock sees a value and the version that goes with it.
//! Each receiver remembers the version it last saw. A waiting receiver listens
//! on an [`event_listener::Event`] before it reads the version a second time;
//! the sender bumps the version before it notifies every listener, so either
//! the receiver sees the new version or its listener is notified.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll};

use event_listener::{Event, EventListener};

use crate::sync::{Arc, AtomicBool, AtomicUsize, Ordering};

/// What the sender and its receivers share.
struct Shared<T> {
    value: RwLock<T>,
    /// Number of changes so far; only bumped with `value` write-locked.
    version: AtomicUsize,
    /// Set when the sender is dropped.
    closed: AtomicBool,
    /// Number of live receivers.
    receivers: AtomicUsize,
    /// Receivers waiting in `changed`.
    changed: Event,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, T> {
        // A panic in a `send_modify` closure poisons the lock; the value is
        // still a valid `T`, so keep serving it.
        self.value.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.value.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Bumps the version; call with the write lock held.
    fn bump(&self) {
        self.version.fetch_add(1, Ordering::SeqCst);
    }

    fn notify(&self) {
        self.changed.notify(usize::MAX);
    }
}

/// Creates a watch channel holding `init`.
///
/// The first receiver has seen `init`: its [`Receiver::changed`] waits for
/// the first send.
///
/// # Examples
///
/// ```
/// use corio_sync::watch;
///
/// let (tx, rx) = watch::channel(0);
/// assert_eq!(*rx.borrow(), 0);
/// tx.send(1).unwrap();
/// assert_eq!(*rx.borrow(), 1);
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        version: AtomicUsize::new(0),
        closed: AtomicBool::new(false),
        receivers: AtomicUsize::new(1),
        changed: Event::new(),
    });
    let sender = Sender {
        shared: shared.clone(),
    };
    let receiver = Receiver { shared, seen: 0 };
    (sender, receiver)
}

/// The sending half of a watch channel; there is one per channel.
///
/// Dropping it closes the channel: receivers keep the last value and their
/// [`Receiver::changed`] fails once they have seen it.
///
/// # Examples
///
/// ```
/// use corio_sync::watch;
///
/// let (tx, rx) = watch::channel(vec![1]);
/// tx.send_modify(|v| v.push(2));
/// assert_eq!(*rx.borrow(), [1, 2]);
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Stores `value` and wakes every waiting receiver.
    ///
    /// # Errors
    ///
    /// [`SendError`] holding `value` if there is no receiver; the value in
    /// the channel is then left as it was. Use
    /// [`send_replace`](Sender::send_replace) to store a value regardless.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(3).unwrap_err().into_inner(), 3);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receivers.load(Ordering::SeqCst) == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Stores `value` whether or not there are receivers, wakes every
    /// waiting receiver and returns the value it replaced.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, _rx) = watch::channel('a');
    /// assert_eq!(tx.send_replace('b'), 'a');
    /// assert_eq!(*tx.borrow(), 'b');
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let old = {
            let mut guard = self.shared.write();
            let old = std::mem::replace(&mut *guard, value);
            self.shared.bump();
            old
        };
        self.shared.notify();
        old
    }

    /// Changes the value in place with `modify` and wakes every waiting
    /// receiver, whether or not there are receivers.
    ///
    /// `modify` runs with the value write-locked: it must not call into this
    /// channel (that would deadlock).
    ///
    /// # Panics
    ///
    /// If `modify` panics, the panic propagates; the value keeps whatever
    /// changes `modify` made before it panicked, and receivers are not told
    /// about a change.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(10);
    /// tx.send_modify(|n| *n += 1);
    /// assert!(rx.has_changed().unwrap());
    /// assert_eq!(*rx.borrow_and_update(), 11);
    /// ```
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Changes the value in place with `modify`; if it returns `true`, wakes
    /// every waiting receiver. Returns what `modify` returned.
    ///
    /// `modify` runs with the value write-locked: it must not call into this
    /// channel (that would deadlock). When it returns `false`, receivers do
    /// not see a change, even if it did modify the value.
    ///
    /// # Panics
    ///
    /// If `modify` panics, the panic propagates and receivers are not told
    /// about a change.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(3);
    /// let raised = tx.send_if_modified(|n| {
    ///     if *n < 5 {
    ///         *n = 5;
    ///         true
    ///     } else {
    ///         false
    ///     }
    /// });
    /// assert!(raised);
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        let modified = {
            let mut guard = self.shared.write();
            let modified = modify(&mut guard);
            if modified {
                self.shared.bump();
            }
            modified
        };
        if modified {
            self.shared.notify();
        }
        modified
    }

    /// Read access to the current value.
    ///
    /// The value stays read-locked while the [`Ref`] lives: keep it short and
    /// never hold it across an `.await` (a send would block).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(String::from("hi"));
    /// assert_eq!(tx.borrow().len(), 2);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
        }
    }

    /// A new receiver that has seen the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(2).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Ordering::SeqCst);
        let seen = self.shared.version.load(Ordering::SeqCst);
        Receiver {
            shared: self.shared.clone(),
            seen,
        }
    }

    /// Number of live receivers.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// let _rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::SeqCst)
    }

    /// Whether every receiver has been dropped (so [`send`](Sender::send)
    /// fails).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.notify();
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("value", &*self.shared.read())
            .field("version", &self.shared.version.load(Ordering::SeqCst))
            .finish()
    }
}

/// The receiving half of a watch channel.
///
/// Reads the latest value ([`borrow`](Receiver::borrow)) and waits for the
/// next change ([`changed`](Receiver::changed)). Cloning it gives a receiver
/// that has seen the same values as this one.
///
/// # Examples
///
/// ```
/// use corio_sync::watch;
///
/// futures_lite::future::block_on(async {
///     let (tx, mut rx) = watch::channel(0);
///     tx.send(1).unwrap();
///     let mut rx2 = rx.clone();
///     rx.changed().await.unwrap();
///     rx2.changed().await.unwrap();
///     assert_eq!(*rx2.borrow(), 1);
/// });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver has seen last.
    seen: usize,
}

impl<T> Receiver<T> {
    /// Read access to the current value, without marking it seen.
    ///
    /// The value stays read-locked while the [`Ref`] lives: keep it short and
    /// never hold it across an `.await` (a send would block).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// assert!(rx.has_changed().unwrap()); // still unseen
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
        }
    }

    /// Read access to the current value, marking it seen.
    ///
    /// After this, [`changed`](Receiver::changed) waits for a newer value.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        // The version only moves under the write lock: this is the value's.
        self.seen = self.shared.version.load(Ordering::SeqCst);
        Ref { guard }
    }

    /// Whether a value newer than the last one this receiver saw was sent.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if there is no unseen value and the sender is gone (no
    /// change can come any more).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let version = self.shared.version.load(Ordering::SeqCst);
        if version != self.seen {
            Ok(true)
        } else if self.shared.closed.load(Ordering::SeqCst) {
            Err(RecvError)
        } else {
            Ok(false)
        }
    }

    /// Waits for a value newer than the last one this receiver saw, and
    /// marks the newest value seen.
    ///
    /// Completes at once if such a value was sent already. Several sends
    /// while nobody looked count as one change; read the value with
    /// [`borrow`](Receiver::borrow) afterwards.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the sender is dropped and this receiver has seen
    /// the last value.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: the seen version only moves in the poll that returns
    /// `Ok`, so dropping the future before then leaves the change for the
    /// next call. Every waiting receiver is woken by each change, so no
    /// wake-up has to be passed on.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// futures_lite::future::block_on(async {
    ///     let (tx, mut rx) = watch::channel(0);
    ///     let waiter = async {
    ///         rx.changed().await.unwrap();
    ///         *rx.borrow()
    ///     };
    ///     let sender = async {
    ///         tx.send(5).unwrap();
    ///     };
    ///     let (seen, ()) = futures_lite::future::zip(waiter, sender).await;
    ///     assert_eq!(seen, 5);
    /// });
    /// ```
    pub fn changed(&mut self) -> Changed<'_, T> {
        Changed {
            receiver: self,
            listener: None,
        }
    }

    /// Marks the current value seen without reading it.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version.load(Ordering::SeqCst);
    }
}

impl<T> Clone for Receiver<T> {
    /// A receiver that has seen the same values as this one.
    fn clone(&self) -> Self {
        self.shared.receivers.fetch_add(1, Ordering::SeqCst);
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.receivers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("value", &*self.shared.read())
            .field("seen", &self.seen)
            .finish()
    }
}

/// The future of [`Receiver::changed`].
///
/// # Cancel safety
///
/// Cancel-safe: dropping it loses no change.
///
/// # Examples
///
/// ```
/// use corio_sync::watch;
///
/// futures_lite::future::block_on(async {
///     let (tx, mut rx) = watch::channel(());
///     assert!(futures_lite::future::poll_once(rx.changed()).await.is_none());
///     tx.send(()).unwrap();
///     assert_eq!(rx.changed().await, Ok(()));
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Changed<'a, T> {
    receiver: &'a mut Receiver<T>,
    listener: Option<EventListener>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let shared = &*this.receiver.shared;
            let version = shared.version.load(Ordering::SeqCst);
            if version != this.receiver.seen {
                this.receiver.seen = version;
                this.listener = None;
                return Poll::Ready(Ok(()));
            }
            if shared.closed.load(Ordering::SeqCst) {
                this.listener = None;
                return Poll::Ready(Err(RecvError));
            }
            match &mut this.listener {
                // Listen, then look once more before sleeping.
                None => this.listener = Some(shared.changed.listen()),
                Some(listener) => match Pin::new(listener).poll(cx) {
                    Poll::Ready(()) => this.listener = None,
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}

impl<T> fmt::Debug for Changed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changed")
            .field("waiting", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

/// Read access to a watch channel's value, from [`Sender::borrow`],
/// [`Receiver::borrow`] or [`Receiver::borrow_and_update`].
///
/// Holds the value read-locked: senders wait until it is dropped, so do not
/// keep it across an `.await`.
///
/// # Examples
///
/// ```
/// use corio_sync::watch;
///
/// let (_tx, rx) = watch::channel((1, 2));
/// let pair = rx.borrow();
/// assert_eq!(pair.0 + pair.1, 3);
/// ```
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The error of [`Sender::send`]: there is no receiver. Holds the value.
///
/// # Examples
///
/// ```
/// use corio_sync::watch;
///
/// let (tx, rx) = watch::channel(0);
/// drop(rx);
/// let err = tx.send(1).unwrap_err();
/// assert_eq!(err.to_string(), "sending on a watch channel with no receiver");
/// assert_eq!(err.into_inner(), 1);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that could not be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::watch::SendError;
    ///
    /// assert_eq!(SendError(4).into_inner(), 4);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a watch channel with no receiver")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Receiver::changed`] and [`Receiver::has_changed`]: the
/// sender is gone and this receiver has seen the last value.
///
/// # Examples
///
/// ```
/// use corio_sync::watch::{self, RecvError};
///
/// let (tx, rx) = watch::channel(0);
/// drop(tx);
/// assert_eq!(rx.has_changed(), Err(RecvError));
/// assert_eq!(RecvError.to_string(), "watch channel's sender dropped");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel's sender dropped")
    }
}

impl std::error::Error for RecvError {}
