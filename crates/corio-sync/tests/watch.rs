//! Public-API tests of `corio_sync::watch`: coalescing, seen versions,
//! closing in both directions, cancellation, and a run on the multi-threaded
//! executor.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use corio_sync::watch::{self, Changed, Receiver, RecvError, Ref, SendError, Sender};
use futures_lite::future::{self, block_on};

#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn count_waker() -> (Arc<CountWaker>, Waker) {
    let count = Arc::new(CountWaker::default());
    (count.clone(), Waker::from(count))
}

fn poll<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

fn with_deadline<R: Send + 'static>(limit: Duration, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(r) => {
            handle.join().unwrap();
            r
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(handle.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {limit:?}"),
    }
}

#[test]
fn handles_are_send_sync_unpin() {
    fn send_sync<T: Send + Sync>() {}
    fn unpin<T: Unpin>() {}
    send_sync::<Sender<u8>>();
    send_sync::<Receiver<u8>>();
    send_sync::<Changed<'static, u8>>();
    send_sync::<SendError<u8>>();
    unpin::<Receiver<std::marker::PhantomPinned>>();
    unpin::<Changed<'static, std::marker::PhantomPinned>>();
    fn sync_ref<T: Sync>() {}
    sync_ref::<Ref<'static, u8>>();
}

#[test]
fn several_sends_coalesce_into_one_change() {
    let (tx, mut rx) = watch::channel(0);
    let (_, w) = count_waker();
    assert_eq!(
        rx.has_changed(),
        Ok(false),
        "the initial value counts as seen"
    );
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    tx.send(3).unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(*rx.borrow(), 3, "the latest value");
    assert_eq!(rx.has_changed(), Ok(false));
    let mut next = rx.changed();
    assert!(
        poll(&mut next, &w).is_pending(),
        "one change for three sends"
    );
}

#[test]
fn changed_wakes_every_waiting_receiver() {
    let (tx, mut rx1) = watch::channel("a");
    let mut rx2 = rx1.clone();
    let (c1, w1) = count_waker();
    let (c2, w2) = count_waker();
    let mut f1 = rx1.changed();
    let mut f2 = rx2.changed();
    assert!(poll(&mut f1, &w1).is_pending());
    assert!(poll(&mut f2, &w2).is_pending());
    tx.send("b").unwrap();
    assert_eq!(
        (c1.0.load(Ordering::SeqCst), c2.0.load(Ordering::SeqCst)),
        (1, 1)
    );
    assert_eq!(poll(&mut f1, &w1), Poll::Ready(Ok(())));
    assert_eq!(poll(&mut f2, &w2), Poll::Ready(Ok(())));
}

#[test]
fn a_cancelled_changed_loses_no_change() {
    let (tx, mut rx) = watch::channel(0);
    let (_, w) = count_waker();
    let mut fut = rx.changed();
    assert!(poll(&mut fut, &w).is_pending());
    tx.send(1).unwrap();
    drop(fut);
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(*rx.borrow(), 1);
}

#[test]
fn sender_drop_ends_changed_after_the_last_unseen_value() {
    let (tx, mut rx) = watch::channel(0);
    tx.send(9).unwrap();
    drop(tx);
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(block_on(rx.changed()), Ok(()), "the unseen value first");
    assert_eq!(*rx.borrow(), 9);
    assert_eq!(block_on(rx.changed()), Err(RecvError));
    assert_eq!(rx.has_changed(), Err(RecvError));

    // A receiver waiting when the sender goes is woken.
    let (tx, mut rx) = watch::channel(0);
    let (count, w) = count_waker();
    let mut fut = rx.changed();
    assert!(poll(&mut fut, &w).is_pending());
    drop(tx);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll(&mut fut, &w), Poll::Ready(Err(RecvError)));
}

