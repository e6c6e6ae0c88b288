//! The HTTP/1.1 server against real sockets on 127.0.0.1: a scripted raw-TCP
//! client sends exact bytes, well-formed and broken, and checks the exact
//! status line and what happens to the connection.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use corio::net::TcpStream;
use corio_http::server::{serve, Request, Response, Router, Server, ServerHandle};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use http::StatusCode;

/// The example program, compiled into this test so that it is checked here.
#[allow(dead_code)]
#[path = "../../../examples/web_server.rs"]
mod web_server;

/// Bound on every wait in a test, so that a bug fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(5);

fn rt() -> corio::Runtime {
    corio::Runtime::builder().worker_threads(4).build().unwrap()
}

async fn hello(req: Request) -> Response {
    let name = req.param("name").unwrap_or("Anonymous");
    Response::text(format!("Hello, {name}!"))
}

fn router() -> Router {
    Router::new()
        .get("/", hello)
        .get("/{name}", hello)
        .get("/users/{id}/posts/{post}", |req: Request| async move {
            Response::text(format!(
                "user {} post {}",
                req.param("id").unwrap(),
                req.param("post").unwrap()
            ))
        })
        .post("/echo", |req: Request| async move {
            Response::bytes(req.into_body())
        })
        .get("/search/q", |req: Request| async move {
            let pairs: Vec<String> = req
                .query_pairs()
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            Response::text(pairs.join(";"))
        })
        .get("/boom/now", |_req: Request| async move {
            panic!("handler panic (expected by the test)");
        })
        .get("/stream/it", |_req: Request| async move {
            let parts = (0..3).map(|i| Bytes::from(format!("chunk{i}")));
            Response::stream(futures_lite::stream::iter(parts))
                .with_header("content-type", "text/plain")
        })
        .get("/slow/{ms}", |req: Request| async move {
            let ms: u64 = req.param("ms").unwrap().parse().unwrap();
            corio::sleep(Duration::from_millis(ms)).await;
            Response::text("slow done")
        })
        .get("/json/it", |_req: Request| async {
            Response::json_str(r#"{"ok":true}"#).with_status(StatusCode::CREATED)
        })
        .get("/close/me", |_req: Request| async {
            Response::text("bye").with_header("connection", "close")
        })
}

async fn start(configure: impl FnOnce(Server) -> Server) -> ServerHandle {
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    configure(server).serve(router())
}

/// A parsed response.
#[derive(Debug)]
struct Resp {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// A scripted client: exact bytes out, responses parsed by hand.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        Client {
            stream: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads more bytes; returns 0 at EOF (a reset counts as EOF).
    async fn fill(&mut self) -> usize {
        let mut tmp = [0u8; 4096];
        let n = corio::timeout(LIMIT, self.stream.read(&mut tmp))
            .await
            .expect("timed out waiting for the server")
            .unwrap_or(0);
        self.buf.extend_from_slice(&tmp[..n]);
        n
    }

    async fn line(&mut self) -> String {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8(self.buf[..pos].to_vec()).unwrap();
                self.buf.drain(..pos + 2);
                return line;
            }
            assert!(self.fill().await > 0, "EOF in the middle of a line");
        }
    }

    async fn exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill().await > 0, "EOF in the middle of a body");
        }
        self.buf.drain(..n).collect()
    }

    /// Reads one response; `head` says the request was a HEAD (no body).
    async fn response_to(&mut self, head: bool) -> Resp {
        let status_line = self.line().await;
        let mut headers = Vec::new();
        loop {
            let line = self.line().await;
            if line.is_empty() {
                break;
            }
            let (k, v) = line.split_once(':').expect("header without colon");
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        let mut resp = Resp {
            status_line,
            headers,
            body: Vec::new(),
        };
        if head {
            return resp;
        }
        if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().unwrap();
            resp.body = self.exact(len).await;
        } else if resp.header("transfer-encoding") == Some("chunked") {
            loop {
                let size = usize::from_str_radix(&self.line().await, 16).unwrap();
                let data = self.exact(size + 2).await;
                assert_eq!(&data[size..], b"\r\n");
                if size == 0 {
                    break;
                }
                resp.body.extend_from_slice(&data[..size]);
            }
        } else {
            while self.fill().await > 0 {}
            resp.body = std::mem::take(&mut self.buf);
        }
        resp
    }

    async fn response(&mut self) -> Resp {
        self.response_to(false).await
    }

    /// Asserts that the server closes the connection with nothing more to say.
    async fn expect_eof(&mut self) {
        let n = self.fill().await;
        assert_eq!(
            n,
            0,
            "expected EOF, got {:?}",
            String::from_utf8_lossy(&self.buf)
        );
    }

    async fn get(&mut self, path: &str) -> Resp {
        let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
        self.send(req.as_bytes()).await;
        self.response().await
    }
}

