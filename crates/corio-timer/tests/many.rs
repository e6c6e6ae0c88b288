//! Scale: 100,000 concurrent sleeps of 1 to 50 ms all complete, none early,
//! both under one `block_on` (a join that polls only woken futures) and
//! spread over eight threads, within a few seconds. The helper thread drives.

mod common;

use std::time::{Duration, Instant};

use common::{join_all, serial, settle_pending, Rng};
use corio_timer::sleep_until;
use futures_lite::future::block_on;

const N: usize = 100_000;

/// `n` sleeps with deadlines 1..=50 ms from now; returns how many woke early.
fn run_sleeps(n: usize, seed: u64) -> usize {
    let mut rng = Rng::new(seed);
    let start = Instant::now();
    let futures: Vec<_> = (0..n)
        .map(|_| {
            let deadline = start + Duration::from_millis(rng.range(1, 50));
            async move {
                sleep_until(deadline).await;
                Instant::now() < deadline
            }
        })
        .collect();
    block_on(join_all(futures))
        .into_iter()
        .filter(|&early| early)
        .count()
}

#[test]
fn a_hundred_thousand_sleeps_on_one_thread() {
    let _s = serial();
    let start = Instant::now();
    assert_eq!(run_sleeps(N, 1), 0);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    eprintln!("100,000 sleeps on one block_on: {took:?}");
    assert_eq!(settle_pending(), 0);
    assert_eq!(corio_timer::__registered_timers(), 0);
}

#[test]
fn a_hundred_thousand_sleeps_on_eight_threads() {
    let _s = serial();
    let start = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|i| std::thread::spawn(move || run_sleeps(N / 8, 100 + i)))
        .collect();
    let early: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(early, 0);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    eprintln!("100,000 sleeps on eight threads: {took:?}");
    assert_eq!(settle_pending(), 0);
    assert_eq!(corio_timer::__registered_timers(), 0);
}
