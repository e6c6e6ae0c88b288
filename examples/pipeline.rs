//! A three-stage pipeline — fetch, process, store — joined by bounded queues.
//!
//! Run it with `cargo run --release --example pipeline`.
//!
//! ```python
//! import asyncio
//!
//! async def fetch(urls, raw):
//!     for url in urls:
//!         await asyncio.sleep(0.001)               # the network
//!         await raw.put((url, f"<html>{url}</html>"))
//!
//! async def process(raw, parsed):
//!     while True:
//!         url, page = await raw.get()
//!         await parsed.put((url, len(page)))
//!         raw.task_done()
//!
//! async def store(parsed, db):
//!     while True:
//!         url, size = await parsed.get()
//!         db[url] = size
//!         parsed.task_done()
//!
//! async def main():
//!     raw, parsed, db = asyncio.Queue(8), asyncio.Queue(8), {}
//!     workers = [asyncio.create_task(process(raw, parsed)) for _ in range(3)]
//!     workers.append(asyncio.create_task(store(parsed, db)))
//!     await asyncio.gather(fetch(urls[::2], raw), fetch(urls[1::2], raw))
//!     await raw.join(); await parsed.join()
//!     raw.shutdown(); parsed.shutdown()              # Python 3.13
//!     print(len(db), "pages stored")
//! ```
//!
//! Here the stages end through `shutdown()`: once every item was processed,
//! shutting a queue down makes the `get()` of the stage after it fail, and that
//! stage returns.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use corio::sync::{Lock, Queue};

const PAGES: usize = 40;

async fn fetch(urls: Vec<String>, raw: Arc<Queue<(String, String)>>) {
    for url in urls {
        corio::sleep(Duration::from_millis(1)).await; // the network
        let page = format!("<html>{url}</html>");
        raw.put((url, page))
            .await
            .expect("raw is open while fetching");
    }
}

async fn process(raw: Arc<Queue<(String, String)>>, parsed: Arc<Queue<(String, usize)>>) -> usize {
    let mut handled = 0;
    // get() fails once `raw` is shut down and drained: the stage is over.
    while let Ok((url, page)) = raw.get().await {
        parsed
            .put((url, page.len()))
            .await
            .expect("parsed is open while raw is");
        raw.task_done().expect("one task_done per item");
        handled += 1;
    }
    handled
}

async fn store(parsed: Arc<Queue<(String, usize)>>, db: Arc<Lock<BTreeMap<String, usize>>>) {
    while let Ok((url, size)) = parsed.get().await {
        db.lock().await.insert(url, size);
        parsed.task_done().expect("one task_done per item");
    }
}

#[corio::main]
async fn main() {
    let raw = Arc::new(Queue::new(8));
    let parsed = Arc::new(Queue::new(8));
    let db = Arc::new(Lock::new(BTreeMap::new()));

    let processors: Vec<_> = (0..3)
        .map(|_| corio::spawn(process(raw.clone(), parsed.clone())))
        .collect();
    let storer = corio::spawn(store(parsed.clone(), db.clone()));

    let urls: Vec<String> = (0..PAGES)
        .map(|i| format!("https://example.test/{i}"))
        .collect();
    let (even, odd): (Vec<_>, Vec<_>) = urls.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let fetchers = [
        corio::spawn(fetch(
            even.into_iter().map(|(_, u)| u).collect(),
            raw.clone(),
        )),
        corio::spawn(fetch(
            odd.into_iter().map(|(_, u)| u).collect(),
            raw.clone(),
        )),
    ];
    for f in fetchers {
        f.await.expect("fetchers do not fail");
    }
    println!("fetched {PAGES} pages");

    raw.join().await;
    raw.shutdown(false);
    let mut handled = Vec::new();
    for p in processors {
        handled.push(p.await.expect("processors do not fail"));
    }
    println!(
        "processed {} pages (per worker: {handled:?})",
        handled.iter().sum::<usize>()
    );

    parsed.join().await;
    parsed.shutdown(false);
    storer.await.expect("the store stage does not fail");
    let db = db.lock().await;
    let bytes: usize = db.values().sum();
    println!("stored {} pages, {bytes} bytes in all", db.len());
}