/// Sends `raw` on a fresh connection and returns the response and the
/// client, to check what happens to the connection next.
async fn one_shot(addr: SocketAddr, raw: &[u8]) -> (Resp, Client) {
    let mut c = Client::connect(addr).await;
    c.send(raw).await;
    let resp = c.response().await;
    (resp, c)
}

async fn wait_for(cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < LIMIT, "condition not reached in time");
        corio::sleep(Duration::from_millis(5)).await;
    }
}

#[test]
fn routing_and_params() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let mut c = Client::connect(server.local_addr()).await;
        let r = c.get("/").await;
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        assert_eq!(r.text(), "Hello, Anonymous!");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(r.header("content-length"), Some("17"));
        let date = r.header("date").unwrap();
        assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");

        assert_eq!(c.get("/corio").await.text(), "Hello, corio!");
        assert_eq!(c.get("/caf%C3%A9").await.text(), "Hello, café!");
        assert_eq!(
            c.get("/users/7/posts/a%20b").await.text(),
            "user 7 post a b"
        );
        assert_eq!(
            c.get("/search/q?x=1&y=a+b&z=%26").await.text(),
            "x=1;y=a b;z=&"
        );
        let r = c.get("/json/it").await;
        assert_eq!(r.status_line, "HTTP/1.1 201 Created");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.text(), r#"{"ok":true}"#);
        // absolute-form target
        c.send(b"GET http://test/corio HTTP/1.1\r\nHost: test\r\n\r\n")
            .await;
        assert_eq!(c.response().await.text(), "Hello, corio!");
        server.shutdown().await;
    });
}

#[test]
fn not_found_and_method_not_allowed() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let mut c = Client::connect(server.local_addr()).await;
        let r = c.get("/no/such/route/here").await;
        assert_eq!(r.status_line, "HTTP/1.1 404 Not Found");
        let r = c.get("/users//posts/1").await; // empty parameter: no match
        assert_eq!(r.status_line, "HTTP/1.1 404 Not Found");

        c.send(b"DELETE /users/1/posts/2 HTTP/1.1\r\nHost: t\r\n\r\n")
            .await;
        let r = c.response().await;
        assert_eq!(r.status_line, "HTTP/1.1 405 Method Not Allowed");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));

        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
            .await;
        let r = c.response().await;
        assert_eq!(r.status_line, "HTTP/1.1 405 Method Not Allowed");
        // /echo matches GET /{name} and POST /echo, in route order
        assert_eq!(r.header("allow"), Some("GET, POST, HEAD"));
        // the connection survives 404 and 405
        assert_eq!(c.get("/").await.status_line, "HTTP/1.1 200 OK");
        server.shutdown().await;
    });
}

