//! asyncio's `Queue`, `PriorityQueue` and `LifoQueue`: FIFO-fair, cancel-safe,
//! with `task_done`/`join` and Python 3.13's `shutdown`.
//!
//! # Design
//!
//! The three kinds share one core, [`Core`]: a mutex around [`State`] plus an
//! [`Event`] that wakes `join()`ers. They differ only in the order of their
//! [`Store`] (FIFO, LIFO, smallest-first). The waiter lists are kept here
//! rather than built on the crate's `Semaphore`, because shutdown has to move
//! items between waiters and the queue in one critical section (hand a
//! putter's item back to it, take items back from getters), which two
//! independent semaphores could not do atomically.
//!
//! Who owns what, all under the one lock:
//!
//! * `store`: items nobody has a claim on yet, each tagged with the sequence
//!   number it got on entering the queue.
//! * `getters`: waiting getters in arrival order (FIFO by id), with wakers.
//! * `owed`: items already handed to a getter that has not yet picked them
//!   up. They still count in `qsize()`, as in asyncio, where the item stays in
//!   the queue until the woken getter runs.
//! * `putters`: waiting putters in arrival order, each *with its item*, so
//!   that a freed slot is filled at once, by the right putter, without waiting
//!   for it to be polled.
//! * `rejected`: items of putters failed by `shutdown`, until the putter
//!   takes its item back.
//!
//! Invariants, which give FIFO fairness without barging:
//!
//! 1. `getters` non-empty implies `store` empty: an item that enters the queue
//!    while a getter waits goes straight to the head getter (`owed`), so a
//!    later `get_nowait` cannot take it.
//! 2. `putters` non-empty implies the queue is full: each time a slot frees
//!    up (an item leaves `store` or `owed`), the head putter's item is moved
//!    in (`admit`), so a later `put_nowait` cannot take the slot.
//! 3. `unfinished` is incremented once per item that enters the queue and
//!    decremented by `task_done` (or for items dropped by an immediate
//!    shutdown); `join` waits for it to reach zero.
//!
//! Cancellation: a getter dropped while waiting just leaves `getters`; one
//! dropped after an item was handed to it gives the item to the next getter,
//! or puts it back into `store` at the place its sequence number says
//! ([`Store::reinsert`]), so the order is as if it never left. A putter
//! dropped while waiting leaves `putters` and its item is dropped with it; once
//! admitted its item is in the queue and stays there.
//!
//! No user code runs under the lock except `Ord::cmp` of a `PriorityQueue`'s
//! items: wakers are woken, and items dropped, after it is released.

mod store;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use event_listener::Event;

use crate::sync::{lock, Mutex};
use store::{Entry, Store};

// ---------------------------------------------------------------------------
// The shared core.

/// What every kind of queue is: the state behind a lock and the join event.
struct Core<T> {
    state: Mutex<State<T>>,
    /// Notified (all listeners) when `unfinished` drops to zero.
    all_done: Event,
}

struct State<T> {
    store: Store<T>,
    maxsize: usize,
    unfinished: usize,
    shutdown: bool,
    /// The sequence number of the next item to enter the queue.
    next_seq: u64,
    /// The id of the next waiter (getter or putter); ids give FIFO order.
    next_id: u64,
    getters: BTreeMap<u64, Waker>,
    owed: BTreeMap<u64, Entry<T>>,
    putters: BTreeMap<u64, Putter<T>>,
    rejected: BTreeMap<u64, T>,
}

/// A waiting putter and the item it wants to put.
struct Putter<T> {
    item: T,
    waker: Waker,
}

/// Wakers collected under the lock, woken after it is released.
#[derive(Default)]
struct Wakes {
    first: Option<Waker>,
    second: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakes {
    fn push(&mut self, w: Waker) {
        if self.first.is_none() {
            self.first = Some(w);
        } else if self.second.is_none() {
            self.second = Some(w);
        } else {
            self.rest.push(w);
        }
    }

    fn wake(self) {
        for w in self.first.into_iter().chain(self.second).chain(self.rest) {
            w.wake();
        }
    }
}

/// Where a [`Get`] future is.
#[derive(Clone, Copy, Debug)]
enum GetState {
    /// Not polled yet (or unregistered by a shutdown): not in any list.
    Init,
    /// In `getters`, or its item is in `owed`.
    Waiting(u64),
    /// Returned its output.
    Done,
}

/// Where a [`Put`] future is.
enum PutState<T> {
    /// Not polled yet: the future holds the item.
    Init(T),
    /// In `putters` (holding the item), in `rejected`, or admitted.
    Waiting(u64),
    /// Returned its output.
    Done,
}

impl<T> State<T> {
    fn qsize(&self) -> usize {
        self.store.len() + self.owed.len()
    }

