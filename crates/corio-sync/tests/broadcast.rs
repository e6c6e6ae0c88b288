//! Public-API tests of `corio_sync::broadcast`: every receiver sees every
//! value, exact lag counting, closing, value lifetimes, cancellation, and a
//! run on the multi-threaded executor.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use corio_sync::broadcast::{
    self, Receiver, RecvError, RecvFuture, SendError, Sender, TryRecvError,
};
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

/// A clonable value that counts how many of its copies were dropped.
#[derive(Clone)]
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
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
    send_sync::<RecvFuture<'static, u8>>();
    send_sync::<SendError<u8>>();
    unpin::<Receiver<std::marker::PhantomPinned>>();
    unpin::<RecvFuture<'static, std::marker::PhantomPinned>>();
}

#[test]
fn every_receiver_sees_every_value_in_order() {
    let (tx, mut rx1) = broadcast::channel(8);
    let mut rx2 = tx.subscribe();
    for i in 0..5 {
        assert_eq!(tx.send(i), Ok(2), "send reports the receiver count");
    }
    for rx in [&mut rx1, &mut rx2] {
        let got: Vec<i32> = (0..5).map(|_| rx.try_recv().unwrap()).collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn subscribers_start_at_the_next_value_and_clones_where_the_original_is() {
    let (tx, mut rx) = broadcast::channel(8);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    let mut late = tx.subscribe();
    assert_eq!(rx.try_recv(), Ok(1));
    let mut twin = rx.clone();
    tx.send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(
        twin.try_recv(),
        Ok(2),
        "the clone starts where the original was"
    );
    assert_eq!(twin.try_recv(), Ok(3));
    assert_eq!(
        late.try_recv(),
        Ok(3),
        "a subscriber only sees later values"
    );
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.receiver_count(), 3);
}

#[test]
fn lag_is_counted_exactly_and_reported_once() {
    let (tx, mut rx) = broadcast::channel(4);
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 10);
    // 10 sent, 4 kept: values 0..6 are gone.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(6)));
    let rest: Vec<i32> = (0..4).map(|_| rx.try_recv().unwrap()).collect();
    assert_eq!(rest, [6, 7, 8, 9], "continues from the oldest value kept");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

    // Falling behind again, in the middle of the stream.
    tx.send(10).unwrap();
    assert_eq!(rx.try_recv(), Ok(10));
    for i in 11..18 {
        tx.send(i).unwrap();
    }
    assert_eq!(block_on(rx.recv()), Err(RecvError::Lagged(3)));
    assert_eq!(block_on(rx.recv()), Ok(14));

    // Exactly at capacity: no lag.
    let (tx, mut rx) = broadcast::channel(3);
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv(), Ok(0));
    // One more than the capacity behind: lag of one.
    let (tx, mut rx) = broadcast::channel(3);
    for i in 0..4 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn a_lagging_clone_lags_the_same() {
    let (tx, rx) = broadcast::channel(2);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    let mut a = rx;
    let mut b = a.clone();
    for rx in [&mut a, &mut b] {
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(rx.try_recv(), Ok(4));
    }
}

#[test]
fn closed_after_all_senders_drop_and_the_rest_is_read() {
    let (tx, mut rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "a sender is still alive"
    );
    tx2.send(2).unwrap();
    drop(tx2);
    assert_eq!(block_on(rx.recv()), Ok(2));
    assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn waiting_receivers_are_woken_by_send_and_by_close() {
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    let (c1, w1) = count_waker();
    let (c2, w2) = count_waker();
    {
        let mut f1 = rx1.recv();
        let mut f2 = rx2.recv();
        assert!(poll(&mut f1, &w1).is_pending());
        assert!(poll(&mut f2, &w2).is_pending());
        tx.send(5).unwrap();
        assert_eq!(
            (c1.0.load(Ordering::SeqCst), c2.0.load(Ordering::SeqCst)),
            (1, 1)
        );
        assert_eq!(poll(&mut f1, &w1), Poll::Ready(Ok(5)));
        assert_eq!(poll(&mut f2, &w2), Poll::Ready(Ok(5)));
    }
    let mut f1 = rx1.recv();
    assert!(poll(&mut f1, &w1).is_pending());
    drop(tx);
    assert_eq!(c1.0.load(Ordering::SeqCst), 2);
    assert_eq!(poll(&mut f1, &w1), Poll::Ready(Err(RecvError::Closed)));
}

#[test]
fn a_cancelled_recv_loses_nothing() {
    let (tx, mut rx) = broadcast::channel(4);
    let (_, w) = count_waker();
    let mut fut = rx.recv();
    assert!(poll(&mut fut, &w).is_pending());
    drop(fut);
    tx.send('x').unwrap();
    assert!(future::block_on(future::poll_once(rx.recv())).is_some());
    tx.send('y').unwrap();
    assert_eq!(rx.try_recv(), Ok('y'));
}

#[test]
fn send_without_receivers_hands_the_value_back() {
    let (tx, rx) = broadcast::channel(2);
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    let err = tx.send(String::from("lost?")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "broadcasting to a channel with no receiver"
    );
    assert_eq!(err.into_inner(), "lost?");
    assert!(tx.is_empty(), "the value was not stored");
    // A new subscriber makes sends work again.
    let mut rx = tx.subscribe();
    tx.send(String::from("found")).unwrap();
    assert_eq!(rx.try_recv().unwrap(), "found");
}

#[test]
fn values_are_dropped_once_everyone_has_read_them() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    tx.send(Tracked(drops.clone())).unwrap();
    assert_eq!(tx.len(), 1);
    drop(rx1.try_recv().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 1, "rx1's clone");
    assert_eq!(tx.len(), 1, "rx2 has not read it");
    drop(rx2.try_recv().unwrap());
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2,
        "the last reader took the value itself"
    );
    assert_eq!(tx.len(), 0);

    // A receiver that goes away releases what it did not read.
    tx.send(Tracked(drops.clone())).unwrap();
    tx.send(Tracked(drops.clone())).unwrap();
    drop(rx1.try_recv().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    drop(rx2);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        4,
        "the first value: rx1 and rx2 done"
    );
    assert_eq!(tx.len(), 1);
    drop(rx1);
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    assert_eq!(tx.len(), 0);

    // An overwritten value is dropped when it is overwritten.
    let mut rx = tx.subscribe();
    for _ in 0..5 {
        tx.send(Tracked(drops.clone())).unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 6);
    assert_eq!(tx.len(), 4);
    assert_eq!(rx.try_recv().err(), Some(TryRecvError::Lagged(1)));
}

