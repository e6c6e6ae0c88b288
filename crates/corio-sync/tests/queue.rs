//! Public-API tests of `Queue`, `PriorityQueue` and `LifoQueue`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use corio_sync::{Get, GetError, LifoQueue, PriorityQueue, Put, PutError, Queue, TaskDoneError};
use futures_lite::future;

/// A waker that counts its wake-ups.
#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountWaker>, Waker) {
    let c = Arc::new(CountWaker::default());
    (c.clone(), Waker::from(c))
}

fn poll<F: Future + Unpin>(f: &mut F, w: &Waker) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(w))
}

/// A value that counts how many times it was dropped.
#[derive(Debug)]
struct DropCounter(u32, Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

fn executor() -> corio_executor::Executor {
    corio_executor::Executor::builder()
        .worker_threads(4)
        .build()
        .unwrap()
}

#[test]
fn auto_traits() {
    fn send_sync<X: Send + Sync>() {}
    fn send_unpin<X: Send + Unpin>() {}
    send_sync::<Queue<u32>>();
    send_sync::<PriorityQueue<u32>>();
    send_sync::<LifoQueue<u32>>();
    // Send-only payloads: the queue is still Sync (items sit behind a mutex).
    send_sync::<Queue<std::cell::Cell<u32>>>();
    send_unpin::<Get<'static, u32>>();
    send_unpin::<Put<'static, u32>>();
    // Put is Unpin even for a !Unpin item.
    fn unpin<X: Unpin>() {}
    unpin::<Put<'static, std::marker::PhantomPinned>>();
    send_sync::<PutError<u32>>();
    send_sync::<GetError>();
    send_sync::<TaskDoneError>();

    // Neither Send nor Sync payload: neither is the queue. (Each line
    // compiles only if the impl for `u8`, which needs the auto trait, does
    // not apply; otherwise `_` is ambiguous.)
    trait AmbiguousIfSend<A> {
        fn check() {}
    }
    impl<X: ?Sized> AmbiguousIfSend<()> for X {}
    impl<X: ?Sized + Send> AmbiguousIfSend<u8> for X {}
    trait AmbiguousIfSync<A> {
        fn check() {}
    }
    impl<X: ?Sized> AmbiguousIfSync<()> for X {}
    impl<X: ?Sized + Sync> AmbiguousIfSync<u8> for X {}
    <Queue<std::rc::Rc<u8>> as AmbiguousIfSend<_>>::check();
    <Queue<std::rc::Rc<u8>> as AmbiguousIfSync<_>>::check();
    <PriorityQueue<std::rc::Rc<u8>> as AmbiguousIfSend<_>>::check();
    <LifoQueue<std::rc::Rc<u8>> as AmbiguousIfSync<_>>::check();
    <Get<'static, std::rc::Rc<u8>> as AmbiguousIfSend<_>>::check();
    <Put<'static, std::rc::Rc<u8>> as AmbiguousIfSend<_>>::check();
}

#[test]
fn nowait_errors_are_exact() {
    let q = Queue::new(2);
    assert_eq!(q.maxsize(), 2);
    assert!(q.empty());
    assert!(!q.full());
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    assert_eq!(q.put_nowait(1), Ok(()));
    assert_eq!(q.put_nowait(2), Ok(()));
    assert!(q.full());
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.put_nowait(3), Err(PutError::Full(3)));
    assert_eq!(q.get_nowait(), Ok(1));
    q.shutdown(false);
    assert!(q.is_shutdown());
    assert_eq!(q.put_nowait(4), Err(PutError::ShutDown(4)));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
}

#[test]
fn unbounded_never_full() {
    let q = Queue::new(0);
    for i in 0..10_000 {
        q.put_nowait(i).unwrap();
    }
    assert!(!q.full());
    assert_eq!(q.qsize(), 10_000);
    for i in 0..10_000 {
        assert_eq!(q.get_nowait(), Ok(i));
    }
}

