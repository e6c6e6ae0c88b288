//! Stress tests of Lock, Semaphore and RwLock on the multi-threaded executor
//! (4 workers), with random cancellation. Default sizes keep each test to a
//! few seconds in a debug build; the `#[ignore]`d variants run the full sizes.

use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use corio_sync::{Lock, RwLock, Semaphore};
use futures_lite::future;

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

/// `tasks` tasks each increment a Lock-protected counter `iters` times.
fn lock_counter(tasks: usize, iters: usize) {
    let ex = executor();
    let start = Instant::now();
    let total = ex.block_on(async {
        let lock = Arc::new(Lock::new(0usize));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let lock = lock.clone();
                corio_executor::spawn(async move {
                    for _ in 0..iters {
                        *lock.lock().await += 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        let n = *lock.lock().await;
        n
    });
    assert_eq!(total, tasks * iters);
    eprintln!("lock_counter {tasks}x{iters}: {:?}", start.elapsed());
}

#[test]
fn lock_counter_is_exact() {
    if cfg!(debug_assertions) {
        lock_counter(400, 400);
    } else {
        lock_counter(1000, 1000);
    }
}

#[test]
#[ignore = "long: cargo xtask test --stress"]
fn lock_counter_is_exact_long() {
    lock_counter(1000, 1000);
}

/// Tasks acquire 1..=3 permits with random cancellation; the holders count
/// never exceeds the bound and every permit comes back.
fn semaphore_bound(tasks: u64, iters: usize) {
    const PERMITS: usize = 4;
    let ex = executor();
    ex.block_on(async {
        let sem = Arc::new(Semaphore::new(PERMITS));
        let holders = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let sem = sem.clone();
                let holders = holders.clone();
                corio_executor::spawn(async move {
                    let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (t * 2 + 1));
                    let mut wins = 0;
                    for _ in 0..iters {
                        let n = 1 + rng.below(3) as usize;
                        let polls = rng.below(5);
                        let mut fut = Box::pin(sem.acquire_many(n));
                        let mut got = None;
                        for _ in 0..=polls {
                            if let Some(p) = future::poll_once(&mut fut).await {
                                got = Some(p.unwrap());
                                break;
                            }
                            corio_executor::yield_now().await;
                        }
                        drop(fut);
                        if let Some(permit) = got {
                            wins += 1;
                            let now = holders.fetch_add(n, Ordering::SeqCst) + n;
                            assert!(now <= PERMITS, "{now} permits held of {PERMITS}");
                            if rng.below(2) == 0 {
                                corio_executor::yield_now().await;
                            }
                            holders.fetch_sub(n, Ordering::SeqCst);
                            drop(permit);
                        }
                    }
                    wins
                })
            })
            .collect();
        let mut wins = 0;
        for h in handles {
            wins += h.await.unwrap();
        }
        assert!(wins > 0);
        assert_eq!(sem.available_permits(), PERMITS, "a permit was lost");
        assert!(sem.try_acquire_many(PERMITS).is_ok());
    });
}

#[test]
fn semaphore_bound_with_random_cancellation() {
    semaphore_bound(64, if cfg!(debug_assertions) { 1000 } else { 3000 });
}

#[test]
#[ignore = "long: cargo xtask test --stress"]
fn semaphore_bound_with_random_cancellation_long() {
    semaphore_bound(256, 5000);
}

/// Writers are exclusive, readers never meet a writer, and readers do run
/// side by side; random cancellation of both kinds of waiter.
fn rwlock_exclusion(tasks: u64, iters: usize) {
    let ex = executor();
    ex.block_on(async {
        let lock = Arc::new(RwLock::new(0usize));
        let state = Arc::new(AtomicIsize::new(0));
        let writes = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let lock = lock.clone();
                let state = state.clone();
                let writes = writes.clone();
                corio_executor::spawn(async move {
                    let mut rng = Rng(0x94D0_49BB_1331_11EB ^ (t + 7));
                    for _ in 0..iters {
                        let cancel_after = rng.below(6);
                        if rng.below(4) == 0 {
                            let mut fut = Box::pin(lock.write());
                            let mut got = None;
                            for _ in 0..=cancel_after {
                                if let Some(g) = future::poll_once(&mut fut).await {
                                    got = Some(g);
                                    break;
                                }
                                corio_executor::yield_now().await;
                            }
                            drop(fut);
                            if let Some(mut g) = got {
                                assert_eq!(state.swap(-1, Ordering::SeqCst), 0);
                                *g += 1;
                                writes.fetch_add(1, Ordering::SeqCst);
                                corio_executor::yield_now().await;
                                assert_eq!(state.swap(0, Ordering::SeqCst), -1);
                            }
                        } else {
                            let mut fut = Box::pin(lock.read());
                            let mut got = None;
                            for _ in 0..=cancel_after {
                                if let Some(g) = future::poll_once(&mut fut).await {
                                    got = Some(g);
                                    break;
                                }
                                corio_executor::yield_now().await;
                            }
                            drop(fut);
                            if let Some(g) = got {
                                assert!(state.fetch_add(1, Ordering::SeqCst) >= 0);
                                let _ = *g;
                                corio_executor::yield_now().await;
                                state.fetch_sub(1, Ordering::SeqCst);
                            }
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(*lock.read().await, writes.load(Ordering::SeqCst));
        assert!(lock.try_write().is_ok(), "the lock was left held");

        // Readers are concurrent: many read guards at once, across tasks.
        let guards: Vec<_> = (0..8).map(|_| lock.clone()).collect();
        let inside = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(corio_sync::Barrier::new(8));
        let readers: Vec<_> = guards
            .into_iter()
            .map(|lock| {
                let inside = inside.clone();
                let gate = gate.clone();
                corio_executor::spawn(async move {
                    let _g = lock.read().await;
                    inside.fetch_add(1, Ordering::SeqCst);
                    // All 8 hold a read guard when the barrier opens.
                    gate.wait().await.unwrap();
                })
            })
            .collect();
        for r in readers {
            r.await.unwrap();
        }
        assert_eq!(inside.load(Ordering::SeqCst), 8);
    });
}

#[test]
fn rwlock_writers_exclusive_readers_concurrent() {
    rwlock_exclusion(32, if cfg!(debug_assertions) { 1000 } else { 3000 });
}

#[test]
#[ignore = "long: cargo xtask test --stress"]
fn rwlock_writers_exclusive_readers_concurrent_long() {
    rwlock_exclusion(128, 5000);
}
