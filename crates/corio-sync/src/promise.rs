//! A one-shot promise: asyncio's `Future` that a callback resolves.
//!
//! [`promise`] makes a pair: a [`Resolver`] that sets the value once, from any
//! thread or from a plain callback, and a [`Promise`] that an async task awaits
//! once. It is what `loop.create_future()` plus `fut.set_result(v)` are in
//! asyncio, and what a oneshot channel is in Rust.
//!
//! # Design
//!
//! Both handles share one `Arc` holding a small mutex around the slot: the
//! value (if set and not yet taken), where each side is in its life, and the
//! two wakers (the promise's, and the one of a pending [`Resolver::closed`]).
//! The invariants:
//!
//! * The value is written at most once, by [`Resolver::set_result`], and only
//!   while the promise is alive; otherwise it is handed back to the caller.
//! * Every transition that another side waits for (value set, resolver
//!   dropped, promise dropped) takes the waker out under the lock and wakes it
//!   after the lock is released, so no user code (a waker, a value's `Drop`)
//!   ever runs inside the critical section.
//! * Dropping the promise takes the value out of the slot and drops it outside
//!   the lock, so a value set just before the promise was dropped is dropped
//!   exactly once, by the dropping side.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::sync::{lock, Arc, Mutex};

/// Creates a one-shot promise: a [`Resolver`] that sets a value once and the
/// [`Promise`] that receives it; like asyncio's `loop.create_future()`.
///
/// The resolver may be moved to another thread or into a callback; the
/// promise is awaited by one task. If the resolver is dropped without a value,
/// the promise completes with [`ResolverDropped`]; if the promise is dropped
/// first, [`Resolver::set_result`] hands the value back.
///
/// # Examples
///
/// ```
/// let (resolver, promise) = corio_sync::promise();
/// std::thread::spawn(move || {
///     // e.g. the completion callback of a C library or a blocking API
///     resolver.set_result(42).unwrap();
/// });
/// let value = futures_lite::future::block_on(promise);
/// assert_eq!(value, Ok(42));
/// ```
pub fn promise<T>() -> (Resolver<T>, Promise<T>) {
    let shared = Arc::new(Shared {
        slot: Mutex::new(Slot {
            value: None,
            resolver: ResolverState::Alive,
            promise_alive: true,
            taken: false,
            promise_waker: None,
            closed_waker: None,
        }),
    });
    (
        Resolver {
            shared: shared.clone(),
        },
        Promise { shared },
    )
}

/// The state both handles share.
struct Shared<T> {
    slot: Mutex<Slot<T>>,
}

/// Where the resolver is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ResolverState {
    /// No value yet and the resolver still exists.
    Alive,
    /// A value was set (it may have been taken since).
    Resolved,
    /// The resolver was dropped without setting a value.
    Dropped,
}

struct Slot<T> {
    /// The value, between `set_result` and the promise taking it.
    value: Option<T>,
    resolver: ResolverState,
    /// False once the [`Promise`] was dropped.
    promise_alive: bool,
    /// True once the promise has taken the value out.
    taken: bool,
    /// Woken when a value is set or the resolver is dropped.
    promise_waker: Option<Waker>,
    /// Woken when the promise is dropped ([`Resolver::closed`]).
    closed_waker: Option<Waker>,
}