    fn is_full(&self) -> bool {
        self.maxsize != 0 && self.qsize() >= self.maxsize
    }

    fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// A new item enters the queue: counted as unfinished, then routed.
    fn enqueue(&mut self, item: T, wakes: &mut Wakes) {
        self.unfinished += 1;
        let entry = Entry {
            seq: self.next_seq,
            item,
        };
        self.next_seq += 1;
        self.route(entry, wakes);
    }

    /// Gives `entry` to the head waiting getter, or keeps it in the store at
    /// the place its sequence number says.
    fn route(&mut self, entry: Entry<T>, wakes: &mut Wakes) {
        if let Some((id, waker)) = self.getters.pop_first() {
            self.owed.insert(id, entry);
            wakes.push(waker);
        } else if entry.seq + 1 == self.next_seq {
            self.store.push(entry);
        } else {
            self.store.reinsert(entry);
        }
    }

    /// Moves waiting putters' items in while there is room (invariant 2).
    fn admit(&mut self, wakes: &mut Wakes) {
        while !self.is_full() {
            let Some((_, putter)) = self.putters.pop_first() else {
                break;
            };
            self.enqueue(putter.item, wakes);
            wakes.push(putter.waker);
        }
    }

    /// Takes the next item if one is free for a newcomer (invariant 1).
    fn take(&mut self, wakes: &mut Wakes) -> Option<T> {
        if !self.getters.is_empty() {
            return None;
        }
        let entry = self.store.pop()?;
        self.admit(wakes);
        Some(entry.item)
    }
}

impl<T> Core<T> {
    fn new(store: Store<T>, maxsize: usize) -> Core<T> {
        Core {
            state: Mutex::new(State {
                store,
                maxsize,
                unfinished: 0,
                shutdown: false,
                next_seq: 0,
                next_id: 0,
                getters: BTreeMap::new(),
                owed: BTreeMap::new(),
                putters: BTreeMap::new(),
                rejected: BTreeMap::new(),
            }),
            all_done: Event::new(),
        }
    }

    fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
        let mut wakes = Wakes::default();
        let res = {
            let mut s = lock(&self.state);
            if s.shutdown {
                Err(PutError::ShutDown(item))
            } else if s.is_full() || !s.putters.is_empty() {
                Err(PutError::Full(item))
            } else {
                s.enqueue(item, &mut wakes);
                Ok(())
            }
        };
        wakes.wake();
        res
    }

    fn get_nowait(&self) -> Result<T, GetError> {
        let mut wakes = Wakes::default();
        let res = {
            let mut s = lock(&self.state);
            match s.take(&mut wakes) {
                Some(item) => Ok(item),
                None if s.shutdown => Err(GetError::ShutDown),
                None => Err(GetError::Empty),
            }
        };
        wakes.wake();
        res
    }

    fn poll_get(&self, st: &mut GetState, cx: &mut Context<'_>) -> Poll<Result<T, GetError>> {
        let mut wakes = Wakes::default();
        let out = {
            let mut s = lock(&self.state);
            let mut out = None;
            if let GetState::Waiting(id) = *st {
                if let Some(entry) = s.owed.remove(&id) {
                    // A slot freed up: the head putter may come in.
                    s.admit(&mut wakes);
                    out = Some(Poll::Ready(Ok(entry.item)));
                } else if let Some(w) = s.getters.get_mut(&id) {
                    if !w.will_wake(cx.waker()) {
                        *w = cx.waker().clone();
                    }
                    out = Some(Poll::Pending);
                } else {
                    // Unregistered by `shutdown`: look again from scratch.
                    *st = GetState::Init;
                }
            }
            match out {
                Some(out) => out,
                None => match s.take(&mut wakes) {
                    Some(item) => Poll::Ready(Ok(item)),
                    None if s.shutdown => Poll::Ready(Err(GetError::ShutDown)),
                    None => {
                        let id = s.new_id();
                        s.getters.insert(id, cx.waker().clone());
                        *st = GetState::Waiting(id);
                        Poll::Pending
                    }
                },
            }
        };
        if out.is_ready() {
            *st = GetState::Done;
        }
        wakes.wake();
        out
    }

