//! The three orders a queue keeps its items in, behind one interface.
//!
//! Every item carries the sequence number it got when it entered the queue.
//! [`Store::reinsert`] puts an item that was handed to a getter (who then went
//! away) back exactly where it would be had it never left, so a cancelled
//! getter never reorders the queue.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// An item and its place in insertion order.
pub(super) struct Entry<T> {
    pub(super) seq: u64,
    pub(super) item: T,
}

/// A [`BinaryHeap`] element ordered smallest-first by `(item, seq)`.
///
/// The comparison is a function pointer captured where `T: Ord` is known
/// (`PriorityQueue::new`), so that the queue core, and its futures, need no
/// `Ord` bound.
pub(super) struct Ranked<T> {
    entry: Entry<T>,
    cmp: fn(&T, &T) -> Ordering,
}

impl<T> Ord for Ranked<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap pops its greatest element and we want the
        // smallest item, and among equal items the one that came first.
        (self.cmp)(&other.entry.item, &self.entry.item)
            .then_with(|| other.entry.seq.cmp(&self.entry.seq))
    }
}

impl<T> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> PartialEq for Ranked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T> Eq for Ranked<T> {}

/// The items of a queue, in the order its kind takes them out.
pub(super) enum Store<T> {
    /// `Queue`: ascending `seq`, taken from the front.
    Fifo(VecDeque<Entry<T>>),
    /// `LifoQueue`: ascending `seq`, taken from the back.
    Lifo(Vec<Entry<T>>),
    /// `PriorityQueue`: smallest item first, ties by `seq`.
    Priority {
        heap: BinaryHeap<Ranked<T>>,
        cmp: fn(&T, &T) -> Ordering,
    },
}

impl<T> Store<T> {
    pub(super) fn fifo() -> Store<T> {
        Store::Fifo(VecDeque::new())
    }

    pub(super) fn lifo() -> Store<T> {
        Store::Lifo(Vec::new())
    }

    pub(super) fn priority() -> Store<T>
    where
        T: Ord,
    {
        Store::Priority {
            heap: BinaryHeap::new(),
            cmp: T::cmp,
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Store::Fifo(q) => q.len(),
            Store::Lifo(v) => v.len(),
            Store::Priority { heap, .. } => heap.len(),
        }
    }

    /// Adds a new entry, whose `seq` is greater than every stored one.
    pub(super) fn push(&mut self, entry: Entry<T>) {
        match self {
            Store::Fifo(q) => q.push_back(entry),
            Store::Lifo(v) => v.push(entry),
            Store::Priority { heap, cmp } => heap.push(Ranked { entry, cmp: *cmp }),
        }
    }

    /// Puts back an entry taken out earlier, where it would be had it stayed.
    pub(super) fn reinsert(&mut self, entry: Entry<T>) {
        match self {
            Store::Fifo(q) => {
                let at = q.partition_point(|e| e.seq < entry.seq);
                q.insert(at, entry);
            }
            Store::Lifo(v) => {
                let at = v.partition_point(|e| e.seq < entry.seq);
                v.insert(at, entry);
            }
            Store::Priority { heap, cmp } => heap.push(Ranked { entry, cmp: *cmp }),
        }
    }

    /// Takes out the entry this kind of queue serves next.
    pub(super) fn pop(&mut self) -> Option<Entry<T>> {
        match self {
            Store::Fifo(q) => q.pop_front(),
            Store::Lifo(v) => v.pop(),
            Store::Priority { heap, .. } => heap.pop().map(|r| r.entry),
        }
    }

    /// Takes out every item, appending them to `out`.
    pub(super) fn drain_into(&mut self, out: &mut Vec<T>) {
        match self {
            Store::Fifo(q) => out.extend(q.drain(..).map(|e| e.item)),
            Store::Lifo(v) => out.extend(v.drain(..).map(|e| e.item)),
            Store::Priority { heap, .. } => out.extend(heap.drain().map(|r| r.entry.item)),
        }
    }
}
