//! Producers and consumers around one `Queue`, finished with `join()`.
//!
//! Run it with `cargo run --release --example producer_consumer`.
//!
//! ```python
//! import asyncio
//!
//! async def producer(queue, name, n):
//!     for i in range(n):
//!         await queue.put(f"{name}-{i}")
//!
//! async def consumer(queue, name, done):
//!     while True:
//!         item = await queue.get()
//!         await asyncio.sleep(0.001)   # work on the item
//!         done.append(item)
//!         queue.task_done()
//!
//! async def main():
//!     queue = asyncio.Queue(maxsize=4)
//!     done = []
//!     consumers = [asyncio.create_task(consumer(queue, c, done)) for c in "AB"]
//!     await asyncio.gather(*(producer(queue, p, 10) for p in ("p0", "p1")))
//!     await queue.join()               # every item was processed
//!     for c in consumers:
//!         c.cancel()
//!     print(len(done), "items processed")
//!
//! asyncio.run(main())
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::sync::Queue;

const PER_PRODUCER: usize = 10;

#[corio::main]
async fn main() {
    // A bounded queue: producers wait while it holds 4 items.
    let queue = Arc::new(Queue::new(4));
    let processed = Arc::new(AtomicUsize::new(0));

    let consumers: Vec<_> = ["A", "B"]
        .into_iter()
        .map(|name| {
            let (queue, processed) = (queue.clone(), processed.clone());
            corio::spawn(async move {
                loop {
                    let item: String = queue.get().await.expect("the queue is never shut down");
                    corio::sleep(Duration::from_millis(1)).await; // work on the item
                    processed.fetch_add(1, Ordering::SeqCst);
                    println!("consumer {name} processed {item}");
                    queue.task_done().expect("one task_done per item");
                }
            })
        })
        .collect();

    let producers: Vec<_> = ["p0", "p1"]
        .into_iter()
        .map(|name| {
            let queue = queue.clone();
            corio::spawn(async move {
                for i in 0..PER_PRODUCER {
                    queue.put(format!("{name}-{i}")).await.expect("open queue");
                }
                println!("producer {name} put {PER_PRODUCER} items");
            })
        })
        .collect();
    for p in producers {
        p.await.expect("producers do not fail");
    }

    // join() waits until every item put was marked done, not just taken.
    queue.join().await;
    println!(
        "all {} items processed; the queue is empty: {}",
        processed.load(Ordering::SeqCst),
        queue.empty()
    );

    // The consumers loop forever: cancel them, as the asyncio program does.
    for c in consumers {
        let cancelled = c.cancel().await.expect_err("a consumer never returns");
        assert!(cancelled.is_cancelled());
    }
    println!("consumers cancelled");
}