    /// A [`Get`] future registered as `id` is dropped.
    fn drop_get(&self, id: u64) {
        let mut wakes = Wakes::default();
        let stale = {
            let mut s = lock(&self.state);
            let stale = s.getters.remove(&id);
            if stale.is_none() {
                if let Some(entry) = s.owed.remove(&id) {
                    // Handed to us but never picked up: pass it on.
                    s.route(entry, &mut wakes);
                }
            }
            stale
        };
        drop(stale);
        wakes.wake();
    }

    fn poll_put(
        &self,
        st: &mut PutState<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), PutError<T>>> {
        let mut wakes = Wakes::default();
        let out = {
            let mut s = lock(&self.state);
            match std::mem::replace(st, PutState::Done) {
                PutState::Init(item) => {
                    if s.shutdown {
                        Poll::Ready(Err(PutError::ShutDown(item)))
                    } else if s.is_full() || !s.putters.is_empty() {
                        let id = s.new_id();
                        let waker = cx.waker().clone();
                        s.putters.insert(id, Putter { item, waker });
                        *st = PutState::Waiting(id);
                        Poll::Pending
                    } else {
                        s.enqueue(item, &mut wakes);
                        Poll::Ready(Ok(()))
                    }
                }
                PutState::Waiting(id) => {
                    if let Some(p) = s.putters.get_mut(&id) {
                        if !p.waker.will_wake(cx.waker()) {
                            p.waker = cx.waker().clone();
                        }
                        *st = PutState::Waiting(id);
                        Poll::Pending
                    } else if let Some(item) = s.rejected.remove(&id) {
                        Poll::Ready(Err(PutError::ShutDown(item)))
                    } else {
                        // Admitted: the item is in the queue.
                        Poll::Ready(Ok(()))
                    }
                }
                PutState::Done => panic!("Put future polled after completion"),
            }
        };
        wakes.wake();
        out
    }

    /// A [`Put`] future registered as `id` is dropped.
    fn drop_put(&self, id: u64) {
        let (putter, rejected) = {
            let mut s = lock(&self.state);
            let putter = s.putters.remove(&id);
            let rejected = if putter.is_none() {
                s.rejected.remove(&id)
            } else {
                None
            };
            (putter, rejected)
        };
        // Outside the lock: the item's destructor is user code.
        drop(putter);
        drop(rejected);
    }

    fn task_done(&self) -> Result<(), TaskDoneError> {
        let all_done = {
            let mut s = lock(&self.state);
            if s.unfinished == 0 {
                return Err(TaskDoneError);
            }
            s.unfinished -= 1;
            s.unfinished == 0
        };
        if all_done {
            self.all_done.notify(usize::MAX);
        }
        Ok(())
    }

    fn unfinished(&self) -> usize {
        lock(&self.state).unfinished
    }

    async fn join(&self) {
        loop {
            if self.unfinished() == 0 {
                return;
            }
            let listener = self.all_done.listen();
            // Checked again after listening: a notification sent in between
            // reaches the listener, one sent before is seen here.
            if self.unfinished() == 0 {
                return;
            }
            listener.await;
        }
    }

    fn shutdown(&self, immediate: bool) {
        let mut wakes = Wakes::default();
        let mut dropped = Vec::new();
        let all_done = {
            let mut s = lock(&self.state);
            s.shutdown = true;
            // Blocked putters fail and get their items back.
            while let Some((id, putter)) = s.putters.pop_first() {
                s.rejected.insert(id, putter.item);
                wakes.push(putter.waker);
            }
            // Blocked getters wake up to find the queue empty (invariant 1)
            // and fail, or, in graceful mode, take what is still there.
            while let Some((_, waker)) = s.getters.pop_first() {
                wakes.push(waker);
            }
            if immediate {
                s.store.drain_into(&mut dropped);
                // Items handed to getters that have not picked them up yet
                // are taken back too: those getters fail, as in asyncio.
                let owed = std::mem::take(&mut s.owed);
                dropped.extend(owed.into_values().map(|e| e.item));
                let was = s.unfinished;
                s.unfinished = was.saturating_sub(dropped.len());
                was != 0 && s.unfinished == 0
            } else {
                false
            }
        };
        drop(dropped);
        wakes.wake();
        if all_done {
            self.all_done.notify(usize::MAX);
        }
    }

