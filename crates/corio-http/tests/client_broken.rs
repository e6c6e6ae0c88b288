//! The client session against broken servers: each case is a scripted peer
//! that sends exact (bad) bytes, and the error predicate the session must
//! report (hyper's `tests/client.rs` is the model).

use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::net::TcpListener;
use corio_http::{Error, Session};

mod common;
use common::{peer, rt, Act, LIMIT};

/// `HTTP/1.1 200 OK` with `body` and its Content-Length.
fn ok_bytes(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{}",
        body.len(),
        body
    )
    .into_bytes()
}

/// Which predicate a case must report, and whether at send or at read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// `send()` fails with a parse error.
    Parse,
    /// `send()` fails with a limit error.
    Limit,
    /// `send()` succeeds, reading the body fails with `is_body`.
    Body,
    /// `send()` succeeds, reading the body fails with parse + body.
    BodyParse,
    /// `send()` succeeds, reading the body fails with limit + body.
    BodyLimit,
}

fn check(want: Want, err: &Error, name: &str) {
    let ok = match want {
        Want::Parse => err.is_parse() && !err.is_body(),
        Want::Limit => err.is_limit() && !err.is_body(),
        Want::Body => err.is_body() && !err.is_parse() && !err.is_limit(),
        Want::BodyParse => err.is_body() && err.is_parse(),
        Want::BodyLimit => err.is_body() && err.is_limit(),
    };
    assert!(ok, "{name}: want {want:?}, got {err:?}");
    assert!(
        err.url().is_some(),
        "{name}: the error names the URL: {err:?}"
    );
}

fn many_headers(n: usize) -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..n {
        r.extend(format!("x-h{i}: v\r\n").into_bytes());
    }
    r.extend(b"content-length: 0\r\n\r\n");
    r
}

