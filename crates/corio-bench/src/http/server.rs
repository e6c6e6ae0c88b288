//! `http_server`: `wrk -t2 -c{m} -d{n}s` against a hello-world server, the server in this
//! process on its runtime's worker threads.
//!
//! Both servers answer `GET /` with `200`, `content-type: text/plain; charset=utf-8` and
//! the body `Hello, World!`, and anything else with `404`, over keep-alive connections
//! with `TCP_NODELAY`:
//!
//! - corio: `corio_http::server::Server` with a `Router` of one route, on corio's
//!   multi-thread runtime;
//! - hyper: a tokio `TcpListener` accept loop spawning one task per connection, each
//!   serving `hyper::server::conn::http1` with a `service_fn`, on tokio's multi-thread
//!   runtime.
//!
//! Before wrk starts, one request on a fresh connection checks the answer. wrk runs on a
//! thread of its own (the runtime keeps serving); its `Requests/sec` is the rate, and
//! the check is 1 if it counted requests and no socket error or non-2xx answer.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{process_cpu_time, Outcome, Variant};
use crate::runtime::Spawner;
use crate::workloads::Size;

/// The answer to `GET /`.
pub(crate) const HELLO: &str = "Hello, World!";

/// Serves hello-world with `variant`'s server and runs wrk against it for `size.n`
/// seconds over `size.m` connections.
///
/// # Errors
///
/// The server could not bind, answered wrongly, or wrk failed or said nothing usable.
pub(super) async fn run(
    spawner: &Spawner,
    variant: Variant,
    wrk: &Path,
    size: Size,
) -> Result<Outcome, String> {
    let any_port = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let load = |addr: SocketAddr| load(wrk.to_owned(), addr, size);
    match variant {
        Variant::Corio => {
            use corio_http::server::{Request, Response, Router, Server};
            let router = Router::new().get("/", |_req: Request| async { Response::text(HELLO) });
            let server = Server::bind(any_port)
                .await
                .map_err(|e| format!("corio: cannot bind: {e}"))?
                .serve(router);
            let outcome = load(server.local_addr()).await;
            server.shutdown().await;
            outcome
        }
        Variant::Hyper => {
            let listener = tokio::net::TcpListener::bind(any_port)
                .await
                .map_err(|e| format!("hyper: cannot bind: {e}"))?;
            let addr = listener
                .local_addr()
                .map_err(|e| format!("hyper: no address: {e}"))?;
            let accept = spawner.spawn(hyper_accept_loop(listener));
            let outcome = load(addr).await;
            drop(accept); // detached: the process ends with the run
            outcome
        }
        Variant::Reqwest => Err("reqwest is a client: it has no server variant".to_owned()),
    }
}

/// Checks one answer, then runs wrk on a thread of its own and measures this process's
/// CPU time while it runs.
async fn load(wrk: PathBuf, addr: SocketAddr, size: Size) -> Result<Outcome, String> {
    let (tx, rx) = async_channel::bounded(1);
    std::thread::spawn(move || {
        let result = check_answer(addr).and_then(|()| {
            let before = process_cpu_time().unwrap_or_default();
            let output = run_wrk(&wrk, addr, size)?;
            let cpu = process_cpu_time()
                .unwrap_or_default()
                .saturating_sub(before);
            Ok((output, cpu))
        });
        let _ = tx.send_blocking(result);
    });
    let (output, cpu) = rx
        .recv()
        .await
        .map_err(|_| "the wrk thread died".to_owned())??;
    let stats = WrkStats::parse(&output)?;
    Ok(Outcome {
        // wrk's own rate: requests over its measured time.
        elapsed: Duration::from_secs_f64(stats.requests as f64 / stats.rate),
        check: u64::from(stats.requests > 0 && stats.errors == 0),
        requests: stats.requests,
        cpu,
    })
}