    fn fmt_fields(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = lock(&self.state);
        f.debug_struct(name)
            .field("qsize", &s.qsize())
            .field("maxsize", &s.maxsize)
            .field("unfinished", &s.unfinished)
            .field("shutdown", &s.shutdown)
            .field("waiting_getters", &s.getters.len())
            .field("waiting_putters", &s.putters.len())
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Futures.

/// The future of [`Queue::get`], [`PriorityQueue::get`] and
/// [`LifoQueue::get`]: the next item, or [`GetError::ShutDown`].
///
/// # Cancel safety
///
/// Cancel-safe. Dropped before an item was handed to it, it leaves the line
/// of waiting getters and nothing else changes. Dropped after an item was
/// handed to it but before returning it, the item goes to the next waiting
/// getter, or back into the queue where it was (the head of a `Queue`), so
/// no item is lost or reordered.
///
/// # Panics
///
/// Polling it again after it returned its output panics.
///
/// # Examples
///
/// ```
/// use corio_sync::Queue;
///
/// let q = Queue::new(0);
/// q.put_nowait('a').unwrap();
/// let get = q.get(); // a `Get<'_, char>`
/// assert_eq!(futures_lite::future::block_on(get), Ok('a'));
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Get<'a, T> {
    core: &'a Core<T>,
    state: GetState,
}

impl<T> Future for Get<'_, T> {
    type Output = Result<T, GetError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(
            !matches!(this.state, GetState::Done),
            "Get future polled after completion"
        );
        this.core.poll_get(&mut this.state, cx)
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        if let GetState::Waiting(id) = self.state {
            self.core.drop_get(id);
        }
    }
}

impl<T> fmt::Debug for Get<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").field("state", &self.state).finish()
    }
}

/// The future of [`Queue::put`], [`PriorityQueue::put`] and
/// [`LifoQueue::put`]: waits for a free slot and puts the item in.
///
/// # Cancel safety
///
/// Dropped before its item was admitted into the queue, the future leaves the
/// line of waiting putters and the item is dropped with it: nothing enters
/// the queue. Once the item was admitted (a slot freed up while the future
/// waited), it is in the queue and stays there even if the future is dropped
/// before it reports `Ok(())`. To keep the item on cancellation, use
/// [`Queue::put_nowait`] instead, which hands it back.
///
/// # Panics
///
/// Polling it again after it returned its output panics.
///
/// # Examples
///
/// ```
/// use corio_sync::Queue;
///
/// let q = Queue::new(1);
/// let put = q.put(1); // a `Put<'_, i32>`
/// futures_lite::future::block_on(put).unwrap();
/// assert_eq!(q.qsize(), 1);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Put<'a, T> {
    core: &'a Core<T>,
    state: PutState<T>,
}

// The item is never pinned: it moves into the queue by value.
impl<T> Unpin for Put<'_, T> {}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.core.poll_put(&mut this.state, cx)
    }
}

impl<T> Drop for Put<'_, T> {
    fn drop(&mut self) {
        if let PutState::Waiting(id) = self.state {
            self.core.drop_put(id);
        }
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            PutState::Init(_) => "init",
            PutState::Waiting(_) => "waiting",
            PutState::Done => "done",
        };
        f.debug_struct("Put").field("state", &state).finish()
    }
}

// ---------------------------------------------------------------------------
// The three public kinds.

