//! Public-API tests of `corio_sync::channel`: order, closing rules, errors,
//! counts, the `Stream` impl, the blocking variants, cancellation, and
//! stress runs with random cancellation on the multi-threaded executor.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use corio_sync::channel::{
    self, Receiver, RecvError, RecvFuture, SendError, SendFuture, Sender, TryRecvError,
    TrySendError,
};
use futures_core::stream::FusedStream;
use futures_lite::future::{self, block_on};
use futures_lite::StreamExt;

// ---------------------------------------------------------------- helpers

/// A waker that counts its wake-ups.
#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn count_waker() -> (Arc<CountWaker>, Waker) {
    let count = Arc::new(CountWaker::default());
    let waker = Waker::from(count.clone());
    (count, waker)
}

fn poll<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// A value that counts how many of its kind were dropped.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs `f` on its own thread and fails the test if it takes longer than
/// `limit` (a lost wake-up shows up as a hang).
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
            // The closure panicked: surface its panic.
            std::panic::resume_unwind(handle.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {limit:?}"),
    }
}

fn executor() -> corio_executor::Executor {
    corio_executor::Executor::builder()
        .worker_threads(4)
        .build()
        .unwrap()
}

/// A tiny xorshift PRNG (no extra dependencies).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ------------------------------------------------------------ auto traits

#[test]
fn handles_are_send_sync_unpin() {
    fn send_sync<T: Send + Sync>() {}
    fn unpin<T: Unpin>() {}
    send_sync::<Sender<u8>>();
    send_sync::<Receiver<u8>>();
    send_sync::<SendFuture<'static, u8>>();
    send_sync::<RecvFuture<'static, u8>>();
    // Send-only payloads still give Send + Sync handles (like async-channel).
    send_sync::<Sender<std::cell::Cell<u8>>>();
    send_sync::<Receiver<std::cell::Cell<u8>>>();
    unpin::<Sender<std::marker::PhantomPinned>>();
    unpin::<Receiver<std::marker::PhantomPinned>>();
    unpin::<SendFuture<'static, std::marker::PhantomPinned>>();
    unpin::<RecvFuture<'static, std::marker::PhantomPinned>>();
    send_sync::<SendError<u8>>();
    send_sync::<TrySendError<u8>>();
}

// ------------------------------------------------------------- functional

