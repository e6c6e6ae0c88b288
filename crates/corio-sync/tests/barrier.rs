//! Barrier: release when full, distinct indices and one leader per cycle,
//! reuse, abort/reset, and waiters leaving while it fills.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use corio_sync::Barrier;
use futures_lite::future;

fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn releases_all_when_full_with_fifo_indices() {
    let barrier = Barrier::new(3);
    let mut a = Box::pin(barrier.wait());
    let mut b = Box::pin(barrier.wait());
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(b.as_mut()).is_pending());
    assert_eq!(barrier.n_waiting(), 2);
    let c = future::block_on(barrier.wait()).unwrap();
    assert!(c.is_leader());
    assert_eq!(c.index(), 2);
    assert_eq!(barrier.n_waiting(), 0);
    let Poll::Ready(Ok(ra)) = poll(a.as_mut()) else {
        panic!("a released")
    };
    let Poll::Ready(Ok(rb)) = poll(b.as_mut()) else {
        panic!("b released")
    };
    assert_eq!((ra.index(), rb.index()), (0, 1));
    assert!(!ra.is_leader() && !rb.is_leader());
}

#[test]
fn cyclic_reuse_on_executor() {
    let ex = corio_executor::Executor::builder()
        .worker_threads(4)
        .build()
        .unwrap();
    ex.block_on(async {
        const PARTIES: usize = 5;
        const ROUNDS: usize = 50;
        let barrier = Arc::new(Barrier::new(PARTIES));
        let leaders = Arc::new(AtomicUsize::new(0));
        let index_sum = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..PARTIES)
            .map(|_| {
                let barrier = barrier.clone();
                let leaders = leaders.clone();
                let index_sum = index_sum.clone();
                corio_executor::spawn(async move {
                    for _ in 0..ROUNDS {
                        let r = barrier.wait().await.unwrap();
                        assert!(r.index() < PARTIES);
                        index_sum.fetch_add(r.index(), Ordering::SeqCst);
                        if r.is_leader() {
                            leaders.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(leaders.load(Ordering::SeqCst), ROUNDS);
        // Indices 0..PARTIES, each once per round.
        assert_eq!(
            index_sum.load(Ordering::SeqCst),
            ROUNDS * PARTIES * (PARTIES - 1) / 2
        );
    });
}

#[test]
fn waiter_dropped_while_filling_leaves() {
    let barrier = Barrier::new(3);
    let mut a = Box::pin(barrier.wait());
    let mut b = Box::pin(barrier.wait());
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(b.as_mut()).is_pending());
    drop(a);
    assert_eq!(barrier.n_waiting(), 1);
    let mut c = Box::pin(barrier.wait());
    assert!(poll(c.as_mut()).is_pending(), "only 2 of 3 are waiting");
    let d = future::block_on(barrier.wait()).unwrap();
    assert_eq!(d.index(), 2);
    let Poll::Ready(Ok(rb)) = poll(b.as_mut()) else {
        panic!("b released")
    };
    let Poll::Ready(Ok(rc)) = poll(c.as_mut()) else {
        panic!("c released")
    };
    // Indices stay distinct after the departure.
    assert_eq!((rb.index(), rc.index()), (0, 1));
}

#[test]
fn released_waiter_dropped_changes_nothing() {
    let barrier = Barrier::new(2);
    let mut a = Box::pin(barrier.wait());
    assert!(poll(a.as_mut()).is_pending());
    assert!(future::block_on(barrier.wait()).unwrap().is_leader());
    drop(a); // released, never polled
    assert_eq!(barrier.n_waiting(), 0);
    // Next cycle works normally.
    let mut b = Box::pin(barrier.wait());
    assert!(poll(b.as_mut()).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    assert!(future::block_on(barrier.wait()).is_ok());
    assert!(poll(b.as_mut()).is_ready());
}

#[test]
fn abort_breaks_until_reset() {
    let barrier = Barrier::new(3);
    let mut a = Box::pin(barrier.wait());
    assert!(poll(a.as_mut()).is_pending());
    barrier.abort();
    assert!(barrier.is_broken());
    assert!(matches!(poll(a.as_mut()), Poll::Ready(Err(_))));
    let err = future::block_on(barrier.wait()).unwrap_err();
    assert_eq!(err.to_string(), "the barrier is broken (aborted or reset)");
    assert_eq!(barrier.n_waiting(), 0);
    barrier.reset();
    assert!(!barrier.is_broken());
    let mut b = Box::pin(barrier.wait());
    assert!(poll(b.as_mut()).is_pending());
    assert_eq!(
        format!("{barrier:?}"),
        "Barrier { parties: 3, n_waiting: 1, broken: false }"
    );
}

#[test]
fn reset_fails_current_waiters_only() {
    let barrier = Barrier::new(2);
    let mut a = Box::pin(barrier.wait());
    assert!(poll(a.as_mut()).is_pending());
    barrier.reset();
    assert!(matches!(poll(a.as_mut()), Poll::Ready(Err(_))));
    let mut b = Box::pin(barrier.wait());
    assert!(poll(b.as_mut()).is_pending());
    assert!(future::block_on(barrier.wait()).is_ok());
    assert!(matches!(poll(b.as_mut()), Poll::Ready(Ok(_))));
}

#[test]
#[should_panic(expected = "parties must be at least 1")]
fn zero_parties_panics() {
    let _ = Barrier::new(0);
}
