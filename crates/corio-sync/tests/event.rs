//! Event: set/clear/is_set, set-then-clear still releases every waiter,
//! cancellation, and many waiters under the multi-threaded executor.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use corio_sync::Event;
use futures_lite::future;

fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn set_clear_is_set() {
    future::block_on(async {
        let ev = Event::default();
        assert!(!ev.is_set());
        ev.set();
        assert!(ev.is_set());
        ev.wait().await; // immediate
        ev.set(); // idempotent
        ev.clear();
        assert!(!ev.is_set());
        let mut w = Box::pin(ev.wait());
        assert!(poll(w.as_mut()).is_pending());
        assert_eq!(format!("{ev:?}"), "Event { is_set: false }");
    });
}

#[test]
fn set_then_clear_releases_every_waiter() {
    let ev = Event::new();
    let counter = Arc::new(CountWaker::default());
    let waker = Waker::from(counter.clone());
    let mut waiters: Vec<_> = (0..20).map(|_| Box::pin(ev.wait())).collect();
    for w in &mut waiters {
        assert!(w
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
    }
    ev.set();
    ev.clear();
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        20,
        "every waiter is woken"
    );
    for w in &mut waiters {
        assert!(poll(w.as_mut()).is_ready());
    }
    // A waiter arriving after the clear waits for the next set.
    let mut late = Box::pin(ev.wait());
    assert!(poll(late.as_mut()).is_pending());
    ev.set();
    assert!(poll(late.as_mut()).is_ready());
}

#[test]
fn dropped_waiter_affects_nobody() {
    let ev = Event::new();
    let mut a = Box::pin(ev.wait());
    let mut b = Box::pin(ev.wait());
    let mut c = Box::pin(ev.wait());
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(b.as_mut()).is_pending());
    assert!(poll(c.as_mut()).is_pending());
    drop(b);
    assert!(poll(a.as_mut()).is_pending());
    ev.set();
    drop(a); // released but never polled: nothing to pass on
    assert!(poll(c.as_mut()).is_ready());
}

#[test]
fn many_waiters_on_executor() {
    let ex = corio_executor::Executor::builder()
        .worker_threads(4)
        .build()
        .unwrap();
    ex.block_on(async {
        for _round in 0..20 {
            let ev = Arc::new(Event::new());
            let started = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..50)
                .map(|_| {
                    let ev = ev.clone();
                    let started = started.clone();
                    corio_executor::spawn(async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        ev.wait().await;
                    })
                })
                .collect();
            while started.load(Ordering::SeqCst) < 25 {
                corio_executor::yield_now().await;
            }
            ev.set();
            ev.clear();
            for t in tasks {
                // Tasks that started waiting before the set were released;
                // the others may have arrived after the clear: set again.
                ev.set();
                t.await.unwrap();
            }
        }
    });
}
