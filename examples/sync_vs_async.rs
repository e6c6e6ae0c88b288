//! The chef: cooking three dishes one after another takes the sum of their
//! times; starting them all and then waiting takes only the longest.
//!
//! Run it with `cargo run --release --example sync_vs_async`.
//!
//! ```python
//! import asyncio, time
//!
//! async def cook(dish, units):
//!     await asyncio.sleep(units * 0.05)
//!     return dish
//!
//! MENU = [("salad", 1), ("soup", 2), ("roast", 3)]
//!
//! async def main():
//!     start = time.monotonic()
//!     for dish, units in MENU:
//!         await cook(dish, units)          # one at a time
//!     sequential = time.monotonic() - start
//!
//!     start = time.monotonic()
//!     tasks = [asyncio.create_task(cook(d, u)) for d, u in MENU]
//!     for t in tasks:
//!         await t                          # all at once
//!     concurrent = time.monotonic() - start
//!     print(sequential, concurrent)
//!
//! asyncio.run(main())
//! ```

use std::time::{Duration, Instant};

/// One unit of cooking time.
const UNIT: Duration = Duration::from_millis(50);

const MENU: [(&str, u32); 3] = [("salad", 1), ("soup", 2), ("roast", 3)];

async fn cook(dish: &'static str, units: u32) -> &'static str {
    corio::sleep(UNIT * units).await;
    dish
}

fn in_units(d: Duration) -> f64 {
    d.as_secs_f64() / UNIT.as_secs_f64()
}

#[corio::main]
async fn main() {
    // Sequential: each dish is awaited before the next one starts.
    let start = Instant::now();
    for (dish, units) in MENU {
        cook(dish, units).await;
    }
    let sequential = start.elapsed();
    println!("sequential: {:.1} units (the sum: 6)", in_units(sequential));

    // Concurrent: every dish is spawned, then each task is awaited.
    let start = Instant::now();
    let tasks: Vec<_> = MENU
        .iter()
        .map(|&(dish, units)| corio::spawn(cook(dish, units)))
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let concurrent = start.elapsed();
    println!(
        "concurrent: {:.1} units (the longest: 3)",
        in_units(concurrent)
    );

    assert!(sequential >= UNIT * 6, "{sequential:?}");
    assert!(concurrent >= UNIT * 3, "{concurrent:?}");
    assert!(concurrent < sequential, "{concurrent:?} vs {sequential:?}");
    println!("concurrent < sequential");
}
