//! The blocking pool (asyncio's `to_thread` / `run_in_executor`): results
//! come back under any executor, jobs run concurrently, a panic in a closure
//! reaches the awaiting side, other tasks keep running meanwhile, dropping a
//! future early neither hangs nor leaks the pool, the thread limit holds
//! exactly and idle threads exit after the idle timeout.
//!
//! Tests that count threads use a [`BlockingPool`] of their own, so that the
//! tests running in parallel on the global pool cannot disturb the counts.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use common::{panic_text, spin_until, Counters, Out, Watchdog, EXPECTED};
use corio_executor::{block_on, unblock, BlockingPool, Executor, LocalExecutor, Unblock};

const LIMIT: Duration = Duration::from_secs(10);

/// Asserts that a type implements each of the given traits.
macro_rules! assert_impl {
    ($ty:ty: $($tr:path),+ $(,)?) => {
        const _: fn() = || {
            fn check<T: ?Sized $(+ $tr)+>() {}
            check::<$ty>();
        };
    };
}

// `Unblock<T>` is only made for `T: Send`; it is then `Send + Sync + Unpin`
// (a shared one only answers `is_finished`). The pool is shared by threads.
assert_impl!(Unblock<u32>: Send, Sync, Unpin);
assert_impl!(Unblock<std::cell::Cell<u32>>: Send, Sync, Unpin);
assert_impl!(BlockingPool: Send, Sync, Unpin);

fn executor() -> Executor {
    Executor::builder().worker_threads(2).build().unwrap()
}

#[test]
fn results_come_back_under_block_on() {
    let _w = Watchdog::new("results_come_back_under_block_on".into(), LIMIT);
    let v = block_on(unblock(|| 6 * 7));
    assert_eq!(v, 42);
    let s = block_on(async { unblock(|| "owned".to_string()).await + "!" });
    assert_eq!(s, "owned!");
}

#[test]
fn results_come_back_under_an_executor() {
    let _w = Watchdog::new("results_come_back_under_an_executor".into(), LIMIT);
    let ex = executor();
    let tasks: Vec<_> = (0..50u64)
        .map(|i| ex.spawn(async move { unblock(move || i * i).await }))
        .collect();
    let total = ex.block_on(async {
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..50u64).map(|i| i * i).sum::<u64>());
}

#[test]
fn results_come_back_under_other_executors() {
    let _w = Watchdog::new("results_come_back_under_other_executors".into(), LIMIT);
    assert_eq!(futures_lite::future::block_on(unblock(|| 1)), 1);
    let local = LocalExecutor::new();
    assert_eq!(local.block_on(unblock(|| 2)), 2);
}

#[test]
fn closures_run_on_named_pool_threads() {
    let name = block_on(unblock(|| thread::current().name().map(String::from))).unwrap();
    assert!(name.starts_with("corio-blocking-"), "{name}");
}