/// Stores `cx`'s waker in `slot`, cloning only when it changed.
fn store_waker(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// The setting side of a [`promise`]; like the `set_result` half of an
/// asyncio `Future`.
///
/// A `Resolver` sets the value at most once: [`set_result`](Self::set_result)
/// consumes it. It needs no runtime: call it from a plain thread, a callback
/// of a foreign API or another executor's task. Dropping it without setting a
/// value wakes the promise with [`ResolverDropped`].
///
/// `Resolver<T>` is `Send` and `Sync` when `T: Send`.
///
/// # Examples
///
/// ```
/// let (resolver, promise) = corio_sync::promise::<&str>();
/// assert!(!resolver.is_closed());
/// resolver.set_result("done").unwrap();
/// assert_eq!(futures_lite::future::block_on(promise), Ok("done"));
/// ```
pub struct Resolver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Resolver<T> {
    /// Sets the promise's value and wakes the task awaiting it; like
    /// asyncio's `Future.set_result`.
    ///
    /// The value is stored even if nobody is awaiting yet: the promise's next
    /// poll (or [`Promise::try_result`]) gets it.
    ///
    /// # Errors
    ///
    /// Returns `Err(value)`, handing the value back, when the [`Promise`] was
    /// already dropped, so nobody could ever receive it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (resolver, promise) = corio_sync::promise();
    /// drop(promise);
    /// assert_eq!(resolver.set_result(String::from("late")), Err(String::from("late")));
    /// ```
    pub fn set_result(self, value: T) -> Result<(), T> {
        let waker = {
            let mut slot = lock(&self.shared.slot);
            if !slot.promise_alive {
                return Err(value);
            }
            slot.value = Some(value);
            slot.resolver = ResolverState::Resolved;
            slot.promise_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Returns `true` if the [`Promise`] was dropped, so that setting a value
    /// is pointless; like checking `fut.cancelled()` before computing.
    ///
    /// # Examples
    ///
    /// ```
    /// let (resolver, promise) = corio_sync::promise::<u8>();
    /// assert!(!resolver.is_closed());
    /// drop(promise);
    /// assert!(resolver.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        !lock(&self.shared.slot).promise_alive
    }

    /// Waits until the [`Promise`] is dropped.
    ///
    /// Useful to stop an expensive computation whose result nobody wants any
    /// more: race it against this future. Completes at once if the promise is
    /// already gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future midway loses nothing; the resolver is
    /// unchanged and `closed()` may be called again.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut resolver, promise) = corio_sync::promise::<u8>();
    /// std::thread::spawn(move || drop(promise));
    /// futures_lite::future::block_on(resolver.closed());
    /// assert!(resolver.is_closed());
    /// ```
    pub async fn closed(&mut self) {
        poll_fn(|cx| {
            let mut slot = lock(&self.shared.slot);
            if !slot.promise_alive {
                Poll::Ready(())
            } else {
                store_waker(&mut slot.closed_waker, cx);
                Poll::Pending
            }
        })
        .await
    }
}

impl<T> Drop for Resolver<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = lock(&self.shared.slot);
            if slot.resolver != ResolverState::Alive {
                return;
            }
            slot.resolver = ResolverState::Dropped;
            slot.promise_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Resolver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The receiving side of a [`promise`]: a future of the value set by its
/// [`Resolver`]; like awaiting an asyncio `Future`.
///
/// It resolves to `Ok(value)` once [`Resolver::set_result`] ran, or to
/// `Err(`[`ResolverDropped`]`)` if the resolver was dropped without a value.
/// It is awaited once: it is not `Clone`, and the value moves out. Dropping
/// the promise is how a receiver says it no longer wants the value (see
/// [`Resolver::is_closed`]).
///
/// `Promise<T>` is `Send`, `Sync` and `Unpin` when `T: Send`.
///
/// # Cancel safety
///
/// Awaiting is cancel-safe as long as the `Promise` itself is kept: awaiting
/// `&mut promise` and dropping that future loses nothing, and a later await
/// gets the value. Dropping the `Promise` drops a value already set (or makes
/// a later `set_result` hand it back).
///
/// # Panics
///
/// Polling again after the value was taken (by an earlier poll or
/// [`try_result`](Self::try_result)) panics.
///
/// # Examples
///
/// ```
/// use corio_sync::{promise, ResolverDropped};
///
/// let (resolver, promise_a) = promise::<u32>();
/// drop(resolver);
/// assert_eq!(futures_lite::future::block_on(promise_a), Err(ResolverDropped));
/// ```
pub struct Promise<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Promise<T> {
    /// Takes the value if it is there, without waiting; like asyncio's
    /// `Future.result()` on a future that may not be done.
    ///
    /// # Errors
    ///
    /// [`TryResultError::Pending`] while no value is set and the resolver is
    /// alive (try again later, or await); [`TryResultError::ResolverDropped`]
    /// once the resolver was dropped without a value.
    ///
    /// # Panics
    ///
    /// If the value was already taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::{promise, TryResultError};
    ///
    /// let (resolver, mut p) = promise();
    /// assert_eq!(p.try_result(), Err(TryResultError::Pending));
    /// resolver.set_result(5).unwrap();
    /// assert_eq!(p.try_result(), Ok(5));
    /// ```
    pub fn try_result(&mut self) -> Result<T, TryResultError> {
        let mut slot = lock(&self.shared.slot);
        if let Some(v) = slot.value.take() {
            slot.taken = true;
            return Ok(v);
        }
        assert!(!slot.taken, "Promise: the value was already taken");
        match slot.resolver {
            ResolverState::Dropped => Err(TryResultError::ResolverDropped),
            _ => Err(TryResultError::Pending),
        }
    }

    /// Returns `true` once awaiting would not wait: a value was set or the
    /// resolver was dropped; like asyncio's `Future.done()`.
    ///
    /// It stays `true` after the value was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let (resolver, p) = corio_sync::promise::<()>();
    /// assert!(!p.is_ready());
    /// drop(resolver);
    /// assert!(p.is_ready());
    /// ```
    pub fn is_ready(&self) -> bool {
        lock(&self.shared.slot).resolver != ResolverState::Alive
    }
}

impl<T> Future for Promise<T> {
    type Output = Result<T, ResolverDropped>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = lock(&self.shared.slot);
        if let Some(v) = slot.value.take() {
            slot.taken = true;
            return Poll::Ready(Ok(v));
        }
        assert!(!slot.taken, "Promise polled after its value was taken");
        match slot.resolver {
            ResolverState::Dropped => Poll::Ready(Err(ResolverDropped)),
            _ => {
                store_waker(&mut slot.promise_waker, cx);
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        let (value, own_waker, waker) = {
            let mut slot = lock(&self.shared.slot);
            slot.promise_alive = false;
            (
                slot.value.take(),
                slot.promise_waker.take(),
                slot.closed_waker.take(),
            )
        };
        // Outside the lock: the value's destructor and the wakers are user code.
        drop(value);
        drop(own_waker);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = lock(&self.shared.slot);
        let state = match (slot.resolver, slot.taken) {
            (ResolverState::Alive, _) => "pending",
            (ResolverState::Resolved, false) => "ready",
            (ResolverState::Resolved, true) => "taken",
            (ResolverState::Dropped, _) => "resolver dropped",
        };
        f.debug_struct("Promise").field("state", &state).finish()
    }
}

/// The error of awaiting a [`Promise`] whose [`Resolver`] was dropped without
/// setting a value.
///
/// The asyncio analogue is a future that is never resolved; here the promise
/// learns about it instead of waiting forever.
///
/// # Examples
///
/// ```
/// let (resolver, promise) = corio_sync::promise::<i32>();
/// drop(resolver);
/// let err = futures_lite::future::block_on(promise).unwrap_err();
/// assert_eq!(err.to_string(), "the promise's resolver was dropped without setting a value");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ResolverDropped;

impl fmt::Display for ResolverDropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the promise's resolver was dropped without setting a value")
    }
}

impl std::error::Error for ResolverDropped {}

/// Why [`Promise::try_result`] returned no value.
///
/// # Examples
///
/// ```
/// use corio_sync::{promise, TryResultError};
///
/// let (resolver, mut p) = promise::<u8>();
/// assert_eq!(p.try_result(), Err(TryResultError::Pending));
/// drop(resolver);
/// assert_eq!(p.try_result(), Err(TryResultError::ResolverDropped));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TryResultError {
    /// No value yet; the resolver may still set one (asyncio's
    /// `InvalidStateError` on `result()` of a pending future).
    Pending,
    /// The resolver was dropped without setting a value; none will come.
    ResolverDropped,
}

impl fmt::Display for TryResultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryResultError::Pending => f.write_str("the promise has no value yet"),
            TryResultError::ResolverDropped => {
                f.write_str("the promise's resolver was dropped without setting a value")
            }
        }
    }
}

impl std::error::Error for TryResultError {}
