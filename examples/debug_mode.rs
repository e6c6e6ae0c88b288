//! Debug mode: a task that blocks the loop is reported, with its name and
//! where it was spawned; the same work moved to the blocking pool is not.
//!
//! Run it with `cargo run --release --example debug_mode`. Any corio program
//! gets the same reports on standard error with `CORIO_DEBUG=1`; here debug
//! mode is switched on in code, and the reports go to standard output.
//!
//! ```python
//! import asyncio, time
//!
//! async def blocking_hash():
//!     time.sleep(0.15)            # blocks the event loop
//!
//! async def main():
//!     await asyncio.create_task(blocking_hash())
//!     await asyncio.to_thread(time.sleep, 0.15)
//!
//! asyncio.run(main(), debug=True)
//! # Executing <Task ... coro=<blocking_hash() ...>> took 0.150 seconds
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::{Diagnostics, TaskBuilder};

/// Stands for CPU-heavy or blocking work: hashing, compression, a sync driver.
fn hash_a_file() {
    std::thread::sleep(Duration::from_millis(150));
}

fn main() {
    let reported = Arc::new(Mutex::new(Vec::new()));
    let sink = reported.clone();
    let rt = corio::Runtime::builder()
        .current_thread()
        .diagnostics(Diagnostics::debug().on_slow_poll(move |slow| {
            println!("debug: {slow}");
            sink.lock()
                .unwrap()
                .push(slow.task_name().unwrap_or("?").to_owned());
        }))
        .build()
        .expect("start the runtime");

    rt.block_on(async {
        // Wrong: the blocking call runs inside the task, and nothing else on
        // this thread runs for 150 ms.
        TaskBuilder::new()
            .name("blocking-hash")
            .spawn(async { hash_a_file() })
            .await
            .unwrap();
        // Right: the task awaits the blocking pool, and the loop stays free.
        TaskBuilder::new()
            .name("unblocked-hash")
            .spawn(async { corio::unblock(hash_a_file).await })
            .await
            .unwrap();
    });

    let reported = reported.lock().unwrap();
    println!("slow polls reported: {}", reported.len());
    println!("reported tasks: {}", reported.join(", "));
}