/// A FIFO queue for async tasks; asyncio's `Queue`.
///
/// Items come out in the order they were put in. With a `maxsize` greater than
/// zero, [`put`](Queue::put) waits while the queue holds that many items.
/// Both waiting getters and waiting putters are served strictly first come,
/// first served: a [`get_nowait`](Queue::get_nowait) never takes an item an
/// already-waiting getter is owed, and a [`put_nowait`](Queue::put_nowait)
/// never takes a slot a waiting putter is owed.
///
/// Like asyncio's, the queue counts *unfinished* items: every item put in
/// adds one, every [`task_done`](Queue::task_done) removes one, and
/// [`join`](Queue::join) waits for zero. [`shutdown`](Queue::shutdown) works
/// as in Python 3.13.
///
/// `Queue<T>` is `Send` and `Sync` when `T: Send`; share it between tasks and
/// threads with an `Arc` (or by reference in scoped tasks). It needs no
/// particular runtime.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::Queue;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// let sum = ex.block_on(async {
///     let q = Arc::new(Queue::new(2));
///     let consumer = corio_executor::spawn({
///         let q = q.clone();
///         async move {
///             let mut sum = 0;
///             while let Ok(n) = q.get().await {
///                 sum += n;
///                 q.task_done().unwrap();
///             }
///             sum
///         }
///     });
///     for n in 1..=10 {
///         q.put(n).await.unwrap();
///     }
///     q.join().await; // every item processed
///     q.shutdown(false); // the consumer's next get fails
///     consumer.await.unwrap()
/// });
/// assert_eq!(sum, 55);
/// ```
pub struct Queue<T> {
    core: Core<T>,
}

impl<T> Queue<T> {
    /// Creates a FIFO queue holding at most `maxsize` items; `0` means
    /// unbounded; like `asyncio.Queue(maxsize)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = corio_sync::Queue::new(0);
    /// q.put_nowait("first").unwrap();
    /// q.put_nowait("second").unwrap();
    /// assert_eq!(q.get_nowait(), Ok("first"));
    /// assert_eq!(q.get_nowait(), Ok("second"));
    /// ```
    pub fn new(maxsize: usize) -> Queue<T> {
        Queue {
            core: Core::new(Store::fifo(), maxsize),
        }
    }
}

/// A queue that hands out its smallest item first; asyncio's
/// `PriorityQueue`.
///
/// Items are ordered by [`Ord`], smallest first; equal items come out in the
/// order they were put in. Put `(priority, payload)` tuples to order payloads
/// by priority. Everything else (maxsize, fairness among waiters,
/// `task_done`/`join`, `shutdown`, cancellation) is as for [`Queue`].
///
/// An item put while getters are waiting goes straight to the first of them
/// (the queue is empty then, so it is the smallest), even if a smaller item
/// arrives before that getter runs.
///
/// `PriorityQueue<T>` is `Send` and `Sync` when `T: Send`.
///
/// # Examples
///
/// ```
/// use corio_sync::PriorityQueue;
///
/// let q = PriorityQueue::new(0);
/// q.put_nowait((2, "write")).unwrap();
/// q.put_nowait((1, "read")).unwrap();
/// q.put_nowait((3, "close")).unwrap();
/// let order: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).map(|(_, s)| s).collect();
/// assert_eq!(order, ["read", "write", "close"]);
/// ```
pub struct PriorityQueue<T> {
    core: Core<T>,
}

impl<T: Ord> PriorityQueue<T> {
    /// Creates a smallest-first queue holding at most `maxsize` items; `0`
    /// means unbounded; like `asyncio.PriorityQueue(maxsize)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = corio_sync::PriorityQueue::new(0);
    /// for n in [5, 1, 4] {
    ///     q.put_nowait(n).unwrap();
    /// }
    /// assert_eq!(q.get_nowait(), Ok(1));
    /// assert_eq!(q.get_nowait(), Ok(4));
    /// ```
    pub fn new(maxsize: usize) -> PriorityQueue<T> {
        PriorityQueue {
            core: Core::new(Store::priority(), maxsize),
        }
    }
}

/// A last-in, first-out queue (a stack); asyncio's `LifoQueue`.
///
/// The item put in last comes out first. Everything else (maxsize, fairness
/// among waiters, `task_done`/`join`, `shutdown`, cancellation) is as for
/// [`Queue`].
///
/// `LifoQueue<T>` is `Send` and `Sync` when `T: Send`.
///
/// # Examples
///
/// ```
/// use corio_sync::LifoQueue;
///
/// let q = LifoQueue::new(0);
/// for n in 1..=3 {
///     q.put_nowait(n).unwrap();
/// }
/// assert_eq!(q.get_nowait(), Ok(3));
/// assert_eq!(q.get_nowait(), Ok(2));
/// ```
pub struct LifoQueue<T> {
    core: Core<T>,
}

