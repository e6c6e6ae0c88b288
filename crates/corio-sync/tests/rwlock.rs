//! RwLock: shared readers, exclusive writers, FIFO (a queued writer blocks
//! later readers), try_*, and hand-off on cancellation.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use corio_sync::RwLock;
use futures_lite::future;

fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn readers_share_writers_exclude() {
    future::block_on(async {
        let lock = RwLock::new(1);
        let r1 = lock.read().await;
        let r2 = lock.read().await;
        assert_eq!(*r1 + *r2, 2);
        assert!(lock.try_write().is_err());
        drop((r1, r2));
        let mut w = lock.write().await;
        *w = 5;
        assert!(lock.try_read().is_err());
        assert!(lock.try_write().is_err());
        drop(w);
        assert_eq!(*lock.try_read().unwrap(), 5);
        let mut lock = lock;
        *lock.get_mut() += 1;
        assert_eq!(lock.into_inner(), 6);
    });
}

#[test]
fn debug_and_unsized() {
    let lock: RwLock<[u8]> = RwLock::from(vec![1u8, 2].into_boxed_slice());
    assert_eq!(format!("{lock:?}"), "RwLock { data: [1, 2] }");
    let w = lock.try_write().unwrap();
    assert_eq!(format!("{lock:?}"), "RwLock { data: <locked> }");
    drop(w);
}

#[test]
fn queued_writer_blocks_later_readers() {
    let lock = RwLock::new(0);
    let r1 = lock.try_read().unwrap();
    let mut w = Box::pin(lock.write());
    assert!(poll(w.as_mut()).is_pending());
    // No barging: a new reader neither try-reads nor overtakes the writer.
    assert!(lock.try_read().is_err());
    let mut r2 = Box::pin(lock.read());
    assert!(poll(r2.as_mut()).is_pending());
    drop(r1);
    assert!(poll(r2.as_mut()).is_pending());
    let Poll::Ready(mut g) = poll(w.as_mut()) else {
        panic!("the writer is first")
    };
    *g = 7;
    drop(g);
    let Poll::Ready(r) = poll(r2.as_mut()) else {
        panic!("the reader follows")
    };
    assert_eq!(*r, 7);
}

#[test]
fn fifo_between_writers_and_readers() {
    let lock = RwLock::new(Vec::new());
    let w0 = lock.try_write().unwrap();
    let mut w1 = Box::pin(lock.write());
    let mut r = Box::pin(lock.read());
    let mut w2 = Box::pin(lock.write());
    assert!(poll(w1.as_mut()).is_pending());
    assert!(poll(r.as_mut()).is_pending());
    assert!(poll(w2.as_mut()).is_pending());
    drop(w0);
    assert!(poll(w2.as_mut()).is_pending());
    assert!(poll(r.as_mut()).is_pending());
    let Poll::Ready(mut g) = poll(w1.as_mut()) else {
        panic!("w1 is first")
    };
    g.push(1);
    drop(g);
    assert!(poll(w2.as_mut()).is_pending());
    let Poll::Ready(rg) = poll(r.as_mut()) else {
        panic!("r is second")
    };
    assert_eq!(*rg, [1]);
    drop(rg);
    let Poll::Ready(mut g) = poll(w2.as_mut()) else {
        panic!("w2 is third")
    };
    g.push(2);
    drop(g);
    assert_eq!(*lock.try_read().unwrap(), [1, 2]);
}

#[test]
fn waiting_writer_dropped_releases_collected_permits() {
    let lock = RwLock::new(0);
    let r1 = lock.try_read().unwrap();
    let mut w = Box::pin(lock.write());
    assert!(poll(w.as_mut()).is_pending()); // collects all but r1's permit
    let mut r2 = Box::pin(lock.read());
    assert!(poll(r2.as_mut()).is_pending());
    drop(w);
    // The permits the writer had collected go to r2.
    let Poll::Ready(g2) = poll(r2.as_mut()) else {
        panic!("r2 must get in once the writer left")
    };
    assert!(lock.try_read().is_ok());
    drop((r1, g2));
    assert!(lock.try_write().is_ok());
}

#[test]
fn granted_writer_dropped_passes_lock_on() {
    let lock = RwLock::new(0);
    let r1 = lock.try_read().unwrap();
    let mut w = Box::pin(lock.write());
    let mut r2 = Box::pin(lock.read());
    assert!(poll(w.as_mut()).is_pending());
    assert!(poll(r2.as_mut()).is_pending());
    drop(r1); // grants w
    drop(w); // never polled again
    assert!(poll(r2.as_mut()).is_ready());
    assert!(lock.try_write().is_ok());
}

#[test]
fn writers_exclusive_readers_concurrent_on_executor() {
    let ex = corio_executor::Executor::builder()
        .worker_threads(4)
        .build()
        .unwrap();
    ex.block_on(async {
        let lock = Arc::new(RwLock::new(0usize));
        // >0: readers inside; -1: a writer inside.
        let state = Arc::new(AtomicIsize::new(0));
        let max_readers = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..16)
            .map(|t| {
                let lock = lock.clone();
                let state = state.clone();
                let max_readers = max_readers.clone();
                corio_executor::spawn(async move {
                    for i in 0..100 {
                        if (t + i) % 4 == 0 {
                            let mut g = lock.write().await;
                            assert_eq!(state.swap(-1, Ordering::SeqCst), 0);
                            *g += 1;
                            corio_executor::yield_now().await;
                            assert_eq!(state.swap(0, Ordering::SeqCst), -1);
                        } else {
                            let g = lock.read().await;
                            let n = state.fetch_add(1, Ordering::SeqCst);
                            assert!(n >= 0, "a reader met a writer");
                            max_readers.fetch_max(n as usize + 1, Ordering::SeqCst);
                            let _ = *g;
                            corio_executor::yield_now().await;
                            state.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(*lock.read().await, 16 * 100 / 4);
        assert!(lock.try_write().is_ok());
    });
}
