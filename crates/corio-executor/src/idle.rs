//! Which workers sleep, which search, and whom to wake.
//!
//! The protocol follows tokio's: a worker that runs out of work first becomes
//! *searching* (it tries to steal); at most half the workers search at once. A
//! worker that finds nothing parks. Whoever makes work available (a spawn from
//! outside, or a worker with more than one queued task) wakes a parked worker
//! only when no worker is searching already: a searching worker will find the
//! work anyway, and waking a second one would only make it spin.
//!
//! # Invariants
//!
//! * `state` packs the number of searching workers (low bits) and the number of
//!   unparked workers (high bits). A worker is *unparked* from the moment
//!   [`Idle::worker_to_notify`] picks it, before its thread wakes, so that two
//!   notifications never pick the same sleeper.
//! * A notified worker starts out searching: `worker_to_notify` counts it as
//!   such, and it must call [`Idle::transition_from_searching`] when it finds
//!   work or parks again.
//! * No lost wake-up: a producer publishes its work, then reads `state`; a
//!   parking worker updates `state`, then (if it was the last searcher) checks
//!   every queue again. A `SeqCst` fence sits between the write and the read
//!   on each side (the queues' own operations are only acquire/release), so
//!   either the producer sees no searcher and wakes someone, or the last
//!   searcher sees the work. `tests/loom.rs` checks this.

use crate::sync::{fence, lock, AtomicUsize, Mutex, Ordering::Relaxed, Ordering::SeqCst};

const UNPARK_SHIFT: usize = 16;
const SEARCH_MASK: usize = (1 << UNPARK_SHIFT) - 1;

/// The idle-worker bookkeeping shared by all workers of one executor.
#[derive(Debug)]
pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARK_SHIFT
}

impl Idle {
    /// All `num_workers` start unparked and not searching.
    pub(crate) fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCH_MASK, "too many worker threads");
        Idle {
            state: AtomicUsize::new(num_workers << UNPARK_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    fn should_wake(&self) -> bool {
        // Orders the caller's publication of work before this read.
        fence(SeqCst);
        let state = self.state.load(SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// Picks a parked worker to wake, if work was published and nobody is
    /// searching. The picked worker is counted as unparked and searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_wake() {
            return None;
        }
        let mut sleepers = lock(&self.sleepers);
        if !self.should_wake() {
            return None;
        }
        let worker = sleepers.pop()?;
        self.state.fetch_add(1 | (1 << UNPARK_SHIFT), SeqCst);
        Some(worker)
    }

    /// Like [`worker_to_notify`](Idle::worker_to_notify), for work a running
    /// worker pushed to its own queue: that worker will run the work itself if
    /// nobody helps, so a stale read only costs parallelism, never progress,
    /// and the fast path skips the fence.
    pub(crate) fn worker_to_help(&self) -> Option<usize> {
        let state = self.state.load(Relaxed);
        if searching(state) != 0 || unparked(state) >= self.num_workers {
            return None;
        }
        self.worker_to_notify()
    }

    /// Every parked worker, for shutdown.
    pub(crate) fn take_all_sleepers(&self) -> Vec<usize> {
        let mut sleepers = lock(&self.sleepers);
        let all = std::mem::take(&mut *sleepers);
        self.state.fetch_add(all.len() << UNPARK_SHIFT, SeqCst);
        all
    }

    /// A worker with no work wants to search; `false` when enough already do.
    pub(crate) fn transition_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searching worker found work; `true` when it was the last searcher,
    /// in which case it must wake another worker to keep searching.
    pub(crate) fn transition_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        searching(prev) == 1
    }

    /// A worker goes to sleep. Returns `true` when it was the last searcher:
    /// then it must check every queue once more before sleeping.
    pub(crate) fn transition_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = lock(&self.sleepers);
        let dec = (1 << UNPARK_SHIFT) | usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        // Orders this update before the caller's last look at the queues.
        fence(SeqCst);
        is_searching && searching(prev) == 1
    }

    /// A worker woke up. Returns `None` when it is still listed as parked (a
    /// spurious or driver wake-up); `Some(true)` when it was notified (it is
    /// now searching). With `unpark_self`, a worker still listed removes itself
    /// and returns `Some(false)` (unparked, not searching).
    pub(crate) fn transition_from_parked(&self, worker: usize, unpark_self: bool) -> Option<bool> {
        let mut sleepers = lock(&self.sleepers);
        match sleepers.iter().position(|&w| w == worker) {
            None => Some(true),
            Some(i) if unpark_self => {
                sleepers.swap_remove(i);
                self.state.fetch_add(1 << UNPARK_SHIFT, SeqCst);
                Some(false)
            }
            Some(_) => None,
        }
    }

    /// Number of workers currently searching (for tests and debugging).
    #[allow(dead_code)]
    pub(crate) fn num_searching(&self) -> usize {
        searching(self.state.load(SeqCst))
    }
}
