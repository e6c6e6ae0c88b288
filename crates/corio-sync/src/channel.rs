//! Multi-producer, multi-consumer channels, bounded and unbounded.
//!
//! asyncio has no channel of its own: programs use an `asyncio.Queue` shared by
//! producer and consumer tasks. This module is the Rust way to say the same
//! thing (what Rust users know as `async-channel` or `flume`): the queue is
//! split into [`Sender`] and [`Receiver`] handles, both cheap to clone, and the
//! channel closes by itself once either side is gone.
//!
//! | asyncio | corio-sync |
//! |---|---|
//! | `q = asyncio.Queue(maxsize=n)` | [`bounded`]`(n)` |
//! | `q = asyncio.Queue()` | [`unbounded`]`()` |
//! | `await q.put(x)` / `q.put_nowait(x)` | [`Sender::send`]`(x).await` / [`Sender::try_send`] |
//! | `await q.get()` / `q.get_nowait()` | [`Receiver::recv`]`().await` / [`Receiver::try_recv`] |
//! | `q.shutdown()` | [`Sender::close`] or [`Receiver::close`] |
//! | `q.qsize()`, `q.empty()`, `q.full()`, `q.maxsize` | `len`, `is_empty`, `is_full`, `capacity` |
//!
//! # Examples
//!
//! ```
//! use corio_sync::channel;
//!
//! futures_lite::future::block_on(async {
//!     let (tx, rx) = channel::bounded(2);
//!
//!     // A producer: a clone of the sender per task is the usual shape.
//!     let producer = {
//!         let tx = tx.clone();
//!         async move {
//!             for i in 0..5 {
//!                 tx.send(i).await.unwrap();
//!             }
//!         }
//!     };
//!     drop(tx); // the channel closes when the producer's clone is gone too
//!
//!     // A consumer drains the channel until it is closed and empty.
//!     let consumer = async {
//!         let mut got = Vec::new();
//!         while let Ok(i) = rx.recv().await {
//!             got.push(i);
//!         }
//!         got
//!     };
//!
//!     let ((), got) = futures_lite::future::zip(producer, consumer).await;
//!     assert_eq!(got, [0, 1, 2, 3, 4]);
//! });
//! ```
//!
//! # Closing
//!
//! A channel closes when
//! * every [`Sender`] has been dropped: receivers still get the values already
//!   in the channel, then [`RecvError`];
//! * every [`Receiver`] has been dropped: sends fail and hand the value back in
//!   [`SendError`] or [`TrySendError::Closed`]; values still in the channel are
//!   dropped at once;
//! * either side calls `close()` explicitly, with the same effect for senders
//!   and receivers as the first case.
//!
//! # Design
//!
//! Values travel through a lock-free [`concurrent_queue::ConcurrentQueue`];
//! tasks that must wait park in a FIFO wait queue (a slab-linked list under
//! a mutex, which allocates nothing per wait): one for senders waiting for
//! room, one for receivers waiting for a value, and one for receivers polled
//! as a [`Stream`].
//!
//! * Fast path: an operation tries the queue first. It only joins a wait queue
//!   when the queue is full (send) or empty (receive), then counts itself in
//!   the wait queue's *waiter count* and tries the queue once more before it
//!   sleeps.
//! * Wake-ups: after a successful push (pop), the other side issues a `SeqCst`
//!   fence and reads the waiter count; only when it is not zero does it notify
//!   (taking the wait queue's lock). The waiter's count increment, its own
//!   `SeqCst` fence and its second try of the queue are the other half of this
//!   Dekker-style hand-shake: either the notifier sees the waiter, or the waiter
//!   sees the value (or the room), so no wake-up is lost.
//! * One value, one wake-up: a notification goes to the first waiter not yet
//!   notified, so every value sent wakes a different waiting receiver, FIFO in
//!   the order they started waiting. A waiter that is dropped after being
//!   notified but before it took the notification (a cancelled
//!   [`Receiver::recv`] future, say) hands it to the next waiter.
//! * Stream receivers wait on their own event, which every send notifies in
//!   full: a `Receiver` keeps its stream listener between polls even when the
//!   task stops polling it (a cancelled `next()`), so it must not be able to
//!   swallow a wake-up meant for a receiver that is still waiting.
//! * Cancel safety follows: a value leaves the queue only inside the poll that
//!   returns it, and enters it only inside the poll that returns `Ok`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use concurrent_queue::{ConcurrentQueue, PopError, PushError};
use futures_core::stream::{FusedStream, Stream};
use std::task::Waker;

