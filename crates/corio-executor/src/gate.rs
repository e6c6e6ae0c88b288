//! The injector queue behind a close flag: the hand-off between a schedule
//! racing with the executor's shutdown.
//!
//! `push` publishes the item, then re-reads the flag; `close` sets the flag,
//! then the closer drains. A `SeqCst` fence between the write and the read on
//! each side (the queue's own operations are only acquire/release) makes at
//! least one of them see the other's write: either the closer's drain finds the item, or
//! the pusher sees the flag and drains the queue itself. No item is left in
//! a closed queue, where nobody would ever drop it (a leaked task would keep
//! its executor's state alive through its schedule function).

use concurrent_queue::ConcurrentQueue;

use crate::sync::{fence, AtomicBool, Ordering::SeqCst};

/// An unbounded queue that drops what is pushed after it closes.
/// What a closed gate does with an item pushed or drained.
pub(crate) type Discard<T> = Box<dyn Fn(T) + Send + Sync>;

pub(crate) struct Gate<T> {
    queue: ConcurrentQueue<T>,
    closed: AtomicBool,
    /// How an item is disposed of when the gate is closed.
    discard: Discard<T>,
}

impl<T> std::fmt::Debug for Gate<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("len", &self.queue.len())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl<T> Gate<T> {
    pub(crate) fn new(discard: Discard<T>) -> Gate<T> {
        Gate {
            queue: ConcurrentQueue::unbounded(),
            closed: AtomicBool::new(false),
            discard,
        }
    }

    /// Whether [`close`](Gate::close) has been called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(SeqCst)
    }

    /// Queues `item`; returns `false` (having dropped it) once closed.
    pub(crate) fn push(&self, item: T) -> bool {
        if self.is_closed() {
            (self.discard)(item);
            return false;
        }
        if let Err(e) = self.queue.push(item) {
            (self.discard)(e.into_inner());
            return false;
        }
        fence(SeqCst);
        if self.is_closed() {
            // Closed while we pushed: the closer may have drained already.
            self.drain();
            return false;
        }
        true
    }

    pub(crate) fn pop(&self) -> Option<T> {
        self.queue.pop().ok()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Closes the gate; later pushes drop their item.
    pub(crate) fn close(&self) {
        self.closed.store(true, SeqCst);
        fence(SeqCst);
    }

    /// Discards every queued item; returns how many.
    pub(crate) fn drain(&self) -> usize {
        let mut n = 0;
        while let Ok(item) = self.queue.pop() {
            (self.discard)(item);
            n += 1;
        }
        n
    }
}
