//! Semaphore and BoundedSemaphore: basics, try_*, FIFO order, no barging,
//! cancellation at every await point, and random cancellation under the
//! multi-threaded executor.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use corio_sync::{BoundedSemaphore, Semaphore, TryAcquireError};
use futures_lite::future;

/// A waker that counts its wake-ups.
#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting() -> (Arc<CountWaker>, Waker) {
    let c = Arc::new(CountWaker::default());
    (c.clone(), Waker::from(c))
}

fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

fn poll_with<F: Future>(f: Pin<&mut F>, w: &Waker) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(w))
}

fn executor() -> corio_executor::Executor {
    corio_executor::Executor::builder()
        .worker_threads(4)
        .build()
        .unwrap()
}

/// xorshift64: a tiny PRNG for random cancellation.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn basic_acquire_release() {
    future::block_on(async {
        let sem = Semaphore::new(3);
        assert_eq!(sem.available_permits(), 3);
        let a = sem.acquire().await.unwrap();
        let b = sem.acquire_many(2).await.unwrap();
        assert_eq!((a.num_permits(), b.num_permits()), (1, 2));
        assert_eq!(sem.available_permits(), 0);
        drop(b);
        assert_eq!(sem.available_permits(), 2);
        a.forget();
        assert_eq!(sem.available_permits(), 2);
        sem.release();
        assert_eq!(sem.available_permits(), 3);
        sem.add_permits(2);
        assert_eq!(sem.available_permits(), 5);
        // Zero permits: always immediate.
        assert_eq!(sem.acquire_many(0).await.unwrap().num_permits(), 0);
        assert_eq!(Semaphore::default().available_permits(), 1);
    });
}

#[test]
fn try_acquire_behaviour() {
    let sem = Semaphore::new(2);
    let p = sem.try_acquire_many(2).unwrap();
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(p);
    assert!(sem.try_acquire_many(3).is_err());
    assert_eq!(sem.available_permits(), 2);
    sem.close();
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert!(sem.is_closed());
}

