//! Stress: eight threads each create, poll, reset and drop 100,000 timers at
//! random while another thread fires expired timers as fast as it can (with
//! the helper thread, and as the claiming driver instead of it). Nothing may
//! panic or deadlock, every timer awaited to the end completes not early, and
//! the wheel's pending and registered counts return to 0. Bounded in time.
//!
//! `--cfg corio_stress` runs ten times as many operations.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{poll_with, serial, CountingWaker, Rng};
use corio_timer::{driver, sleep, sleep_until, timeout, Sleep};
use futures_lite::future::block_on;

const THREADS: u64 = 8;
const OPS: usize = if cfg!(corio_stress) {
    1_000_000
} else {
    100_000
};
const LIMIT: Duration = Duration::from_secs(if cfg!(corio_stress) { 300 } else { 60 });

/// One worker: random operations on up to 64 live timers.
fn churn(seed: u64) -> usize {
    let mut rng = Rng::new(seed);
    let (_, waker) = CountingWaker::new();
    let mut live: Vec<Sleep> = Vec::new();
    let mut completed = 0;
    for i in 0..OPS {
        match rng.next() % 8 {
            // Create and register.
            0..=2 if live.len() < 64 => {
                let mut s = sleep(Duration::from_micros(rng.range(0, 20_000)));
                if poll_with(&mut s, &waker).is_ready() {
                    completed += 1;
                } else {
                    live.push(s);
                }
            }
            // Cancel.
            0..=4 if !live.is_empty() => {
                let idx = (rng.next() as usize) % live.len();
                drop(live.swap_remove(idx));
            }
            // Re-poll; drop on completion (never early).
            5 | 6 if !live.is_empty() => {
                let idx = (rng.next() as usize) % live.len();
                if poll_with(&mut live[idx], &waker).is_ready() {
                    assert!(Instant::now() >= live[idx].deadline(), "completed early");
                    drop(live.swap_remove(idx));
                    completed += 1;
                }
            }
            // Reset somewhere else, maybe into the past.
            7 if !live.is_empty() => {
                let idx = (rng.next() as usize) % live.len();
                let d = Instant::now() + Duration::from_micros(rng.range(0, 20_000));
                live[idx].reset(d - Duration::from_millis(2));
            }
            _ => {}
        }
        // Now and then, await one to the end.
        if i % 10_000 == 0 {
            let d = Instant::now() + Duration::from_millis(rng.range(1, 3));
            block_on(sleep_until(d));
            assert!(Instant::now() >= d);
            let r = block_on(timeout(
                Duration::from_millis(1),
                std::future::pending::<()>(),
            ));
            assert!(r.is_err());
        }
    }
    completed
}

/// Runs the workers with a firing thread; returns once both are done.
fn run(claimed: bool) {
    let start = Instant::now();
    let guard = claimed.then(|| driver::claim(Arc::new(|| {})).expect("no other driver"));
    let stop = Arc::new(AtomicBool::new(false));
    let fired = Arc::new(AtomicUsize::new(0));
    let firer = {
        let (stop, fired) = (stop.clone(), fired.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                fired.fetch_add(driver::fire_expired(), Ordering::Relaxed);
                let _ = driver::next_deadline();
                std::thread::yield_now();
            }
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|i| std::thread::spawn(move || churn(i * 7919 + claimed as u64)))
        .collect();
    let completed: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    stop.store(true, Ordering::Relaxed);
    firer.join().unwrap();
    drop(guard);
    assert_eq!(corio_timer::__pending_timers(), 0);
    assert_eq!(corio_timer::__registered_timers(), 0);
    let took = start.elapsed();
    eprintln!(
        "stress (claimed: {claimed}): {} ops, {completed} completed, {} fired by the firing thread, {took:?}",
        THREADS as usize * OPS,
        fired.load(Ordering::Relaxed),
    );
    assert!(completed > 0);
    assert!(took < LIMIT, "took {took:?}");
}

#[test]
fn churn_with_the_helper_thread_and_a_firing_thread() {
    let _s = serial();
    run(false);
}

#[test]
fn churn_with_a_claiming_driver() {
    let _s = serial();
    run(true);
}
