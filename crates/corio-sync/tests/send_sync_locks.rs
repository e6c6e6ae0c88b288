//! Compile-time checks of `Send`/`Sync`/`Unpin` for every public type of the
//! locks and semaphores, and of their futures, for payloads that are
//! Send + Sync, Send only, and neither (tokio's `tests/async_send_sync.rs`).

#![allow(dead_code, clippy::extra_unused_type_parameters)]

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use corio_sync::*;

type SendSync = u32;
type SendOnly = Cell<u32>;
type Neither = Rc<u32>;

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn unpin<T: Unpin>() {}
fn send_val<T: Send>(_: &T) {}
fn sync_val<T: Sync>(_: &T) {}

/// `T` does not implement the trait named by the macro: an ambiguity error
/// would appear if it did (the classic `impls` trick).
macro_rules! assert_not_impl {
    ($t:ty, $trait:path) => {
        const _: fn() = || {
            trait AmbiguousIfImpl<A> {
                fn some_item() {}
            }
            impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
            struct Invalid;
            impl<T: ?Sized + $trait> AmbiguousIfImpl<Invalid> for T {}
            let _ = <$t as AmbiguousIfImpl<_>>::some_item;
        };
    };
}

#[test]
fn semaphores() {
    send::<Semaphore>();
    sync::<Semaphore>();
    unpin::<Semaphore>();
    send::<BoundedSemaphore>();
    sync::<BoundedSemaphore>();
    send::<SemaphorePermit<'static>>();
    sync::<SemaphorePermit<'static>>();
    send::<OwnedSemaphorePermit>();
    sync::<OwnedSemaphorePermit>();
    send::<Acquire<'static>>();
    sync::<Acquire<'static>>();
    unpin::<Acquire<'static>>();
    send::<AcquireError>();
    sync::<TryAcquireError>();
    send::<BoundedReleaseError>();

    let sem = Arc::new(Semaphore::new(1));
    send_val(&sem.acquire());
    send_val(&sem.acquire_many(2));
    send_val(&sem.clone().acquire_owned());
    sync_val(&sem.clone().acquire_owned());
    let bounded = BoundedSemaphore::new(1);
    send_val(&bounded.acquire());
}

#[test]
fn lock_send_sync() {
    send::<Lock<SendSync>>();
    sync::<Lock<SendSync>>();
    send::<Lock<SendOnly>>();
    sync::<Lock<SendOnly>>();
    send::<LockGuard<'static, SendSync>>();
    sync::<LockGuard<'static, SendSync>>();
    send::<LockGuard<'static, SendOnly>>();
    send::<OwnedLockGuard<SendSync>>();
    sync::<OwnedLockGuard<SendSync>>();
    send::<OwnedLockGuard<SendOnly>>();
    unpin::<Lock<Neither>>();
    send::<TryLockError>();
    sync::<TryLockError>();

    let lock = Arc::new(Lock::new(SendOnly::new(0)));
    send_val(&lock.lock());
    send_val(&lock.clone().lock_owned());
    let lock = Lock::new(0u32);
    sync_val(&lock.lock());
}

assert_not_impl!(Lock<Neither>, Send);
assert_not_impl!(Lock<Neither>, Sync);
assert_not_impl!(LockGuard<'static, Neither>, Send);
assert_not_impl!(LockGuard<'static, SendOnly>, Sync);
assert_not_impl!(OwnedLockGuard<Neither>, Send);
assert_not_impl!(OwnedLockGuard<SendOnly>, Sync);

#[test]
fn rwlock_send_sync() {
    send::<RwLock<SendSync>>();
    sync::<RwLock<SendSync>>();
    send::<RwLockReadGuard<'static, SendSync>>();
    sync::<RwLockReadGuard<'static, SendSync>>();
    send::<RwLockWriteGuard<'static, SendSync>>();
    sync::<RwLockWriteGuard<'static, SendSync>>();
    unpin::<RwLock<Neither>>();

    let lock = RwLock::new(0u32);
    send_val(&lock.read());
    send_val(&lock.write());
}

// Readers share the value through an `Arc`: a Send-only value is not shareable.
assert_not_impl!(RwLock<SendOnly>, Sync);
assert_not_impl!(RwLock<Neither>, Send);
assert_not_impl!(RwLockReadGuard<'static, SendOnly>, Send);
assert_not_impl!(RwLockWriteGuard<'static, Neither>, Send);

#[test]
fn event_barrier_condition_send_sync() {
    send::<Event>();
    sync::<Event>();
    unpin::<Event>();
    send::<Barrier>();
    sync::<Barrier>();
    send::<BarrierWaitResult>();
    sync::<BarrierWaitResult>();
    send::<BrokenBarrierError>();
    send::<Condition<SendSync>>();
    sync::<Condition<SendSync>>();
    send::<Condition<SendOnly>>();
    sync::<Condition<SendOnly>>();

    let ev = Event::new();
    send_val(&ev.wait());
    sync_val(&ev.wait());
    let barrier = Barrier::new(2);
    send_val(&barrier.wait());
    let cond = Condition::new(SendOnly::new(0));
    send_val(&cond.lock());
    let cond = Condition::new(0u32);
    let guard = cond.try_lock().unwrap();
    send_val(&cond.wait(guard));
    let guard = cond.try_lock().unwrap();
    send_val(&cond.wait_for(guard, |n| *n > 0));
}

assert_not_impl!(Condition<Neither>, Send);
assert_not_impl!(Condition<Neither>, Sync);
