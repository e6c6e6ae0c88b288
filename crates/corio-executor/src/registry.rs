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
//! At shutdown the registry is closed (no new entries), drained, and every
//! drained waker is woken: the executor, already closed, drops each task's
//! `Runnable` when it is scheduled, which drops its future.
//!
//! The registry is sharded by worker so that registrations from different
//! workers rarely contend on one lock. A key encodes its shard.

use std::task::Waker;

use slab::Slab;

use crate::sync::{lock, Mutex};

const SHARD_BITS: u32 = 8;
const SHARD_MASK: usize = (1 << SHARD_BITS) - 1;

#[derive(Debug)]
struct Shard {
    closed: bool,
    wakers: Slab<Waker>,
}

/// Sharded set of the wakers of idle tasks.
#[derive(Debug)]
pub(crate) struct Registry {
    shards: Box<[Mutex<Shard>]>,
}

impl Registry {
    pub(crate) fn new(shards: usize) -> Registry {
        let shards = shards.clamp(1, SHARD_MASK + 1);
        Registry {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        closed: false,
                        wakers: Slab::new(),
                    })
                })
                .collect(),
        }
    }

    /// Registers `waker` in shard `hint` (modulo the shard count). Returns the
    /// key, or `None` once the registry is closed.
    pub(crate) fn insert(&self, hint: usize, waker: Waker) -> Option<usize> {
        let index = hint % self.shards.len();
        let mut shard = lock(&self.shards[index]);
        if shard.closed {
            return None;
        }
        let key = shard.wakers.insert(waker);
        Some((key << SHARD_BITS) | index)
    }

    /// Removes the entry `key` (no-op when it was drained already).
    pub(crate) fn remove(&self, key: usize) {
        let index = key & SHARD_MASK;
        let removed = {
            let mut shard = lock(&self.shards[index]);
            shard.wakers.try_remove(key >> SHARD_BITS)
        };
        // The waker is dropped outside the lock: dropping the last reference
        // to a task may run code that registers elsewhere.
        drop(removed);
    }

    /// Closes the registry and returns every registered waker.
    pub(crate) fn close_and_drain(&self) -> Vec<Waker> {
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            shard.closed = true;
            all.extend(shard.wakers.drain());
        }
        all
    }

    /// Number of registered wakers.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).wakers.len()).sum()
    }
}
