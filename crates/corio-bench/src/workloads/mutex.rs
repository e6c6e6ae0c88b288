//! `mutex`: many tasks contending for one async lock.
//!
//! `n` tasks each take the lock [`INCREMENTS`] times and increment the counter it guards,
//! yielding nothing in between, so on a multi-thread runtime the lock is contended all
//! the time and every unlock with waiters hands the lock on. The locks:
//!
//! - corio: `corio::sync::Lock` (FIFO-fair: a released lock goes to the longest waiter);
//! - tokio: `tokio::sync::Mutex` (FIFO-fair too);
//! - smol: `async_lock::Mutex` (smol re-exports async-lock as `smol::lock`), which lets a
//!   newcomer take a free lock ahead of waiters for a while before it turns fair.

use std::sync::Arc;
use std::time::Instant;

use super::Measured;
use crate::runtime::{Family, Spawner};

/// Lock-and-increment rounds per task.
pub(super) const INCREMENTS: u64 = 1_000;

/// Every increment counted once.
pub(super) fn expected(n: u64) -> u64 {
    n * INCREMENTS
}

/// The workload, written once: the three locks have the same `lock().await` shape but no
/// common trait, so a macro stamps it out for each lock type.
macro_rules! contend {
    ($spawner:expr, $n:expr, $lock:expr) => {{
        let lock = Arc::new($lock);
        let tasks: Vec<_> = (0..$n)
            .map(|_| {
                let lock = lock.clone();
                $spawner.spawn(async move {
                    for _ in 0..INCREMENTS {
                        *lock.lock().await += 1;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await;
        }
        let total = *lock.lock().await;
        total
    }};
}

pub(super) async fn run(spawner: &Spawner, n: u64) -> Measured {
    let start = Instant::now();
    let check = match spawner.family() {
        Family::Corio => contend!(spawner, n, corio::sync::Lock::new(0u64)),
        Family::Tokio => contend!(spawner, n, tokio::sync::Mutex::new(0u64)),
        Family::Smol => contend!(spawner, n, async_lock::Mutex::new(0u64)),
    };
    Measured {
        elapsed: start.elapsed(),
        check,
    }
}
