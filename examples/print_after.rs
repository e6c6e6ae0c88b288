//! Two tasks sleep at once: the shorter sleep prints first, and the whole
//! program takes as long as the longer sleep, not the sum.
//!
//! Run it with `cargo run --release --example print_after`.
//!
//! ```python
//! import asyncio, time
//!
//! async def print_after(units, what):
//!     await asyncio.sleep(units * 0.1)
//!     print(what)
//!
//! async def main():
//!     start = time.monotonic()
//!     late = asyncio.create_task(print_after(2, "late"))
//!     early = asyncio.create_task(print_after(1, "early"))
//!     await late
//!     await early
//!     print(f"total: {round((time.monotonic() - start) / 0.1)} units")
//!
//! asyncio.run(main())
//! ```

use std::time::{Duration, Instant};

/// One unit of sleep: short, so the example is quick.
const UNIT: Duration = Duration::from_millis(100);

async fn print_after(units: u32, what: &str) {
    corio::sleep(UNIT * units).await;
    println!("{what}");
}

#[corio::main]
async fn main() {
    let start = Instant::now();
    let late = corio::spawn(print_after(2, "late"));
    let early = corio::spawn(print_after(1, "early"));
    late.await.unwrap();
    early.await.unwrap();

    let total = start.elapsed();
    assert!(
        total >= UNIT * 2 && total < UNIT * 3,
        "the sleeps should overlap: {total:?}"
    );
    let units = (total.as_secs_f64() / UNIT.as_secs_f64()).floor();
    println!("total: {units} units (concurrent, not 3)");
}
