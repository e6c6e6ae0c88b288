//! A set of futures polled only when woken: the engine under [`gather`],
//! [`wait`], [`as_completed`] and [`race`].
//!
//! # Design
//!
//! Each member future `i` is polled with its own waker, a [`SlotWaker`] that
//! records `i` in a shared ready queue and wakes the set's owner. When the
//! owner is polled it drains that queue and polls only the members it names,
//! so a set of `n` futures costs O(woken) per wake-up instead of O(n), like
//! `FuturesUnordered`.
//!
//! Invariants (all under the one mutex of [`Shared`]):
//!
//! * `queued[i]` is true exactly when `i` is in `queue`, so the queue never
//!   holds more than `n` entries.
//! * `owner` is `Some` only while `queue` is empty: the owner stores its waker
//!   and checks the queue under the same lock, and a member's wake that
//!   pushes an index takes the owner's waker and wakes it. So a wake-up that
//!   arrives after the owner looked at the queue always wakes the owner, and
//!   no wake-up is lost.
//!
//! Indices the owner drained but did not get to poll (its [`coop`] budget ran
//! out) stay in a private list and are polled first next time. An index may
//! be polled once more than needed (it was woken again while in that list);
//! a spurious poll of a future is harmless, and finished members are skipped.
//!
//! [`gather`]: fn@crate::gather
//! [`wait`]: fn@crate::wait
//! [`as_completed`]: fn@crate::as_completed
//! [`race`]: fn@crate::race
//! [`coop`]: crate::coop

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

/// What the members' wakers share with the owner.
struct Shared {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Members woken since the owner last drained the queue.
    queue: Vec<usize>,
    /// `queued[i]`: whether `i` is in `queue`.
    queued: Vec<bool>,
    /// The owner's waker, while it waits with an empty queue.
    owner: Option<Waker>,
}

fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    // No user code runs under this lock, so a poisoned lock is still consistent.
    shared.inner.lock().unwrap_or_else(|e| e.into_inner())
}

/// The waker of member `index`.
struct SlotWaker {
    shared: Arc<Shared>,
    index: usize,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let owner = {
            let mut inner = lock(&self.shared);
            if !inner.queued[self.index] {
                inner.queued[self.index] = true;
                inner.queue.push(self.index);
            }
            inner.owner.take()
        };
        if let Some(owner) = owner {
            owner.wake();
        }
    }
}

/// Futures that complete in any order; each is polled only when woken.
pub(crate) struct PollSet<H> {
    slots: Vec<Option<H>>,
    wakers: Vec<Waker>,
    shared: Arc<Shared>,
    /// Drained from the shared queue, not yet polled.
    local: VecDeque<usize>,
    /// Members not finished and not taken out.
    live: usize,
}

// The members are polled through `Pin::new`, so they are `Unpin` themselves
// (or boxed); nothing in the set is ever pinned structurally.
impl<H> Unpin for PollSet<H> {}

impl<H> PollSet<H> {
    /// How many members were given.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Members that have neither finished nor been taken out.
    pub(crate) fn live(&self) -> usize {
        self.live
    }
}

impl<H: Future + Unpin> PollSet<H> {
    /// A set of `members`, each of which will be polled on the first poll.
    pub(crate) fn new(members: Vec<H>) -> PollSet<H> {
        let n = members.len();
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                queue: Vec::new(),
                queued: vec![false; n],
                owner: None,
            }),
        });
        let wakers = (0..n)
            .map(|index| {
                Waker::from(Arc::new(SlotWaker {
                    shared: shared.clone(),
                    index,
                }))
            })
            .collect();
        PollSet {
            slots: members.into_iter().map(Some).collect(),
            wakers,
            shared,
            local: (0..n).collect(),
            live: n,
        }
    }

    /// Polls the woken members until one finishes: `Some((index, output))`,
    /// or `None` once no member is left.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, H::Output)>> {
        loop {
            if self.live == 0 {
                return Poll::Ready(None);
            }
            let Some(index) = self.local.pop_front() else {
                let mut inner = lock(&self.shared);
                if inner.queue.is_empty() {
                    match &inner.owner {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => inner.owner = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
                let Inner { queue, queued, .. } = &mut *inner;
                for i in queue.drain(..) {
                    queued[i] = false;
                    self.local.push_back(i);
                }
                continue;
            };
            let Some(member) = self.slots[index].as_mut() else {
                continue;
            };
            if !crate::coop::has_budget_remaining() {
                // Out of budget: keep the index for later and yield.
                self.local.push_front(index);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let mut member_cx = Context::from_waker(&self.wakers[index]);
            if let Poll::Ready(out) = Pin::new(member).poll(&mut member_cx) {
                self.slots[index] = None;
                self.live -= 1;
                return Poll::Ready(Some((index, out)));
            }
        }
    }

    /// Polls once every live member for which `ready` holds, collecting those
    /// that finish (used to gather members that finished at the same time).
    pub(crate) fn sweep(&mut self, ready: impl Fn(&H) -> bool) -> Vec<(usize, H::Output)> {
        let mut out = Vec::new();
        for (index, slot) in self.slots.iter_mut().enumerate() {
            let Some(member) = slot.as_mut().filter(|m| ready(m)) else {
                continue;
            };
            let mut member_cx = Context::from_waker(&self.wakers[index]);
            if let Poll::Ready(value) = Pin::new(member).poll(&mut member_cx) {
                *slot = None;
                self.live -= 1;
                out.push((index, value));
            }
        }
        out
    }

    /// Takes every live member out, in index order.
    pub(crate) fn take_all(&mut self) -> Vec<(usize, H)> {
        self.live = 0;
        self.local.clear();
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.take().map(|h| (i, h)))
            .collect()
    }
}

impl<H> fmt::Debug for PollSet<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollSet")
            .field("members", &self.slots.len())
            .field("live", &self.live)
            .finish()
    }
}
