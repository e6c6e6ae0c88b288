//! A multi-producer, multi-consumer broadcast channel: every receiver sees
//! every value.
//!
//! asyncio has no broadcast primitive; programs keep one `asyncio.Queue` per
//! subscriber and put every message into each. This module is that pattern as
//! one type, with `tokio::sync::broadcast`'s semantics:
//!
//! * [`channel`]`(cap)` keeps the last `cap` values. [`Sender::send`] never
//!   waits: when the buffer is full it overwrites the oldest value.
//! * Every [`Receiver`] gets every value sent after it subscribed
//!   ([`Sender::subscribe`]), in order. A clone of a receiver starts where the
//!   original is.
//! * A receiver that falls more than `cap` values behind gets
//!   [`RecvError::Lagged`]`(n)` once, `n` being how many values it missed, and
//!   then continues from the oldest value still kept.
//! * When every sender has been dropped, receivers get what is left, then
//!   [`RecvError::Closed`].
//!
//! # Examples
//!
//! ```
//! use corio_sync::broadcast::{self, RecvError};
//!
//! futures_lite::future::block_on(async {
//!     let (tx, mut rx1) = broadcast::channel(16);
//!     let mut rx2 = tx.subscribe();
//!
//!     tx.send("hello").unwrap();
//!     tx.send("world").unwrap();
//!     drop(tx);
//!
//!     for rx in [&mut rx1, &mut rx2] {
//!         assert_eq!(rx.recv().await, Ok("hello"));
//!         assert_eq!(rx.recv().await, Ok("world"));
//!         assert_eq!(rx.recv().await, Err(RecvError::Closed));
//!     }
//! });
//! ```
//!
//! # Design
//!
//! The values sit in a ring buffer of `cap` slots under one mutex. Position
//! `p` (a `u64` that only grows) lives in slot `p % cap`; the buffer holds
//! positions `tail - cap .. tail`. Each receiver keeps the position it reads
//! next. A slot also counts the receivers that still have to read it; the
//! last one takes the value out, so a value is dropped as soon as everyone has
//! seen it (or when it is overwritten).
//!
//! Values are stored as `Arc<T>`: a receiver clones the `Arc` under the lock
//! and clones the `T` after releasing it, so no user code (`Clone`, `Drop`)
//! runs inside the critical section, and the last receiver of a value gets it
//! moved rather than cloned when nobody else still holds it.
//!
//! Receivers that wait register on an [`event_listener::Event`] and count
//! themselves, under the lock, before checking the buffer once more; a sender
//! reads that count under the lock after writing, and notifies every waiter
//! only when it is not zero.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as ValueArc;
use std::task::{Context, Poll};

use event_listener::{Event, EventListener};

use crate::sync::{lock, Arc, AtomicUsize, Mutex, Ordering};

/// What a sender and its receivers share.
struct Shared<T> {
    state: Mutex<State<T>>,
    /// Receivers waiting for a value (or for the close).
    recv_ops: Event,
    /// Number of waiting receivers: incremented under `state`'s lock,
    /// decremented anywhere; senders notify only when it is not zero.
    waiters: AtomicUsize,
}

struct State<T> {
    /// The ring buffer: position `p` is in `slots[p % cap]`.
    slots: Box<[Slot<T>]>,
    /// The position the next value gets; the buffer holds
    /// `tail.saturating_sub(cap) .. tail`.
    tail: u64,
    /// Number of slots holding a value.
    live: usize,
    senders: usize,
    receivers: usize,
}

struct Slot<T> {
    value: Option<ValueArc<T>>,
    /// Receivers that have still to read this value.
    remaining: usize,
}

impl<T> State<T> {
    fn cap(&self) -> u64 {
        self.slots.len() as u64
    }

    /// The oldest position still in the buffer.
    fn oldest(&self) -> u64 {
        self.tail.saturating_sub(self.cap())
    }

    fn slot(&mut self, pos: u64) -> &mut Slot<T> {
        let index = (pos % self.cap()) as usize;
        &mut self.slots[index]
    }

    /// Marks position `pos` as read by one receiver; returns the value, taken
    /// out of the slot if this was the last reader.
    fn read(&mut self, pos: u64) -> Option<ValueArc<T>> {
        let slot = self.slot(pos);
        slot.remaining -= 1;
        if slot.remaining > 0 {
            return slot.value.clone();
        }
        let value = slot.value.take();
        if value.is_some() {
            self.live -= 1;
        }
        value
    }
}