use crate::sync::{Arc, AtomicUsize, Ordering};
use crate::wait_queue::WaitQueue;

#[cfg(loom)]
use loom::sync::atomic::fence;
#[cfg(not(loom))]
use std::sync::atomic::fence;

/// The state both halves of a channel share.
struct Chan<T> {
    /// The values in flight.
    queue: ConcurrentQueue<T>,
    /// Whether the queue has a capacity (only then can a sender wait).
    bounded: bool,
    /// Senders waiting for room.
    send_ops: WaitQueue,
    /// Receivers (`recv`, `recv_blocking`) waiting for a value.
    recv_ops: WaitQueue,
    /// Receivers polled as a `Stream` waiting for a value.
    stream_ops: WaitQueue,
    /// Number of live listeners on `send_ops`, `recv_ops` and `stream_ops`:
    /// incremented before a waiter's second try of the queue, decremented
    /// when its listener is gone. Notifiers skip the event when it is zero.
    send_waiters: AtomicUsize,
    recv_waiters: AtomicUsize,
    stream_waiters: AtomicUsize,
    /// Number of live `Sender`s and `Receiver`s; the channel closes when
    /// either reaches zero.
    sender_count: AtomicUsize,
    receiver_count: AtomicUsize,
}

impl<T> Chan<T> {
    fn new(queue: ConcurrentQueue<T>, bounded: bool) -> Self {
        Chan {
            queue,
            bounded,
            send_ops: WaitQueue::new(),
            recv_ops: WaitQueue::new(),
            stream_ops: WaitQueue::new(),
            send_waiters: AtomicUsize::new(0),
            recv_waiters: AtomicUsize::new(0),
            stream_waiters: AtomicUsize::new(0),
            sender_count: AtomicUsize::new(1),
            receiver_count: AtomicUsize::new(1),
        }
    }

    /// Called after a successful push: wakes one waiting receiver and every
    /// waiting stream, if there are any.
    #[inline]
    fn wake_receivers(&self) {
        // Pairs with the fence in `Waiter::register`: either we see the
        // waiter's count, or its second try of the queue sees our value.
        fence(Ordering::SeqCst);
        if self.recv_waiters.load(Ordering::Relaxed) != 0 {
            self.recv_ops.notify_one();
        }
        if self.stream_waiters.load(Ordering::Relaxed) != 0 {
            self.stream_ops.notify_all();
        }
    }

    /// Called after a successful pop: wakes one sender waiting for room.
    #[inline]
    fn wake_senders(&self) {
        if !self.bounded {
            return;
        }
        fence(Ordering::SeqCst);
        if self.send_waiters.load(Ordering::Relaxed) != 0 {
            self.send_ops.notify_one();
        }
    }

    /// Closes the channel and wakes everyone; `true` if this call closed it.
    fn close(&self) -> bool {
        if self.queue.close() {
            self.send_ops.notify_all();
            self.recv_ops.notify_all();
            self.stream_ops.notify_all();
            true
        } else {
            false
        }
    }

    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.queue.push(value) {
            Ok(()) => {
                self.wake_receivers();
                Ok(())
            }
            Err(PushError::Full(value)) => Err(TrySendError::Full(value)),
            Err(PushError::Closed(value)) => Err(TrySendError::Closed(value)),
        }
    }

    fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.queue.pop() {
            Ok(value) => {
                self.wake_senders();
                Ok(value)
            }
            Err(PopError::Empty) => Err(TryRecvError::Empty),
            Err(PopError::Closed) => Err(TryRecvError::Closed),
        }
    }
}

