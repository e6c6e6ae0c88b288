//! The scripted HTTP peer shared by the client test files: a task on
//! 127.0.0.1 that reads each request, records it, and answers with exact
//! bytes (or misbehaves on purpose).

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::net::{TcpListener, TcpStream};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

/// Bound on every wait in a test, so that a bug fails instead of hanging.
pub const LIMIT: Duration = Duration::from_secs(5);

pub fn rt() -> corio::Runtime {
    corio::Runtime::builder().worker_threads(4).build().unwrap()
}

/// What a scripted peer does with one request.
#[allow(dead_code)]
pub enum Act {
    /// Writes these bytes and reads the next request.
    Reply(Vec<u8>),
    /// Writes these bytes and closes the connection.
    ReplyClose(Vec<u8>),
    /// Closes the connection without answering.
    Close,
    /// Writes the bytes one at a time, `Duration` apart, then closes.
    Drip(Vec<u8>, Duration),
    /// Says nothing, keeps the connection open for a while.
    Hang,
    /// Waits, then writes the bytes and reads the next request.
    Delay(Vec<u8>, Duration),
}

/// A scripted HTTP peer on 127.0.0.1: reads requests, records them, answers
/// with exact bytes.
#[allow(dead_code)]
pub struct Peer {
    pub addr: SocketAddr,
    pub accepts: Arc<AtomicUsize>,
    pub open: Arc<AtomicUsize>,
    pub peak_open: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<Vec<u8>>>>,
    pub _task: corio::task::Task<()>,
}

impl Peer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect()
    }
}

/// Starts a peer; `script(connection index, request index on it, request bytes)`.
pub async fn peer<F>(script: F) -> Peer
where
    F: Fn(usize, usize, &[u8]) -> Act + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicUsize::new(0));
    let peak_open = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(script);
    let (a, o, p, r) = (
        accepts.clone(),
        open.clone(),
        peak_open.clone(),
        requests.clone(),
    );
    let task = corio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let index = a.fetch_add(1, Ordering::SeqCst);
            let now = o.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            let (o, r, script) = (o.clone(), r.clone(), script.clone());
            corio::spawn(async move {
                serve_conn(stream, index, &*script, &r).await;
                o.fetch_sub(1, Ordering::SeqCst);
            })
            .detach();
        }
    });
    Peer {
        addr,
        accepts,
        open,
        peak_open,
        requests,
        _task: task,
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request (head and body) off `stream`; `None` at EOF.
pub async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut tmp = [0u8; 8192];
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse::<usize>().unwrap());
            let total = if let Some(len) = len {
                Some(end + 4 + len)
            } else if head.contains("transfer-encoding: chunked") {
                find(&buf[end + 4..], b"0\r\n\r\n").map(|i| end + 4 + i + 5)
            } else {
                Some(end + 4)
            };
            if let Some(total) = total {
                if buf.len() >= total {
                    let req = buf[..total].to_vec();
                    buf.drain(..total);
                    return Some(req);
                }
            }
        }
        let n = stream.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

pub async fn serve_conn<F>(
    mut stream: TcpStream,
    index: usize,
    script: &F,
    log: &Mutex<Vec<Vec<u8>>>,
) where
    F: Fn(usize, usize, &[u8]) -> Act,
{
    let mut buf = Vec::new();
    for n in 0.. {
        let Some(req) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        log.lock().unwrap().push(req.clone());
        match script(index, n, &req) {
            Act::Reply(bytes) => {
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Act::ReplyClose(bytes) => {
                let _ = stream.write_all(&bytes).await;
                return;
            }
            Act::Close => return,
            Act::Drip(bytes, gap) => {
                for b in bytes {
                    if stream.write_all(&[b]).await.is_err() {
                        return;
                    }
                    corio::sleep(gap).await;
                }
                return;
            }
            Act::Delay(bytes, wait) => {
                corio::sleep(wait).await;
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Act::Hang => {
                corio::sleep(Duration::from_secs(10)).await;
                return;
            }
        }
    }
}