/// Creates a broadcast channel that keeps the last `cap` values.
///
/// Returns the first sender and the first receiver; more of either come from
/// [`Sender::clone`], [`Sender::subscribe`] and [`Receiver::clone`].
///
/// # Panics
///
/// If `cap` is zero.
///
/// # Examples
///
/// ```
/// use corio_sync::broadcast;
///
/// let (tx, mut rx) = broadcast::channel(4);
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn channel<T: Clone>(cap: usize) -> (Sender<T>, Receiver<T>) {
    assert!(cap > 0, "broadcast::channel: capacity must be at least 1");
    let slots = (0..cap)
        .map(|_| Slot {
            value: None,
            remaining: 0,
        })
        .collect();
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            slots,
            tail: 0,
            live: 0,
            senders: 1,
            receivers: 1,
        }),
        recv_ops: Event::new(),
        waiters: AtomicUsize::new(0),
    });
    let sender = Sender {
        shared: shared.clone(),
    };
    let receiver = Receiver { shared, next: 0 };
    (sender, receiver)
}

/// The sending half of a broadcast channel.
///
/// Cloning it gives another sender of the same channel; the channel closes
/// when the last one is dropped.
///
/// # Examples
///
/// ```
/// use corio_sync::broadcast;
///
/// let (tx, mut rx) = broadcast::channel(8);
/// let tx2 = tx.clone();
/// tx.send('a').unwrap();
/// tx2.send('b').unwrap();
/// assert_eq!(rx.try_recv(), Ok('a'));
/// assert_eq!(rx.try_recv(), Ok('b'));
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Clone> Sender<T> {
    /// Sends `value` to every current receiver; returns how many there are.
    ///
    /// Never waits: if the buffer is full, the oldest value is overwritten
    /// and receivers that had not read it yet will see
    /// [`RecvError::Lagged`].
    ///
    /// # Errors
    ///
    /// [`SendError`] holding `value` if there is no receiver (the value would
    /// reach nobody, so it is not stored).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel(2);
    /// let _rx2 = rx.clone();
    /// assert_eq!(tx.send(1), Ok(2));
    /// drop((rx, _rx2));
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let value = ValueArc::new(value);
        let mut state = lock(&self.shared.state);
        if state.receivers == 0 {
            drop(state);
            return Err(SendError(unwrap_arc(value)));
        }
        let receivers = state.receivers;
        let tail = state.tail;
        let slot = state.slot(tail);
        let old = slot.value.replace(value);
        slot.remaining = receivers;
        state.tail += 1;
        if old.is_none() {
            state.live += 1;
        }
        // Read under the lock: a receiver counts itself under it too.
        let waiters = self.shared.waiters.load(Ordering::Relaxed);
        drop(state);
        if waiters != 0 {
            self.shared.recv_ops.notify(usize::MAX);
        }
        drop(old);
        Ok(receivers)
    }

    /// A new receiver that gets every value sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::broadcast::{self, TryRecvError};
    ///
    /// let (tx, _rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2));
    /// assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = lock(&self.shared.state);
        state.receivers += 1;
        let next = state.tail;
        drop(state);
        Receiver {
            shared: self.shared.clone(),
            next,
        }
    }
}

impl<T> Sender<T> {
    /// Number of values kept that some receiver has still to read.
    ///
    /// A value leaves the count when every receiver that existed when it was
    /// sent has read it, or when a newer value overwrites it.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(tx.len(), 2);
    /// rx.try_recv().unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.shared.state).live
    }

    /// Whether no value is waiting to be read by some receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::broadcast;
    ///
    /// let (tx, _rx) = broadcast::channel::<u8>(4);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of live receivers.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel::<u8>(4);
    /// assert_eq!(tx.receiver_count(), 1);
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.state).receivers
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        lock(&self.shared.state).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.senders -= 1;
        let last = state.senders == 0;
        drop(state);
        if last {
            self.shared.recv_ops.notify(usize::MAX);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Sender")
            .field("capacity", &state.slots.len())
            .field("len", &state.live)
            .field("receivers", &state.receivers)
            .finish()
    }
}

/// The receiving half of a broadcast channel.
///
/// Gets every value sent after it was created, in order. Cloning it gives a
/// receiver at the same position: both will see the same values from there.
///
/// # Examples
///
/// ```
/// use corio_sync::broadcast;
///
/// let (tx, mut rx) = broadcast::channel(4);
/// tx.send(1).unwrap();
/// let mut twin = rx.clone();
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(twin.try_recv(), Ok(1));
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The position this receiver reads next.
    next: u64,
}

/// What a receive attempt under the lock found.
enum Attempt<T> {
    Value(ValueArc<T>),
    Lagged(u64),
    Closed,
    Empty,
}

