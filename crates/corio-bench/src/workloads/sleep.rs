//! `sleep`: many tasks asleep at once: the timer's insert and fire path, and the memory
//! one sleeping task holds.
//!
//! The main future spawns `n` tasks, keeping every handle; each task takes the time, sleeps
//! `duration` with its runtime's own sleep (`corio::sleep`, `tokio::time::sleep`,
//! `async_io::Timer::after` for smol), and reports whether it woke no earlier than
//! `duration` after it began. Then the main future awaits them all. The run can take no
//! less than `duration`; what it takes beyond that is spawning, registering, firing and
//! joining `n` sleeps. Every sleep is alive at the same moment, so the peak RSS less the
//! runtime's baseline, over `n`, is the memory of one sleeping task (and its handle).

use std::future::Future;
use std::time::{Duration, Instant};

use super::Measured;
use crate::runtime::{Family, Spawner};

/// Every sleep completed, none early.
pub(super) fn expected(n: u64) -> u64 {
    n
}

pub(super) async fn run(spawner: &Spawner, n: u64, duration: Duration) -> Measured {
    let mut handles = Vec::with_capacity(usize::try_from(n).expect("size fits in memory"));
    let family = spawner.family();
    let start = Instant::now();
    for _ in 0..n {
        handles.push(match family {
            Family::Corio => spawner.spawn(sleeper(corio::sleep, duration)),
            Family::Tokio => spawner.spawn(sleeper(tokio::time::sleep, duration)),
            Family::Smol => spawner.spawn(sleeper(async_io::Timer::after, duration)),
        });
    }
    let mut slept = 0;
    for handle in handles {
        slept += handle.await;
    }
    Measured {
        elapsed: start.elapsed(),
        check: slept,
    }
}

/// One task: 1 if its sleep ended no earlier than `duration` after it began, else 0.
async fn sleeper<S, F>(sleep: S, duration: Duration) -> u64
where
    S: FnOnce(Duration) -> F,
    F: Future,
{
    let began = Instant::now();
    sleep(duration).await;
    u64::from(began.elapsed() >= duration)
}
