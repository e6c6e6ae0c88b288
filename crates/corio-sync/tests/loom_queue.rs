//! Loom models of the queue's and the promise's hand-offs.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release -p corio-sync --test loom_queue`.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use corio_sync::{promise, GetError, Queue, ResolverDropped};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

/// Wakes a loom thread parked in [`block_on`].
struct Unparker(thread::Thread);

impl std::task::Wake for Unparker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `fut` on the current loom thread, parking while it is pending, so
/// that a lost wake-up shows up as a deadlock in the model.
fn block_on<F: Future>(fut: F) -> F::Output {
    let waker = Waker::from(std::sync::Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

fn poll_noop<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

/// Counts its drops, so a model can check a value is dropped exactly once.
struct Counted(u32, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waiting getter is dropped while another thread puts: whether the item
/// was handed to the getter first or not, it ends up in the queue.
#[test]
fn put_races_getter_drop() {
    model(|| {
        let q = Arc::new(Queue::new(0));
        let mut get = q.get();
        assert!(poll_noop(&mut get).is_pending());
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.put_nowait(1).unwrap())
        };
        drop(get);
        putter.join().unwrap();
        assert_eq!(q.qsize(), 1);
        assert_eq!(q.get_nowait(), Ok(1));
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
    });
}

/// Two getters wait; the first is dropped while an item arrives: the second
/// gets it, whatever the interleaving.
#[test]
fn dropped_getter_passes_item_to_next() {
    model(|| {
        let q = Arc::new(Queue::new(0));
        let mut g1 = q.get();
        let mut g2 = q.get();
        assert!(poll_noop(&mut g1).is_pending());
        assert!(poll_noop(&mut g2).is_pending());
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.put_nowait(7).unwrap())
        };
        drop(g1);
        putter.join().unwrap();
        assert_eq!(poll_noop(&mut g2), Poll::Ready(Ok(7)));
        assert_eq!(q.qsize(), 0);
    });
}

/// A blocked putter is dropped while a get frees its slot: its item is
/// either admitted (and then in the queue) or dropped, never both, never lost
/// in between.
#[test]
fn putter_drop_races_admission() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let q = Arc::new(Queue::new(1));
        q.put_nowait(Counted(0, drops.clone())).unwrap();
        let mut put = q.put(Counted(1, drops.clone()));
        assert!(poll_noop(&mut put).is_pending());
        let getter = {
            let q = q.clone();
            thread::spawn(move || q.get_nowait().map(|c| c.0))
        };
        drop(put);
        assert_eq!(getter.join().unwrap(), Ok(0));
        // Item 0 was dropped by the getter thread.
        match q.get_nowait() {
            Ok(c) => {
                assert_eq!(c.0, 1);
                drop(c);
                assert_eq!(drops.load(Ordering::SeqCst), 2);
            }
            Err(e) => {
                assert_eq!(e, GetError::Empty);
                assert_eq!(
                    drops.load(Ordering::SeqCst),
                    2,
                    "item 1 dropped with its putter"
                );
            }
        }
    });
}

/// A getter blocked in `block_on` is woken by a put from another thread.
#[test]
fn put_wakes_blocked_getter() {
    model(|| {
        let q = Arc::new(Queue::new(0));
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.put_nowait(3).unwrap())
        };
        assert_eq!(block_on(q.get()), Ok(3));
        putter.join().unwrap();
    });
}

/// Immediate shutdown races a blocked getter: it wakes with `ShutDown`.
#[test]
fn shutdown_wakes_blocked_getter() {
    model(|| {
        let q = Arc::new(Queue::<u8>::new(0));
        let closer = {
            let q = q.clone();
            thread::spawn(move || q.shutdown(true))
        };
        assert_eq!(block_on(q.get()), Err(GetError::ShutDown));
        closer.join().unwrap();
    });
}

/// `set_result` races the promise's drop: the value is dropped exactly once,
/// by whichever side ends up with it.
#[test]
fn promise_set_races_promise_drop() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (resolver, promise) = promise::<Counted>();
        let setter = {
            let drops = drops.clone();
            thread::spawn(move || resolver.set_result(Counted(1, drops)).is_ok())
        };
        drop(promise);
        let stored = setter.join().unwrap();
        let _ = stored;
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// `set_result` from another thread while the promise is awaited.
#[test]
fn promise_set_wakes_awaiter() {
    model(|| {
        let (resolver, promise) = promise::<u32>();
        let setter = thread::spawn(move || resolver.set_result(5).unwrap());
        assert_eq!(block_on(promise), Ok(5));
        setter.join().unwrap();
    });
}

/// The resolver is dropped on another thread while the promise is awaited.
#[test]
fn resolver_drop_wakes_awaiter() {
    model(|| {
        let (resolver, promise) = promise::<u32>();
        let dropper = thread::spawn(move || drop(resolver));
        assert_eq!(block_on(promise), Err(ResolverDropped));
        dropper.join().unwrap();
    });
}