#[test]
fn head_is_served_by_get_without_body() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let mut c = Client::connect(server.local_addr()).await;
        c.send(b"HEAD /corio HTTP/1.1\r\nHost: t\r\n\r\n").await;
        let r = c.response_to(true).await;
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        assert_eq!(r.header("content-length"), Some("13"));
        // No body bytes were sent: the next response starts right away.
        c.send(b"HEAD /stream/it HTTP/1.1\r\nHost: t\r\n\r\n").await;
        let r = c.response_to(true).await;
        assert_eq!(r.header("transfer-encoding"), Some("chunked"));
        let r = c.get("/").await;
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        assert_eq!(r.text(), "Hello, Anonymous!");
        server.shutdown().await;
    });
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let mut c = Client::connect(server.local_addr()).await;
        for i in 0..10 {
            let r = c.get(&format!("/n{i}")).await;
            assert_eq!(r.text(), format!("Hello, n{i}!"));
            assert_eq!(r.header("connection"), None);
        }
        assert_eq!(server.connections(), 1);
        server.shutdown().await;
    });
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let mut c = Client::connect(server.local_addr()).await;
        // The slow one first: its answer must still come first.
        c.send(
            b"GET /slow/100 HTTP/1.1\r\nHost: t\r\n\r\n\
              POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello\
              GET /second HTTP/1.1\r\nHost: t\r\n\r\n\
              GET /third HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(c.response().await.text(), "slow done");
        assert_eq!(c.response().await.text(), "hello");
        assert_eq!(c.response().await.text(), "Hello, second!");
        let last = c.response().await;
        assert_eq!(last.text(), "Hello, third!");
        assert_eq!(last.header("connection"), Some("close"));
        c.expect_eof().await;
        server.shutdown().await;
    });
}

#[test]
fn connection_close_and_http10() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let addr = server.local_addr();

        let (r, mut c) = one_shot(addr, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").await;
        assert_eq!(r.header("connection"), Some("close"));
        c.expect_eof().await;

        // HTTP/1.0 closes by default...
        let (r, mut c) = one_shot(addr, b"GET /a HTTP/1.0\r\n\r\n").await;
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        assert_eq!(r.text(), "Hello, a!");
        c.expect_eof().await;

        // ...and stays open with keep-alive.
        let mut c = Client::connect(addr).await;
        for _ in 0..2 {
            c.send(b"GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                .await;
            let r = c.response().await;
            assert_eq!(r.header("connection"), Some("keep-alive"));
            assert_eq!(r.text(), "Hello, b!");
        }

        // A handler asking for close gets it.
        let mut c = Client::connect(addr).await;
        let r = c.get("/close/me").await;
        assert_eq!(r.text(), "bye");
        assert_eq!(r.header("connection"), Some("close"));
        c.expect_eof().await;
        server.shutdown().await;
    });
}

#[test]
fn chunked_request_body_is_decoded() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let mut c = Client::connect(server.local_addr()).await;
        c.send(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
              4\r\nWiki\r\n5;ext=1\r\npedia\r\nA \r\n in chunks\r\n0\r\nX-Trailer: yes\r\n\r\n",
        )
        .await;
        let r = c.response().await;
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        assert_eq!(r.text(), "Wikipedia in chunks");
        // The chunked body was consumed exactly: the connection goes on.
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        for piece in [&b"3\r\nab"[..], b"c\r\n", b"0\r", b"\n\r\n"] {
            corio::sleep(Duration::from_millis(5)).await;
            c.send(piece).await;
        }
        assert_eq!(c.response().await.text(), "abc");
        server.shutdown().await;
    });
}

#[test]
fn expect_100_continue() {
    rt().block_on(async {
        let server = start(|s| s.max_body_size(100)).await;
        let mut c = Client::connect(server.local_addr()).await;
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
            .await;
        assert_eq!(c.line().await, "HTTP/1.1 100 Continue");
        assert_eq!(c.line().await, "");
        c.send(b"abc").await;
        assert_eq!(c.response().await.text(), "abc");
        // Too large: refused before the body is sent.
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n")
            .await;
        let r = c.response().await;
        assert_eq!(r.status_line, "HTTP/1.1 413 Payload Too Large");
        c.expect_eof().await;
        server.shutdown().await;
    });
}