#[test]
fn values_arrive_in_send_order() {
    for (tx, rx) in [channel::bounded(100), channel::unbounded()] {
        for i in 0..100 {
            tx.try_send(i).unwrap();
        }
        let got: Vec<i32> = (0..100).map(|_| rx.try_recv().unwrap()).collect();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn bounded_reports_len_capacity_and_fullness() {
    let (tx, rx) = channel::bounded(2);
    assert_eq!((tx.capacity(), rx.capacity()), (Some(2), Some(2)));
    assert!(tx.is_empty() && !tx.is_full());
    tx.try_send('a').unwrap();
    assert_eq!((tx.len(), rx.len()), (1, 1));
    tx.try_send('b').unwrap();
    assert!(tx.is_full() && rx.is_full());
    assert_eq!(tx.try_send('c'), Err(TrySendError::Full('c')));
    assert_eq!(rx.try_recv(), Ok('a'));
    assert_eq!(tx.len(), 1);
    tx.try_send('c').unwrap();
    assert_eq!(rx.try_recv(), Ok('b'));
    assert_eq!(rx.try_recv(), Ok('c'));
    assert!(rx.is_empty());
}

#[test]
fn unbounded_is_never_full() {
    let (tx, rx) = channel::unbounded();
    assert_eq!(tx.capacity(), None);
    for i in 0..10_000 {
        tx.try_send(i).unwrap();
    }
    assert!(!tx.is_full());
    assert_eq!(rx.len(), 10_000);
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn bounded_zero_panics() {
    let _ = channel::bounded::<()>(0);
}

#[test]
fn handle_counts_follow_clones_and_drops() {
    let (tx, rx) = channel::bounded::<u8>(1);
    let tx2 = tx.clone();
    let rx2 = rx.clone();
    let rx3 = rx2.clone();
    assert_eq!((tx.sender_count(), rx.receiver_count()), (2, 3));
    drop(tx2);
    drop(rx3);
    assert_eq!((rx.sender_count(), tx.receiver_count()), (1, 2));
    assert!(!tx.is_closed());
}

#[test]
fn dropping_all_senders_lets_receivers_drain_then_fail() {
    let (tx, rx) = channel::bounded(4);
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    tx2.try_send(2).unwrap();
    drop(tx);
    assert!(!rx.is_closed(), "one sender is still alive");
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(block_on(rx.recv()), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(block_on(rx.recv()), Err(RecvError));
    assert!(rx.is_terminated());
}

#[test]
fn dropping_all_receivers_fails_sends_and_drops_values() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::bounded(4);
    tx.try_send(Tracked(drops.clone())).unwrap();
    tx.try_send(Tracked(drops.clone())).unwrap();
    let rx2 = rx.clone();
    drop(rx);
    assert!(!tx.is_closed());
    drop(rx2);
    assert!(tx.is_closed());
    // The values nobody can receive are dropped with the last receiver.
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    let back = tx.try_send(Tracked(drops.clone())).unwrap_err();
    assert!(back.is_closed());
    drop(back.into_inner());
    let err = block_on(tx.send(Tracked(drops.clone()))).unwrap_err();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        3,
        "the value is still held by the error"
    );
    drop(err.into_inner());
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    let err = tx.send_blocking(Tracked(drops.clone())).unwrap_err();
    assert_eq!(err.to_string(), "sending on a closed channel");
}

#[test]
fn explicit_close_from_either_side() {
    let (tx, rx) = channel::unbounded();
    tx.try_send(1).unwrap();
    assert!(rx.close());
    assert!(!tx.close(), "already closed");
    assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    assert_eq!(rx.try_recv(), Ok(1), "values sent before the close stay");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, rx) = channel::bounded::<u8>(1);
    assert!(tx.close());
    assert!(rx.is_closed() && tx.is_closed());
    assert_eq!(block_on(rx.recv()), Err(RecvError));
}

#[test]
fn errors_display_and_convert() {
    assert_eq!(SendError(1).to_string(), "sending on a closed channel");
    assert_eq!(
        TrySendError::Full(1).to_string(),
        "sending on a full channel"
    );
    assert_eq!(format!("{:?}", TrySendError::Closed(1)), "Closed(..)");
    assert_eq!(TrySendError::from(SendError(5)), TrySendError::Closed(5));
    assert_eq!(TryRecvError::from(RecvError), TryRecvError::Closed);
    assert_eq!(
        TryRecvError::Empty.to_string(),
        "receiving on an empty channel"
    );
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(SendError(vec![1u8]));
    assert_eq!(boxed.to_string(), "sending on a closed channel");
}

#[test]
fn send_waits_for_room_and_close_wakes_it() {
    let (tx, rx) = channel::bounded(1);
    tx.try_send(1).unwrap();
    let (count, waker) = count_waker();
    let mut send = tx.send(2);
    assert!(poll(&mut send, &waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        1,
        "room freed: the sender is woken"
    );
    assert_eq!(poll(&mut send, &waker), Poll::Ready(Ok(())));
    drop(send);

    let mut send = tx.send(3);
    assert!(poll(&mut send, &waker).is_pending());
    rx.close();
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        2,
        "close wakes the waiting sender"
    );
    match poll(&mut send, &waker) {
        Poll::Ready(Err(SendError(3))) => {}
        other => panic!("expected the value back, got {other:?}"),
    }
}

#[test]
fn recv_waits_for_a_value_and_sender_drop_wakes_it() {
    let (tx, rx) = channel::unbounded();
    let (count, waker) = count_waker();
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &waker).is_pending());
    tx.try_send(7).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll(&mut recv, &waker), Poll::Ready(Ok(7)));

    let mut recv = rx.recv();
    assert!(poll(&mut recv, &waker).is_pending());
    drop(tx);
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
    assert_eq!(poll(&mut recv, &waker), Poll::Ready(Err(RecvError)));
}

