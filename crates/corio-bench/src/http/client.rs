//! `http_client`: `n` GET requests, `m` at a time, over keep-alive connections to a
//! local nginx serving [`BODY`].
//!
//! `m` tasks each send their share of the `n` requests one after another, reading each
//! body whole before the next request; a pooled client keeps about `m` connections open
//! and reuses them. The clients:
//!
//! - corio: one `corio_http::Session` with `limit(m)`, on corio's multi-thread runtime;
//! - reqwest: one `reqwest::Client` (no TLS, no proxy, `pool_max_idle_per_host(m)`), on
//!   tokio's multi-thread runtime;
//! - hyper: hyper-util's legacy pooled `Client` over its `HttpConnector`
//!   (`pool_max_idle_per_host(m)`), bodies collected with http-body-util, on tokio's
//!   multi-thread runtime: the floor under reqwest, which is built on it.
//!
//! The span runs from the first spawn to the last task's end, connecting included; the
//! check is 1 if every response was a `200` with exactly [`BODY`].

use std::time::Instant;

use super::{process_cpu_time, Outcome, Variant};
use crate::runtime::{Join, Spawner};
use crate::workloads::Size;

/// The static file nginx serves: small, so that the HTTP machinery dominates.
pub(crate) const BODY: &[u8] = b"corio-bench: a small static file served by nginx, \
read again and again by the http_client workload.\n";

/// Runs `size.n` requests, `size.m` at a time, against `url` with `variant`'s client.
///
/// # Errors
///
/// A request failed (nginx refused, a connection broke), or the URL is not valid.
pub(super) async fn run(
    spawner: &Spawner,
    variant: Variant,
    url: &str,
    size: Size,
) -> Result<Outcome, String> {
    let Size {
        n: requests,
        m: concurrency,
    } = size;
    let concurrency = concurrency.clamp(1, requests.max(1));
    // Task `i` sends `share(i)` requests: `requests` in all.
    let share = |i: u64| requests / concurrency + u64::from(i < requests % concurrency);
    let cpu_before = process_cpu_time().unwrap_or_default();
    let start = Instant::now();
    let tasks: Vec<Join<Result<u64, String>>> = match variant {
        Variant::Corio => {
            let session = corio_http::Session::builder()
                .limit(concurrency as usize)
                .build();
            (0..concurrency)
                .map(|i| spawner.spawn(corio_client(session.clone(), url.to_owned(), share(i))))
                .collect()
        }
        Variant::Reqwest => {
            let client = reqwest::Client::builder()
                .no_proxy()
                .pool_max_idle_per_host(concurrency as usize)
                .build()
                .map_err(|e| format!("cannot build a reqwest client: {e}"))?;
            (0..concurrency)
                .map(|i| spawner.spawn(reqwest_client(client.clone(), url.to_owned(), share(i))))
                .collect()
        }
        Variant::Hyper => {
            let uri: hyper::Uri = url.parse().map_err(|e| format!("bad URL `{url}`: {e}"))?;
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .pool_max_idle_per_host(concurrency as usize)
                    .build_http::<http_body_util::Empty<hyper::body::Bytes>>();
            (0..concurrency)
                .map(|i| spawner.spawn(hyper_client(client.clone(), uri.clone(), share(i))))
                .collect()
        }
    };
    let mut matched = 0;
    let mut failure = None;
    for task in tasks {
        match task.await {
            Ok(n) => matched += n,
            Err(e) => failure = Some(e),
        }
    }
    let elapsed = start.elapsed();
    let cpu = process_cpu_time()
        .unwrap_or_default()
        .saturating_sub(cpu_before);
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(Outcome {
        elapsed,
        check: u64::from(matched == requests),
        requests,
        cpu,
    })
}

/// Sends `count` GETs with corio's session; returns how many answers were right.
async fn corio_client(
    session: corio_http::Session,
    url: String,
    count: u64,
) -> Result<u64, String> {
    let mut matched = 0;
    for _ in 0..count {
        let response = session
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("corio: {e}"))?;
        let ok = response.status() == 200;
        let body = response.bytes().await.map_err(|e| format!("corio: {e}"))?;
        matched += u64::from(ok && body == BODY);
    }
    Ok(matched)
}

/// Sends `count` GETs with reqwest; returns how many answers were right.
async fn reqwest_client(client: reqwest::Client, url: String, count: u64) -> Result<u64, String> {
    let mut matched = 0;
    for _ in 0..count {
        let response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("reqwest: {e}"))?;
        let ok = response.status() == 200;
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("reqwest: {e}"))?;
        matched += u64::from(ok && body == BODY);
    }
    Ok(matched)
}

/// The hyper-util legacy client over plain HTTP.
type HyperClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Empty<hyper::body::Bytes>,
>;

/// Sends `count` GETs with hyper-util's pooled client; returns how many answers were right.
async fn hyper_client(client: HyperClient, uri: hyper::Uri, count: u64) -> Result<u64, String> {
    use http_body_util::BodyExt;
    let mut matched = 0;
    for _ in 0..count {
        let response = client
            .get(uri.clone())
            .await
            .map_err(|e| format!("hyper: {e}"))?;
        let ok = response.status() == 200;
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("hyper: {e}"))?
            .to_bytes();
        matched += u64::from(ok && body == BODY);
    }
    Ok(matched)
}