#[test]
fn body_too_large_is_413() {
    rt().block_on(async {
        let server = start(|s| s.max_body_size(1024)).await;
        let addr = server.local_addr();
        let (r, mut c) = one_shot(
            addr,
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1025\r\n\r\n",
        )
        .await;
        assert_eq!(r.status_line, "HTTP/1.1 413 Payload Too Large");
        assert_eq!(r.header("connection"), Some("close"));
        c.expect_eof().await;

        let mut chunked =
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        chunked.extend_from_slice(b"300\r\n");
        chunked.extend_from_slice(&[b'x'; 0x300]);
        chunked.extend_from_slice(b"\r\n300\r\n");
        let (r, mut c) = one_shot(addr, &chunked).await;
        assert_eq!(r.status_line, "HTTP/1.1 413 Payload Too Large");
        c.expect_eof().await;

        // A client that sends the whole oversized body anyway still gets to
        // read its 413 (no reset from unread input).
        let mut c = Client::connect(addr).await;
        let mut upload =
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 300000\r\n\r\n".to_vec();
        upload.extend(std::iter::repeat_n(b'z', 300_000));
        c.send(&upload).await;
        let r = c.response().await;
        assert_eq!(r.status_line, "HTTP/1.1 413 Payload Too Large");
        c.expect_eof().await;

        // Exactly the limit is fine.
        let mut ok = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n".to_vec();
        ok.extend_from_slice(&[b'y'; 1024]);
        let (r, _) = one_shot(addr, &ok).await;
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        assert_eq!(r.body.len(), 1024);
        server.shutdown().await;
    });
}

#[test]
fn oversized_heads_are_431() {
    rt().block_on(async {
        let server = start(|s| s.max_head_size(1024).max_headers(10)).await;
        let addr = server.local_addr();

        let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(2000));
        let (r, mut c) = one_shot(addr, big.as_bytes()).await;
        assert_eq!(
            r.status_line,
            "HTTP/1.1 431 Request Header Fields Too Large"
        );
        c.expect_eof().await;

        // Too large even before the head is complete.
        let mut c = Client::connect(addr).await;
        c.send(format!("GET /{} HTTP/1.1\r\n", "p".repeat(1500)).as_bytes())
            .await;
        let r = c.response().await;
        assert_eq!(
            r.status_line,
            "HTTP/1.1 431 Request Header Fields Too Large"
        );

        let mut many = String::from("GET / HTTP/1.1\r\n");
        for i in 0..20 {
            many.push_str(&format!("X-H{i}: v\r\n"));
        }
        many.push_str("\r\n");
        let (r, mut c) = one_shot(addr, many.as_bytes()).await;
        assert_eq!(
            r.status_line,
            "HTTP/1.1 431 Request Header Fields Too Large"
        );
        c.expect_eof().await;

        // Ten headers are allowed.
        let mut ten = String::from("GET / HTTP/1.1\r\n");
        for i in 0..10 {
            ten.push_str(&format!("X-H{i}: v\r\n"));
        }
        ten.push_str("\r\n");
        let (r, _) = one_shot(addr, ten.as_bytes()).await;
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        server.shutdown().await;
    });
}

