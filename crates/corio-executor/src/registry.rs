//! The registry of tasks that are waiting, so that shutdown can cancel them.
//!
//! `asyncio.run` cancels every task still pending when the main coroutine
//! ends; so does corio. A task that is queued is reachable through the queues,
//! and a running task through its worker; only a task that returned `Pending`
//! and sits idle is reachable by nobody but whoever holds its waker. So a task
//! registers a clone of its waker the first time it returns `Pending`, and
//! removes it when its future completes or is dropped. Tasks that finish in
//! their first poll (most tiny tasks) never touch the registry.
//!
//! At shutdown an executor closes its [`Owner`] (no new entries) and drains
//! its entries, waking each: the executor, already closed, drops each task's
//! `Runnable` when it is scheduled, which drops its future.
//!
//! There is one registry for the process, sharded so that registrations from
//! different workers rarely contend on a lock. Each entry is tagged with its
//! executor's owner id. A task keeps only its key (not a pointer to its
//! executor), which keeps every task eight bytes smaller; the key encodes the
//! shard.
//!
//! # Invariants
//!
//! * An insert checks `Owner::closed` under the shard lock; the closer sets
//!   the flag before locking the shards to drain them. So an entry is either
//!   drained or refused: none is left behind.
//! * Only the task that made an entry removes it, except the drain; after the
//!   drain the owner is closed, so a key is never reused while its task still
//!   holds it.

use std::task::Waker;

use slab::Slab;

use crate::sync::{lock, AtomicBool, Mutex, Ordering::SeqCst};

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;
const SHARD_MASK: usize = SHARDS - 1;

/// An executor's identity and open/closed state in the registry.
#[derive(Debug)]
pub(crate) struct Owner {
    id: usize,
    closed: AtomicBool,
}

impl Owner {
    pub(crate) fn new() -> Owner {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        Owner {
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            closed: AtomicBool::new(false),
        }
    }
}

/// One shard: `(owner id, waker)` entries.
type Shard = Mutex<Slab<(usize, Waker)>>;

/// Sharded set of the wakers of idle tasks.
#[derive(Debug)]
pub(crate) struct Registry {
    shards: Box<[Shard]>,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            shards: (0..SHARDS).map(|_| Mutex::new(Slab::new())).collect(),
        }
    }

    /// The process-wide registry.
    #[cfg(not(loom))]
    pub(crate) fn global() -> &'static Registry {
        static GLOBAL: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        GLOBAL.get_or_init(Registry::new)
    }

    /// Under loom the models make their own registries.
    #[cfg(loom)]
    pub(crate) fn global() -> &'static Registry {
        unreachable!("the executor itself does not run under loom")
    }

    /// Registers `waker` for `owner`, in shard `hint` (modulo the shard
    /// count). Returns the key, or `None` once the owner is closed.
    pub(crate) fn insert(&self, owner: &Owner, hint: usize, waker: Waker) -> Option<usize> {
        let index = hint & SHARD_MASK;
        let mut shard = lock(&self.shards[index]);
        if owner.closed.load(SeqCst) {
            return None;
        }
        let key = shard.insert((owner.id, waker));
        Some((key << SHARD_BITS) | index)
    }

    /// Removes the entry `key` (no-op when it was drained already).
    pub(crate) fn remove(&self, key: usize) {
        let removed = {
            let mut shard = lock(&self.shards[key & SHARD_MASK]);
            shard.try_remove(key >> SHARD_BITS)
        };
        // The waker is dropped outside the lock: dropping the last reference
        // to a task may run code that registers elsewhere.
        drop(removed);
    }

    /// Closes `owner` and returns every waker registered for it.
    pub(crate) fn close_and_drain(&self, owner: &Owner) -> Vec<Waker> {
        owner.closed.store(true, SeqCst);
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            let keys: Vec<usize> = shard
                .iter()
                .filter(|(_, (id, _))| *id == owner.id)
                .map(|(k, _)| k)
                .collect();
            for k in keys {
                all.push(shard.remove(k).1);
            }
        }
        all
    }

    /// Number of wakers registered for `owner`.
    pub(crate) fn len(&self, owner: &Owner) -> usize {
        self.shards
            .iter()
            .map(|s| {
                lock(s)
                    .iter()
                    .filter(|(_, (id, _))| *id == owner.id)
                    .count()
            })
            .sum()
    }
}