#[test]
fn a_hundred_sleeping_jobs_run_concurrently() {
    let _w = Watchdog::new("a_hundred_sleeping_jobs_run_concurrently".into(), LIMIT);
    let start = Instant::now();
    let sum = block_on(async {
        // Every job is queued as `unblock` returns, before any await.
        let jobs: Vec<_> = (0..100u64)
            .map(|i| {
                unblock(move || {
                    thread::sleep(Duration::from_millis(50));
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for j in jobs {
            sum += j.await;
        }
        sum
    });
    let elapsed = start.elapsed();
    assert_eq!(sum, 4950);
    // Sequentially this would take 5 s.
    assert!(elapsed < Duration::from_millis(2500), "took {elapsed:?}");
}

#[test]
fn a_panic_resumes_in_the_awaiting_future() {
    common::quiet_expected_panics();
    let _w = Watchdog::new("a_panic_resumes_in_the_awaiting_future".into(), LIMIT);
    let caught = catch_unwind(|| block_on(unblock(|| -> u32 { panic!("{EXPECTED}: plain") })));
    let payload = caught.unwrap_err();
    assert_eq!(panic_text(&*payload), format!("{EXPECTED}: plain"));
    // The pool thread survived and the pool keeps working.
    assert_eq!(block_on(unblock(|| 5)), 5);
}

#[test]
fn a_panic_becomes_the_tasks_join_error() {
    common::quiet_expected_panics();
    let _w = Watchdog::new("a_panic_becomes_the_tasks_join_error".into(), LIMIT);
    let ex = executor();
    let task = ex.spawn(async {
        unblock(|| panic!("{EXPECTED}: in a task")).await;
    });
    let err = ex.block_on(task).unwrap_err();
    assert!(err.is_panic());
    assert_eq!(
        err.panic_message().as_deref(),
        Some(&*format!("{EXPECTED}: in a task"))
    );
    // Other tasks and blocking jobs carry on.
    assert_eq!(ex.block_on(ex.spawn(unblock(|| 9))).unwrap(), 9);
}

#[test]
fn other_tasks_keep_running_while_a_job_blocks() {
    let _w = Watchdog::new("other_tasks_keep_running_while_a_job_blocks".into(), LIMIT);
    // One worker: if the job blocked it, the ticker could not tick.
    let ex = Executor::builder().worker_threads(1).build().unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (ticks, stop) = (ticks.clone(), stop.clone());
        ex.spawn(async move {
            while !stop.load(SeqCst) {
                ticks.fetch_add(1, SeqCst);
                corio_executor::yield_now().await;
            }
        })
    };
    let waiter = {
        let ticks = ticks.clone();
        ex.spawn(async move {
            // The job blocks its thread until the ticker, on the executor's
            // only worker, has ticked 100 times after the job started.
            unblock(move || {
                let from = ticks.load(SeqCst);
                spin_until(LIMIT / 2, || ticks.load(SeqCst) >= from + 100)
            })
            .await
        })
    };
    let saw_ticks = ex.block_on(waiter).unwrap();
    stop.store(true, SeqCst);
    ex.block_on(ticker).unwrap();
    assert!(saw_ticks, "the ticker stalled while the blocking job ran");
}

#[test]
fn dropping_the_future_early_drops_the_result_and_keeps_the_pool() {
    let _w = Watchdog::new("dropping_the_future_early".into(), LIMIT);
    // One thread: a leaked or stuck thread would stop every later job.
    let pool = BlockingPool::new(1, Duration::from_secs(5));
    let counters = Counters::new();
    let (release, gate) = mpsc::channel::<()>();
    let ran = Arc::new(AtomicBool::new(false));
    let fut = {
        let (counters, ran) = (counters.clone(), ran.clone());
        pool.unblock(move || {
            gate.recv().unwrap();
            ran.store(true, SeqCst);
            Out::new(&counters, 1)
        })
    };
    // Polled once (a waker registered), then dropped while the job blocks.
    let mut fut = Box::pin(fut);
    assert!(futures_lite::future::block_on(futures_lite::future::poll_once(&mut fut)).is_none());
    drop(fut);
    // A second one, dropped before its job even started, still runs.
    let queued_ran = Arc::new(AtomicBool::new(false));
    drop({
        let queued_ran = queued_ran.clone();
        pool.unblock(move || queued_ran.store(true, SeqCst))
    });
    release.send(()).unwrap();
    // A later job runs on the same single thread.
    assert_eq!(block_on(pool.unblock(|| 7)), 7);
    assert!(
        ran.load(SeqCst),
        "the closure of a dropped future was stopped"
    );
    assert!(queued_ran.load(SeqCst), "a queued job was skipped");
    // Its result was dropped, once, on the pool thread.
    assert!(spin_until(LIMIT, || counters.output_drops() == 1));
    assert_eq!(counters.output_drops(), 1);
    assert_eq!(pool.thread_count(), 1);
}

#[test]
fn dropping_a_panicking_future_early_keeps_the_pool() {
    common::quiet_expected_panics();
    let _w = Watchdog::new("dropping_a_panicking_future_early".into(), LIMIT);
    let pool = BlockingPool::new(1, Duration::from_secs(5));
    let (release, gate) = mpsc::channel::<()>();
    drop(pool.unblock(move || {
        gate.recv().unwrap();
        panic!("{EXPECTED}: nobody awaits this");
    }));
    release.send(()).unwrap();
    assert_eq!(block_on(pool.unblock(|| 8)), 8);
    assert_eq!(pool.thread_count(), 1);
}

#[test]
fn the_thread_limit_is_reached_and_never_exceeded() {
    let _w = Watchdog::new("the_thread_limit".into(), LIMIT);
    let pool = BlockingPool::new(4, Duration::from_secs(5));
    let running = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let jobs: Vec<_> = (0..20)
        .map(|_| {
            let (running, max_seen) = (running.clone(), max_seen.clone());
            pool.unblock(move || {
                let now = running.fetch_add(1, SeqCst) + 1;
                max_seen.fetch_max(now, SeqCst);
                thread::sleep(Duration::from_millis(30));
                running.fetch_sub(1, SeqCst);
            })
        })
        .collect();
    assert!(pool.thread_count() <= 4);
    block_on(async {
        for j in jobs {
            j.await;
        }
    });
    assert_eq!(max_seen.load(SeqCst), 4);
    assert_eq!(pool.thread_count(), 4);
}

#[test]
fn an_idle_thread_is_reused_rather_than_a_new_one_started() {
    let _w = Watchdog::new("an_idle_thread_is_reused".into(), LIMIT);
    let pool = BlockingPool::new(8, Duration::from_secs(5));
    for i in 0..10 {
        assert_eq!(block_on(pool.unblock(move || i)), i);
        // Let the thread get back to its idle wait after handing over.
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(pool.thread_count(), 1);
}

#[test]
fn idle_threads_exit_after_the_idle_timeout() {
    let _w = Watchdog::new("idle_threads_exit".into(), LIMIT);
    let pool = BlockingPool::new(8, Duration::from_millis(100));
    let jobs: Vec<_> = (0..8)
        .map(|i| {
            pool.unblock(move || {
                thread::sleep(Duration::from_millis(20));
                i
            })
        })
        .collect();
    // Each started at once, and none can have idled out yet.
    assert!(pool.thread_count() > 0);
    let sum: i32 = block_on(async {
        let mut sum = 0;
        for j in jobs {
            sum += j.await;
        }
        sum
    });
    assert_eq!(sum, 28);
    thread::sleep(Duration::from_millis(500));
    assert_eq!(pool.thread_count(), 0);
    // The pool starts threads again on demand.
    assert_eq!(block_on(pool.unblock(|| 3)), 3);
    assert_eq!(pool.thread_count(), 1);
}

#[test]
fn lowering_the_limit_retires_idle_threads() {
    let _w = Watchdog::new("lowering_the_limit".into(), LIMIT);
    let pool = BlockingPool::new(4, Duration::from_secs(5));
    let jobs: Vec<_> = (0..4)
        .map(|_| pool.unblock(|| thread::sleep(Duration::from_millis(30))))
        .collect();
    block_on(async {
        for j in jobs {
            j.await;
        }
    });
    assert_eq!(pool.thread_count(), 4);
    pool.set_max_threads(1);
    assert!(spin_until(LIMIT, || pool.thread_count() == 1));
    assert_eq!(block_on(pool.unblock(|| 1)), 1);
    assert_eq!(pool.thread_count(), 1);
}

/// Counts a thread out of `alive` when it exits (a thread-local's
/// destructor runs at thread exit).
struct ExitGuard(Arc<AtomicUsize>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

thread_local! {
    static EXIT_GUARD: std::cell::RefCell<Option<ExitGuard>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn dropping_the_pool_finishes_queued_jobs_then_stops_its_threads() {
    let _w = Watchdog::new("dropping_the_pool".into(), LIMIT);
    // A long idle timeout: the threads must stop because of the drop.
    let pool = BlockingPool::new(2, Duration::from_secs(3600));
    let alive = Arc::new(AtomicUsize::new(0));
    let jobs: Vec<_> = (0..6u32)
        .map(|i| {
            let alive = alive.clone();
            pool.unblock(move || {
                EXIT_GUARD.with(|g| {
                    let mut g = g.borrow_mut();
                    if g.is_none() {
                        alive.fetch_add(1, SeqCst);
                        *g = Some(ExitGuard(alive.clone()));
                    }
                });
                thread::sleep(Duration::from_millis(20));
                i
            })
        })
        .collect();
    // Jobs are still queued (two threads, six jobs of 20 ms).
    drop(pool);
    let sum: u32 = block_on(async {
        let mut sum = 0;
        for j in jobs {
            sum += j.await;
        }
        sum
    });
    assert_eq!(sum, 15);
    assert!(
        spin_until(LIMIT, || alive.load(SeqCst) == 0),
        "{} pool threads outlived their pool",
        alive.load(SeqCst)
    );
}

#[test]
fn a_pool_needs_at_least_one_thread() {
    assert!(catch_unwind(|| BlockingPool::new(0, Duration::from_secs(1))).is_err());
    let pool = BlockingPool::new(1, Duration::from_secs(1));
    assert!(catch_unwind(AssertUnwindSafe(|| pool.set_max_threads(0))).is_err());
    assert_eq!(pool.max_threads(), 1);
}

#[test]
fn the_global_pool_has_the_documented_defaults() {
    let pool = BlockingPool::global();
    assert!(std::ptr::eq(pool, BlockingPool::global()));
    if std::env::var_os("CORIO_MAX_BLOCKING_THREADS").is_none() {
        assert_eq!(pool.max_threads(), BlockingPool::DEFAULT_MAX_THREADS);
        assert_eq!(pool.max_threads(), 500);
    }
    assert_eq!(pool.idle_timeout(), Duration::from_secs(10));
}

#[test]
fn many_short_jobs_never_lose_a_wake_up() {
    let _w = Watchdog::new("many_short_jobs_never_lose_a_wake_up".into(), LIMIT);
    // Each job finishes around the time its future is first polled, racing
    // the check of the result against the waker's registration.
    let ex = executor();
    let pool = Arc::new(BlockingPool::new(4, Duration::from_secs(5)));
    let tasks: Vec<_> = (0..2_000u64)
        .map(|i| {
            let pool = pool.clone();
            ex.spawn(async move { pool.unblock(move || i).await })
        })
        .collect();
    let sum = ex.block_on(async {
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..2_000u64).sum::<u64>());
    for i in 0..2_000u64 {
        assert_eq!(block_on(pool.unblock(move || i)), i);
    }
}

#[test]
fn is_finished_and_debug_show_the_state() {
    let _w = Watchdog::new("is_finished_and_debug".into(), LIMIT);
    let pool = BlockingPool::new(1, Duration::from_secs(5));
    let (release, gate) = mpsc::channel::<()>();
    let fut = pool.unblock(move || gate.recv().unwrap());
    assert!(!fut.is_finished());
    assert!(format!("{fut:?}").contains("running"), "{fut:?}");
    release.send(()).unwrap();
    assert!(spin_until(LIMIT, || fut.is_finished()));
    assert!(format!("{fut:?}").contains("returned"), "{fut:?}");
    assert!(format!("{pool:?}").contains("max_threads: 1"), "{pool:?}");
    block_on(fut);
}