/// One blocking request on a fresh connection: the server must say [`HELLO`].
fn check_answer(addr: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("cannot connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("cannot send a request: {e}"))?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    if reply.starts_with("HTTP/1.1 200") && reply.ends_with(&format!("\r\n\r\n{HELLO}")) {
        Ok(())
    } else {
        Err(format!("wrong answer to GET /: {reply:?}"))
    }
}

/// Runs `wrk -t2 -cM -dNs http://ADDR/` and returns its output.
fn run_wrk(wrk: &Path, addr: SocketAddr, size: Size) -> Result<String, String> {
    let connections = size.m.max(2);
    let output = Command::new(wrk)
        .arg("-t2")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", size.n.max(1)))
        .arg(format!("http://{addr}/"))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", wrk.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "wrk {}: {stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// What wrk reports.
#[derive(Clone, Copy, Debug, PartialEq)]
struct WrkStats {
    /// `N requests in T s`.
    requests: u64,
    /// `Requests/sec: R`.
    rate: f64,
    /// Socket errors (connect, read, write, timeout) and non-2xx/3xx answers.
    errors: u64,
}

impl WrkStats {
    fn parse(output: &str) -> Result<WrkStats, String> {
        let unusable = || format!("cannot read wrk's output:\n{output}");
        let mut requests = None;
        let mut rate = None;
        let mut errors = 0;
        for line in output.lines().map(str::trim) {
            if let Some(value) = line.strip_prefix("Requests/sec:") {
                rate = value.trim().parse::<f64>().ok();
            } else if let Some((count, _)) = line.split_once(" requests in ") {
                requests = count.trim().parse::<u64>().ok();
            } else if let Some(counts) = line.strip_prefix("Socket errors:") {
                // `connect 0, read 0, write 0, timeout 0`
                errors += counts
                    .split(',')
                    .filter_map(|c| c.split_whitespace().nth(1)?.parse::<u64>().ok())
                    .sum::<u64>();
            } else if let Some(value) = line.strip_prefix("Non-2xx or 3xx responses:") {
                errors += value.trim().parse::<u64>().map_err(|_| unusable())?;
            }
        }
        let (requests, rate) = requests.zip(rate).ok_or_else(unusable)?;
        if rate <= 0.0 {
            return Err(unusable());
        }
        Ok(WrkStats {
            requests,
            rate,
            errors,
        })
    }
}

/// Accepts connections forever, serving each with hyper on a task of its own.
async fn hyper_accept_loop(listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(hello);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// hyper's handler: `GET /` says [`HELLO`], anything else is a `404`.
async fn hello(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<http_body_util::Full<hyper::body::Bytes>>, std::convert::Infallible> {
    let found = req.method() == hyper::Method::GET && req.uri().path() == "/";
    let (status, body) = if found {
        (hyper::StatusCode::OK, HELLO)
    } else {
        (hyper::StatusCode::NOT_FOUND, "Not Found")
    };
    let mut response = hyper::Response::new(http_body_util::Full::new(
        hyper::body::Bytes::from_static(body.as_bytes()),
    ));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::WrkStats;

    const OUTPUT: &str = "\
Running 5s test @ http://127.0.0.1:40000/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   600.00us  200.00us   5.00ms   80.00%
    Req/Sec    50.00k     2.00k   55.00k    70.00%
  500000 requests in 5.00s, 60.00MB read
Requests/sec: 100000.00
Transfer/sec:     12.00MB
";

    #[test]
    fn reads_wrk_output() {
        let stats = WrkStats::parse(OUTPUT).unwrap();
        assert_eq!(
            stats,
            WrkStats {
                requests: 500_000,
                rate: 100_000.0,
                errors: 0
            }
        );
    }

    #[test]
    fn counts_errors_and_refuses_nonsense() {
        let bad = OUTPUT.replace(
            "Requests/sec",
            "  Socket errors: connect 0, read 2, write 1, timeout 0\n  \
             Non-2xx or 3xx responses: 4\nRequests/sec",
        );
        assert_eq!(WrkStats::parse(&bad).unwrap().errors, 7);
        assert!(WrkStats::parse("unable to connect to 127.0.0.1:1").is_err());
    }
}