#[test]
fn priority_order_smallest_first_ties_in_insertion_order() {
    let q = PriorityQueue::new(0);
    for (p, s) in [
        (3, "c1"),
        (1, "a1"),
        (2, "b1"),
        (1, "a2"),
        (3, "c2"),
        (1, "a3"),
    ] {
        q.put_nowait((p, s)).unwrap();
    }
    // Equal priorities with different payloads order by payload; true ties
    // (equal under `Ord`) come out in insertion order, checked with `Job`.
    let out: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).collect();
    assert_eq!(
        out,
        [
            (1, "a1"),
            (1, "a2"),
            (1, "a3"),
            (2, "b1"),
            (3, "c1"),
            (3, "c2")
        ]
    );

    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Key(u8);
    #[derive(Debug)]
    struct Job(Key, &'static str);
    impl PartialEq for Job {
        fn eq(&self, o: &Self) -> bool {
            self.0 == o.0
        }
    }
    impl Eq for Job {}
    impl PartialOrd for Job {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Job {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            self.0.cmp(&o.0)
        }
    }
    let q = PriorityQueue::new(0);
    for (k, name) in [(2, "x"), (1, "first"), (2, "y"), (1, "second"), (2, "z")] {
        q.put_nowait(Job(Key(k), name)).unwrap();
    }
    let names: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok())
        .map(|j| j.1)
        .collect();
    assert_eq!(names, ["first", "second", "x", "y", "z"]);
}

#[test]
fn lifo_order() {
    let q = LifoQueue::new(0);
    for i in 0..5 {
        q.put_nowait(i).unwrap();
    }
    assert_eq!(q.get_nowait(), Ok(4));
    q.put_nowait(9).unwrap();
    let rest: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).collect();
    assert_eq!(rest, [9, 3, 2, 1, 0]);
}

#[test]
fn waiting_getters_served_in_fifo_order() {
    let q = Queue::new(0);
    let (c, w) = counting_waker();
    let mut g1 = q.get();
    let mut g2 = q.get();
    let mut g3 = q.get();
    assert!(poll(&mut g1, &w).is_pending());
    assert!(poll(&mut g2, &w).is_pending());
    assert!(poll(&mut g3, &w).is_pending());
    for i in 1..=3 {
        q.put_nowait(i).unwrap();
    }
    assert_eq!(c.0.load(Ordering::SeqCst), 3, "each put woke one getter");
    // Polled in reverse order, each still gets the item meant for it.
    assert_eq!(poll(&mut g3, &w), Poll::Ready(Ok(3)));
    assert_eq!(poll(&mut g2, &w), Poll::Ready(Ok(2)));
    assert_eq!(poll(&mut g1, &w), Poll::Ready(Ok(1)));
}

#[test]
fn get_nowait_does_not_barge_past_waiting_getter() {
    let q = Queue::new(0);
    let (c, w) = counting_waker();
    let mut g = q.get();
    assert!(poll(&mut g, &w).is_pending());
    q.put_nowait("x").unwrap();
    assert_eq!(c.0.load(Ordering::SeqCst), 1);
    // The item is counted but owed to the waiting getter.
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    // A new getter also queues behind.
    let mut late = q.get();
    assert!(poll(&mut late, &w).is_pending());
    assert_eq!(poll(&mut g, &w), Poll::Ready(Ok("x")));
    assert_eq!(q.qsize(), 0);
    q.put_nowait("y").unwrap();
    assert_eq!(poll(&mut late, &w), Poll::Ready(Ok("y")));
}

#[test]
fn waiting_putters_admitted_in_fifo_order_without_barging() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let (c, w) = counting_waker();
    let mut p1 = q.put(1);
    let mut p2 = q.put(2);
    let mut p3 = q.put(3);
    assert!(poll(&mut p1, &w).is_pending());
    assert!(poll(&mut p2, &w).is_pending());
    assert!(poll(&mut p3, &w).is_pending());
    assert_eq!(q.qsize(), 1);

    assert_eq!(q.get_nowait(), Ok(0));
    // The freed slot went to p1 at once: still full, put_nowait can't barge.
    assert_eq!(c.0.load(Ordering::SeqCst), 1);
    assert!(q.full());
    assert_eq!(q.put_nowait(99), Err(PutError::Full(99)));
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
    // p3 was admitted when 2 left; the futures report success afterwards.
    assert_eq!(poll(&mut p3, &w), Poll::Ready(Ok(())));
    assert_eq!(poll(&mut p1, &w), Poll::Ready(Ok(())));
    assert_eq!(poll(&mut p2, &w), Poll::Ready(Ok(())));
    assert_eq!(q.get_nowait(), Ok(3));
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    assert_eq!(c.0.load(Ordering::SeqCst), 3);
}

