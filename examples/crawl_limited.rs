//! Crawl 100 URLs with at most 10 requests in flight, the asyncio way: a
//! semaphore around each fetch.
//!
//! ```python
//! sem = asyncio.Semaphore(10)
//! async def fetch(session, url):
//!     async with sem:
//!         async with session.get(url) as resp:
//!             return resp.status
//! ```
//!
//! `cargo run --example crawl_limited` starts a local `corio_http::server`
//! whose handler counts the requests it is serving at once (each takes a few
//! milliseconds), crawls `/page/0` to `/page/99` through one session with a
//! `corio::sync::Semaphore` of 10 permits, and prints
//! `fetched 100 URLs, 100 ok`, `max in flight: N (limit 10)` (N is the peak
//! the server saw: 10 on an idle machine, never more) and `limit respected:
//! true`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::sync::Semaphore;
use corio_http::server::{Response, Router, Server};
use corio_http::Session;

/// The number of pages crawled and the most fetched at once.
const PAGES: usize = 100;
const LIMIT: usize = 10;

/// Crawls the local server; returns the lines to print and the peak.
pub(crate) async fn run() -> Result<(Vec<String>, usize), Box<dyn std::error::Error>> {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now, max) = (in_flight.clone(), peak.clone());
    let router = Router::new().get("/page/{n}", move |req| {
        let (now, max) = (now.clone(), max.clone());
        async move {
            let current = now.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(current, Ordering::SeqCst);
            corio::sleep(Duration::from_millis(5)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            Response::text(format!("page {}", req.param("n").unwrap_or("?")))
        }
    });
    let server = Server::bind("127.0.0.1:0").await?.serve(router);
    let base = format!("http://{}", server.local_addr());

    let session = Session::new();
    let sem = Arc::new(Semaphore::new(LIMIT));
    let tasks: Vec<_> = (0..PAGES)
        .map(|n| {
            let (session, sem, url) = (session.clone(), sem.clone(), format!("{base}/page/{n}"));
            corio::spawn(async move {
                let _permit = sem.acquire().await;
                let resp = session.get(&url).send().await?;
                let ok = resp.status().is_success();
                let text = resp.text().await?;
                Ok::<_, corio_http::Error>(ok && text == format!("page {n}"))
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        if task.await?? {
            ok += 1;
        }
    }
    server.shutdown().await;
    let peak = peak.load(Ordering::SeqCst);
    let lines = vec![
        format!("fetched {PAGES} URLs, {ok} ok"),
        format!("max in flight: {peak} (limit {LIMIT})"),
    ];
    Ok((lines, peak))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (lines, peak) = corio::run(run())?;
    for line in lines {
        println!("{line}");
    }
    // The semaphore is the point of the program: say whether it held.
    println!("limit respected: {}", peak <= LIMIT);
    Ok(())
}
