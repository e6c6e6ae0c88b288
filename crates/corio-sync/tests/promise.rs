//! Public-API tests of the one-shot promise.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use corio_sync::{promise, Promise, Resolver, ResolverDropped, TryResultError};
use futures_lite::future;

fn executor() -> corio_executor::Executor {
    corio_executor::Executor::builder()
        .worker_threads(4)
        .build()
        .unwrap()
}

/// A waker that counts its wake-ups.
#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A value that counts how many times it was dropped.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn auto_traits() {
    fn send_sync_unpin<X: Send + Sync + Unpin>() {}
    fn send<X: Send>() {}
    send_sync_unpin::<Resolver<u32>>();
    send_sync_unpin::<Promise<u32>>();
    // Send-only payload: the handles are still Send + Sync (the value sits
    // behind a mutex and only moves).
    send_sync_unpin::<Resolver<std::cell::Cell<u32>>>();
    send_sync_unpin::<Promise<std::cell::Cell<u32>>>();
    send::<ResolverDropped>();
    send::<TryResultError>();

    // A !Send payload makes neither handle Send. (Compiles only if the impl
    // for `u8`, which needs `Send`, does not apply.)
    trait AmbiguousIfSend<A> {
        fn check() {}
    }
    impl<X: ?Sized> AmbiguousIfSend<()> for X {}
    impl<X: ?Sized + Send> AmbiguousIfSend<u8> for X {}
    <Resolver<std::rc::Rc<u8>> as AmbiguousIfSend<_>>::check();
    <Promise<std::rc::Rc<u8>> as AmbiguousIfSend<_>>::check();
}

#[test]
fn set_from_std_thread_while_awaited() {
    let ex = executor();
    let got = ex.block_on(async {
        let (resolver, promise) = promise::<String>();
        let task = corio_executor::spawn(promise);
        // Give the task time to park on the promise first.
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            resolver.set_result("from a thread".to_string()).unwrap();
        });
        task.await.unwrap()
    });
    assert_eq!(got.as_deref(), Ok("from a thread"));
}

/// A callback-style API: runs `callback` later on its own thread.
fn fetch_with_callback(n: u64, callback: impl FnOnce(u64) + Send + 'static) {
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(5));
        callback(n * 2);
    });
}

#[test]
fn set_from_a_callback() {
    let ex = executor();
    let results = ex.block_on(async {
        let mut promises = Vec::new();
        for n in 0..16u64 {
            let (resolver, promise) = promise();
            fetch_with_callback(n, move |v| {
                resolver.set_result(v).unwrap();
            });
            promises.push(corio_executor::spawn(promise));
        }
        let mut out = Vec::new();
        for p in promises {
            out.push(p.await.unwrap().unwrap());
        }
        out
    });
    assert_eq!(results, (0..16u64).map(|n| n * 2).collect::<Vec<_>>());
}

#[test]
fn resolver_dropped_wakes_waiter_with_error() {
    let (resolver, promise) = promise::<u8>();
    let waker_state = Arc::new(CountWaker::default());
    let waker = Waker::from(waker_state.clone());
    let mut cx = Context::from_waker(&waker);
    let mut promise = pin!(promise);
    assert!(promise.as_mut().poll(&mut cx).is_pending());
    assert!(!promise.is_ready());
    drop(resolver);
    assert_eq!(waker_state.0.load(Ordering::SeqCst), 1);
    assert!(promise.is_ready());
    assert_eq!(
        promise.as_mut().poll(&mut cx),
        Poll::Ready(Err(ResolverDropped))
    );
}

#[test]
fn resolver_dropped_from_other_thread_under_executor() {
    let ex = executor();
    let res = ex.block_on(async {
        let (resolver, promise) = promise::<u8>();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            drop(resolver);
        });
        promise.await
    });
    assert_eq!(res, Err(ResolverDropped));
}

#[test]
fn promise_dropped_before_set_hands_value_back() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (resolver, promise) = promise::<DropCounter>();
    drop(promise);
    assert!(resolver.is_closed());
    let back = resolver.set_result(DropCounter(drops.clone())).unwrap_err();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "value handed back, not dropped"
    );
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn promise_dropped_after_set_drops_value_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (resolver, promise) = promise::<DropCounter>();
    assert!(resolver.set_result(DropCounter(drops.clone())).is_ok());
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(promise);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn set_before_await_is_kept() {
    let (resolver, promise) = promise();
    assert!(!promise.is_ready());
    resolver.set_result(vec![1, 2, 3]).unwrap();
    assert!(promise.is_ready());
    assert_eq!(future::block_on(promise), Ok(vec![1, 2, 3]));
}