#[test]
fn putter_item_goes_straight_to_waiting_getter() {
    // maxsize 1: an item owed to getter A holds the slot, putter waits; when
    // A picks its item up, the putter's item goes to waiting getter B.
    let q = Queue::new(1);
    let (_c, w) = counting_waker();
    let mut a = q.get();
    let mut b = q.get();
    assert!(poll(&mut a, &w).is_pending());
    assert!(poll(&mut b, &w).is_pending());
    q.put_nowait(1).unwrap();
    let mut p = q.put(2);
    assert!(poll(&mut p, &w).is_pending());
    assert_eq!(poll(&mut a, &w), Poll::Ready(Ok(1)));
    assert_eq!(poll(&mut p, &w), Poll::Ready(Ok(())));
    assert_eq!(q.get_nowait(), Err(GetError::Empty), "2 is owed to b");
    assert_eq!(poll(&mut b, &w), Poll::Ready(Ok(2)));
}

#[test]
fn dropped_getter_passes_item_to_next_getter() {
    let q = Queue::new(0);
    let (_c, w) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut g1 = q.get();
    let mut g2 = q.get();
    assert!(poll(&mut g1, &w).is_pending());
    assert!(poll(&mut g2, &w2).is_pending());
    q.put_nowait(10).unwrap();
    assert_eq!(c2.0.load(Ordering::SeqCst), 0);
    drop(g1);
    assert_eq!(c2.0.load(Ordering::SeqCst), 1, "next getter woken");
    assert_eq!(poll(&mut g2, &w2), Poll::Ready(Ok(10)));
    assert_eq!(q.qsize(), 0);
}

#[test]
fn dropped_getter_returns_item_to_head_fifo() {
    let q = Queue::new(0);
    let (_c, w) = counting_waker();
    let mut g = q.get();
    assert!(poll(&mut g, &w).is_pending());
    q.put_nowait('x').unwrap();
    q.put_nowait('y').unwrap();
    q.put_nowait('z').unwrap();
    drop(g);
    assert_eq!(q.qsize(), 3);
    let out: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).collect();
    assert_eq!(out, ['x', 'y', 'z']);
}

#[test]
fn dropped_getter_returns_item_to_place_lifo_and_priority() {
    let (_c, w) = counting_waker();

    let q = LifoQueue::new(0);
    let mut g = q.get();
    assert!(poll(&mut g, &w).is_pending());
    q.put_nowait(1).unwrap(); // owed to g
    q.put_nowait(2).unwrap();
    drop(g);
    // As if 1 had never left: 2 is newer, so it comes out first.
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(q.get_nowait(), Ok(1));

    let q = PriorityQueue::new(0);
    let mut g = q.get();
    assert!(poll(&mut g, &w).is_pending());
    q.put_nowait((5, 'a')).unwrap(); // owed to g
    q.put_nowait((1, 'b')).unwrap();
    q.put_nowait((5, 'a')).unwrap();
    drop(g);
    let out: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).collect();
    assert_eq!(out, [(1, 'b'), (5, 'a'), (5, 'a')]);
}

#[test]
fn several_dropped_getters_keep_order() {
    let q = Queue::new(0);
    let (_c, w) = counting_waker();
    let mut g1 = q.get();
    let mut g2 = q.get();
    assert!(poll(&mut g1, &w).is_pending());
    assert!(poll(&mut g2, &w).is_pending());
    q.put_nowait(1).unwrap(); // g1
    q.put_nowait(2).unwrap(); // g2
    q.put_nowait(3).unwrap(); // store
                              // Dropped in the "wrong" order: still 1, 2, 3.
    drop(g2);
    drop(g1);
    let out: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).collect();
    assert_eq!(out, [1, 2, 3]);
}

