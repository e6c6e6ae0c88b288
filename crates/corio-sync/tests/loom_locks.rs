//! loom models of the lock and semaphore hand-offs and of Event's set/clear.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release -p corio-sync --test loom_locks`.
//! Under `cfg(loom)` the crate's atomics and mutexes are loom's, so these
//! models explore the interleavings of the wait-list protocol.

#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use corio_sync::{Event, Lock, Semaphore};
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// Wakes a [`block_on`] through loom's `Notify`, so loom sees the wake-up.
struct NotifyWaker(loom::sync::Notify);

impl Wake for NotifyWaker {
    fn wake(self: Arc<Self>) {
        self.0.notify();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.notify();
    }
}

/// Drives `fut` to completion on the current loom thread; loom reports a
/// deadlock if it is never woken.
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let notify = Arc::new(NotifyWaker(loom::sync::Notify::new()));
    let waker = Waker::from(notify.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        notify.0.wait();
    }
}

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// An unlock races a waiter that queued and then went away: the lock must
/// end up free (not handed to the departed waiter and lost).
#[test]
fn unlock_races_dropped_lock_waiter() {
    model(|| {
        let lock = Arc::new(Lock::new(0usize));
        let guard = lock.clone().try_lock_owned().unwrap();
        let l2 = lock.clone();
        let t = thread::spawn(move || {
            let mut fut = pin!(l2.lock());
            if let Poll::Ready(mut g) = poll_once(fut.as_mut()) {
                *g += 1;
            }
            // `fut` dropped here, queued, granted or done.
        });
        drop(guard);
        t.join().unwrap();
        assert!(!lock.is_locked(), "the lock was lost");
        assert!(lock.try_lock().is_ok());
    });
}

/// The lock is handed to a waiter that is dropped; a second waiter blocked
/// in `block_on` must still get it (loom reports a deadlock otherwise).
#[test]
fn lock_handoff_skips_dropped_waiter() {
    model(|| {
        let lock = Arc::new(Lock::new(0usize));
        let guard = lock.clone().try_lock_owned().unwrap();
        let l2 = lock.clone();
        let dropper = thread::spawn(move || {
            let mut fut = pin!(l2.lock());
            let _ = poll_once(fut.as_mut());
        });
        let l3 = lock.clone();
        let waiter = thread::spawn(move || {
            *block_on(l3.lock()) += 1;
        });
        drop(guard);
        dropper.join().unwrap();
        waiter.join().unwrap();
        let n = *lock.try_lock().expect("lock left held");
        assert!(n >= 1);
    });
}

/// A permit release races the cancellation of an acquire: no permit is lost
/// and the blocked acquirer gets one.
#[test]
fn semaphore_release_races_acquire_cancellation() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let permit = sem.clone().try_acquire_owned().unwrap();
        let s2 = sem.clone();
        let canceller = thread::spawn(move || {
            let mut fut = pin!(s2.acquire());
            let _ = poll_once(fut.as_mut());
        });
        let s3 = sem.clone();
        let acquirer = thread::spawn(move || {
            let p = block_on(s3.acquire()).unwrap();
            assert_eq!(p.num_permits(), 1);
        });
        drop(permit);
        canceller.join().unwrap();
        acquirer.join().unwrap();
        assert_eq!(
            sem.available_permits(),
            1,
            "a permit was lost or duplicated"
        );
    });
}

/// A partial grant to an `acquire_many` at the head races its cancellation:
/// the collected permits are all returned.
#[test]
fn semaphore_partial_grant_races_cancellation() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let permit = sem.clone().try_acquire_owned().unwrap();
        let s2 = sem.clone();
        let t = thread::spawn(move || {
            let mut fut = pin!(s2.acquire_many(2));
            let _ = poll_once(fut.as_mut());
        });
        sem.release(); // a second permit, while the waiter may be queued
        drop(permit);
        t.join().unwrap();
        assert_eq!(sem.available_permits(), 2);
    });
}

/// A waiter registering races `set`: it must be released whether it saw the
/// flag or was queued first (no lost wake-up).
#[test]
fn event_set_races_wait() {
    model(|| {
        let ev = Arc::new(Event::new());
        let e2 = ev.clone();
        let waiter = thread::spawn(move || {
            block_on(e2.wait());
        });
        ev.set();
        waiter.join().unwrap();
        assert!(ev.is_set());
    });
}

/// `set` immediately followed by `clear` races a queued waiter re-polling
/// with a new waker: the waiter is released anyway.
#[test]
fn event_set_clear_races_queued_waiter() {
    model(|| {
        let ev = Arc::new(Event::new());
        let mut fut = Box::pin({
            let ev = ev.clone();
            async move { ev.wait().await }
        });
        assert!(poll_once(fut.as_mut()).is_pending());
        let e2 = ev.clone();
        let setter = thread::spawn(move || {
            e2.set();
            e2.clear();
        });
        block_on(fut);
        setter.join().unwrap();
        assert!(!ev.is_set());
    });
}
