//! A blocking call offloaded to a thread while the event loop keeps ticking.
//!
//! Run it with `cargo run --release --example run_in_executor`.
//!
//! ```python
//! import asyncio, time
//!
//! def blocking_work():
//!     time.sleep(0.3)
//!     return 42
//!
//! async def ticker():
//!     n = 0
//!     while True:
//!         await asyncio.sleep(0.05)
//!         n += 1
//!         print("tick", n)
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     ticks = asyncio.create_task(ticker())
//!     result = await loop.run_in_executor(None, blocking_work)
//!     ticks.cancel()
//!     print("result:", result)
//!
//! asyncio.run(main())
//! ```

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A function that blocks its thread, like file or database work.
fn blocking_work() -> u32 {
    std::thread::sleep(Duration::from_millis(300));
    42
}

#[corio::main]
async fn main() {
    let ticks = Arc::new(AtomicU32::new(0));
    let counter = ticks.clone();
    let ticker = corio::spawn(async move {
        let mut every = corio::time::interval(Duration::from_millis(50));
        every.tick().await; // the first tick is immediate
        loop {
            every.tick().await;
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            println!("tick {n}");
        }
    });

    // loop.run_in_executor(None, blocking_work): the work runs on the
    // blocking pool, so the workers stay free to run the ticker.
    let result = corio::unblock(blocking_work).await;
    let n = ticks.load(Ordering::SeqCst);
    let _ = ticker.cancel().await;

    println!("result: {result}");
    assert!(n >= 4, "the ticker should keep running: {n} ticks");
    println!("ticks while blocking: {n}");
}