#[test]
fn dropped_waiting_getter_leaves_line() {
    let q = Queue::new(0);
    let (_c, w) = counting_waker();
    let mut g1 = q.get();
    assert!(poll(&mut g1, &w).is_pending());
    drop(g1);
    // No waiting getter: the item is free for get_nowait.
    q.put_nowait(5).unwrap();
    assert_eq!(q.get_nowait(), Ok(5));
}

#[test]
fn putter_dropped_before_admission_keeps_nothing() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(1);
    q.put_nowait(DropCounter(0, drops.clone())).unwrap();
    let (_c, w) = counting_waker();
    let mut p1 = q.put(DropCounter(1, drops.clone()));
    let mut p2 = q.put(DropCounter(2, drops.clone()));
    assert!(poll(&mut p1, &w).is_pending());
    assert!(poll(&mut p2, &w).is_pending());
    drop(p1);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "p1's item dropped with it");
    assert_eq!(q.qsize(), 1);
    // The slot freed by this get goes to p2, not to the dropped p1.
    assert_eq!(q.get_nowait().unwrap().0, 0);
    assert_eq!(q.get_nowait().unwrap().0, 2);
    assert!(matches!(poll(&mut p2, &w), Poll::Ready(Ok(()))));
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn putter_dropped_after_admission_keeps_item_in_queue() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let (_c, w) = counting_waker();
    let mut p = q.put(1);
    assert!(poll(&mut p, &w).is_pending());
    assert_eq!(q.get_nowait(), Ok(0)); // admits p's item
    drop(p); // never polled again
    assert_eq!(q.get_nowait(), Ok(1));
    // Two items put, two unfinished.
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

#[test]
fn join_waits_on_count_not_emptiness() {
    let q = Queue::new(0);
    let (c, w) = counting_waker();
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.get_nowait().unwrap();
    q.get_nowait().unwrap();
    assert!(q.empty());
    let mut join = Box::pin(q.join());
    assert!(join
        .as_mut()
        .poll(&mut Context::from_waker(&w))
        .is_pending());
    q.task_done().unwrap();
    assert!(join
        .as_mut()
        .poll(&mut Context::from_waker(&w))
        .is_pending());
    assert_eq!(c.0.load(Ordering::SeqCst), 0);
    q.task_done().unwrap();
    assert!(c.0.load(Ordering::SeqCst) >= 1, "join woken");
    assert!(join.as_mut().poll(&mut Context::from_waker(&w)).is_ready());
    assert_eq!(q.task_done(), Err(TaskDoneError));
    // Nothing unfinished: join returns at once.
    future::block_on(q.join());
    // task_done before the get also counts (like asyncio).
    q.put_nowait(3).unwrap();
    q.task_done().unwrap();
    future::block_on(q.join());
    assert_eq!(q.qsize(), 1);
}

