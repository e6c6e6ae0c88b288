//! The FIFO wait list under every primitive of this crate that parks tasks.
//!
//! # Design
//!
//! [`Waiters`] is a doubly linked list threaded through a slab: a `Vec` of
//! nodes addressed by index, with `prev`/`next` indices and a free list of
//! vacant nodes. Push, pop-front and removal from the middle are O(1), and
//! once the slab has grown to the peak number of simultaneous waiters no wait
//! allocates again.
//!
//! A node belongs to exactly one waiting future from [`Waiters::push`] until
//! that future calls [`Waiters::remove`] (when it completes or is dropped):
//! the key it was given stays valid for that whole time, even after the node
//! left the linked list because it was granted or closed. So the owner of a
//! primitive can hand something to a waiter (`Granted`) and the waiter finds
//! it there later, or, if it was dropped first, its `Drop` sees the grant and
//! passes it on. That is how every primitive here stays cancel-safe.
//!
//! Invariants (all under the primitive's `crate::sync::Mutex`):
//! - a node is *linked* (in FIFO order between `head` and `tail`) iff its
//!   state is [`State::Waiting`];
//! - a node is *vacant* (on the free list) iff no future holds its key;
//! - `len` counts the linked nodes.
//!
//! Wakers are never woken while the mutex is held: the granting side moves
//! them into a [`WakeList`], drops the guard, then wakes them.

use std::task::Waker;

/// "No node": the end of a list.
const NIL: usize = usize::MAX;

/// What happened to a waiter, as its future will find it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Linked in the queue, nothing received yet.
    Waiting,
    /// Unlinked: the primitive handed the waiter what it waited for.
    Granted,
    /// Unlinked: the primitive was closed (or broken) under the waiter.
    Closed,
}

#[derive(Debug)]
struct Node {
    prev: usize,
    next: usize,
    state: State,
    waker: Option<Waker>,
    /// Free for the primitive's use (permits still needed, arrival index...).
    data: usize,
    /// Whether a future owns this node (false on the free list).
    occupied: bool,
}

/// A FIFO list of parked waiters; see the module docs.
#[derive(Debug)]
pub(crate) struct Waiters {
    nodes: Vec<Node>,
    head: usize,
    tail: usize,
    free: usize,
    len: usize,
}

impl Waiters {
    /// An empty list; allocates nothing.
    pub(crate) const fn new() -> Waiters {
        Waiters {
            nodes: Vec::new(),
            head: NIL,
            tail: NIL,
            free: NIL,
            len: 0,
        }
    }

    /// Whether no waiter is linked (waiting).
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many waiters are linked (waiting).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Links a new waiter at the back and returns its key.
    pub(crate) fn push(&mut self, waker: Option<Waker>, data: usize) -> usize {
        let node = Node {
            prev: self.tail,
            next: NIL,
            state: State::Waiting,
            waker,
            data,
            occupied: true,
        };
        let key = if self.free != NIL {
            let key = self.free;
            self.free = self.nodes[key].next;
            self.nodes[key] = node;
            key
        } else {
            self.nodes.push(node);
            self.nodes.len() - 1
        };
        if self.tail == NIL {
            self.head = key;
        } else {
            self.nodes[self.tail].next = key;
        }
        self.tail = key;
        self.len += 1;
        key
    }

    /// The key of the first waiting node, if any.
    pub(crate) fn head(&self) -> Option<usize> {
        (self.head != NIL).then_some(self.head)
    }

    /// The primitive's datum of node `key`.
    pub(crate) fn data(&self, key: usize) -> usize {
        self.nodes[key].data
    }

    /// Sets the primitive's datum of node `key`.
    pub(crate) fn set_data(&mut self, key: usize, data: usize) {
        self.nodes[key].data = data;
    }

    /// The state of node `key`.
    pub(crate) fn state(&self, key: usize) -> State {
        debug_assert!(self.nodes[key].occupied);
        self.nodes[key].state
    }

