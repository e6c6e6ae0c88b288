//! The facade's timers: sleeps on the multi-thread runtime fire in deadline
//! order and never early, 10,000 concurrent sleeps all complete, `timeout`
//! returns the value or `Elapsed`, an `Interval` ticks at its period, and
//! sleeps work on a current-thread runtime and under a plain
//! `corio::block_on` with no runtime at all.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::Runtime;

const MS: Duration = Duration::from_millis(1);

/// Runs `fut` on a two-worker runtime, failing if it takes longer than `limit`.
fn within<F: Future>(limit: Duration, fut: F) -> F::Output {
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    rt.block_on(corio::timeout(limit, fut))
        .unwrap_or_else(|_| panic!("the test did not finish within {limit:?}"))
}

#[test]
fn sleeps_fire_in_deadline_order_and_never_early() {
    // How far apart two deadlines must be for their wake order to be
    // checked: tasks woken in the same timer pass may run on different
    // workers and finish in either order.
    const SLACK: Duration = Duration::from_millis(10);
    let woken = within(Duration::from_secs(10), async {
        let start = Instant::now();
        let order = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..100u64)
            .map(|i| {
                // 1..=100 ms, shuffled: 37 and 100 are coprime.
                let deadline = start + MS * ((i * 37 % 100) + 1) as u32;
                let order = order.clone();
                corio::spawn(async move {
                    corio::sleep_until(deadline).await;
                    let woke = Instant::now();
                    (deadline, woke, order.fetch_add(1, SeqCst))
                })
            })
            .collect();
        let mut woken = Vec::new();
        for t in tasks {
            woken.push(t.await.unwrap());
        }
        woken
    });
    for &(deadline, woke, _) in &woken {
        assert!(woke >= deadline, "woke {:?} early", deadline - woke);
        assert!(
            woke - deadline < Duration::from_secs(1),
            "woke {:?} late",
            woke - deadline
        );
    }
    for a in &woken {
        for b in &woken {
            if a.0 + SLACK <= b.0 {
                assert!(a.2 < b.2, "a later deadline woke first");
            }
        }
    }
}

#[test]
fn ten_thousand_concurrent_sleeps_complete() {
    const N: usize = 10_000;
    let done = Arc::new(AtomicUsize::new(0));
    let counter = done.clone();
    within(Duration::from_secs(20), async move {
        let tasks: Vec<_> = (0..N)
            .map(|i| {
                let counter = counter.clone();
                corio::spawn(async move {
                    corio::sleep(MS * (i % 50) as u32 + MS).await;
                    counter.fetch_add(1, SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(done.load(SeqCst), N);
}

#[test]
fn timeout_returns_the_value_or_elapsed() {
    within(Duration::from_secs(5), async {
        let ok = corio::timeout(Duration::from_secs(5), async {
            corio::sleep(5 * MS).await;
            7
        })
        .await;
        assert_eq!(ok.unwrap(), 7);

        let start = Instant::now();
        let late = corio::timeout(20 * MS, corio::sleep(Duration::from_secs(10))).await;
        let took = start.elapsed();
        assert!(late.is_err(), "a 10 s sleep cannot beat a 20 ms deadline");
        assert!(took >= 20 * MS, "timed out early: {took:?}");
        assert!(took < Duration::from_secs(2), "timed out late: {took:?}");
    });
}

#[test]
fn interval_ticks_at_its_period() {
    within(Duration::from_secs(5), async {
        let period = 10 * MS;
        let mut ticks = corio::time::interval(period);
        let first = ticks.tick().await; // immediate
        let mut last = first;
        for _ in 0..4 {
            last = ticks.tick().await;
        }
        assert_eq!(last - first, period * 4, "ticks are spaced by the period");
        assert!(
            Instant::now() >= first + period * 4,
            "the last tick came early"
        );
    });
}

#[test]
fn sleep_on_a_current_thread_runtime() {
    let rt = Runtime::builder().current_thread().build().unwrap();
    let start = Instant::now();
    let out = rt.block_on(corio::timeout(Duration::from_secs(5), async {
        let t = corio::spawn(async {
            corio::sleep(20 * MS).await;
            "slept"
        });
        t.await.unwrap()
    }));
    assert_eq!(out.unwrap(), "slept");
    assert!(start.elapsed() >= 20 * MS);
}

#[test]
fn sleep_under_block_on_without_a_runtime() {
    let start = Instant::now();
    corio::block_on(corio::sleep(20 * MS));
    let took = start.elapsed();
    assert!(took >= 20 * MS, "woke early: {took:?}");
    assert!(took < Duration::from_secs(2), "woke late: {took:?}");
}