#[test]
fn malformed_requests_are_400_and_close() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let addr = server.local_addr();
        let cases: &[(&str, &[u8])] = &[
            ("garbage request line", b"GARBAGE\r\n\r\n"),
            ("bad version", b"GET / HTTP/2.7\r\n\r\n"),
            ("relative target", b"GET index.html HTTP/1.1\r\n\r\n"),
            ("header without colon", b"GET / HTTP/1.1\r\nFoo bar\r\n\r\n"),
            ("space before colon", b"GET / HTTP/1.1\r\nFoo : bar\r\n\r\n"),
            (
                "content-length and transfer-encoding",
                b"POST /echo HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            ),
            (
                "bad chunk size",
                b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
            ),
            (
                "chunk size overflow",
                b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
            ),
            (
                "chunk data without CRLF",
                b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
            ),
            (
                "invalid content-length",
                b"POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
            ),
            (
                "negative content-length",
                b"POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            ),
            (
                "conflicting content-lengths",
                b"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            ),
            (
                "transfer-encoding not ending in chunked",
                b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            ),
        ];
        for (what, raw) in cases {
            let (r, mut c) = one_shot(addr, raw).await;
            assert_eq!(r.status_line, "HTTP/1.1 400 Bad Request", "{what}");
            assert_eq!(r.header("connection"), Some("close"), "{what}");
            c.expect_eof().await;
        }
        // The server is fine afterwards.
        let (r, _) = one_shot(addr, b"GET / HTTP/1.1\r\n\r\n").await;
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        server.shutdown().await;
    });
}

#[test]
fn header_read_timeout_cuts_off_dripping_and_silent_clients() {
    rt().block_on(async {
        let timeout = Duration::from_millis(200);
        let server = start(|s| s.header_read_timeout(timeout)).await;
        let addr = server.local_addr();

        // Dripping: one byte every 30 ms never completes the head in time.
        let start = Instant::now();
        let mut c = Client::connect(addr).await;
        c.send(b"GET / HTTP/1.1\r\n").await;
        let drip = async {
            for _ in 0..100 {
                corio::sleep(Duration::from_millis(30)).await;
                if c.stream.write_all(b"X").await.is_err() {
                    break;
                }
            }
        };
        corio::timeout(Duration::from_millis(400), drip).await.ok();
        let r = c.response().await;
        assert_eq!(r.status_line, "HTTP/1.1 408 Request Timeout");
        assert!(start.elapsed() >= timeout);
        assert!(start.elapsed() < Duration::from_secs(2));

        // Silent: closed without a response.
        let start = Instant::now();
        let mut c = Client::connect(addr).await;
        c.expect_eof().await;
        assert!(start.elapsed() >= Duration::from_millis(150));
        assert!(start.elapsed() < Duration::from_secs(2));
        wait_for(|| server.connections() == 0).await;
        server.shutdown().await;
    });
}

#[test]
fn idle_keep_alive_connections_time_out() {
    rt().block_on(async {
        let idle = Duration::from_millis(200);
        let server = start(|s| s.idle_timeout(idle)).await;
        let mut c = Client::connect(server.local_addr()).await;
        assert_eq!(c.get("/").await.status_line, "HTTP/1.1 200 OK");
        let start = Instant::now();
        c.expect_eof().await;
        assert!(start.elapsed() >= Duration::from_millis(150));
        assert!(start.elapsed() < Duration::from_secs(2));

        // Activity resets it: requests 100 ms apart keep the connection.
        let mut c = Client::connect(server.local_addr()).await;
        for _ in 0..4 {
            corio::sleep(Duration::from_millis(100)).await;
            assert_eq!(c.get("/").await.status_line, "HTTP/1.1 200 OK");
        }
        server.shutdown().await;
    });
}

/// The head deadline of a later request on a kept-alive connection is
/// counted from its first byte and is kept even when it falls before the
/// idle deadline the connection was waiting for.
#[test]
fn header_read_timeout_applies_to_later_requests_on_a_kept_alive_connection() {
    rt().block_on(async {
        let server = start(|s| {
            s.idle_timeout(Duration::from_secs(30))
                .header_read_timeout(Duration::from_millis(200))
        })
        .await;
        let mut c = Client::connect(server.local_addr()).await;
        for _ in 0..3 {
            assert_eq!(c.get("/").await.status_line, "HTTP/1.1 200 OK");
        }
        corio::sleep(Duration::from_millis(50)).await;
        let start = Instant::now();
        c.send(b"GET / HTTP/1.1\r\nHost").await;
        let r = c.response().await;
        assert_eq!(r.status_line, "HTTP/1.1 408 Request Timeout");
        assert!(start.elapsed() >= Duration::from_millis(150));
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        server.shutdown().await;
    });
}