#[test]
fn receiver_len_counts_unread_values() {
    let (tx, mut rx) = broadcast::channel(2);
    assert!(rx.is_empty());
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(rx.len(), 2);
    rx.try_recv().unwrap();
    assert_eq!(rx.len(), 1);
    tx.send(3).unwrap();
    tx.send(4).unwrap();
    assert_eq!(rx.len(), 3, "counts the overwritten value too");
}

#[test]
fn errors_display() {
    assert_eq!(RecvError::Closed.to_string(), "broadcast channel closed");
    assert_eq!(
        TryRecvError::Lagged(7).to_string(),
        "receiver lagged behind and missed 7 values"
    );
    assert_eq!(
        TryRecvError::from(RecvError::Lagged(2)),
        TryRecvError::Lagged(2)
    );
    assert_eq!(format!("{:?}", SendError(1)), "SendError(..)");
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn zero_capacity_panics() {
    let _ = broadcast::channel::<u8>(0);
}

/// Receivers that keep up (the buffer is large enough for the whole run)
/// get every value, in order, while the sender sends from another task.
#[test]
fn executor_every_receiver_gets_every_item_in_order() {
    const N: u64 = 20_000;
    const RECEIVERS: usize = 6;
    with_deadline(Duration::from_secs(60), || {
        let ex = corio_executor::Executor::builder()
            .worker_threads(4)
            .build()
            .unwrap();
        ex.block_on(async {
            let (tx, rx) = broadcast::channel::<u64>(N as usize);
            let mut readers = Vec::new();
            for r in 0..RECEIVERS {
                let mut rx = if r == 0 { rx.clone() } else { tx.subscribe() };
                readers.push(corio_executor::spawn(async move {
                    let mut expected = 0;
                    let mut cancelled = 0;
                    loop {
                        // Every third receive is polled once and dropped if
                        // pending: cancelling must lose nothing.
                        let got = if expected % 3 == 0 {
                            match future::poll_once(rx.recv()).await {
                                Some(r) => r,
                                None => {
                                    cancelled += 1;
                                    corio_executor::yield_now().await;
                                    continue;
                                }
                            }
                        } else {
                            rx.recv().await
                        };
                        match got {
                            Ok(v) => {
                                assert_eq!(v, expected);
                                expected += 1;
                            }
                            Err(RecvError::Closed) => break (expected, cancelled),
                            Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
                        }
                    }
                }));
            }
            drop(rx);
            let sender = corio_executor::spawn(async move {
                for i in 0..N {
                    tx.send(i).unwrap();
                    if i % 64 == 0 {
                        corio_executor::yield_now().await;
                    }
                }
            });
            sender.await.unwrap();
            for r in readers {
                let (count, _cancelled) = r.await.unwrap();
                assert_eq!(count, N);
            }
        });
    });
}

/// With a small buffer and a fast sender, receivers lag; what each one gets
/// plus what it was told it missed adds up to everything sent, exactly.
#[test]
fn executor_lag_accounting_adds_up() {
    const N: u64 = 20_000;
    with_deadline(Duration::from_secs(60), || {
        let ex = corio_executor::Executor::builder()
            .worker_threads(4)
            .build()
            .unwrap();
        ex.block_on(async {
            let (tx, _keep) = broadcast::channel::<u64>(8);
            let mut readers = Vec::new();
            for _ in 0..4 {
                let mut rx = tx.subscribe();
                readers.push(corio_executor::spawn(async move {
                    let (mut next, mut got, mut missed) = (0u64, 0u64, 0u64);
                    loop {
                        match rx.recv().await {
                            Ok(v) => {
                                assert_eq!(v, next, "after a lag, the oldest kept value");
                                next += 1;
                                got += 1;
                            }
                            Err(RecvError::Lagged(n)) => {
                                missed += n;
                                next += n;
                            }
                            Err(RecvError::Closed) => break (got, missed),
                        }
                    }
                }));
            }
            for i in 0..N {
                tx.send(i).unwrap();
                if i % 1000 == 0 {
                    corio_executor::yield_now().await;
                }
            }
            drop(tx);
            for r in readers {
                let (got, missed) = r.await.unwrap();
                assert_eq!(got + missed, N);
                assert!(got > 0);
            }
        });
    });
}