#[test]
fn send_fails_without_receivers_but_send_replace_and_modify_store() {
    let (tx, rx) = watch::channel(String::from("one"));
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    let err = tx.send(String::from("two")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "sending on a watch channel with no receiver"
    );
    assert_eq!(err.into_inner(), "two");
    assert_eq!(*tx.borrow(), "one", "a failed send stores nothing");
    assert_eq!(tx.send_replace(String::from("three")), "one");
    tx.send_modify(|s| s.push('!'));
    assert_eq!(*tx.borrow(), "three!");
    let rx = tx.subscribe();
    assert_eq!(
        rx.has_changed(),
        Ok(false),
        "a subscriber has seen the current value"
    );
    assert_eq!(*rx.borrow(), "three!");
    assert_eq!(tx.receiver_count(), 1);
}

#[test]
fn send_if_modified_notifies_only_when_told() {
    let (tx, mut rx) = watch::channel(5);
    let (count, w) = count_waker();
    let mut fut = rx.changed();
    assert!(poll(&mut fut, &w).is_pending());
    assert!(!tx.send_if_modified(|n| {
        *n += 0;
        false
    }));
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    assert!(poll(&mut fut, &w).is_pending());
    assert!(tx.send_if_modified(|n| {
        *n += 1;
        true
    }));
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll(&mut fut, &w), Poll::Ready(Ok(())));
    assert_eq!(*rx.borrow(), 6);
}

#[test]
fn borrow_and_update_and_clones_track_seen_versions() {
    let (tx, mut rx) = watch::channel(1);
    tx.send(2).unwrap();
    let mut twin = rx.clone();
    assert_eq!(*rx.borrow(), 2);
    assert_eq!(rx.has_changed(), Ok(true), "borrow does not mark seen");
    assert_eq!(*rx.borrow_and_update(), 2);
    assert_eq!(rx.has_changed(), Ok(false));
    assert_eq!(
        twin.has_changed(),
        Ok(true),
        "the clone keeps its own version"
    );
    twin.mark_unchanged();
    assert_eq!(twin.has_changed(), Ok(false));
    assert_eq!(format!("{:?}", rx.borrow()), "2");
}

#[test]
fn receiver_count_follows_clones_and_drops() {
    let (tx, rx) = watch::channel(());
    let rx2 = rx.clone();
    let rx3 = tx.subscribe();
    assert_eq!(tx.receiver_count(), 3);
    drop((rx, rx2));
    assert_eq!(tx.receiver_count(), 1);
    drop(rx3);
    assert_eq!(tx.send(()), Err(SendError(())));
}

#[test]
fn executor_receivers_see_monotonic_values_and_the_last_one() {
    const N: u64 = 5_000;
    with_deadline(Duration::from_secs(60), || {
        let ex = corio_executor::Executor::builder()
            .worker_threads(4)
            .build()
            .unwrap();
        ex.block_on(async {
            let (tx, rx) = watch::channel(0u64);
            let mut readers = Vec::new();
            for r in 0..4u64 {
                let mut rx = rx.clone();
                readers.push(corio_executor::spawn(async move {
                    let mut last = 0;
                    let mut changes = 0u64;
                    let mut polls = r;
                    loop {
                        polls += 1;
                        let changed = if polls % 4 == 0 {
                            // Cancel now and then: nothing may be lost.
                            match future::poll_once(rx.changed()).await {
                                Some(r) => r,
                                None => {
                                    corio_executor::yield_now().await;
                                    continue;
                                }
                            }
                        } else {
                            rx.changed().await
                        };
                        if changed.is_err() {
                            break (last, changes);
                        }
                        changes += 1;
                        let v = *rx.borrow_and_update();
                        assert!(v > last, "values only grow: {v} after {last}");
                        last = v;
                    }
                }));
            }
            drop(rx);
            for i in 1..=N {
                tx.send(i).unwrap();
                if i % 16 == 0 {
                    corio_executor::yield_now().await;
                }
            }
            drop(tx);
            for r in readers {
                let (last, changes) = r.await.unwrap();
                assert_eq!(last, N, "every receiver sees the final value");
                assert!((1..=N).contains(&changes));
            }
        });
    });
}