#[test]
fn handler_panic_is_500_and_the_connection_keeps_serving() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let mut c = Client::connect(server.local_addr()).await;
        let r = c.get("/boom/now").await;
        assert_eq!(r.status_line, "HTTP/1.1 500 Internal Server Error");
        assert_eq!(r.header("connection"), None);
        let r = c.get("/after").await;
        assert_eq!(r.text(), "Hello, after!");
        let r = c.get("/boom/now").await;
        assert_eq!(r.status_line, "HTTP/1.1 500 Internal Server Error");
        server.shutdown().await;
    });
}

#[test]
fn streaming_response_is_chunked() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let mut c = Client::connect(server.local_addr()).await;
        c.send(b"GET /stream/it HTTP/1.1\r\nHost: t\r\n\r\n").await;
        // Check the exact framing on the wire.
        let r = c.response().await;
        assert_eq!(r.header("transfer-encoding"), Some("chunked"));
        assert_eq!(r.header("content-length"), None);
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.text(), "chunk0chunk1chunk2");
        assert_eq!(c.get("/x").await.text(), "Hello, x!");

        // HTTP/1.0: no chunking, the body ends with the connection.
        let (r, mut c) = one_shot(server.local_addr(), b"GET /stream/it HTTP/1.0\r\n\r\n").await;
        assert_eq!(r.header("transfer-encoding"), None);
        assert_eq!(r.text(), "chunk0chunk1chunk2");
        c.expect_eof().await;
        server.shutdown().await;
    });
}

#[test]
fn vanishing_clients_leak_nothing() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let addr = server.local_addr();
        let partials: &[&[u8]] = &[
            b"GET / HTT",
            b"GET / HTTP/1.1\r\nHost: t\r\n",
            b"POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc",
            b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            b"GET /slow/50 HTTP/1.1\r\n\r\n",
        ];
        for raw in partials {
            let mut c = Client::connect(addr).await;
            c.send(raw).await;
            drop(c);
        }
        wait_for(|| server.connections() == 0).await;
        let (r, _) = one_shot(addr, b"GET / HTTP/1.1\r\n\r\n").await;
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        server.shutdown().await;
    });
}

#[test]
fn graceful_shutdown_waits_for_in_flight_requests() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let addr = server.local_addr();
        let mut idle = Client::connect(addr).await;
        assert_eq!(idle.get("/").await.status_line, "HTTP/1.1 200 OK");

        let mut busy = Client::connect(addr).await;
        busy.send(b"GET /slow/300 HTTP/1.1\r\nHost: t\r\n\r\n")
            .await;
        wait_for(|| server.connections() == 2).await;
        corio::sleep(Duration::from_millis(50)).await; // the handler is running

        let start = Instant::now();
        let h = server.clone();
        let shutdown = corio::spawn(async move { h.shutdown().await });
        // The idle connection is closed at once.
        idle.expect_eof().await;
        // The in-flight request completes, told that the connection closes.
        let r = busy.response().await;
        assert_eq!(r.text(), "slow done");
        assert_eq!(r.header("connection"), Some("close"));
        busy.expect_eof().await;
        corio::timeout(LIMIT, shutdown).await.unwrap().unwrap();
        assert!(start.elapsed() >= Duration::from_millis(200));
        assert!(server.is_stopped());
        assert_eq!(server.connections(), 0);
        // Nothing accepts any more.
        assert!(TcpStream::connect(addr).await.is_err());
    });
}

