//! Internals exposed to `tests/loom.rs` when built with `--cfg loom`.
//!
//! Each item wraps one hand-off protocol of the executor, built on the
//! `sync` module (loom's primitives under this cfg), so that the models
//! exercise the very code the executor runs.

use std::task::Waker;

/// The injector's close protocol (`gate.rs`).
#[derive(Debug)]
pub struct Gate<T>(crate::gate::Gate<T>);

/// The idle-worker protocol (`idle.rs`).
#[derive(Debug)]
pub struct Idle(crate::idle::Idle);

/// The registry of idle tasks (`registry.rs`).
#[derive(Debug)]
pub struct Registry(crate::registry::Registry);

impl<T> Gate<T> {
    /// See `Gate::push`.
    pub fn loom_push(&self, item: T) -> bool {
        self.0.push(item)
    }
    /// See `Gate::close`.
    pub fn loom_close(&self) {
        self.0.close()
    }
    /// See `Gate::drain`.
    pub fn loom_drain(&self) -> usize {
        self.0.drain()
    }
    /// Items queued.
    pub fn loom_len(&self) -> usize {
        self.0.len()
    }
}

impl<T: 'static> Gate<T> {
    /// A new gate that drops what it discards.
    pub fn loom_new() -> Gate<T> {
        Gate(crate::gate::Gate::new(Box::new(drop)))
    }
}

impl Idle {
    /// See `Idle::new`.
    pub fn loom_new(n: usize) -> Idle {
        Idle(crate::idle::Idle::new(n))
    }
    /// See `Idle::worker_to_notify`.
    pub fn loom_worker_to_notify(&self) -> Option<usize> {
        self.0.worker_to_notify()
    }
    /// See `Idle::transition_to_searching`.
    pub fn loom_to_searching(&self) -> bool {
        self.0.transition_to_searching()
    }
    /// See `Idle::transition_from_searching`.
    pub fn loom_from_searching(&self) -> bool {
        self.0.transition_from_searching()
    }
    /// See `Idle::transition_to_parked`.
    pub fn loom_to_parked(&self, worker: usize, searching: bool) -> bool {
        self.0.transition_to_parked(worker, searching)
    }
    /// See `Idle::transition_from_parked`.
    pub fn loom_from_parked(&self, worker: usize, unpark_self: bool) -> Option<bool> {
        self.0.transition_from_parked(worker, unpark_self)
    }
}

/// An executor's identity in the registry.
#[derive(Debug)]
pub struct Owner(crate::registry::Owner);

impl Owner {
    /// A new, open owner.
    pub fn loom_new() -> Owner {
        Owner(crate::registry::Owner::new())
    }
}

impl Registry {
    /// See `Registry::new`.
    pub fn loom_new() -> Registry {
        Registry(crate::registry::Registry::new())
    }
    /// See `Registry::insert`.
    pub fn loom_insert(&self, owner: &Owner, hint: usize, waker: Waker) -> Option<usize> {
        self.0.insert(&owner.0, hint, waker)
    }
    /// See `Registry::remove`.
    pub fn loom_remove(&self, key: usize) {
        self.0.remove(key)
    }
    /// See `Registry::close_and_drain`.
    pub fn loom_close_and_drain(&self, owner: &Owner) -> Vec<Waker> {
        self.0.close_and_drain(&owner.0)
    }
    /// See `Registry::len`.
    pub fn loom_len(&self, owner: &Owner) -> usize {
        self.0.len(&owner.0)
    }
}
