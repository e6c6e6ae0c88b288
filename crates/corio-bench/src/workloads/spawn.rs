//! `spawn`: the cost of creating, scheduling, running and joining a task, and the memory
//! a task holds while it waits to be joined.
//!
//! The main future spawns `n` tasks `async move { i }`, keeps every handle in a `Vec`,
//! then awaits each in order and sums the results. Every task is alive (at least its
//! output and its handle) until the end, so the peak RSS of the process, less the
//! runtime's baseline, divided by `n` is the memory one task costs, plus the handle's
//! slot in the `Vec`.

use std::time::Instant;

use super::Measured;
use crate::runtime::Spawner;

/// The sum of `0..n`.
pub(super) fn expected(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

pub(super) async fn run(spawner: &Spawner, n: u64) -> Measured {
    let mut handles = Vec::with_capacity(usize::try_from(n).expect("size fits in memory"));
    let start = Instant::now();
    for i in 0..n {
        // The concrete future type goes to the runtime's spawn: no boxing here.
        handles.push(spawner.spawn(async move { i }));
    }
    let mut sum = 0;
    for handle in handles {
        sum += handle.await;
    }
    Measured {
        elapsed: start.elapsed(),
        check: sum,
    }
}
