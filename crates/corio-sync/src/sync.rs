//! The standard synchronization types this crate's own protocols use.
//!
//! Under `cfg(loom)` they are loom's, so that the `tests/loom_*.rs` models can
//! explore every interleaving of the hand-offs built on them. Everything else
//! uses the standard library's.

#[cfg(not(loom))]
#[allow(unused_imports)]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(not(loom))]
#[allow(unused_imports)]
pub(crate) use std::sync::{Arc, Mutex, MutexGuard};

#[cfg(loom)]
#[allow(unused_imports)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(loom)]
#[allow(unused_imports)]
pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning: this crate's critical sections never run
/// user code (no waker is woken and no value dropped while a lock is held), so
/// a poisoned lock still guards consistent data.
#[allow(dead_code)]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(not(loom))]
    {
        mutex.lock().unwrap_or_else(|e| e.into_inner())
    }
    #[cfg(loom)]
    {
        mutex.lock().unwrap()
    }
}

/// Thread parking, for the blocking (non-async) waits of the channels.
pub(crate) mod thread {
    #[cfg(not(loom))]
    pub(crate) use std::thread::{current, park, Thread};

    #[cfg(loom)]
    pub(crate) use loom::thread::{current, park, Thread};
}