#[test]
fn waiting_receivers_are_served_fifo_one_value_each() {
    let (tx, rx) = channel::unbounded();
    let wakers: Vec<_> = (0..3).map(|_| count_waker()).collect();
    let mut futs: Vec<_> = (0..3).map(|_| rx.recv()).collect();
    for (f, (_, w)) in futs.iter_mut().zip(&wakers) {
        assert!(poll(f, w).is_pending());
    }
    tx.try_send(10).unwrap();
    let woken: Vec<usize> = wakers
        .iter()
        .map(|(c, _)| c.0.load(Ordering::SeqCst))
        .collect();
    assert_eq!(woken, [1, 0, 0], "one value wakes the first waiter only");
    tx.try_send(11).unwrap();
    let woken: Vec<usize> = wakers
        .iter()
        .map(|(c, _)| c.0.load(Ordering::SeqCst))
        .collect();
    assert_eq!(woken, [1, 1, 0], "a second value wakes a second waiter");
    assert_eq!(poll(&mut futs[0], &wakers[0].1), Poll::Ready(Ok(10)));
    assert_eq!(poll(&mut futs[1], &wakers[1].1), Poll::Ready(Ok(11)));
    assert!(poll(&mut futs[2], &wakers[2].1).is_pending());
}

#[test]
fn cancelled_notified_recv_passes_the_wakeup_on() {
    let (tx, rx) = channel::unbounded();
    let (c1, w1) = count_waker();
    let (c2, w2) = count_waker();
    let mut first = rx.recv();
    let mut second = rx.recv();
    assert!(poll(&mut first, &w1).is_pending());
    assert!(poll(&mut second, &w2).is_pending());
    tx.try_send(1).unwrap();
    assert_eq!(c1.0.load(Ordering::SeqCst), 1);
    assert_eq!(c2.0.load(Ordering::SeqCst), 0);
    // Cancel the notified waiter before it runs: the value must not be lost
    // and the other waiter must hear about it.
    drop(first);
    assert_eq!(c2.0.load(Ordering::SeqCst), 1, "the wake-up was passed on");
    assert_eq!(poll(&mut second, &w2), Poll::Ready(Ok(1)));
}

#[test]
fn cancelled_notified_send_passes_the_wakeup_on_and_sends_nothing() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::bounded(1);
    tx.try_send(Tracked(drops.clone())).unwrap();
    let (c1, w1) = count_waker();
    let (c2, w2) = count_waker();
    let mut first = tx.send(Tracked(drops.clone()));
    let mut second = tx.send(Tracked(drops.clone()));
    assert!(poll(&mut first, &w1).is_pending());
    assert!(poll(&mut second, &w2).is_pending());
    drop(rx.try_recv().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(c1.0.load(Ordering::SeqCst), 1);
    drop(first);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2,
        "the cancelled send's value is dropped"
    );
    assert_eq!(c2.0.load(Ordering::SeqCst), 1, "the wake-up was passed on");
    assert!(matches!(poll(&mut second, &w2), Poll::Ready(Ok(()))));
    assert_eq!(rx.len(), 1, "only the second value is in the channel");
}

#[test]
fn receiver_is_a_stream() {
    let (tx, mut rx) = channel::bounded(2);
    let (count, waker) = count_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut rx).poll_next(&mut cx).is_pending());
    tx.try_send(1).unwrap();
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        1,
        "a waiting stream is woken"
    );
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(Some(1)));

    let producer = thread::spawn(move || {
        for i in 2..=50 {
            tx.send_blocking(i).unwrap();
        }
    });
    let rest: Vec<i32> = block_on((&mut rx).collect());
    producer.join().unwrap();
    assert_eq!(rest, (2..=50).collect::<Vec<_>>());
    assert!(rx.is_terminated());
    assert_eq!(block_on(rx.next()), None);
}