impl<T: Clone> Receiver<T> {
    /// Receives the next value, waiting until one is sent.
    ///
    /// # Errors
    ///
    /// * [`RecvError::Lagged`]`(n)` if this receiver fell behind by more than
    ///   the capacity and `n` values were overwritten before it read them; the
    ///   next call returns the oldest value still kept.
    /// * [`RecvError::Closed`] once every sender is gone and this receiver
    ///   has read every value.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: this receiver's position only moves in the poll that
    /// returns a value or an error, so dropping the future loses nothing;
    /// a later `recv` returns the same value. Every waiting receiver is woken
    /// by each send, so no wake-up has to be passed on.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::broadcast::{self, RecvError};
    ///
    /// futures_lite::future::block_on(async {
    ///     let (tx, mut rx) = broadcast::channel(2);
    ///     for i in 0..5 {
    ///         tx.send(i).unwrap();
    ///     }
    ///     // Values 0, 1 and 2 were overwritten.
    ///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
    ///     assert_eq!(rx.recv().await, Ok(3));
    ///     assert_eq!(rx.recv().await, Ok(4));
    /// });
    /// ```
    pub fn recv(&mut self) -> RecvFuture<'_, T> {
        RecvFuture {
            receiver: self,
            listener: None,
            counted: false,
        }
    }

    /// Receives the next value if there is one now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if there is no new value yet;
    /// [`TryRecvError::Lagged`] and [`TryRecvError::Closed`] as for
    /// [`recv`](Receiver::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::broadcast::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(2);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let attempt = {
            let mut state = lock(&self.shared.state);
            attempt(&mut self.next, &mut state)
        };
        match attempt {
            Attempt::Value(value) => Ok(unwrap_arc(value)),
            Attempt::Lagged(n) => Err(TryRecvError::Lagged(n)),
            Attempt::Closed => Err(TryRecvError::Closed),
            Attempt::Empty => Err(TryRecvError::Empty),
        }
    }
}

/// Tries to read position `*next` of the (locked) state, moving `*next` on.
fn attempt<T>(next: &mut u64, state: &mut State<T>) -> Attempt<T> {
    let oldest = state.oldest();
    if *next < oldest {
        let missed = oldest - *next;
        *next = oldest;
        return Attempt::Lagged(missed);
    }
    if *next == state.tail {
        return if state.senders == 0 {
            Attempt::Closed
        } else {
            Attempt::Empty
        };
    }
    let pos = *next;
    *next += 1;
    match state.read(pos) {
        Some(value) => Attempt::Value(value),
        // Unreachable: a slot a receiver has not read keeps its value.
        None => Attempt::Empty,
    }
}

impl<T> Receiver<T> {
    /// Number of values sent that this receiver has not read yet.
    ///
    /// It counts values already overwritten too: when it exceeds the
    /// capacity, the next receive reports [`RecvError::Lagged`].
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel(2);
    /// for i in 0..3 {
    ///     tx.send(i).unwrap();
    /// }
    /// assert_eq!(rx.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        let tail = lock(&self.shared.state).tail;
        usize::try_from(tail - self.next).unwrap_or(usize::MAX)
    }

    /// Whether this receiver has read every value sent so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel::<u8>(2);
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of live receivers, this one included.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::broadcast;
    ///
    /// let (_tx, rx) = broadcast::channel::<u8>(2);
    /// let _rx2 = rx.clone();
    /// assert_eq!(rx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.state).receivers
    }
}