/// A registered waiter, counted in its queue's waiter count while it lives.
struct Waiter<'a> {
    queue: &'a WaitQueue,
    /// The waiter's key in `queue`, until a poll consumed its notification.
    key: Option<usize>,
    count: &'a AtomicUsize,
}

impl<'a> Waiter<'a> {
    /// Joins `queue` (with the task's `waker`, if there is a task) and counts
    /// itself in `count`. The caller must try its operation once more before
    /// it waits.
    fn register(queue: &'a WaitQueue, count: &'a AtomicUsize, waker: Option<&Waker>) -> Waiter<'a> {
        let key = queue.register(waker);
        count.fetch_add(1, Ordering::Relaxed);
        // Pairs with the fence in `wake_receivers` / `wake_senders`.
        fence(Ordering::SeqCst);
        Waiter {
            queue,
            key: Some(key),
            count,
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.key {
            Some(key) => match self.queue.poll(key, cx) {
                Poll::Ready(()) => {
                    self.key = None;
                    Poll::Ready(())
                }
                Poll::Pending => Poll::Pending,
            },
            None => Poll::Ready(()),
        }
    }

    /// Blocks the thread until the waiter is notified.
    fn wait(mut self) {
        if let Some(key) = self.key.take() {
            self.queue.wait(key);
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        // A notification the waiter received and did not consume passes on
        // to the next waiter (even when the operation succeeded without it:
        // quietly dropping it there loses wake-ups, as tests/loom_channel.rs
        // shows).
        if let Some(key) = self.key.take() {
            self.queue.cancel(key);
        }
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Creates a channel that holds at most `cap` values.
///
/// Like `asyncio.Queue(maxsize=cap)`: [`Sender::send`] waits while the
/// channel is full, [`Receiver::recv`] while it is empty. Values are received
/// in the order they were sent, and waiting senders and receivers are served
/// in the order they started waiting.
///
/// # Panics
///
/// If `cap` is zero: a rendezvous channel (one that holds no value at all) is
/// not supported; use `bounded(1)` for the closest thing.
///
/// # Examples
///
/// ```
/// use corio_sync::channel::{self, TrySendError};
///
/// let (tx, rx) = channel::bounded(1);
/// assert_eq!(tx.try_send(1), Ok(()));
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(tx.capacity(), Some(1));
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    assert!(cap > 0, "channel::bounded: capacity must be at least 1");
    new_pair(Chan::new(ConcurrentQueue::bounded(cap), true))
}

/// Creates a channel with no limit on how many values it holds.
///
/// Like `asyncio.Queue()`: sending never waits ([`Sender::try_send`] only
/// fails when the channel is closed), receiving waits while it is empty.
///
/// # Examples
///
/// ```
/// use corio_sync::channel;
///
/// let (tx, rx) = channel::unbounded();
/// for i in 0..1000 {
///     tx.try_send(i).unwrap();
/// }
/// assert_eq!(rx.len(), 1000);
/// assert_eq!(rx.capacity(), None);
/// assert_eq!(rx.try_recv(), Ok(0));
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    new_pair(Chan::new(ConcurrentQueue::unbounded(), false))
}

fn new_pair<T>(chan: Chan<T>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(chan);
    let sender = Sender { chan: chan.clone() };
    let receiver = Receiver {
        chan,
        stream_listener: None,
    };
    (sender, receiver)
}

/// Aborts if a handle count would overflow (someone leaked handles in a loop).
fn increment_count(count: &AtomicUsize) {
    if count.fetch_add(1, Ordering::Relaxed) > usize::MAX / 2 {
        std::process::abort();
    }
}

/// The sending half of a channel; clone it to get more producers.
///
/// The `put` side of an `asyncio.Queue` shared by producer tasks. Created by
/// [`bounded`] or [`unbounded`]. When the last `Sender` is
/// dropped, the channel closes: receivers get the values still in it, then
/// [`RecvError`]. `Sender<T>` is `Send` and `Sync` when `T: Send`.
///
/// # Examples
///
/// ```
/// use corio_sync::channel;
///
/// futures_lite::future::block_on(async {
///     let (tx, rx) = channel::unbounded();
///     let tx2 = tx.clone();
///     tx.send("a").await.unwrap();
///     tx2.send("b").await.unwrap();
///     assert_eq!(tx.sender_count(), 2);
///     assert_eq!(rx.recv().await, Ok("a"));
///     assert_eq!(rx.recv().await, Ok("b"));
/// });
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full.
    ///
    /// Like `await queue.put(value)`. Senders that wait are served in the
    /// order they started waiting. An unbounded channel never makes a sender
    /// wait.
    ///
    /// # Errors
    ///
    /// [`SendError`] holding `value` if the channel is closed (every receiver
    /// dropped, or [`close`](Sender::close) called), also if it closes while
    /// this send waits for room.
    ///
    /// # Cancel safety
    ///
    /// The value enters the channel only in the poll that returns `Ok(())`.
    /// If the future is dropped before that, the value was not sent and is
    /// dropped with the future; it is never half-sent. A wake-up the dropped
    /// future had received (room became free) passes to the next waiting
    /// sender, so no other sender is left waiting while there is room.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// futures_lite::future::block_on(async {
    ///     let (tx, rx) = channel::bounded(1);
    ///     tx.send(1).await.unwrap();
    ///     drop(rx);
    ///     // No receiver: the value comes back.
    ///     assert_eq!(tx.send(2).await.unwrap_err().into_inner(), 2);
    /// });
    /// ```
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            chan: &self.chan,
            value: Some(value),
            waiter: None,
        }
    }

    /// Sends `value` if there is room right now.
    ///
    /// Like `queue.put_nowait(value)`; never waits.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if the channel is full, [`TrySendError::Closed`]
    /// if it is closed; both hand `value` back.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel::{self, TrySendError};
    ///
    /// let (tx, rx) = channel::bounded(1);
    /// tx.try_send('a').unwrap();
    /// assert_eq!(tx.try_send('b'), Err(TrySendError::Full('b')));
    /// rx.close();
    /// assert_eq!(tx.try_send('c'), Err(TrySendError::Closed('c')));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Sends `value`, blocking the current thread while the channel is full.
    ///
    /// For synchronous code (a plain thread, a blocking pool) that feeds
    /// async consumers. Do not call it from async code: it blocks the
    /// executor's thread.
    ///
    /// # Errors
    ///
    /// [`SendError`] holding `value` if the channel is or becomes closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, rx) = channel::bounded(1);
    /// let producer = std::thread::spawn(move || {
    ///     for i in 0..3 {
    ///         tx.send_blocking(i).unwrap();
    ///     }
    /// });
    /// let got: Vec<i32> = (0..3).map(|_| rx.recv_blocking().unwrap()).collect();
    /// producer.join().unwrap();
    /// assert_eq!(got, [0, 1, 2]);
    /// ```
    pub fn send_blocking(&self, value: T) -> Result<(), SendError<T>> {
        let chan = &*self.chan;
        let mut value = value;
        let mut waiter: Option<Waiter<'_>> = None;
        loop {
            match chan.try_send(value) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(v)) => return Err(SendError(v)),
                Err(TrySendError::Full(v)) => value = v,
            }
            match waiter.take() {
                None => waiter = Some(Waiter::register(&chan.send_ops, &chan.send_waiters, None)),
                Some(w) => w.wait(),
            }
        }
    }

    /// Closes the channel; returns `true` if this call closed it.
    ///
    /// Waiting senders and receivers wake up: sends fail from now on, and
    /// receivers get the values still in the channel, then [`RecvError`].
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel::{self, RecvError, TryRecvError};
    ///
    /// let (tx, rx) = channel::unbounded();
    /// tx.try_send(1).unwrap();
    /// assert!(tx.close());
    /// assert!(!tx.close());
    /// assert_eq!(rx.recv_blocking(), Ok(1));
    /// assert_eq!(rx.recv_blocking(), Err(RecvError));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// Whether the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, rx) = channel::unbounded::<()>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.queue.is_closed()
    }

    /// Number of values in the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, _rx) = channel::bounded(4);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.queue.len()
    }

    /// Whether the channel holds no value.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, _rx) = channel::bounded::<u8>(4);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.chan.queue.is_empty()
    }

    /// Whether the channel is full (never for an unbounded one).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, _rx) = channel::bounded(1);
    /// tx.try_send(()).unwrap();
    /// assert!(tx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.chan.queue.is_full()
    }

    /// The channel's capacity: `Some(cap)` for [`bounded`], `None` for
    /// [`unbounded`].
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// assert_eq!(channel::bounded::<u8>(8).0.capacity(), Some(8));
    /// assert_eq!(channel::unbounded::<u8>().0.capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.queue.capacity()
    }

    /// Number of live senders of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, _rx) = channel::unbounded::<u8>();
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.sender_count(), 2);
    /// drop(tx2);
    /// assert_eq!(tx.sender_count(), 1);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.chan.sender_count.load(Ordering::SeqCst)
    }

    /// Number of live receivers of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, rx) = channel::unbounded::<u8>();
    /// let _rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.chan.receiver_count.load(Ordering::SeqCst)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        increment_count(&self.chan.sender_count);
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.sender_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