#[test]
fn join_wakes_many_joiners_under_executor() {
    let ex = executor();
    ex.block_on(async {
        let q = Arc::new(Queue::new(0));
        for i in 0..100 {
            q.put(i).await.unwrap();
        }
        let done = Arc::new(AtomicUsize::new(0));
        let joiners: Vec<_> = (0..8)
            .map(|_| {
                let q = q.clone();
                let done = done.clone();
                corio_executor::spawn(async move {
                    q.join().await;
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let q = q.clone();
                let done = done.clone();
                corio_executor::spawn(async move {
                    while let Ok(_i) = q.get_nowait() {
                        corio_executor::yield_now().await;
                        assert_eq!(done.load(Ordering::SeqCst), 0, "join returned early");
                        q.task_done().unwrap();
                    }
                })
            })
            .collect();
        for w in workers {
            w.await.unwrap();
        }
        for j in joiners {
            j.await.unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), 8);
    });
}

#[test]
fn graceful_shutdown_fails_blocked_getters() {
    let q = Queue::<u8>::new(0);
    let (c, w) = counting_waker();
    let mut g1 = q.get();
    let mut g2 = q.get();
    assert!(poll(&mut g1, &w).is_pending());
    assert!(poll(&mut g2, &w).is_pending());
    q.shutdown(false);
    assert_eq!(c.0.load(Ordering::SeqCst), 2);
    assert_eq!(poll(&mut g1, &w), Poll::Ready(Err(GetError::ShutDown)));
    assert_eq!(poll(&mut g2, &w), Poll::Ready(Err(GetError::ShutDown)));
}

#[test]
fn graceful_shutdown_fails_blocked_putters_and_drains() {
    let q = Queue::new(2);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let (c, w) = counting_waker();
    let mut p = q.put(3);
    assert!(poll(&mut p, &w).is_pending());
    q.shutdown(false);
    assert_eq!(c.0.load(Ordering::SeqCst), 1);
    match poll(&mut p, &w) {
        Poll::Ready(Err(PutError::ShutDown(3))) => {}
        other => panic!("expected ShutDown(3), got {other:?}"),
    }
    assert_eq!(future::block_on(q.put(4)), Err(PutError::ShutDown(4)));
    // Gets drain what is left, then fail.
    assert_eq!(future::block_on(q.get()), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(future::block_on(q.get()), Err(GetError::ShutDown));
    // Graceful shutdown does not touch the unfinished count.
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

#[test]
fn graceful_shutdown_keeps_items_owed_to_getters() {
    let q = Queue::new(0);
    let (_c, w) = counting_waker();
    let mut g = q.get();
    assert!(poll(&mut g, &w).is_pending());
    q.put_nowait(7).unwrap();
    q.shutdown(false);
    assert_eq!(poll(&mut g, &w), Poll::Ready(Ok(7)));
}

#[test]
fn immediate_shutdown_drops_items_wakes_join_and_fails_everyone() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(2);
    let (c, w) = counting_waker();
    // One item owed to a getter that has not run yet, one in the queue.
    let mut g = q.get();
    assert!(poll(&mut g, &w).is_pending());
    q.put_nowait(DropCounter(1, drops.clone())).unwrap();
    q.put_nowait(DropCounter(2, drops.clone())).unwrap();
    let mut p = q.put(DropCounter(3, drops.clone()));
    assert!(poll(&mut p, &w).is_pending());
    let mut join = Box::pin(q.join());
    assert!(join
        .as_mut()
        .poll(&mut Context::from_waker(&w))
        .is_pending());
    let before = c.0.load(Ordering::SeqCst);

    q.shutdown(true);
    assert_eq!(drops.load(Ordering::SeqCst), 2, "both queued items dropped");
    assert!(
        c.0.load(Ordering::SeqCst) >= before + 2,
        "putter and joiner woken"
    );
    assert_eq!(q.qsize(), 0);
    assert!(join.as_mut().poll(&mut Context::from_waker(&w)).is_ready());
    assert!(matches!(
        poll(&mut g, &w),
        Poll::Ready(Err(GetError::ShutDown))
    ));
    match poll(&mut p, &w) {
        Poll::Ready(Err(PutError::ShutDown(item))) => assert_eq!(item.0, 3),
        other => panic!("expected ShutDown, got {other:?}"),
    }
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert!(matches!(q.get_nowait(), Err(GetError::ShutDown)));
}

#[test]
fn immediate_shutdown_fails_blocked_getters() {
    let q = LifoQueue::<u8>::new(0);
    let (c, w) = counting_waker();
    let mut g = q.get();
    assert!(poll(&mut g, &w).is_pending());
    q.shutdown(true);
    assert_eq!(c.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll(&mut g, &w), Poll::Ready(Err(GetError::ShutDown)));
}

#[test]
fn immediate_after_graceful_drains() {
    let q = PriorityQueue::new(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.shutdown(false);
    assert_eq!(q.qsize(), 2);
    q.shutdown(true);
    assert_eq!(q.qsize(), 0);
    future::block_on(q.join());
}

#[test]
fn immediate_shutdown_counts_only_as_far_as_zero() {
    // task_done called before items were taken: the count is already zero.
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.task_done().unwrap();
    q.shutdown(true);
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

#[test]
fn producers_and_consumers_under_executor() {
    const PRODUCERS: u32 = 4;
    const PER: u32 = 2_000;
    let ex = executor();
    let mut got = ex.block_on(async {
        let q = Arc::new(Queue::new(8));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let q = q.clone();
                corio_executor::spawn(async move {
                    for i in 0..PER {
                        q.put(p * PER + i).await.unwrap();
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let q = q.clone();
                corio_executor::spawn(async move {
                    let mut got = Vec::new();
                    // Per producer, items arrive in the order they were put.
                    let mut last = vec![None::<u32>; PRODUCERS as usize];
                    while let Ok(v) = q.get().await {
                        let p = (v / PER) as usize;
                        assert!(last[p].is_none_or(|l| l < v));
                        last[p] = Some(v);
                        got.push(v);
                        q.task_done().unwrap();
                    }
                    got
                })
            })
            .collect();
        for p in producers {
            p.await.unwrap();
        }
        q.join().await;
        q.shutdown(false);
        let mut all = Vec::new();
        for c in consumers {
            all.extend(c.await.unwrap());
        }
        all
    });
    got.sort_unstable();
    assert_eq!(got, (0..PRODUCERS * PER).collect::<Vec<_>>());
}

#[test]
fn shutdown_wakes_tasks_blocked_under_executor() {
    let ex = executor();
    ex.block_on(async {
        let q = Arc::new(Queue::new(1));
        q.put(0u32).await.unwrap();
        let putters: Vec<_> = (1..=4u32)
            .map(|i| {
                let q = q.clone();
                corio_executor::spawn(async move { q.put(i).await })
            })
            .collect();
        let empty = Arc::new(Queue::<u32>::new(0));
        let getters: Vec<_> = (0..4)
            .map(|_| {
                let q = empty.clone();
                corio_executor::spawn(async move { q.get().await })
            })
            .collect();
        // Let them all block.
        for _ in 0..50 {
            corio_executor::yield_now().await;
        }
        q.shutdown(false);
        empty.shutdown(true);
        let mut back: Vec<_> = Vec::new();
        for p in putters {
            back.push(p.await.unwrap().unwrap_err().into_inner());
        }
        back.sort_unstable();
        assert_eq!(back, [1, 2, 3, 4]);
        for g in getters {
            assert_eq!(g.await.unwrap(), Err(GetError::ShutDown));
        }
        assert_eq!(q.get().await, Ok(0));
    });
}

#[test]
fn errors_display_and_accessors() {
    assert_eq!(PutError::Full(1).to_string(), "the queue is full");
    assert_eq!(PutError::ShutDown(1).to_string(), "the queue is shut down");
    assert_eq!(format!("{:?}", PutError::Full(vec![1])), "Full(..)");
    assert!(PutError::Full(()).is_full() && !PutError::Full(()).is_shutdown());
    assert_eq!(PutError::ShutDown("x").into_inner(), "x");
    assert_eq!(GetError::Empty.to_string(), "the queue is empty");
    assert_eq!(GetError::ShutDown.to_string(), "the queue is shut down");
    assert!(TaskDoneError.to_string().contains("task_done()"));
    let e: Box<dyn std::error::Error> = Box::new(PutError::ShutDown(5));
    assert_eq!(e.to_string(), "the queue is shut down");
}

#[test]
fn debug_output() {
    let q = Queue::new(3);
    q.put_nowait(1).unwrap();
    let s = format!("{q:?}");
    assert!(s.starts_with("Queue {"), "{s}");
    assert!(s.contains("qsize: 1") && s.contains("maxsize: 3"), "{s}");
    assert!(format!("{:?}", PriorityQueue::<u8>::new(0)).starts_with("PriorityQueue"));
    assert!(format!("{:?}", LifoQueue::<u8>::new(0)).starts_with("LifoQueue"));
    assert!(format!("{:?}", q.get()).starts_with("Get"));
    assert!(format!("{:?}", q.put(2)).starts_with("Put"));
}
