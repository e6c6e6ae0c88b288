//! `yield`: the cost of one trip through the scheduler's run queue.
//!
//! [`TASKS`] tasks each call the runtime's own `yield_now` `n` times (tokio's
//! `task::yield_now`, `corio::yield_now`, and for smol `futures_lite::future::yield_now`).
//! Each task counts its yields and adds them to one shared `AtomicU64` when it ends, so
//! the check (`TASKS * n`) proves every yield returned without putting a contended
//! atomic into every iteration.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::Measured;
use crate::runtime::{Spawner, YieldFn};

/// How many tasks yield concurrently.
pub(super) const TASKS: u64 = 1_000;

/// Every yield of every task, counted.
pub(super) fn expected(n: u64) -> u64 {
    TASKS * n
}

pub(super) async fn run(spawner: &Spawner, n: u64) -> Measured {
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..TASKS)
        .map(|_| {
            let count = count.clone();
            match spawner.yield_fn() {
                YieldFn::Corio => spawner.spawn(yielder(corio::yield_now, n, count)),
                YieldFn::Tokio => spawner.spawn(yielder(tokio::task::yield_now, n, count)),
                YieldFn::FuturesLite => {
                    spawner.spawn(yielder(futures_lite::future::yield_now, n, count))
                }
            }
        })
        .collect();
    for handle in handles {
        handle.await;
    }
    Measured {
        elapsed: start.elapsed(),
        check: count.load(Ordering::Relaxed),
    }
}

/// One task: `n` calls of `yield_now`, generic so that each runtime's own yield future is
/// polled directly, unboxed.
async fn yielder<Y, F>(yield_now: Y, n: u64, count: Arc<AtomicU64>)
where
    Y: Fn() -> F,
    F: Future<Output = ()>,
{
    let mut done = 0;
    for _ in 0..n {
        yield_now().await;
        done += 1;
    }
    count.fetch_add(done, Ordering::Relaxed);
}