impl<T> LifoQueue<T> {
    /// Creates a last-in, first-out queue holding at most `maxsize` items;
    /// `0` means unbounded; like `asyncio.LifoQueue(maxsize)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = corio_sync::LifoQueue::new(0);
    /// q.put_nowait('a').unwrap();
    /// q.put_nowait('b').unwrap();
    /// assert_eq!(q.get_nowait(), Ok('b'));
    /// ```
    pub fn new(maxsize: usize) -> LifoQueue<T> {
        LifoQueue {
            core: Core::new(Store::lifo(), maxsize),
        }
    }
}

/// The methods all three kinds share, documented once per kind with examples
/// that name the kind.
macro_rules! queue_methods {
    ($Kind:ident) => {
        impl<T> $Kind<T> {
            /// Puts `item` into the queue, waiting for a free slot if it is
            /// full; like asyncio's `await queue.put(item)`.
            ///
            /// Waiting putters are admitted in the order they started
            /// waiting. Once in, the item counts as unfinished until a
            /// matching [`task_done`](Self::task_done).
            ///
            /// # Errors
            ///
            /// [`PutError::ShutDown`] with the item when the queue is shut
            /// down, before or while waiting. (`PutError::Full` is only
            /// returned by [`put_nowait`](Self::put_nowait).)
            ///
            /// # Cancel safety
            ///
            /// Dropped before its item was admitted, the future takes its
            /// place out of the line and the item is dropped with it; nothing
            /// enters the queue. Once admitted, the item stays in the queue
            /// even if the future is dropped before reporting success. Use
            /// [`put_nowait`](Self::put_nowait) to keep the item when there
            /// is no room.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use corio_sync::", stringify!($Kind), ";")]
            ///
            /// futures_lite::future::block_on(async {
            #[doc = concat!("    let q = ", stringify!($Kind), "::new(1);")]
            ///     q.put(7).await.unwrap();
            ///     assert!(q.full());
            ///     q.shutdown(false);
            ///     assert_eq!(q.put(8).await.unwrap_err().into_inner(), 8);
            /// });
            /// ```
            pub fn put(&self, item: T) -> Put<'_, T> {
                Put {
                    core: &self.core,
                    state: PutState::Init(item),
                }
            }

            /// Takes the next item, waiting for one if the queue is empty;
            /// like asyncio's `await queue.get()`.
            ///
            /// Waiting getters are served in the order they started waiting.
            ///
            /// # Errors
            ///
            /// [`GetError::ShutDown`] once the queue is shut down and has no
            /// item left for this getter. (`GetError::Empty` is only returned
            /// by [`get_nowait`](Self::get_nowait).)
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe: no item is lost. Dropped while waiting, the
            /// getter leaves the line. Dropped after an item was handed to
            /// it, the item goes to the next waiting getter or back into the
            /// queue, in its original place.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use corio_sync::{", stringify!($Kind), ", GetError};")]
            ///
            /// futures_lite::future::block_on(async {
            #[doc = concat!("    let q = ", stringify!($Kind), "::new(0);")]
            ///     q.put(1).await.unwrap();
            ///     assert_eq!(q.get().await, Ok(1));
            ///     q.shutdown(false);
            ///     assert_eq!(q.get().await, Err(GetError::ShutDown));
            /// });
            /// ```
            pub fn get(&self) -> Get<'_, T> {
                Get {
                    core: &self.core,
                    state: GetState::Init,
                }
            }

            /// Puts `item` into the queue if there is a free slot right now;
            /// like asyncio's `queue.put_nowait(item)`.
            ///
            /// A slot that a waiting putter is owed is not free.
            ///
            /// # Errors
            ///
            /// Hands the item back: [`PutError::Full`] when there is no free
            /// slot (asyncio's `QueueFull`), [`PutError::ShutDown`] when the
            /// queue is shut down (`QueueShutDown`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use corio_sync::{", stringify!($Kind), ", PutError};")]
            ///
            #[doc = concat!("let q = ", stringify!($Kind), "::new(1);")]
            /// assert_eq!(q.put_nowait(1), Ok(()));
            /// assert_eq!(q.put_nowait(2), Err(PutError::Full(2)));
            /// q.shutdown(false);
            /// assert_eq!(q.put_nowait(3), Err(PutError::ShutDown(3)));
            /// ```
            pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
                self.core.put_nowait(item)
            }

            /// Takes the next item if one is available right now; like
            /// asyncio's `queue.get_nowait()`.
            ///
            /// An item that was already handed to a waiting getter is not
            /// available, although it still counts in [`qsize`](Self::qsize)
            /// until that getter takes it.
            ///
            /// # Errors
            ///
            /// [`GetError::Empty`] when no item is available (asyncio's
            /// `QueueEmpty`); [`GetError::ShutDown`] when none is and the
            /// queue is shut down (`QueueShutDown`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use corio_sync::{", stringify!($Kind), ", GetError};")]
            ///
            #[doc = concat!("let q = ", stringify!($Kind), "::new(0);")]
            /// assert_eq!(q.get_nowait(), Err(GetError::Empty));
            /// q.put_nowait(5).unwrap();
            /// q.shutdown(false); // graceful: what is left can still be taken
            /// assert_eq!(q.get_nowait(), Ok(5));
            /// assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
            /// ```
            pub fn get_nowait(&self) -> Result<T, GetError> {
                self.core.get_nowait()
            }

            /// The number of items in the queue; like asyncio's
            /// `queue.qsize()`.
            ///
            /// Items handed to a waiting getter that has not run yet still
            /// count, as in asyncio. Waiting putters' items do not.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($Kind), "::new(0);")]
            /// q.put_nowait(1).unwrap();
            /// q.put_nowait(2).unwrap();
            /// assert_eq!(q.qsize(), 2);
            /// ```
            pub fn qsize(&self) -> usize {
                lock(&self.core.state).qsize()
            }

            /// Returns `true` if [`qsize`](Self::qsize) is zero; like
            /// asyncio's `queue.empty()`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($Kind), "::new(0);")]
            /// assert!(q.empty());
            /// q.put_nowait(1).unwrap();
            /// assert!(!q.empty());
            /// ```
            pub fn empty(&self) -> bool {
                self.qsize() == 0
            }

            /// Returns `true` if the queue is bounded and holds `maxsize`
            /// items; like asyncio's `queue.full()`.
            ///
            /// An unbounded queue (`maxsize == 0`) is never full.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($Kind), "::new(1);")]
            /// assert!(!q.full());
            /// q.put_nowait(1).unwrap();
            /// assert!(q.full());
            /// ```
            pub fn full(&self) -> bool {
                lock(&self.core.state).is_full()
            }

            /// The most items the queue holds, `0` meaning unbounded; like
            /// asyncio's `queue.maxsize`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($Kind), "::<u8>::new(8);")]
            /// assert_eq!(q.maxsize(), 8);
            /// ```
            pub fn maxsize(&self) -> usize {
                lock(&self.core.state).maxsize
            }

            /// Says that one item taken from the queue has been processed;
            /// like asyncio's `queue.task_done()`.
            ///
            /// Each call lowers the count of unfinished items by one; when it
            /// reaches zero, every [`join`](Self::join) returns.
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`] when called more times than items were put
            /// in (asyncio raises `ValueError`); the count is left at zero.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($Kind), "::new(0);")]
            /// q.put_nowait(1).unwrap();
            /// assert_eq!(q.get_nowait(), Ok(1));
            /// assert!(q.task_done().is_ok());
            /// assert!(q.task_done().is_err());
            /// ```
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Waits until every item put in has been marked done with
            /// [`task_done`](Self::task_done); like asyncio's
            /// `await queue.join()`.
            ///
            /// It waits on the count of unfinished items, not on emptiness:
            /// an item taken out but not yet marked done still holds it. An
            /// immediate [`shutdown`](Self::shutdown) marks the items it drops
            /// as done. Returns at once if nothing is unfinished.
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe: it only observes the count; dropping it midway
            /// changes nothing and a new `join()` may be started any time.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($Kind), "::new(0);")]
            /// q.put_nowait(1).unwrap();
            /// q.get_nowait().unwrap(); // empty now, but not done
            /// assert!(futures_lite::future::block_on(
            ///     futures_lite::future::poll_once(q.join())
            /// ).is_none());
            /// q.task_done().unwrap();
            /// futures_lite::future::block_on(q.join());
            /// ```
            pub async fn join(&self) {
                self.core.join().await
            }

            /// Shuts the queue down; like Python 3.13's
            /// `queue.shutdown(immediate)`.
            ///
            /// From now on every put fails with `ShutDown` and hands its item
            /// back, and so does every putter that was waiting.
            ///
            /// * `immediate == false` (graceful): gets go on taking the items
            ///   left, then fail with [`GetError::ShutDown`]; getters that
            ///   were waiting (so the queue was empty) fail at once.
            /// * `immediate == true`: the items left (including any handed to
            ///   a getter that has not taken it yet) are dropped and count as
            ///   done, so [`join`](Self::join) wakes once nothing else is
            ///   unfinished; every waiting getter fails.
            ///
            /// Calling it again is allowed; `shutdown(true)` after
            /// `shutdown(false)` drops what was left.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use corio_sync::{", stringify!($Kind), ", GetError};")]
            ///
            #[doc = concat!("let q = ", stringify!($Kind), "::new(0);")]
            /// q.put_nowait(1).unwrap();
            /// q.shutdown(true);
            /// assert_eq!(q.qsize(), 0);
            /// assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
            /// futures_lite::future::block_on(q.join()); // the dropped item counts as done
            /// ```
            pub fn shutdown(&self, immediate: bool) {
                self.core.shutdown(immediate)
            }

            /// Returns `true` once [`shutdown`](Self::shutdown) was called.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($Kind), "::<u8>::new(0);")]
            /// assert!(!q.is_shutdown());
            /// q.shutdown(false);
            /// assert!(q.is_shutdown());
            /// ```
            pub fn is_shutdown(&self) -> bool {
                lock(&self.core.state).shutdown
            }
        }

        impl<T> fmt::Debug for $Kind<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.core.fmt_fields(stringify!($Kind), f)
            }
        }
    };
}