#[test]
fn owned_permits() {
    let sem = Arc::new(Semaphore::new(2));
    let p = sem.clone().try_acquire_owned().unwrap();
    let q = future::block_on(sem.clone().acquire_many_owned(1)).unwrap();
    assert!(sem.clone().try_acquire_owned().is_err());
    std::thread::spawn(move || drop(p)).join().unwrap();
    assert_eq!(sem.available_permits(), 1);
    assert!(Arc::ptr_eq(q.semaphore(), &sem));
    q.forget();
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn fifo_order_of_waiters() {
    let sem = Semaphore::new(0);
    let order = Mutex::new(Vec::new());
    let mut futs: Vec<_> = (0..5).map(|_| Box::pin(sem.acquire())).collect();
    for f in &mut futs {
        assert!(poll(f.as_mut()).is_pending());
    }
    let mut permits = Vec::new();
    for _ in 0..5 {
        sem.release();
        for (i, f) in futs.iter_mut().enumerate() {
            if order.lock().unwrap().contains(&i) {
                continue;
            }
            if let Poll::Ready(p) = poll(f.as_mut()) {
                order.lock().unwrap().push(i);
                permits.push(p.unwrap());
            }
        }
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn release_wakes_the_head_only() {
    let sem = Semaphore::new(0);
    let (c1, w1) = counting();
    let (c2, w2) = counting();
    let mut a = Box::pin(sem.acquire());
    let mut b = Box::pin(sem.acquire());
    assert!(poll_with(a.as_mut(), &w1).is_pending());
    assert!(poll_with(b.as_mut(), &w2).is_pending());
    sem.release();
    assert_eq!(c1.0.load(Ordering::SeqCst), 1);
    assert_eq!(c2.0.load(Ordering::SeqCst), 0);
    assert!(poll(b.as_mut()).is_pending());
    assert!(poll(a.as_mut()).is_ready());
}

#[test]
fn no_barging_while_waiters_queued() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll(waiter.as_mut()).is_pending());
    drop(held);
    // The permit went straight to the waiter: a newcomer cannot take it.
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    let mut newcomer = Box::pin(sem.acquire());
    assert!(poll(newcomer.as_mut()).is_pending());
    let p = match poll(waiter.as_mut()) {
        Poll::Ready(p) => p.unwrap(),
        Poll::Pending => panic!("the head waiter must have the permit"),
    };
    drop(p);
    assert!(poll(newcomer.as_mut()).is_ready());
}

#[test]
fn acquire_many_at_head_holds_back_later_waiters() {
    let sem = Semaphore::new(1);
    let mut big = Box::pin(sem.acquire_many(3));
    assert!(poll(big.as_mut()).is_pending());
    // The free permit went to the big waiter.
    assert_eq!(sem.available_permits(), 0);
    let mut small = Box::pin(sem.acquire());
    assert!(poll(small.as_mut()).is_pending());
    sem.release();
    assert!(poll(small.as_mut()).is_pending(), "small must not overtake");
    assert!(sem.try_acquire().is_err());
    sem.release();
    let p = match poll(big.as_mut()) {
        Poll::Ready(p) => p.unwrap(),
        Poll::Pending => panic!("big has 3 permits"),
    };
    assert_eq!(p.num_permits(), 3);
    assert!(poll(small.as_mut()).is_pending());
    drop(p);
    assert!(poll(small.as_mut()).is_ready());
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn cancel_granted_waiter_passes_permit_on() {
    let sem = Semaphore::new(0);
    let mut a = Box::pin(sem.acquire());
    let mut b = Box::pin(sem.acquire());
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(b.as_mut()).is_pending());
    sem.release(); // granted to a, which is never polled again
    drop(a);
    let p = match poll(b.as_mut()) {
        Poll::Ready(p) => p.unwrap(),
        Poll::Pending => panic!("the permit must pass to b"),
    };
    assert_eq!(sem.available_permits(), 0);
    drop(p);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn cancel_granted_waiter_without_successor_returns_permit() {
    let sem = Semaphore::new(0);
    let mut a = Box::pin(sem.acquire_many(2));
    assert!(poll(a.as_mut()).is_pending());
    sem.add_permits(2);
    drop(a);
    assert_eq!(sem.available_permits(), 2);
    assert!(sem.try_acquire_many(2).is_ok());
}

#[test]
fn cancel_partial_head_gives_collected_permits_on() {
    let sem = Semaphore::new(1);
    let mut big = Box::pin(sem.acquire_many(3));
    let mut small = Box::pin(sem.acquire_many(2));
    assert!(poll(big.as_mut()).is_pending());
    assert!(poll(small.as_mut()).is_pending());
    sem.release(); // big has collected 2 of 3
    drop(big); // its 2 go to small
    let p = match poll(small.as_mut()) {
        Poll::Ready(p) => p.unwrap(),
        Poll::Pending => panic!("small must get the 2 collected permits"),
    };
    assert_eq!(p.num_permits(), 2);
    assert_eq!(sem.available_permits(), 0);
    drop(p);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn cancel_waiting_waiter_changes_nothing() {
    let sem = Semaphore::new(0);
    let mut a = Box::pin(sem.acquire());
    let mut b = Box::pin(sem.acquire());
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(b.as_mut()).is_pending());
    drop(b);
    sem.release();
    let held = match poll(a.as_mut()) {
        Poll::Ready(p) => p.unwrap(),
        Poll::Pending => panic!("a is the only waiter"),
    };
    assert_eq!(sem.available_permits(), 0);
    // Dropping the last waiter leaves the semaphore usable at full speed.
    let mut c = Box::pin(sem.acquire());
    assert!(poll(c.as_mut()).is_pending());
    drop(c);
    drop(held);
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_ok());
}

#[test]
fn close_fails_waiters_now_and_later() {
    let sem = Semaphore::new(1);
    let mut big = Box::pin(sem.acquire_many(2));
    let mut other = Box::pin(sem.acquire());
    assert!(poll(big.as_mut()).is_pending());
    assert!(poll(other.as_mut()).is_pending());
    sem.close();
    assert!(matches!(poll(big.as_mut()), Poll::Ready(Err(_))));
    assert!(matches!(poll(other.as_mut()), Poll::Ready(Err(_))));
    // The permit big had collected is back.
    assert_eq!(sem.available_permits(), 1);
    assert!(future::block_on(sem.acquire()).is_err());
    assert_eq!(
        future::block_on(sem.acquire()).unwrap_err().to_string(),
        "the semaphore was closed"
    );
}

#[test]
fn granted_before_close_keeps_its_permit() {
    let sem = Semaphore::new(0);
    let mut a = Box::pin(sem.acquire());
    assert!(poll(a.as_mut()).is_pending());
    sem.release();
    sem.close();
    let p = match poll(a.as_mut()) {
        Poll::Ready(p) => p.unwrap(),
        Poll::Pending => panic!("granted"),
    };
    drop(p);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn bounded_semaphore_rejects_over_release() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.release().unwrap_err().bound(), 2);
    sem.try_acquire().unwrap().forget();
    assert!(sem.add_permits(2).is_err());
    sem.release().unwrap();
    assert!(sem.release().is_err());
    assert_eq!(sem.available_permits(), 2);

    // Permits collected by a waiting acquire_many count towards the bound.
    let mut big = Box::pin(sem.acquire_many(3));
    assert!(poll(big.as_mut()).is_pending());
    assert_eq!(sem.available_permits(), 0); // both collected by big
    assert!(
        sem.release().is_err(),
        "2 collected + 1 would exceed the bound"
    );
    drop(big);
    assert_eq!(sem.available_permits(), 2);

    // Held permits do not count (asyncio counts the free value only).
    let p = sem.try_acquire_many(2).unwrap();
    sem.release().unwrap();
    sem.release().unwrap();
    assert!(sem.release().is_err());
    p.forget();
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn permits_never_exceed_bound_and_none_lost_with_random_cancellation() {
    const PERMITS: usize = 3;
    let ex = executor();
    ex.block_on(async {
        let sem = Arc::new(Semaphore::new(PERMITS));
        let holders = Arc::new(AtomicUsize::new(0));
        let acquired = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..32u64)
            .map(|t| {
                let sem = sem.clone();
                let holders = holders.clone();
                let acquired = acquired.clone();
                corio_executor::spawn(async move {
                    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t + 1));
                    for _ in 0..200 {
                        let n = 1 + rng.below(2) as usize;
                        let polls = rng.below(4);
                        let mut fut = Box::pin(sem.acquire_many(n));
                        let mut got = None;
                        // Poll a random number of times, then give up.
                        for _ in 0..=polls {
                            if let Some(p) = future::poll_once(&mut fut).await {
                                got = Some(p.unwrap());
                                break;
                            }
                            corio_executor::yield_now().await;
                        }
                        drop(fut);
                        if let Some(p) = got {
                            let h = holders.fetch_add(n, Ordering::SeqCst) + n;
                            assert!(h <= PERMITS, "{h} permits held");
                            acquired.fetch_add(1, Ordering::Relaxed);
                            corio_executor::yield_now().await;
                            holders.fetch_sub(n, Ordering::SeqCst);
                            drop(p);
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(sem.available_permits(), PERMITS);
        assert!(acquired.load(Ordering::Relaxed) > 0);
        assert_eq!(
            sem.try_acquire_many(PERMITS).unwrap().num_permits(),
            PERMITS
        );
    });
}

#[test]
fn many_tasks_share_permits_on_executor() {
    let ex = executor();
    ex.block_on(async {
        let sem = Arc::new(Semaphore::new(2));
        let done = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let sem = sem.clone();
                let done = done.clone();
                corio_executor::spawn(async move {
                    let _p = sem.clone().acquire_owned().await.unwrap();
                    corio_executor::yield_now().await;
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), 100);
        assert_eq!(sem.available_permits(), 2);
    });
}