#[test]
fn shutdown_grace_period_cancels_stuck_requests() {
    rt().block_on(async {
        let server = start(|s| s.shutdown_grace(Duration::from_millis(200))).await;
        let mut c = Client::connect(server.local_addr()).await;
        c.send(b"GET /slow/60000 HTTP/1.1\r\nHost: t\r\n\r\n").await;
        wait_for(|| server.connections() == 1).await;
        let start = Instant::now();
        corio::timeout(LIMIT, server.shutdown()).await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(200));
        assert!(start.elapsed() < Duration::from_secs(2));
        c.expect_eof().await;
        assert_eq!(server.connections(), 0);
        server.stopped().await; // already stopped: returns at once
    });
}

#[test]
fn run_until_and_serve_fn() {
    rt().block_on(async {
        let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let handle = serve(listener, router());
        let (r, _) = one_shot(handle.local_addr(), b"GET /fn HTTP/1.1\r\n\r\n").await;
        assert_eq!(r.text(), "Hello, fn!");
        handle.shutdown().await;

        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let signal = async move {
            while rx.try_recv().is_err() {
                corio::sleep(Duration::from_millis(5)).await;
            }
        };
        let running = corio::spawn(server.run_until(router(), signal));
        let (r, _) = one_shot(addr, b"GET /until HTTP/1.1\r\n\r\n").await;
        assert_eq!(r.text(), "Hello, until!");
        tx.send(()).unwrap();
        corio::timeout(LIMIT, running).await.unwrap().unwrap();
        assert!(TcpStream::connect(addr).await.is_err());
    });
}

#[test]
fn dropping_run_or_shutdown_futures_still_stops_the_server() {
    rt().block_on(async {
        // `run` dropped while serving: the listener closes.
        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let run = server.run(router());
        let serving = corio::spawn(run);
        let (r, _) = one_shot(addr, b"GET /run HTTP/1.1\r\n\r\n").await;
        assert_eq!(r.text(), "Hello, run!");
        serving.cancel().await.unwrap_err();
        let began = Instant::now();
        while TcpStream::connect(addr).await.is_ok() {
            assert!(
                began.elapsed() < LIMIT,
                "still accepting after run was dropped"
            );
            corio::sleep(Duration::from_millis(5)).await;
        }

        // `shutdown` dropped after its first poll, while a request is in
        // flight: the shutdown goes on, and a second call completes it.
        let server = start(|s| s).await;
        let mut busy = Client::connect(server.local_addr()).await;
        busy.send(b"GET /slow/200 HTTP/1.1\r\nHost: t\r\n\r\n")
            .await;
        wait_for(|| server.connections() == 1).await;
        assert!(
            futures_lite::future::poll_once(std::pin::pin!(server.shutdown()))
                .await
                .is_none()
        );
        let r = busy.response().await;
        assert_eq!(r.text(), "slow done");
        assert_eq!(r.header("connection"), Some("close"));
        busy.expect_eof().await;
        assert!(!server.is_stopped());
        corio::timeout(LIMIT, server.shutdown()).await.unwrap();
        assert!(server.is_stopped());
        assert!(TcpStream::connect(server.local_addr()).await.is_err());
    });
}

/// A tiny xorshift PRNG: random but reproducible cut points.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn clients_vanishing_at_random_points_never_wedge_the_server() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let addr = server.local_addr();
        let script: &[u8] = b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n\
            POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world\
            POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n\
            GET /slow/20 HTTP/1.1\r\nHost: t\r\n\r\n\
            GET /stream/it HTTP/1.1\r\nHost: t\r\n\r\n";
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let clients: Vec<_> = (0..100)
            .map(|_| {
                let cut = (rng.next() % (script.len() as u64 + 1)) as usize;
                let read_first = rng.next() % 2 == 0;
                corio::spawn(async move {
                    let mut c = Client::connect(addr).await;
                    c.send(&script[..cut]).await;
                    if read_first {
                        let mut tmp = [0u8; 64];
                        let _ = corio::timeout(
                            Duration::from_millis(5),
                            c.stream.read(&mut tmp),
                        )
                        .await;
                    }
                    drop(c); // vanish, whatever the server is doing
                })
            })
            .collect();
        for c in clients {
            corio::timeout(LIMIT, c).await.unwrap().unwrap();
        }
        wait_for(|| server.connections() == 0).await;
        let mut c = Client::connect(addr).await;
        assert_eq!(c.get("/fine").await.text(), "Hello, fine!");
        drop(c);
        corio::timeout(LIMIT, server.shutdown()).await.unwrap();
    });
}

