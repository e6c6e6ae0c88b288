//! A callback-based API turned into something you can `await`: a promise.
//!
//! Run it with `cargo run --release --example callback_future`.
//!
//! ```python
//! import asyncio, threading
//!
//! def legacy_fetch(key, callback):
//!     # an old API that calls back from its own thread
//!     threading.Timer(0.01, callback, args=(f"value of {key}",)).start()
//!
//! async def fetch(key):
//!     loop = asyncio.get_running_loop()
//!     fut = loop.create_future()
//!     legacy_fetch(key, lambda v: loop.call_soon_threadsafe(fut.set_result, v))
//!     return await fut
//!
//! async def main():
//!     print(await fetch("answer"))
//!
//! asyncio.run(main())
//! ```
//!
//! In corio the setting side, the `Resolver`, may be used from any thread: no
//! `call_soon_threadsafe` needed. If the callback is never called and the
//! resolver is dropped, the awaiting side gets an error instead of hanging.

use std::thread;
use std::time::Duration;

use corio::sync::promise;

/// An API from before async: it answers later, from its own thread, through a callback.
fn legacy_fetch(key: &str, callback: impl FnOnce(Option<String>) + Send + 'static) {
    let key = key.to_owned();
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        let answer = (key != "missing").then(|| format!("value of {key}"));
        callback(answer);
    });
}

/// The awaitable wrapper: a promise whose resolver the callback completes.
async fn fetch(key: &str) -> Option<String> {
    let (resolver, promise) = promise();
    legacy_fetch(key, move |answer| {
        // set_result hands the value back if nobody waits any more; nothing to do then.
        if let Some(value) = answer {
            let _ = resolver.set_result(value);
        }
        // With no answer the resolver is dropped here, and the await below fails.
    });
    promise.await.ok()
}

#[corio::main]
async fn main() {
    let (a, b) = (
        corio::spawn(fetch_owned("answer")),
        corio::spawn(fetch_owned("missing")),
    );
    println!("fetch(\"answer\") -> {:?}", a.await.expect("no panic"));
    println!(
        "fetch(\"missing\") -> {:?} (the callback dropped its resolver)",
        b.await.expect("no panic")
    );
}

async fn fetch_owned(key: &'static str) -> Option<String> {
    fetch(key).await
}
