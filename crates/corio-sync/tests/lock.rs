//! Lock: basics, try_lock, FIFO order, no barging, hand-off on cancellation,
//! owned guards across tasks, unsized values.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use corio_sync::Lock;
use futures_lite::future;

fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

fn executor() -> corio_executor::Executor {
    corio_executor::Executor::builder()
        .worker_threads(4)
        .build()
        .unwrap()
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn basic_lock_unlock() {
    future::block_on(async {
        let lock = Lock::new(vec![1]);
        assert!(!lock.is_locked());
        {
            let mut g = lock.lock().await;
            assert!(lock.is_locked());
            g.push(2);
        }
        assert!(!lock.is_locked());
        assert_eq!(*lock.lock().await, [1, 2]);
        let mut lock = lock;
        lock.get_mut().push(3);
        assert_eq!(lock.into_inner(), [1, 2, 3]);
        assert_eq!(*Lock::<u8>::default().try_lock().unwrap(), 0);
    });
}

#[test]
fn try_lock_behaviour() {
    let lock = Lock::new(5);
    let g = lock.try_lock().unwrap();
    assert!(lock.try_lock().is_err());
    assert_eq!(format!("{lock:?}"), "Lock { data: <locked> }");
    drop(g);
    assert_eq!(format!("{lock:?}"), "Lock { data: 5 }");
    assert_eq!(*lock.try_lock().unwrap(), 5);
}

#[test]
fn unsized_values() {
    let lock: Lock<[u32]> = Lock::from(vec![1, 2, 3].into_boxed_slice());
    lock.try_lock().unwrap()[0] = 9;
    assert_eq!(&*lock.into_box(), &[9, 2, 3]);
    let lock: Lock<dyn Debug + Send> = Lock::from(Box::new(7u8) as Box<dyn Debug + Send>);
    assert_eq!(format!("{:?}", &*lock.try_lock().unwrap()), "7");
}

#[test]
fn fifo_order_of_waiters() {
    let lock = Lock::new(Vec::new());
    let holder = lock.try_lock().unwrap();
    let mut futs: Vec<_> = (0..5).map(|_| Box::pin(lock.lock())).collect();
    for f in &mut futs {
        assert!(poll(f.as_mut()).is_pending());
    }
    drop(holder);
    // Each waiter, when its turn comes, records its id; poll in reverse to
    // show that the order is the queue's, not the polling order.
    let mut done = [false; 5];
    for _ in 0..5 {
        for i in (0..5).rev() {
            if done[i] {
                continue;
            }
            if let Poll::Ready(mut g) = poll(futs[i].as_mut()) {
                g.push(i);
                done[i] = true;
            }
        }
    }
    assert_eq!(*lock.try_lock().unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn no_barging_while_a_waiter_is_queued() {
    let lock = Lock::new(0);
    let holder = lock.try_lock().unwrap();
    let mut waiter = Box::pin(lock.lock());
    assert!(poll(waiter.as_mut()).is_pending());
    drop(holder);
    // Handed to the waiter: still locked, try_lock fails.
    assert!(lock.is_locked());
    assert!(lock.try_lock().is_err());
    let mut newcomer = Box::pin(lock.lock());
    assert!(poll(newcomer.as_mut()).is_pending());
    let Poll::Ready(mut g) = poll(waiter.as_mut()) else {
        panic!("the waiter owns the lock")
    };
    *g += 1;
    assert!(poll(newcomer.as_mut()).is_pending());
    drop(g);
    let Poll::Ready(g) = poll(newcomer.as_mut()) else {
        panic!("the newcomer is next")
    };
    assert_eq!(*g, 1);
}

#[test]
fn granted_then_dropped_waiter_passes_the_lock_on() {
    let lock = Lock::new(String::from("a"));
    let holder = lock.try_lock().unwrap();
    let mut first = Box::pin(lock.lock());
    let mut second = Box::pin(lock.lock());
    assert!(poll(first.as_mut()).is_pending());
    assert!(poll(second.as_mut()).is_pending());
    drop(holder); // hands the lock to `first`
    drop(first); // which never saw it
    let Poll::Ready(mut g) = poll(second.as_mut()) else {
        panic!("the lock must pass to the second waiter")
    };
    g.push('b');
    drop(g);
    assert!(!lock.is_locked());
    assert_eq!(*lock.try_lock().unwrap(), "ab");
}

#[test]
fn granted_then_dropped_last_waiter_unlocks() {
    let lock = Lock::new(());
    let holder = lock.try_lock().unwrap();
    let mut w = Box::pin(lock.lock());
    assert!(poll(w.as_mut()).is_pending());
    drop(holder);
    drop(w);
    assert!(!lock.is_locked());
    assert!(lock.try_lock().is_ok());
}

#[test]
fn waiting_waiter_dropped_keeps_the_queue() {
    let lock = Lock::new(());
    let holder = lock.try_lock().unwrap();
    let mut a = Box::pin(lock.lock());
    let mut b = Box::pin(lock.lock());
    let mut c = Box::pin(lock.lock());
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(b.as_mut()).is_pending());
    assert!(poll(c.as_mut()).is_pending());
    drop(b);
    drop(holder);
    assert!(poll(c.as_mut()).is_pending());
    let Poll::Ready(g) = poll(a.as_mut()) else {
        panic!("a is first")
    };
    drop(g);
    assert!(poll(c.as_mut()).is_ready());
}

#[test]
fn owned_guard_moves_between_tasks() {
    let ex = executor();
    ex.block_on(async {
        let lock = Arc::new(Lock::new(0u64));
        let guard = lock.clone().lock_owned().await;
        assert!(lock.clone().try_lock_owned().is_err());
        let t = corio_executor::spawn(async move {
            let mut guard = guard;
            *guard += 41;
            // Dropped (unlocked) in this other task.
        });
        t.await.unwrap();
        let mut g = lock.lock().await;
        *g += 1;
        assert_eq!(*g, 42);
        drop(g);
        let owned = lock.clone().try_lock_owned().unwrap();
        assert!(Arc::ptr_eq(owned.lock(), &lock));
    });
}

#[test]
fn counter_on_executor_is_exact() {
    let ex = executor();
    let (tasks, iters) = (50, 100);
    let total = ex.block_on(async {
        let lock = Arc::new(Lock::new(0usize));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let lock = lock.clone();
                corio_executor::spawn(async move {
                    for i in 0..iters {
                        let mut g = lock.lock().await;
                        let v = *g;
                        if i % 7 == 0 {
                            // Hold the lock across an await point.
                            corio_executor::yield_now().await;
                        }
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        let v = *lock.lock().await;
        v
    });
    assert_eq!(total, tasks * iters);
}

#[test]
fn random_cancellation_loses_nothing() {
    let ex = executor();
    ex.block_on(async {
        let lock = Arc::new(Lock::new(0usize));
        let inside = Arc::new(AtomicUsize::new(0));
        let completed = Arc::new(Mutex::new(0usize));
        let handles: Vec<_> = (0..16u64)
            .map(|t| {
                let lock = lock.clone();
                let inside = inside.clone();
                let completed = completed.clone();
                corio_executor::spawn(async move {
                    let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ (t + 1));
                    for _ in 0..200 {
                        let polls = rng.below(4);
                        let mut fut = Box::pin(lock.lock());
                        let mut got = None;
                        for _ in 0..=polls {
                            if let Some(g) = future::poll_once(&mut fut).await {
                                got = Some(g);
                                break;
                            }
                            corio_executor::yield_now().await;
                        }
                        drop(fut);
                        if let Some(mut g) = got {
                            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                            *g += 1;
                            corio_executor::yield_now().await;
                            inside.fetch_sub(1, Ordering::SeqCst);
                            *completed.lock().unwrap() += 1;
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        assert!(!lock.is_locked(), "a cancelled waiter left the lock held");
        let v = *lock.try_lock().unwrap();
        assert_eq!(v, *completed.lock().unwrap());
        assert!(v > 0);
    });
}
