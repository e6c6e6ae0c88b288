//! `gather` with the errors kept in place, and what a `TaskGroup` does instead.
//!
//! Run it with `cargo run --release --example gather_errors`.
//!
//! ```python
//! import asyncio
//!
//! async def might_fail(i):
//!     await asyncio.sleep(0.001 * (6 - i))   # finish in reverse order
//!     if i % 3 == 0:
//!         raise ValueError(f"bad input {i}")
//!     return i * 10
//!
//! async def main():
//!     results = await asyncio.gather(*(might_fail(i) for i in range(6)),
//!                                    return_exceptions=True)
//!     for i, r in enumerate(results):
//!         print(i, "->", r)
//!
//! asyncio.run(main())
//! ```
//!
//! In Rust a failure is an `Err` value, and a panic is kept apart from it: each
//! slot of `gather_settled` is `Ok(output)` or `Err(JoinError)` for a child that
//! panicked or was cancelled, and a child's own output may be a `Result`.

use std::time::Duration;

#[derive(Debug)]
struct BadInput(u64);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad input {}", self.0)
    }
}

async fn might_fail(i: u64) -> Result<u64, BadInput> {
    corio::sleep(Duration::from_millis(6 - i)).await; // finish in reverse order
    if i == 4 {
        panic!("a bug in child {i}");
    }
    if i % 3 == 0 {
        return Err(BadInput(i));
    }
    Ok(i * 10)
}

#[corio::main]
async fn main() {
    // return_exceptions=True: every outcome, in argument order.
    let outcomes = corio::gather_settled((0..6).map(might_fail)).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            Ok(Ok(value)) => println!("{i} -> ok: {value}"),
            Ok(Err(error)) => println!("{i} -> error: {error}"),
            Err(join) => println!(
                "{i} -> panicked: {}",
                join.panic_message().unwrap_or_default()
            ),
        }
    }

    // Without return_exceptions: the first failure wins, the others are cancelled.
    match corio::try_gather((1..3).chain([3]).map(might_fail)).await {
        Ok(values) => println!("try_gather -> {values:?}"),
        Err(e) => println!("try_gather -> first failure at index {}: {e}", e.index()),
    }

    // A TaskGroup (asyncio.TaskGroup): the first failure cancels the siblings,
    // and the error lists every real failure.
    let result = corio::task_group(|group| async move {
        for i in [1, 2, 3, 6] {
            group.spawn(might_fail(i));
        }
        group.spawn(async {
            corio::sleep(Duration::from_secs(60)).await; // cancelled by the failure
            Ok::<u64, BadInput>(0)
        });
        Ok(())
    })
    .await;
    match result {
        Ok(()) => println!("task group -> all ok"),
        Err(e) => {
            let failures: Vec<String> = e.failures().iter().map(|f| f.to_string()).collect();
            println!("task group -> failed: {failures:?}; the sleeper was cancelled");
        }
    }
}