/// The receiving half of a channel; clone it to get more consumers.
///
/// The `get` side of an `asyncio.Queue` shared by consumer tasks. Created by
/// [`bounded`] or [`unbounded`]. Every value goes to exactly one
/// receiver. When the last `Receiver` is dropped the channel closes, sends
/// fail and the values still in it are dropped. `Receiver<T>` is `Send` and
/// `Sync` when `T: Send`, and a [`Stream`] of the values until the channel is
/// closed and empty.
///
/// # Examples
///
/// ```
/// use corio_sync::channel;
/// use futures_lite::StreamExt;
///
/// futures_lite::future::block_on(async {
///     let (tx, rx) = channel::unbounded();
///     for i in 1..=3 {
///         tx.send(i).await.unwrap();
///     }
///     drop(tx);
///     let all: Vec<i32> = rx.collect().await;
///     assert_eq!(all, [1, 2, 3]);
/// });
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
    /// The listener of `poll_next` while it waits, counted in
    /// `stream_waiters`.
    stream_listener: Option<usize>,
}

impl<T> Receiver<T> {
    /// Receives a value, waiting while the channel is empty.
    ///
    /// Like `await queue.get()`. Values come in the order they were sent;
    /// receivers that wait are served in the order they started waiting.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the channel is closed and every value in it has
    /// been received.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a value leaves the channel only in the poll that returns
    /// it, so dropping the future never loses a value. A wake-up the dropped
    /// future had received (a value arrived) passes to the next waiting
    /// receiver, so no receiver is left waiting while a value is there.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel::{self, RecvError};
    ///
    /// futures_lite::future::block_on(async {
    ///     let (tx, rx) = channel::bounded(1);
    ///     tx.send(5).await.unwrap();
    ///     drop(tx);
    ///     assert_eq!(rx.recv().await, Ok(5));
    ///     assert_eq!(rx.recv().await, Err(RecvError));
    /// });
    /// ```
    pub fn recv(&self) -> RecvFuture<'_, T> {
        RecvFuture {
            chan: &self.chan,
            waiter: None,
        }
    }

    /// Receives a value if there is one right now.
    ///
    /// Like `queue.get_nowait()`; never waits.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if the channel is empty but open,
    /// [`TryRecvError::Closed`] if it is closed and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel::{self, TryRecvError};
    ///
    /// let (tx, rx) = channel::unbounded();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Receives a value, blocking the current thread while the channel is
    /// empty.
    ///
    /// For synchronous code (a plain thread, a blocking pool) that consumes
    /// what async producers send. Do not call it from async code: it blocks
    /// the executor's thread.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the channel is closed and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, rx) = channel::unbounded();
    /// let consumer = std::thread::spawn(move || {
    ///     let mut sum = 0;
    ///     while let Ok(i) = rx.recv_blocking() {
    ///         sum += i;
    ///     }
    ///     sum
    /// });
    /// futures_lite::future::block_on(async {
    ///     for i in 1..=4 {
    ///         tx.send(i).await.unwrap();
    ///     }
    /// });
    /// drop(tx);
    /// assert_eq!(consumer.join().unwrap(), 10);
    /// ```
    pub fn recv_blocking(&self) -> Result<T, RecvError> {
        let chan = &*self.chan;
        let mut waiter: Option<Waiter<'_>> = None;
        loop {
            match chan.try_recv() {
                Ok(value) => return Ok(value),
                Err(TryRecvError::Closed) => return Err(RecvError),
                Err(TryRecvError::Empty) => {}
            }
            match waiter.take() {
                None => waiter = Some(Waiter::register(&chan.recv_ops, &chan.recv_waiters, None)),
                Some(w) => w.wait(),
            }
        }
    }

    /// Closes the channel; returns `true` if this call closed it.
    ///
    /// Sends fail from now on; this and other receivers still get the values
    /// already in the channel, then [`RecvError`].
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, rx) = channel::unbounded();
    /// tx.try_send(1).unwrap();
    /// assert!(rx.close());
    /// assert!(tx.try_send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(rx.try_recv().unwrap_err().is_closed());
    /// ```
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// Whether the channel is closed.
    ///
    /// A closed channel may still hold values to receive.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, rx) = channel::unbounded::<()>();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.queue.is_closed()
    }

    /// Number of values in the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, rx) = channel::unbounded();
    /// tx.try_send(1).unwrap();
    /// tx.try_send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.queue.len()
    }

    /// Whether the channel holds no value.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (_tx, rx) = channel::unbounded::<u8>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.chan.queue.is_empty()
    }

    /// Whether the channel is full (never for an unbounded one).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, rx) = channel::bounded(2);
    /// tx.try_send(1).unwrap();
    /// assert!(!rx.is_full());
    /// tx.try_send(2).unwrap();
    /// assert!(rx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.chan.queue.is_full()
    }

    /// The channel's capacity: `Some(cap)` for [`bounded`], `None` for
    /// [`unbounded`].
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// assert_eq!(channel::bounded::<u8>(3).1.capacity(), Some(3));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.queue.capacity()
    }

    /// Number of live senders of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (tx, rx) = channel::unbounded::<u8>();
    /// assert_eq!(rx.sender_count(), 1);
    /// drop(tx);
    /// assert_eq!(rx.sender_count(), 0);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.chan.sender_count.load(Ordering::SeqCst)
    }

    /// Number of live receivers of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel;
    ///
    /// let (_tx, rx) = channel::unbounded::<u8>();
    /// let rx2 = rx.clone();
    /// assert_eq!(rx2.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.chan.receiver_count.load(Ordering::SeqCst)
    }

    /// Drops the stream listener, if any, and uncounts it.
    fn clear_stream_listener(&mut self) {
        if let Some(key) = self.stream_listener.take() {
            // Every stream waiter is notified of every value: there is
            // nothing to pass on.
            self.chan.stream_ops.remove(key);
            self.chan.stream_waiters.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl<T> Clone for Receiver<T> {
    /// A new receiver of the same channel; it competes with this one for
    /// values (each value still goes to exactly one receiver).
    fn clone(&self) -> Self {
        increment_count(&self.chan.receiver_count);
        Receiver {
            chan: self.chan.clone(),
            stream_listener: None,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.clear_stream_listener();
        if self.chan.receiver_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close();
            // Nobody can receive them any more: drop the values now rather
            // than when the last sender goes.
            while self.chan.queue.pop().is_ok() {}
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    /// Yields the next value, or `None` once the channel is closed and empty.
    ///
    /// Cancel-safe like [`Receiver::recv`]: a value leaves the channel only
    /// when it is yielded.
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        loop {
            match this.chan.try_recv() {
                Ok(value) => {
                    this.clear_stream_listener();
                    return Poll::Ready(Some(value));
                }
                Err(TryRecvError::Closed) => {
                    this.clear_stream_listener();
                    return Poll::Ready(None);
                }
                Err(TryRecvError::Empty) => {}
            }
            match &mut this.stream_listener {
                None => {
                    // Register, then try again before sleeping.
                    this.stream_listener = Some(this.chan.stream_ops.register(Some(cx.waker())));
                    this.chan.stream_waiters.fetch_add(1, Ordering::Relaxed);
                    fence(Ordering::SeqCst);
                }
                Some(key) => match this.chan.stream_ops.poll(*key, cx) {
                    Poll::Ready(()) => {
                        // The poll freed the key.
                        this.stream_listener = None;
                        this.chan.stream_waiters.fetch_sub(1, Ordering::Relaxed);
                    }
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}

impl<T> FusedStream for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.chan.queue.is_closed() && self.chan.queue.is_empty()
    }
}

/// The future of [`Sender::send`].
///
/// Resolves to `Ok(())` once the value is in the channel, or to
/// [`SendError`] (with the value) if the channel is or becomes closed.
///
/// # Cancel safety
///
/// Dropping it before it resolves means the value was not sent; the value is
/// dropped with it. A wake-up it had received passes to the next waiting
/// sender.
///
/// # Panics
///
/// If polled again after it resolved.
///
/// # Examples
///
/// ```
/// use corio_sync::channel;
///
/// futures_lite::future::block_on(async {
///     let (tx, rx) = channel::bounded(1);
///     tx.try_send(1).unwrap();
///     // The channel is full: one poll leaves the send pending...
///     let mut send = tx.send(2);
///     assert!(futures_lite::future::poll_once(&mut send).await.is_none());
///     // ...dropping it sends nothing.
///     drop(send);
///     assert_eq!(rx.try_recv(), Ok(1));
///     assert!(rx.try_recv().is_err());
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct SendFuture<'a, T> {
    chan: &'a Chan<T>,
    value: Option<T>,
    waiter: Option<Waiter<'a>>,
}

// The value is never pinned (it is moved in and out of the queue), so the
// future is `Unpin` whatever `T` is.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let chan = this.chan;
        loop {
            let value = this
                .value
                .take()
                .expect("SendFuture polled after completion");
            match chan.try_send(value) {
                Ok(()) => {
                    this.waiter = None;
                    return Poll::Ready(Ok(()));
                }
                Err(TrySendError::Closed(value)) => {
                    this.waiter = None;
                    return Poll::Ready(Err(SendError(value)));
                }
                Err(TrySendError::Full(value)) => this.value = Some(value),
            }
            match &mut this.waiter {
                None => {
                    this.waiter = Some(Waiter::register(
                        &chan.send_ops,
                        &chan.send_waiters,
                        Some(cx.waker()),
                    ))
                }
                Some(waiter) => match waiter.poll(cx) {
                    Poll::Ready(()) => this.waiter = None,
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("waiting", &self.waiter.is_some())
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::recv`].
///
/// Resolves to the next value, or to [`RecvError`] once the channel is closed
/// and empty.
///
/// # Cancel safety
///
/// Cancel-safe: dropping it never loses a value, and a wake-up it had
/// received passes to the next waiting receiver.
///
/// # Examples
///
/// ```
/// use corio_sync::channel;
///
/// futures_lite::future::block_on(async {
///     let (tx, rx) = channel::unbounded();
///     let mut recv = rx.recv();
///     assert!(futures_lite::future::poll_once(&mut recv).await.is_none());
///     tx.try_send(3).unwrap();
///     assert_eq!(recv.await, Ok(3));
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct RecvFuture<'a, T> {
    chan: &'a Chan<T>,
    waiter: Option<Waiter<'a>>,
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let chan = this.chan;
        loop {
            match chan.try_recv() {
                Ok(value) => {
                    this.waiter = None;
                    return Poll::Ready(Ok(value));
                }
                Err(TryRecvError::Closed) => {
                    this.waiter = None;
                    return Poll::Ready(Err(RecvError));
                }
                Err(TryRecvError::Empty) => {}
            }
            match &mut this.waiter {
                None => {
                    this.waiter = Some(Waiter::register(
                        &chan.recv_ops,
                        &chan.recv_waiters,
                        Some(cx.waker()),
                    ))
                }
                Some(waiter) => match waiter.poll(cx) {
                    Poll::Ready(()) => this.waiter = None,
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture")
            .field("waiting", &self.waiter.is_some())
            .finish_non_exhaustive()
    }
}

/// The error of [`Sender::send`] and [`Sender::send_blocking`]: the channel
/// is closed. Holds the value that was not sent.
///
/// # Examples
///
/// ```
/// use corio_sync::channel::{self, SendError};
///
/// let (tx, rx) = channel::unbounded();
/// drop(rx);
/// let err: SendError<String> = tx.send_blocking("hi".to_string()).unwrap_err();
/// assert_eq!(err.to_string(), "sending on a closed channel");
/// assert_eq!(err.into_inner(), "hi");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that could not be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel::SendError;
    ///
    /// assert_eq!(SendError(7).into_inner(), 7);
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
        f.write_str("sending on a closed channel")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Sender::try_send`]: the channel is full or closed. Holds
/// the value that was not sent.
///
/// # Examples
///
/// ```
/// use corio_sync::channel::{self, TrySendError};
///
/// let (tx, _rx) = channel::bounded(1);
/// tx.try_send(1).unwrap();
/// let err: TrySendError<i32> = tx.try_send(2).unwrap_err();
/// assert!(err.is_full());
/// assert_eq!(err.to_string(), "sending on a full channel");
/// assert_eq!(err.into_inner(), 2);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel is full; the value may fit later.
    Full(T),
    /// The channel is closed; the value will never fit.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that could not be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel::TrySendError;
    ///
    /// assert_eq!(TrySendError::Closed('x').into_inner(), 'x');
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }

    /// Whether the send failed because the channel is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel::TrySendError;
    ///
    /// assert!(TrySendError::Full(()).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether the send failed because the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel::TrySendError;
    ///
    /// assert!(TrySendError::Closed(()).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("sending on a full channel"),
            TrySendError::Closed(_) => f.write_str("sending on a closed channel"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(err: SendError<T>) -> Self {
        TrySendError::Closed(err.0)
    }
}

/// The error of [`Receiver::recv`] and [`Receiver::recv_blocking`]: the
/// channel is closed and empty.
///
/// # Examples
///
/// ```
/// use corio_sync::channel::{self, RecvError};
///
/// let (tx, rx) = channel::unbounded::<u8>();
/// drop(tx);
/// assert_eq!(rx.recv_blocking(), Err(RecvError));
/// assert_eq!(RecvError.to_string(), "receiving on an empty and closed channel");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving on an empty and closed channel")
    }
}

impl std::error::Error for RecvError {}

/// The error of [`Receiver::try_recv`]: the channel is empty, or closed and
/// empty.
///
/// # Examples
///
/// ```
/// use corio_sync::channel::{self, TryRecvError};
///
/// let (tx, rx) = channel::unbounded::<u8>();
/// assert!(rx.try_recv().unwrap_err().is_empty());
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// The channel is empty but open; a value may come later.
    Empty,
    /// The channel is closed and empty; no value will come.
    Closed,
}

impl TryRecvError {
    /// Whether the channel was empty but open.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel::TryRecvError;
    ///
    /// assert!(TryRecvError::Empty.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, TryRecvError::Empty)
    }

    /// Whether the channel was closed and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_sync::channel::TryRecvError;
    ///
    /// assert!(TryRecvError::Closed.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TryRecvError::Closed)
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty channel"),
            TryRecvError::Closed => f.write_str("receiving on an empty and closed channel"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl From<RecvError> for TryRecvError {
    fn from(_: RecvError) -> Self {
        TryRecvError::Closed
    }
}