#[test]
fn a_stream_that_stops_polling_does_not_swallow_wakeups() {
    let (tx, mut stream_rx) = channel::unbounded();
    let rx = stream_rx.clone();
    let (_, w) = count_waker();
    // The stream registers and is then never polled again (a cancelled
    // `next()` keeps its listener in the receiver).
    assert!(Pin::new(&mut stream_rx)
        .poll_next(&mut Context::from_waker(&w))
        .is_pending());
    let (count, waker) = count_waker();
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &waker).is_pending());
    tx.try_send(3).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll(&mut recv, &waker), Poll::Ready(Ok(3)));
}

#[test]
fn blocking_variants_work_across_threads() {
    with_deadline(Duration::from_secs(20), || {
        let (tx, rx) = channel::bounded(1);
        let consumer = thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(v) = rx.recv_blocking() {
                got.push(v);
            }
            got
        });
        for i in 0..1000 {
            tx.send_blocking(i).unwrap();
        }
        drop(tx);
        assert_eq!(consumer.join().unwrap(), (0..1000).collect::<Vec<_>>());

        // A blocked sender is released by the receivers going away.
        let (tx, rx) = channel::bounded(1);
        tx.try_send(0).unwrap();
        let sender = thread::spawn(move || tx.send_blocking(1));
        thread::sleep(Duration::from_millis(20));
        drop(rx);
        assert_eq!(sender.join().unwrap(), Err(SendError(1)));

        // A blocked receiver is woken by an async send.
        let (tx, rx) = channel::unbounded();
        let receiver = thread::spawn(move || rx.recv_blocking());
        thread::sleep(Duration::from_millis(20));
        block_on(tx.send("hi")).unwrap();
        assert_eq!(receiver.join().unwrap(), Ok("hi"));
    });
}

