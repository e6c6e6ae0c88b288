//! The synchronization primitives the executor's own protocols use.
//!
//! Under `cfg(loom)` they are loom's, so that `tests/loom.rs` can explore every
//! interleaving of the hand-offs built on them (the idle/notify protocol, the
//! close-versus-schedule race and the unobserved-panic report). Everything else
//! uses the standard library's.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning: the executor's critical sections never
/// run user code, so a poisoned lock still guards consistent data.
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