#[test]
fn try_result_states() {
    let (resolver, mut p) = promise::<u8>();
    assert_eq!(p.try_result(), Err(TryResultError::Pending));
    resolver.set_result(9).unwrap();
    assert!(p.is_ready());
    assert_eq!(p.try_result(), Ok(9));
    assert!(p.is_ready(), "stays ready after the value was taken");

    let (resolver, mut p) = promise::<u8>();
    drop(resolver);
    assert_eq!(p.try_result(), Err(TryResultError::ResolverDropped));
    // Asking again is harmless.
    assert_eq!(p.try_result(), Err(TryResultError::ResolverDropped));
}

#[test]
#[should_panic(expected = "already taken")]
fn try_result_after_taken_panics() {
    let (resolver, mut p) = promise::<u8>();
    resolver.set_result(1).unwrap();
    assert_eq!(p.try_result(), Ok(1));
    let _ = p.try_result();
}

#[test]
#[should_panic(expected = "polled after")]
fn poll_after_taken_panics() {
    let (resolver, mut p) = promise::<u8>();
    resolver.set_result(1).unwrap();
    assert_eq!(future::block_on(&mut p), Ok(1));
    let _ = future::block_on(&mut p);
}

#[test]
fn cancelled_await_keeps_promise_usable() {
    let (resolver, mut p) = promise::<u8>();
    // One poll of `&mut p`, then that future is dropped.
    assert!(future::block_on(future::poll_once(&mut p)).is_none());
    resolver.set_result(3).unwrap();
    assert_eq!(future::block_on(&mut p), Ok(3));
}

#[test]
fn waiter_woken_exactly_once_by_set() {
    let (resolver, promise) = promise::<u8>();
    let waker_state = Arc::new(CountWaker::default());
    let waker = Waker::from(waker_state.clone());
    let mut cx = Context::from_waker(&waker);
    let mut promise = pin!(promise);
    assert!(promise.as_mut().poll(&mut cx).is_pending());
    // Polling again with the same waker does not duplicate registrations.
    assert!(promise.as_mut().poll(&mut cx).is_pending());
    resolver.set_result(7).unwrap();
    assert_eq!(waker_state.0.load(Ordering::SeqCst), 1);
    assert_eq!(promise.as_mut().poll(&mut cx), Poll::Ready(Ok(7)));
}

#[test]
fn closed_completes_when_promise_dropped() {
    let ex = executor();
    ex.block_on(async {
        let (mut resolver, promise) = promise::<u8>();
        // Pending while the promise lives.
        assert!(future::poll_once(resolver.closed()).await.is_none());
        let dropper = corio_executor::spawn(async move {
            corio_executor::yield_now().await;
            drop(promise);
        });
        resolver.closed().await;
        assert!(resolver.is_closed());
        dropper.await.unwrap();
        assert_eq!(resolver.set_result(4), Err(4));
    });
}

#[test]
fn errors_display() {
    assert_eq!(
        ResolverDropped.to_string(),
        "the promise's resolver was dropped without setting a value"
    );
    assert_eq!(
        TryResultError::Pending.to_string(),
        "the promise has no value yet"
    );
    let e: Box<dyn std::error::Error> = Box::new(TryResultError::ResolverDropped);
    assert!(e.to_string().contains("dropped"));
}

#[test]
fn many_pairs_race_set_and_drop_across_threads() {
    // Each pair: one thread sets, another drops the promise or awaits it.
    // Every value is either received or handed back / dropped exactly once.
    let drops = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let handed_back = Arc::new(AtomicUsize::new(0));
    const N: usize = 500;
    let mut handles = Vec::new();
    for i in 0..N {
        let (resolver, promise) = promise::<DropCounter>();
        let d = drops.clone();
        let hb = handed_back.clone();
        handles.push(thread::spawn(move || {
            if resolver.set_result(DropCounter(d)).is_err() {
                hb.fetch_add(1, Ordering::SeqCst);
            }
        }));
        let r = received.clone();
        handles.push(thread::spawn(move || {
            if i % 2 == 0 {
                drop(promise);
            } else if future::block_on(promise).is_ok() {
                r.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        N,
        "every value dropped exactly once"
    );
    assert_eq!(received.load(Ordering::SeqCst), N / 2);
    assert!(handed_back.load(Ordering::SeqCst) <= N / 2);
}