    /// Stores `waker` in node `key`, cloning only if it would wake another task.
    pub(crate) fn set_waker(&mut self, key: usize, waker: &Waker) {
        let slot = &mut self.nodes[key].waker;
        match slot {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    fn unlink(&mut self, key: usize) {
        let (prev, next) = (self.nodes[key].prev, self.nodes[key].next);
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next].prev = prev;
        }
        self.len -= 1;
    }

    /// Unlinks the first waiting node, gives it `state` (`Granted` or
    /// `Closed`) and returns its waker, to be woken once the mutex is released.
    /// `None` when nobody waits.
    pub(crate) fn pop_front(&mut self, state: State) -> Option<Option<Waker>> {
        let key = self.head()?;
        self.unlink(key);
        let node = &mut self.nodes[key];
        node.state = state;
        Some(node.waker.take())
    }

    /// Unlinks every waiting node, gives each `state`, and moves their wakers
    /// into `wakers`, to be woken once the mutex is released.
    pub(crate) fn drain_into(&mut self, state: State, wakers: &mut WakeList) {
        while let Some(waker) = self.pop_front(state) {
            wakers.push(waker);
        }
    }

    /// Frees node `key` (unlinking it if it is still waiting) and returns the
    /// state and datum it had. The key is invalid afterwards.
    pub(crate) fn remove(&mut self, key: usize) -> (State, usize) {
        debug_assert!(self.nodes[key].occupied);
        let state = self.nodes[key].state;
        if state == State::Waiting {
            self.unlink(key);
        }
        let node = &mut self.nodes[key];
        node.occupied = false;
        node.waker = None;
        node.next = self.free;
        self.free = key;
        (state, node.data)
    }
}

/// Wakers collected under a mutex, woken after it is released.
///
/// Holds up to [`WakeList::CAPACITY`] wakers inline. Callers on hot paths
/// check [`WakeList::is_full`] and, when full, release their guard, wake, and
/// lock again; others just [`push`](WakeList::push), which spills into a
/// `Vec` past the inline capacity (an allocation only when more than
/// `CAPACITY` tasks are woken at once).
pub(crate) struct WakeList {
    wakers: [Option<Waker>; WakeList::CAPACITY],
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    pub(crate) const CAPACITY: usize = 16;

    pub(crate) fn new() -> WakeList {
        WakeList {
            wakers: [const { None }; WakeList::CAPACITY],
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Whether the inline slots are all used.
    pub(crate) fn is_full(&self) -> bool {
        self.len == Self::CAPACITY
    }

    /// Adds a waker (nodes pushed without one give `None`, which is skipped).
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            if self.is_full() {
                self.spill.push(w);
            } else {
                self.wakers[self.len] = Some(w);
                self.len += 1;
            }
        }
    }

    /// Wakes every collected waker; call with no lock held.
    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            if let Some(w) = slot.take() {
                w.wake();
            }
        }
        self.len = 0;
        for w in self.spill.drain(..) {
            w.wake();
        }
    }
}

impl std::fmt::Debug for WakeList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WakeList").field("len", &self.len).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_remove_and_reuse() {
        let mut w = Waiters::new();
        let a = w.push(None, 1);
        let b = w.push(None, 2);
        let c = w.push(None, 3);
        assert_eq!(w.len(), 3);
        // Remove from the middle.
        assert_eq!(w.remove(b), (State::Waiting, 2));
        assert_eq!(w.head(), Some(a));
        assert_eq!(w.pop_front(State::Granted).map(|_| ()), Some(()));
        assert_eq!(w.state(a), State::Granted);
        assert_eq!(w.head(), Some(c));
        // A granted node keeps its key until removed.
        assert_eq!(w.remove(a), (State::Granted, 1));
        // Freed nodes are reused: no growth.
        let d = w.push(None, 4);
        let e = w.push(None, 5);
        assert!(d == a || d == b);
        assert!(e == a || e == b);
        assert_eq!(w.nodes.len(), 3);
        assert_eq!(w.head(), Some(c));
        w.pop_front(State::Closed);
        assert_eq!(w.head(), Some(d));
        w.pop_front(State::Granted);
        assert_eq!(w.head(), Some(e));
        w.pop_front(State::Granted);
        assert!(w.is_empty());
        assert_eq!(w.head(), None);
    }
}