queue_methods!(Queue);
queue_methods!(PriorityQueue);
queue_methods!(LifoQueue);

// ---------------------------------------------------------------------------
// Errors.

/// Why a put failed; hands the item back.
///
/// # Examples
///
/// ```
/// use corio_sync::{PutError, Queue};
///
/// let q = Queue::new(1);
/// q.put_nowait("a").unwrap();
/// let err = q.put_nowait("b").unwrap_err();
/// assert!(matches!(err, PutError::Full("b")));
/// assert!(err.is_full());
/// assert_eq!(err.to_string(), "the queue is full");
/// assert_eq!(err.into_inner(), "b");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutError<T> {
    /// The queue has no free slot (asyncio's `QueueFull`); only from
    /// `put_nowait`.
    Full(T),
    /// The queue was shut down (asyncio's `QueueShutDown`).
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that could not be put.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = corio_sync::PutError::ShutDown(3);
    /// assert_eq!(err.into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }

    /// Returns `true` if the queue was full.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(corio_sync::PutError::Full(()).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, PutError::Full(_))
    }

    /// Returns `true` if the queue was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(corio_sync::PutError::ShutDown(()).is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        matches!(self, PutError::ShutDown(_))
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("the queue is full"),
            PutError::ShutDown(_) => f.write_str("the queue is shut down"),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

/// Why a get failed.
///
/// # Examples
///
/// ```
/// use corio_sync::{GetError, Queue};
///
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.get_nowait(), Err(GetError::Empty));
/// q.shutdown(false);
/// assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
/// assert_eq!(GetError::ShutDown.to_string(), "the queue is shut down");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GetError {
    /// No item is available (asyncio's `QueueEmpty`); only from `get_nowait`.
    Empty,
    /// The queue was shut down and has no item left for this getter
    /// (asyncio's `QueueShutDown`).
    ShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("the queue is empty"),
            GetError::ShutDown => f.write_str("the queue is shut down"),
        }
    }
}

impl std::error::Error for GetError {}

/// `task_done()` was called more times than items were put in the queue;
/// asyncio raises `ValueError` there.
///
/// # Examples
///
/// ```
/// use corio_sync::{Queue, TaskDoneError};
///
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.task_done(), Err(TaskDoneError));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were put in the queue")
    }
}

impl std::error::Error for TaskDoneError {}