impl<T> Clone for Receiver<T> {
    /// A receiver at the same position as this one.
    fn clone(&self) -> Self {
        let mut state = lock(&self.shared.state);
        state.receivers += 1;
        // The clone has to read every value this one has still to read.
        let from = self.next.max(state.oldest());
        for pos in from..state.tail {
            state.slot(pos).remaining += 1;
        }
        drop(state);
        Receiver {
            shared: self.shared.clone(),
            next: self.next,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut dropped = Vec::new();
        let mut state = lock(&self.shared.state);
        state.receivers -= 1;
        // Uncount this receiver from the values it never read.
        let from = self.next.max(state.oldest());
        for pos in from..state.tail {
            if let Some(value) = state.read(pos) {
                dropped.push(value);
            }
        }
        drop(state);
        drop(dropped);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// Moves the value out of `value` if nobody else holds it, else clones it.
fn unwrap_arc<T: Clone>(value: ValueArc<T>) -> T {
    ValueArc::try_unwrap(value).unwrap_or_else(|shared| T::clone(&shared))
}

/// The future of [`Receiver::recv`].
///
/// # Cancel safety
///
/// Cancel-safe: dropping it before it resolves leaves the receiver where it
/// was; nothing is lost.
///
/// # Examples
///
/// ```
/// use corio_sync::broadcast;
///
/// futures_lite::future::block_on(async {
///     let (tx, mut rx) = broadcast::channel(2);
///     assert!(futures_lite::future::poll_once(rx.recv()).await.is_none());
///     tx.send(9).unwrap();
///     assert_eq!(rx.recv().await, Ok(9));
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct RecvFuture<'a, T> {
    receiver: &'a mut Receiver<T>,
    listener: Option<EventListener>,
    /// Whether `listener` is counted in `Shared::waiters`.
    counted: bool,
}

impl<T> RecvFuture<'_, T> {
    fn stop_waiting(&mut self) {
        self.listener = None;
        if self.counted {
            self.counted = false;
            self.receiver.shared.waiters.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl<T: Clone> Future for RecvFuture<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let attempt = {
                let receiver = &mut *this.receiver;
                let shared = &*receiver.shared;
                let mut state = lock(&shared.state);
                if this.listener.is_some() && !this.counted {
                    // Count ourselves under the lock, so that a sender either
                    // sees the count or we see its value below.
                    shared.waiters.fetch_add(1, Ordering::Relaxed);
                    this.counted = true;
                }
                attempt(&mut receiver.next, &mut state)
            };
            let result = match attempt {
                Attempt::Value(value) => Ok(unwrap_arc(value)),
                Attempt::Lagged(n) => Err(RecvError::Lagged(n)),
                Attempt::Closed => Err(RecvError::Closed),
                Attempt::Empty => match &mut this.listener {
                    None => {
                        // Listen, then look once more before sleeping.
                        this.listener = Some(this.receiver.shared.recv_ops.listen());
                        continue;
                    }
                    Some(listener) => match Pin::new(listener).poll(cx) {
                        Poll::Ready(()) => {
                            this.stop_waiting();
                            continue;
                        }
                        Poll::Pending => return Poll::Pending,
                    },
                },
            };
            this.stop_waiting();
            return Poll::Ready(result);
        }
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        self.stop_waiting();
    }
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture")
            .field("waiting", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

/// The error of [`Sender::send`]: there is no receiver. Holds the value.
///
/// # Examples
///
/// ```
/// use corio_sync::broadcast::{self, SendError};
///
/// let (tx, rx) = broadcast::channel(1);
/// drop(rx);
/// let err: SendError<u8> = tx.send(3).unwrap_err();
/// assert_eq!(err.to_string(), "broadcasting to a channel with no receiver");
/// assert_eq!(err.into_inner(), 3);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that could not be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::broadcast::SendError;
    ///
    /// assert_eq!(SendError("x").into_inner(), "x");
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
        f.write_str("broadcasting to a channel with no receiver")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Receiver::recv`].
///
/// # Examples
///
/// ```
/// use corio_sync::broadcast::RecvError;
///
/// assert_eq!(RecvError::Lagged(2).to_string(), "receiver lagged behind and missed 2 values");
/// assert_eq!(RecvError::Closed.to_string(), "broadcast channel closed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and this receiver has read every value.
    Closed,
    /// This receiver fell behind and this many values were overwritten before
    /// it read them; the next receive returns the oldest value kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("broadcast channel closed"),
            RecvError::Lagged(n) => write!(f, "receiver lagged behind and missed {n} values"),
        }
    }
}

impl std::error::Error for RecvError {}

/// The error of [`Receiver::try_recv`].
///
/// # Examples
///
/// ```
/// use corio_sync::broadcast::{self, TryRecvError};
///
/// let (_tx, mut rx) = broadcast::channel::<u8>(1);
/// let err = rx.try_recv().unwrap_err();
/// assert_eq!(err, TryRecvError::Empty);
/// assert_eq!(err.to_string(), "no new value in the broadcast channel");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value has been sent since this receiver's last one.
    Empty,
    /// Every sender is gone and this receiver has read every value.
    Closed,
    /// This receiver fell behind and this many values were overwritten before
    /// it read them; the next receive returns the oldest value kept.
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no new value in the broadcast channel"),
            TryRecvError::Closed => f.write_str("broadcast channel closed"),
            TryRecvError::Lagged(n) => {
                write!(f, "receiver lagged behind and missed {n} values")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}

impl From<RecvError> for TryRecvError {
    fn from(err: RecvError) -> Self {
        match err {
            RecvError::Closed => TryRecvError::Closed,
            RecvError::Lagged(n) => TryRecvError::Lagged(n),
        }
    }
}