#[test]
fn blocking_mpmc_threads_deliver_everything_once() {
    with_deadline(Duration::from_secs(30), || {
        const PER: usize = 5_000;
        let (tx, rx) = channel::bounded(8);
        let producers: Vec<_> = (0..3)
            .map(|p| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..PER {
                        tx.send_blocking(p * PER + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Ok(v) = rx.recv_blocking() {
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        for p in producers {
            p.join().unwrap();
        }
        let mut seen = vec![0u8; 3 * PER];
        for c in consumers {
            for v in c.join().unwrap() {
                seen[v] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "every item exactly once");
    });
}

// ------------------------------------------------------ executor stress

/// Producers send `0..per_producer` tagged with their id, each send either
/// awaited or polled once and dropped if pending (then retried, since the
/// value was not sent); consumers receive with `recv().await`, a dropped
/// `poll_once(recv())`, `recv()` raced against `yield_now`, or the stream.
/// Checks that every item arrives exactly once and that each consumer sees
/// each producer's items in order.
fn mpmc_stress(cap: Option<usize>, producers: usize, consumers: usize, per_producer: usize) {
    let started = Instant::now();
    let per_consumer = with_deadline(Duration::from_secs(120), move || {
        let ex = executor();
        ex.block_on(async move {
            let (tx, rx) = match cap {
                Some(cap) => channel::bounded::<(usize, usize)>(cap),
                None => channel::unbounded(),
            };
            let mut tasks = Vec::new();
            for p in 0..producers {
                let tx = tx.clone();
                tasks.push(corio_executor::spawn(async move {
                    let mut rng = Rng::new(p as u64 + 1);
                    let mut cancelled = 0usize;
                    for i in 0..per_producer {
                        loop {
                            match rng.below(4) {
                                0 => match future::poll_once(tx.send((p, i))).await {
                                    Some(r) => break r.unwrap(),
                                    None => cancelled += 1,
                                },
                                1 => {
                                    let raced =
                                        future::or(async { Some(tx.send((p, i)).await) }, async {
                                            corio_executor::yield_now().await;
                                            None
                                        })
                                        .await;
                                    match raced {
                                        Some(r) => break r.unwrap(),
                                        None => cancelled += 1,
                                    }
                                }
                                _ => break tx.send((p, i)).await.unwrap(),
                            }
                            corio_executor::yield_now().await;
                        }
                    }
                    cancelled
                }));
            }
            drop(tx);
            let mut readers = Vec::new();
            for c in 0..consumers {
                let mut rx = rx.clone();
                readers.push(corio_executor::spawn(async move {
                    let mut rng = Rng::new(1000 + c as u64);
                    let mut got = Vec::new();
                    loop {
                        let item = match rng.below(5) {
                            0 => match future::poll_once(rx.recv()).await {
                                Some(r) => r,
                                None => {
                                    corio_executor::yield_now().await;
                                    continue;
                                }
                            },
                            1 => {
                                let raced = future::or(async { Some(rx.recv().await) }, async {
                                    corio_executor::yield_now().await;
                                    None
                                })
                                .await;
                                match raced {
                                    Some(r) => r,
                                    None => continue,
                                }
                            }
                            2 => match future::poll_once(rx.next()).await {
                                Some(Some(v)) => Ok(v),
                                Some(None) => Err(RecvError),
                                None => {
                                    corio_executor::yield_now().await;
                                    continue;
                                }
                            },
                            3 => rx.next().await.ok_or(RecvError),
                            _ => rx.recv().await,
                        };
                        match item {
                            Ok(v) => got.push(v),
                            Err(RecvError) => break got,
                        }
                    }
                }));
            }
            drop(rx);
            let mut cancelled = 0;
            for t in tasks {
                cancelled += t.await.unwrap();
            }
            let mut per_consumer = Vec::new();
            for r in readers {
                per_consumer.push(r.await.unwrap());
            }
            assert!(cancelled > 0 || cap.is_none(), "the run cancelled no send");
            per_consumer
        })
    });
    let mut seen = vec![0u32; producers * per_producer];
    for got in &per_consumer {
        let mut last = vec![None::<usize>; producers];
        for &(p, i) in got {
            seen[p * per_producer + i] += 1;
            assert!(
                last[p] < Some(i),
                "producer {p}'s items out of order: {i} after {:?}",
                last[p]
            );
            last[p] = Some(i);
        }
    }
    let missing = seen.iter().filter(|&&n| n == 0).count();
    let doubled = seen.iter().filter(|&&n| n > 1).count();
    assert_eq!(
        (missing, doubled),
        (0, 0),
        "items missing / delivered twice"
    );
    eprintln!(
        "mpmc_stress cap={cap:?} {producers}x{per_producer}: {:?}",
        started.elapsed()
    );
}

#[test]
fn stress_bounded_small_with_random_cancellation() {
    mpmc_stress(Some(1), 4, 4, 40_000);
}

#[test]
fn stress_bounded_with_random_cancellation() {
    mpmc_stress(Some(16), 4, 4, 100_000);
}

#[test]
fn stress_unbounded_with_random_cancellation() {
    mpmc_stress(None, 4, 4, 100_000);
}

#[test]
#[ignore = "long: cargo xtask test --stress"]
fn stress_long_with_random_cancellation() {
    mpmc_stress(Some(1), 8, 8, 500_000);
    mpmc_stress(Some(64), 8, 8, 2_000_000);
    mpmc_stress(None, 8, 8, 2_000_000);
}

#[test]
fn ping_pong_over_two_bounded_one_channels() {
    const ROUNDS: usize = 10_000;
    let total = with_deadline(Duration::from_secs(60), || {
        executor().block_on(async {
            let (ping_tx, ping_rx) = channel::bounded(1);
            let (pong_tx, pong_rx) = channel::bounded(1);
            let echo = corio_executor::spawn(async move {
                let mut n = 0usize;
                while let Ok(v) = ping_rx.recv().await {
                    pong_tx.send(v + 1).await.unwrap();
                    n += 1;
                }
                n
            });
            let mut v = 0usize;
            for _ in 0..ROUNDS {
                ping_tx.send(v).await.unwrap();
                v = pong_rx.recv().await.unwrap();
            }
            drop(ping_tx);
            assert_eq!(echo.await.unwrap(), ROUNDS);
            v
        })
    });
    assert_eq!(total, ROUNDS);
}
