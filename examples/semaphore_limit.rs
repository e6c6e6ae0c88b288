//! A hundred jobs, at most ten at a time: a `Semaphore` as a concurrency limit.
//!
//! Run it with `cargo run --release --example semaphore_limit`.
//!
//! ```python
//! import asyncio
//!
//! async def job(sem, i):
//!     async with sem:
//!         await asyncio.sleep(0.005)
//!         return i
//!
//! async def main():
//!     sem = asyncio.Semaphore(10)
//!     results = await asyncio.gather(*(job(sem, i) for i in range(100)))
//!     print(sum(results))
//!
//! asyncio.run(main())
//! ```
//!
//! The program counts how many jobs run at once and prints the highest count it
//! saw: the semaphore is what keeps it at ten.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::sync::Semaphore;

const JOBS: usize = 100;
const LIMIT: usize = 10;

#[corio::main]
async fn main() {
    let semaphore = Arc::new(Semaphore::new(LIMIT));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));

    let jobs: Vec<_> = (0..JOBS)
        .map(|i| {
            let (semaphore, running, peak) = (semaphore.clone(), running.clone(), peak.clone());
            corio::spawn(async move {
                // `async with sem:` — the permit is released when it is dropped.
                let _permit = semaphore.acquire().await.expect("never closed");
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                corio::sleep(Duration::from_millis(5)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                i
            })
        })
        .collect();

    let mut sum = 0;
    for job in jobs {
        sum += job.await.expect("jobs do not fail");
    }
    let peak = peak.load(Ordering::SeqCst);
    println!("{JOBS} jobs done, sum of results {sum}");
    println!("at most {peak} jobs ran at once (limit {LIMIT})");
    assert!(peak <= LIMIT, "the semaphore let {peak} jobs run at once");
    println!("limit respected: {}", peak <= LIMIT);
}