fn cases() -> Vec<(&'static str, Vec<u8>, Want)> {
    let b = |s: &str| s.as_bytes().to_vec();
    vec![
        ("garbage instead of HTTP", b("hello there\r\n\r\n"), Want::Parse),
        ("binary garbage", vec![0x16, 0x03, 0x01, 0x00, 0xff, b'\r', b'\n', b'\r', b'\n'], Want::Parse),
        ("HTTP/2.0 status line", b("HTTP/2.0 200 OK\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("HTTP/1.2 version", b("HTTP/1.2 200 OK\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("lowercase http", b("http/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("two-digit status", b("HTTP/1.1 20 OK\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("four-digit status", b("HTTP/1.1 2000 OK\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("status with letters", b("HTTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("status 099", b("HTTP/1.1 099 Low\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("no space after version", b("HTTP/1.1200 OK\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("bare LF line endings", b("HTTP/1.1 200 OK\ncontent-length: 0\n\n"), Want::Parse),
        ("bare CR in header", b("HTTP/1.1 200 OK\r\nx-a: b\rc\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("NUL in header value", b("HTTP/1.1 200 OK\r\nx-a: b\0c\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("space before colon", b("HTTP/1.1 200 OK\r\nx-a : b\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("header without colon", b("HTTP/1.1 200 OK\r\nnocolon\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("obs-fold", b("HTTP/1.1 200 OK\r\nx-a: b\r\n  folded\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("empty header name", b("HTTP/1.1 200 OK\r\n: v\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("CL and TE together", b("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"), Want::Parse),
        ("differing CLs", b("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello"), Want::Parse),
        ("CL list that differs", b("HTTP/1.1 200 OK\r\ncontent-length: 5, 6\r\n\r\nhello"), Want::Parse),
        ("negative CL", b("HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\n"), Want::Parse),
        ("CL with plus sign", b("HTTP/1.1 200 OK\r\ncontent-length: +5\r\n\r\nhello"), Want::Parse),
        ("hex CL", b("HTTP/1.1 200 OK\r\ncontent-length: 0x5\r\n\r\nhello"), Want::Parse),
        ("CL overflowing u64", b("HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\n"), Want::Parse),
        ("unknown transfer coding", b("HTTP/1.1 200 OK\r\ntransfer-encoding: bogus\r\n\r\n"), Want::Parse),
        ("chunked twice", b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, chunked\r\n\r\n0\r\n\r\n"), Want::Parse),
        ("101 switching protocols", b("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n"), Want::Parse),
        ("EOF mid status line", b("HTTP/1.1 20"), Want::Parse),
        ("EOF mid headers", b("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: b"), Want::Parse),
        ("EOF after 100 Continue", b("HTTP/1.1 100 Continue\r\n\r\n"), Want::Parse),
        ("empty line first", b("\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"), Want::Parse),
        ("too many headers", many_headers(150), Want::Limit),
        ("header line too long", [b("HTTP/1.1 200 OK\r\nx-long: "), vec![b'a'; 10_000], b("\r\ncontent-length: 0\r\n\r\n")].concat(), Want::Limit),
        ("head too large", [b("HTTP/1.1 200 OK\r\n"), (0..20).flat_map(|i| format!("x-{i}: {}\r\n", "v".repeat(4000)).into_bytes()).collect(), b("\r\n")].concat(), Want::Limit),
        ("EOF mid body (CL)", b("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"), Want::Body),
        ("EOF mid chunked body", b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab"), Want::Body),
        ("EOF before last chunk", b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n"), Want::Body),
        ("chunk size not hex", b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"), Want::BodyParse),
        ("chunk size 0x prefix", b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n"), Want::BodyParse),
        ("negative chunk size", b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n"), Want::BodyParse),
        ("chunk size overflow", b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n"), Want::BodyParse),
        ("chunk data longer than size", b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n"), Want::BodyParse),
        ("chunk with bare LF", b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n"), Want::BodyParse),
        ("empty chunk size", b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n"), Want::BodyParse),
        ("chunk extension too long", [b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;"), vec![b'e'; 5000], b("\r\nabc\r\n0\r\n\r\n")].concat(), Want::BodyLimit),
        ("trailers too large", [b("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n"), (0..40).flat_map(|i| format!("t{i}: {}\r\n", "v".repeat(600)).into_bytes()).collect(), b("\r\n")].concat(), Want::BodyLimit),
    ]
}

#[test]
fn broken_responses_table() {
    let cases = cases();
    assert!(cases.len() >= 40);
    rt().block_on(async {
        let table: Arc<Vec<Vec<u8>>> = Arc::new(cases.iter().map(|c| c.1.clone()).collect());
        let t = table.clone();
        let p = peer(move |_, _, req| {
            let text = String::from_utf8_lossy(req);
            let i: usize = text.split(' ').nth(1).unwrap()[1..].parse().unwrap();
            Act::ReplyClose(t[i].clone())
        })
        .await;
        let s = Session::builder().timeout(LIMIT).build();
        for (i, (name, _, want)) in cases.iter().enumerate() {
            let result = s.get(p.url(&format!("/{i}"))).send().await;
            let err = match (want, result) {
                (Want::Parse | Want::Limit, Err(err)) => err,
                (Want::Parse | Want::Limit, Ok(resp)) => {
                    panic!("{name}: send should fail, got {resp:?}")
                }
                (_, Ok(resp)) => match resp.bytes().await {
                    Err(err) => err,
                    Ok(body) => panic!("{name}: the body should fail, got {body:?}"),
                },
                (_, Err(err)) => panic!("{name}: send should succeed, got {err:?}"),
            };
            check(*want, &err, name);
        }
        // No broken connection was put back for reuse.
        assert_eq!(s.idle_connections(), 0);
    });
}

#[test]
fn body_over_max_size_is_a_limit_error() {
    rt().block_on(async {
        let p = peer(|_, n, _| {
            let body = "x".repeat(2000);
            if n % 2 == 0 {
                Act::Reply(ok_bytes(&body))
            } else {
                // Chunked: no length announced, counted while reading.
                Act::Reply(format!("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n7d0\r\n{body}\r\n0\r\n\r\n").into_bytes())
            }
        })
        .await;
        let s = Session::builder().max_body_size(1000).build();
        for _ in 0..2 {
            let err = s.get(p.url("/")).send().await.unwrap().bytes().await.unwrap_err();
            assert!(err.is_limit() && err.is_body(), "{err:?}");
        }
        // Streaming is not limited.
        let mut resp = s.get(p.url("/")).send().await.unwrap();
        let mut n = 0;
        while let Some(c) = resp.chunk().await.unwrap() {
            n += c.len();
        }
        assert_eq!(n, 2000);
    });
}

#[test]
fn silent_server_hits_the_read_timeout() {
    rt().block_on(async {
        let p = peer(|_, _, _| Act::Hang).await;
        let s = Session::builder()
            .read_timeout(Duration::from_millis(100))
            .build();
        let started = Instant::now();
        let err = s.get(p.url("/")).send().await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
        // A body that stops midway times out as well.
        let p = peer(|_, _, _| {
            Act::Delay(
                b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab".to_vec(),
                Duration::ZERO,
            )
        })
        .await;
        let resp = s.get(p.url("/")).send().await.unwrap();
        let err = resp.bytes().await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    });
}

#[test]
fn dripping_server_hits_the_total_timeout() {
    rt().block_on(async {
        let mut resp = b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n".to_vec();
        resp.extend(vec![b'd'; 1000]);
        let p = peer(move |_, _, _| Act::Drip(resp.clone(), Duration::from_millis(10))).await;
        // Each byte arrives well within the read timeout.
        let s = Session::builder()
            .read_timeout(Duration::from_millis(500))
            .timeout(Duration::from_millis(400))
            .build();
        let started = Instant::now();
        let err = match s.get(p.url("/")).send().await {
            Ok(resp) => resp.bytes().await.unwrap_err(),
            Err(err) => err,
        };
        assert!(err.is_timeout(), "{err:?}");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(350) && took < Duration::from_secs(2),
            "{took:?}"
        );
    });
}

#[test]
fn server_that_closes_at_once() {
    rt().block_on(async {
        let p = peer(|_, _, _| Act::Close).await;
        let err = Session::new().get(p.url("/")).send().await.unwrap_err();
        assert!(err.is_parse(), "{err:?}");
        assert!(
            err.to_string().contains("closed before a response"),
            "{err}"
        );
        // Accept and close without reading anything.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = corio::spawn(async move {
            for _ in 0..1 {
                let (s, _) = listener.accept().await.unwrap();
                drop(s);
            }
        });
        let err = Session::new()
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_parse() || err.is_body(), "{err:?}");
        task.await.unwrap();
    });
}

#[test]
fn connection_refused_is_a_connect_error() {
    rt().block_on(async {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = Session::new()
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(err.url().is_some());
    });
}

#[test]
fn redirect_without_location_is_returned() {
    rt().block_on(async {
        let p =
            peer(|_, _, _| Act::Reply(b"HTTP/1.1 301 Moved\r\ncontent-length: 0\r\n\r\n".to_vec()))
                .await;
        let resp = Session::new().get(p.url("/")).send().await.unwrap();
        assert_eq!(resp.status(), http::StatusCode::MOVED_PERMANENTLY);
        assert_eq!(p.requests().len(), 1);
    });
}

#[test]
fn broken_gzip_is_a_decode_error() {
    rt().block_on(async {
        let p = peer(|_, _, _| {
            Act::Reply(
                b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 6\r\n\r\nnotgz!"
                    .to_vec(),
            )
        })
        .await;
        let err = Session::new()
            .get(p.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap_err();
        assert!(err.is_decode(), "{err:?}");
    });
}

#[test]
fn interim_responses_are_skipped() {
    rt().block_on(async {
        let p = peer(|_, _, _| {
            Act::Reply(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec())
        })
        .await;
        let text = Session::new().get(p.url("/")).send().await.unwrap().text().await.unwrap();
        assert_eq!(text, "ok");
    });
}
