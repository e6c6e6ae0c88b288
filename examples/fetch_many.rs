//! Fetch many URLs concurrently through one `corio_http::Session`; the
//! aiohttp classic:
//!
//! ```python
//! async with aiohttp.ClientSession() as session:
//!     async def fetch(url):
//!         async with session.get(url) as resp:
//!             return url, len(await resp.read())
//!     for url, n in await asyncio.gather(*(fetch(u) for u in urls)):
//!         print(f"{url}: {n} bytes")
//! ```
//!
//! `cargo run --example fetch_many -- URL...` fetches the given URLs; with no
//! argument it starts a local `corio_http::server` whose routes return bodies
//! of known sizes (10, 1000, 100000 and 0 bytes) and fetches those. It prints
//! `URL: N bytes` per URL, in the order given, then
//! `total: N bytes from K URLs`.

use corio_http::server::{Response, Router, Server};
use corio_http::Session;

/// The routes of the local server and the size of their bodies.
const ROUTES: [(&str, usize); 4] = [
    ("/small", 10),
    ("/medium", 1000),
    ("/large", 100_000),
    ("/empty", 0),
];

/// Fetches `urls` (or the local server's routes if empty) concurrently and
/// returns the lines to print.
pub(crate) async fn run(urls: Vec<String>) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut server = None;
    let urls = if urls.is_empty() {
        let mut router = Router::new();
        for (path, size) in ROUTES {
            router = router.get(path, move |_req| async move {
                Response::bytes(vec![b'x'; size])
            });
        }
        let handle = Server::bind("127.0.0.1:0").await?.serve(router);
        let base = format!("http://{}", handle.local_addr());
        server = Some(handle);
        ROUTES
            .iter()
            .map(|(path, _)| format!("{base}{path}"))
            .collect()
    } else {
        urls
    };

    let session = Session::new();
    let tasks: Vec<_> = urls
        .iter()
        .map(|url| {
            let (session, url) = (session.clone(), url.clone());
            corio::spawn(async move {
                let body = session
                    .get(&url)
                    .send()
                    .await?
                    .error_for_status()?
                    .bytes()
                    .await?;
                Ok::<_, corio_http::Error>(body.len())
            })
        })
        .collect();
    let mut lines = Vec::new();
    let mut total = 0;
    for (url, task) in urls.iter().zip(tasks) {
        match task.await? {
            Ok(n) => {
                total += n;
                lines.push(format!("{url}: {n} bytes"));
            }
            Err(err) => lines.push(format!("{url}: error: {err}")),
        }
    }
    lines.push(format!("total: {total} bytes from {} URLs", urls.len()));
    if let Some(server) = server {
        server.shutdown().await;
    }
    Ok(lines)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let urls: Vec<String> = std::env::args().skip(1).collect();
    for line in corio::run(run(urls))? {
        println!("{line}");
    }
    Ok(())
}