#[test]
fn many_concurrent_connections() {
    rt().block_on(async {
        let server = start(|s| s).await;
        let addr = server.local_addr();
        let ok = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..200)
            .map(|i| {
                let ok = Arc::clone(&ok);
                corio::spawn(async move {
                    let mut c = Client::connect(addr).await;
                    for j in 0..3 {
                        let r = c.get(&format!("/c{i}-{j}")).await;
                        assert_eq!(r.text(), format!("Hello, c{i}-{j}!"));
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for c in clients {
            corio::timeout(LIMIT, c).await.unwrap().unwrap();
        }
        assert_eq!(ok.load(Ordering::Relaxed), 600);
        corio::timeout(LIMIT, server.shutdown()).await.unwrap();
        assert_eq!(server.connections(), 0);
    });
}

/// An independent client: Python's `http.client` must parse our responses
/// (keep-alive, chunked, HEAD, 404).
#[test]
fn python_http_client_understands_us() {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("note: python3 not on PATH; skipping the independent-client test");
        return;
    }
    let rt = rt();
    let server = rt.block_on(start(|s| s));
    let port = server.local_addr().port();
    let script = r#"
import sys, http.client, urllib.request
port = int(sys.argv[1])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
out = []
for path in ["/", "/py", "/stream/it", "/nope/a/b/c"]:
    c.request("GET", path)
    r = c.getresponse()
    out.append(f"{r.status} {r.reason} {r.read().decode()}")
c.request("HEAD", "/py")
r = c.getresponse()
out.append(f"HEAD {r.status} {r.getheader('Content-Length')} {r.read()!r}")
c.request("POST", "/echo", body=b"posted")
out.append(c.getresponse().read().decode())
c.close()
with urllib.request.urlopen(f"http://127.0.0.1:{port}/urllib", timeout=5) as r:
    out.append(r.read().decode())
print("|".join(out))
"#;
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(port.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.trim(),
        "200 OK Hello, Anonymous!|200 OK Hello, py!|200 OK chunk0chunk1chunk2|\
         404 Not Found 404 Not Found|HEAD 200 10 b''|posted|Hello, urllib!"
    );
    rt.block_on(server.shutdown());
}

#[test]
fn web_server_example_prints_the_expected_lines() {
    let lines = rt().block_on(web_server::demo()).unwrap();
    assert_eq!(lines.len(), 4, "{lines:?}");
    let port = lines[0]
        .strip_prefix("listening on http://127.0.0.1:")
        .expect("first line")
        .parse::<u16>()
        .unwrap();
    assert_ne!(port, 0);
    assert_eq!(lines[1], "GET / -> 200 OK: Hello, Anonymous!");
    assert_eq!(lines[2], "GET /corio -> 200 OK: Hello, corio!");
    assert_eq!(lines[3], "server stopped");
}

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    fn unpin<T: Unpin>() {}
    send_sync::<Router>();
    send_sync::<Request>();
    send_sync::<Server>();
    send_sync::<ServerHandle>();
    send::<Response>(); // a streaming body is Send, not Sync
    unpin::<Router>();
    unpin::<Request>();
    unpin::<Response>();
    unpin::<Server>();
    unpin::<ServerHandle>();
    fn is_send<T: Send>(_: &T) {}
    let router = Router::new();
    rt().block_on(async {
        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let handle = server.serve(router);
        is_send(&handle.shutdown());
        is_send(&handle.stopped());
        handle.shutdown().await;
        let server = Server::bind("127.0.0.1:0").await.unwrap();
        is_send(&server.run(Router::new()));
    });
}
