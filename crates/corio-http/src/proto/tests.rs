//! Tests of the codec: broken and well-formed responses, each fed whole and
//! in pieces down to one byte at a time; request encoding; keep-alive; and
//! one exchange over a real socket against a scripted peer.

use bytes::{Buf, BytesMut};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, Version};

use super::*;
use crate::Error;

/// What the client saw of one exchange.
#[derive(Debug)]
struct Exchange {
    interim: Vec<StatusCode>,
    head: ResponseHead,
    kind: BodyKind,
    body: Vec<u8>,
    trailers: Option<HeaderMap>,
    /// Bytes after the response: the start of the next one.
    leftover: Vec<u8>,
}

/// How a test feeds the wire bytes to the codec: all at once, or in pieces
/// of this many bytes.
const FEEDS: [usize; 4] = [usize::MAX, 1, 2, 7];

/// Plays the client side of one exchange over `wire`, given to the codec in
/// pieces of `step` bytes; the peer closes after the last byte.
fn exchange(method: &Method, wire: &[u8], step: usize, limits: Limits) -> Result<Exchange, Error> {
    let mut pieces = wire.chunks(step.clamp(1, wire.len().max(1)));
    let mut buf = BytesMut::new();
    let mut read = |buf: &mut BytesMut| match pieces.next() {
        Some(piece) => {
            buf.extend_from_slice(piece);
            true
        }
        None => false,
    };

    let mut interim = Vec::new();
    let head = loop {
        match parse_response_head(&buf, &limits)? {
            Some((head, n)) => {
                buf.advance(n);
                if head.is_interim() {
                    interim.push(head.status);
                    continue;
                }
                break head;
            }
            None => {
                if !read(&mut buf) {
                    return Err(incomplete_head(buf.len()));
                }
            }
        }
    };

    let kind = body_kind(method, head.status, &head.headers)?;
    let mut decoder = BodyDecoder::new(kind, limits);
    let mut body = Vec::new();
    loop {
        match decoder.decode(&mut buf)? {
            DecodeStep::Data(data) => {
                assert!(!data.is_empty(), "Data(empty)");
                body.extend_from_slice(&data);
            }
            DecodeStep::NeedMore => {
                if !read(&mut buf) {
                    decoder.eof()?;
                    break;
                }
            }
            DecodeStep::Done => break,
        }
    }
    assert!(decoder.is_done());
    // Done is sticky and consumes nothing more.
    let before = buf.len();
    assert_eq!(decoder.decode(&mut buf).unwrap(), DecodeStep::Done);
    assert_eq!(buf.len(), before);

    let mut leftover = buf.to_vec();
    for piece in pieces {
        leftover.extend_from_slice(piece);
    }
    Ok(Exchange {
        interim,
        head,
        kind,
        body,
        trailers: decoder.trailers().cloned(),
        leftover,
    })
}

/// Which predicates a broken case must raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// A malformed head or framing headers: is_parse only.
    Parse,
    /// Malformed chunked framing or trailers: is_parse and is_body.
    ParseBody,
    /// A head limit: is_limit only.
    Limit,
    /// A body limit: is_limit and is_body.
    LimitBody,
    /// The body ended early: is_body only.
    Body,
}

fn check(want: Want, err: &Error) -> bool {
    let (parse, limit, body) = match want {
        Want::Parse => (true, false, false),
        Want::ParseBody => (true, false, true),
        Want::Limit => (false, true, false),
        Want::LimitBody => (false, true, true),
        Want::Body => (false, false, true),
    };
    err.is_parse() == parse
        && err.is_protocol() == parse
        && err.is_limit() == limit
        && err.is_body() == body
        && !err.is_request()
        && !err.is_timeout()
        && !err.is_connect()
        && !err.is_status()
}

fn ok_head(extra: &str) -> String {
    format!("HTTP/1.1 200 OK\r\n{extra}")
}

fn chunked(body: &str) -> String {
    format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{body}")
}

fn small(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::DEFAULT;
    f(&mut limits);
    limits
}

#[test]
fn broken_responses_fail_with_the_right_predicate() {
    let get = Method::GET;
    let many_headers: String = (0..101).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many_trailers: String = (0..33).map(|i| format!("T{i}: v\r\n")).collect();
    let big_trailers: String = (0..3)
        .map(|i| format!("T{i}: {}\r\n", "v".repeat(6000)))
        .collect();
    let long_line = "a".repeat(9000);
    #[rustfmt::skip]
    let cases: Vec<(&str, Method, String, Limits, Want)> = vec![
        // Framing headers (RFC 9112 6.3): smuggling vectors.
        ("CL and TE", get.clone(), ok_head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("TE and CL", get.clone(), ok_head("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("differing CL fields", get.clone(), ok_head("Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"), Limits::DEFAULT, Want::Parse),
        ("differing CL list", get.clone(), ok_head("Content-Length: 5, 6\r\n\r\nhello!"), Limits::DEFAULT, Want::Parse),
        ("CL not a number", get.clone(), ok_head("Content-Length: abc\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("CL negative", get.clone(), ok_head("Content-Length: -1\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("CL with plus", get.clone(), ok_head("Content-Length: +5\r\n\r\nhello"), Limits::DEFAULT, Want::Parse),
        ("CL hex", get.clone(), ok_head("Content-Length: 0x10\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("CL empty", get.clone(), ok_head("Content-Length: \r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("CL only commas", get.clone(), ok_head("Content-Length: , ,\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("CL inner space", get.clone(), ok_head("Content-Length: 1 2\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("CL overflow", get.clone(), ok_head("Content-Length: 18446744073709551616\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("CL decimal point", get.clone(), ok_head("Content-Length: 5.0\r\n\r\nhello"), Limits::DEFAULT, Want::Parse),
        ("TE chunked twice", get.clone(), ok_head("Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("TE chunked in two fields", get.clone(), ok_head("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("TE unknown coding", get.clone(), ok_head("Transfer-Encoding: br, chunked\r\n\r\n0\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("TE coding with params", get.clone(), ok_head("Transfer-Encoding: chunked;x=1\r\n\r\n0\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("TE empty", get.clone(), ok_head("Transfer-Encoding: \r\n\r\n"), Limits::DEFAULT, Want::Parse),
        // Status line.
        ("status not digits", get.clone(), "HTTP/1.1 abc OK\r\n\r\n".into(), Limits::DEFAULT, Want::Parse),
        ("status two digits", get.clone(), "HTTP/1.1 99 OK\r\n\r\n".into(), Limits::DEFAULT, Want::Parse),
        ("status four digits", get.clone(), "HTTP/1.1 1000 OK\r\n\r\n".into(), Limits::DEFAULT, Want::Parse),
        ("status below 100", get.clone(), "HTTP/1.1 099 OK\r\n\r\n".into(), Limits::DEFAULT, Want::Parse),
        ("HTTP/2.0 on the wire", get.clone(), "HTTP/2.0 200 OK\r\n\r\n".into(), Limits::DEFAULT, Want::Parse),
        ("HTTP/1.2", get.clone(), "HTTP/1.2 200 OK\r\n\r\n".into(), Limits::DEFAULT, Want::Parse),
        ("lowercase version", get.clone(), "http/1.1 200 OK\r\n\r\n".into(), Limits::DEFAULT, Want::Parse),
        ("not HTTP at all", get.clone(), "SSH-2.0-OpenSSH_9.6\r\n\r\n".into(), Limits::DEFAULT, Want::Parse),
        ("empty line first", get.clone(), "\r\nHTTP/1.1 200 OK\r\n\r\n".into(), Limits::DEFAULT, Want::Parse),
        ("101 never requested", get.clone(), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n".into(), Limits::DEFAULT, Want::Parse),
        // Header fields.
        ("space in header name", get.clone(), ok_head("Foo Bar: x\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("space before colon", get.clone(), ok_head("Content-Length : 5\r\n\r\nhello"), Limits::DEFAULT, Want::Parse),
        ("no colon", get.clone(), ok_head("Foo\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("obs-fold", get.clone(), ok_head("X-A: one\r\n two\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("obs-fold with tab", get.clone(), ok_head("X-A: one\r\n\ttwo\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("NUL in header value", get.clone(), ok_head("X-A: a\0b\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("control byte in value", get.clone(), ok_head("X-A: a\x01b\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("bare LF head", get.clone(), "HTTP/1.1 200 OK\nContent-Length: 0\n\n".into(), Limits::DEFAULT, Want::Parse),
        ("bare LF ends head", get.clone(), ok_head("Content-Length: 0\r\n\n"), Limits::DEFAULT, Want::Parse),
        ("bare CR in value", get.clone(), ok_head("X-A: a\rb\r\n\r\n"), Limits::DEFAULT, Want::Parse),
        ("EOF mid-head", get.clone(), ok_head("Content-Le"), Limits::DEFAULT, Want::Parse),
        ("EOF before anything", get.clone(), String::new(), Limits::DEFAULT, Want::Parse),
        // Head limits.
        ("too many headers", get.clone(), ok_head(&format!("{many_headers}\r\n")), Limits::DEFAULT, Want::Limit),
        ("too many headers, small limit", get.clone(), ok_head("A: 1\r\nB: 2\r\nC: 3\r\n\r\n"), small(|l| l.max_headers = 2), Want::Limit),
        ("head too large", get.clone(), ok_head(&format!("X-A: {}\r\n\r\n", "v".repeat(300))), small(|l| l.max_head_size = 256), Want::Limit),
        ("overlong status line", get.clone(), format!("HTTP/1.1 200 {long_line}\r\n\r\n"), Limits::DEFAULT, Want::Limit),
        ("overlong header line", get.clone(), ok_head(&format!("X-A: {long_line}\r\n\r\n")), Limits::DEFAULT, Want::Limit),
        ("overlong line, unterminated", get.clone(), ok_head(&"x".repeat(100)), small(|l| l.max_line_len = 64), Want::Limit),
        // Chunked framing.
        ("chunk size empty", get.clone(), chunked("\r\nhello\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("chunk size not hex", get.clone(), chunked("zz\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("chunk size 0x10", get.clone(), chunked("0x10\r\n0123456789abcdef\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("chunk size +5", get.clone(), chunked("+5\r\nhello\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("chunk size -1", get.clone(), chunked("-1\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("chunk size hex then junk", get.clone(), chunked("5g\r\nhello\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("chunk size overflow", get.clone(), chunked("10000000000000000\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("chunk size too many digits", get.clone(), chunked(&format!("{}5\r\nhello\r\n0\r\n\r\n", "0".repeat(40))), Limits::DEFAULT, Want::ParseBody),
        ("chunk size whitespace then junk", get.clone(), chunked("5 x\r\nhello\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("bare LF after chunk size", get.clone(), chunked("5\nhello\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("CR without LF after size", get.clone(), chunked("5\rxhello\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("missing CRLF after data", get.clone(), chunked("5\r\nhelloX\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("data longer than size", get.clone(), chunked("3\r\nhello\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("LF only after data", get.clone(), chunked("5\r\nhello\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("CR only after data", get.clone(), chunked("5\r\nhello\r0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("CR then junk after data", get.clone(), chunked("5\r\nhello\rX3\r\nabc\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("bare LF in extension", get.clone(), chunked("5;a=b\nhello\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("NUL in extension", get.clone(), chunked("5;a=\0\r\nhello\r\n0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("bare LF in trailers", get.clone(), chunked("0\r\nX-T: 1\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("bare LF ends trailers", get.clone(), chunked("0\r\n\n"), Limits::DEFAULT, Want::ParseBody),
        ("bad trailer name", get.clone(), chunked("0\r\nBad Name: 1\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("obs-fold in trailers", get.clone(), chunked("0\r\nX-T: 1\r\n 2\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        ("NUL in trailer", get.clone(), chunked("0\r\nX-T: a\0\r\n\r\n"), Limits::DEFAULT, Want::ParseBody),
        // Body limits.
        ("oversized chunk extension", get.clone(), chunked(&format!("5;x={}\r\nhello\r\n0\r\n\r\n", "e".repeat(5000))), Limits::DEFAULT, Want::LimitBody),
        ("oversized chunk whitespace", get.clone(), chunked(&format!("5{};x\r\nhello\r\n0\r\n\r\n", " ".repeat(5000))), Limits::DEFAULT, Want::LimitBody),
        ("oversized trailers", get.clone(), chunked(&format!("0\r\n{big_trailers}\r\n")), Limits::DEFAULT, Want::LimitBody),
        ("too many trailers", get.clone(), chunked(&format!("0\r\n{many_trailers}\r\n")), Limits::DEFAULT, Want::LimitBody),
        ("overlong trailer line", get.clone(), chunked(&format!("0\r\nX-T: {}\r\n\r\n", "v".repeat(100))), small(|l| l.max_line_len = 64), Want::LimitBody),
        ("CL body over max", get.clone(), ok_head("Content-Length: 11\r\n\r\nhello world"), small(|l| l.max_body_size = Some(10)), Want::LimitBody),
        ("chunked body over max", get.clone(), chunked("6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"), small(|l| l.max_body_size = Some(10)), Want::LimitBody),
        ("close-delimited over max", get.clone(), ok_head("\r\nhello world"), small(|l| l.max_body_size = Some(10)), Want::LimitBody),
        // The peer closed early.
        ("EOF mid CL body", get.clone(), ok_head("Content-Length: 10\r\n\r\nhello"), Limits::DEFAULT, Want::Body),
        ("EOF right after head", get.clone(), ok_head("Content-Length: 10\r\n\r\n"), Limits::DEFAULT, Want::Body),
        ("EOF mid chunk data", get.clone(), chunked("a\r\nhello"), Limits::DEFAULT, Want::Body),
        ("EOF mid chunk size", get.clone(), chunked("5\r\nhello\r\n1"), Limits::DEFAULT, Want::Body),
        ("EOF before chunk CRLF", get.clone(), chunked("5\r\nhello"), Limits::DEFAULT, Want::Body),
        ("EOF before trailers end", get.clone(), chunked("5\r\nhello\r\n0\r\n"), Limits::DEFAULT, Want::Body),
        ("EOF mid trailers", get.clone(), chunked("0\r\nX-T: 1\r\n"), Limits::DEFAULT, Want::Body),
        ("EOF on a chunked body", get.clone(), chunked(""), Limits::DEFAULT, Want::Body),
    ];
    assert!(cases.len() >= 40, "only {} cases", cases.len());

    let mut failures = Vec::new();
    for (name, method, wire, limits, want) in &cases {
        for step in FEEDS {
            match exchange(method, wire.as_bytes(), step, *limits) {
                Ok(ex) => failures.push(format!("{name} (step {step}): accepted: {ex:?}")),
                Err(err) if !check(*want, &err) => {
                    failures.push(format!("{name} (step {step}): want {want:?}, got {err:?}"))
                }
                Err(err) => {
                    assert!(!err.to_string().is_empty());
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn head_too_large_under_default_limits() {
    // 10 lines of 7000 bytes: each under the line limit, together over 64 KiB.
    let fields: String = (0..10)
        .map(|i| format!("X-{i}: {}\r\n", "v".repeat(7000)))
        .collect();
    let wire = ok_head(&format!("{fields}\r\n"));
    for step in [usize::MAX, 4096, 1000] {
        let err = exchange(&Method::GET, wire.as_bytes(), step, Limits::DEFAULT).unwrap_err();
        assert!(check(Want::Limit, &err), "{err:?}");
        assert!(err.to_string().contains("65536"), "{err}");
    }
}

#[test]
fn limit_errors_come_before_the_whole_block_is_buffered() {
    // A 9000-byte status line is refused once 8 KiB of it arrived.
    let limits = Limits::DEFAULT;
    let line = format!("HTTP/1.1 200 {}", "a".repeat(8200));
    let err = parse_response_head(line.as_bytes(), &limits).unwrap_err();
    assert!(err.is_limit(), "{err:?}");
    assert!(parse_response_head(&line.as_bytes()[..8000], &limits)
        .unwrap()
        .is_none());
    // A bare LF is refused at once, whatever follows.
    let err = parse_response_head(b"HTTP/1.1 200 OK\n", &limits).unwrap_err();
    assert!(err.is_parse(), "{err:?}");
}

/// A well-formed case: what the client must see.
struct Good {
    name: &'static str,
    method: Method,
    wire: String,
    status: u16,
    interim: Vec<u16>,
    kind: BodyKind,
    body: &'static str,
    trailers: Vec<(&'static str, &'static str)>,
    leftover: &'static str,
}

fn good(name: &'static str, wire: impl Into<String>, kind: BodyKind, body: &'static str) -> Good {
    Good {
        name,
        method: Method::GET,
        wire: wire.into(),
        status: 200,
        interim: Vec::new(),
        kind,
        body,
        trailers: Vec::new(),
        leftover: "",
    }
}

const NEXT: &str = "HTTP/1.1 204 No Content\r\n\r\n";

#[test]
fn well_formed_responses_decode_the_same_whatever_the_split() {
    #[rustfmt::skip]
    let cases = vec![
        good("CL body", ok_head("Content-Length: 5\r\n\r\nhello"), BodyKind::Length(5), "hello"),
        good("CL zero", ok_head("Content-Length: 0\r\n\r\n"), BodyKind::Length(0), ""),
        Good {
            leftover: NEXT,
            ..good("CL then pipelined", ok_head(&format!("Content-Length: 5\r\n\r\nhello{NEXT}")), BodyKind::Length(5), "hello")
        },
        good("identical CL list", ok_head("Content-Length: 5, 5\r\n\r\nhello"), BodyKind::Length(5), "hello"),
        good("identical CL fields", ok_head("Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"), BodyKind::Length(5), "hello"),
        good("CL with OWS", ok_head("Content-Length:\t 5 \r\n\r\nhello"), BodyKind::Length(5), "hello"),
        good("CL leading zeros", ok_head("Content-Length: 005\r\n\r\nhello"), BodyKind::Length(5), "hello"),
        good("chunked", chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), BodyKind::Chunked, "hello world"),
        Good {
            trailers: vec![("x-checksum", "abc"), ("x-other", "1")],
            ..good(
                "chunked with extensions and trailers",
                chunked("5;name=value\r\nhello\r\n6 ; a=\"q; d\"; b\r\n world\r\n0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"),
                BodyKind::Chunked,
                "hello world",
            )
        },
        good("chunked hex sizes", chunked("A\r\n0123456789\r\n0000b\r\nabcdefghijk\r\n0\r\n\r\n"), BodyKind::Chunked, "0123456789abcdefghijk"),
        good("chunked whitespace before CRLF", chunked("5 \t\r\nhello\r\n0\r\n\r\n"), BodyKind::Chunked, "hello"),
        good("chunked empty body", chunked("0\r\n\r\n"), BodyKind::Chunked, ""),
        good("TE case-insensitive", ok_head("Transfer-Encoding: gzip, Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), BodyKind::Chunked, "abc"),
        Good {
            leftover: NEXT,
            trailers: vec![("x-t", "1")],
            ..good("chunked then pipelined", chunked(&format!("3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n{NEXT}")), BodyKind::Chunked, "abc")
        },
        good("close-delimited", ok_head("\r\nuntil the end\r\n\r\nof it"), BodyKind::CloseDelimited, "until the end\r\n\r\nof it"),
        good("close-delimited empty", ok_head("\r\n"), BodyKind::CloseDelimited, ""),
        good("HTTP/1.0 close-delimited", "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nbody", BodyKind::CloseDelimited, "body"),
        good("TE not ending in chunked", ok_head("Transfer-Encoding: gzip\r\n\r\n\x1f\x7e"), BodyKind::CloseDelimited, "\x1f\x7e"),
        Good {
            method: Method::HEAD,
            leftover: NEXT,
            ..good("HEAD with CL", ok_head(&format!("Content-Length: 5\r\n\r\n{NEXT}")), BodyKind::Empty, "")
        },
        Good {
            method: Method::HEAD,
            leftover: NEXT,
            ..good("HEAD with TE", ok_head(&format!("Transfer-Encoding: chunked\r\n\r\n{NEXT}")), BodyKind::Empty, "")
        },
        Good {
            status: 204,
            leftover: NEXT,
            ..good("204 with CL", format!("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n{NEXT}"), BodyKind::Empty, "")
        },
        Good {
            status: 304,
            leftover: "hello",
            ..good("304 with CL", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello", BodyKind::Empty, "")
        },
        Good {
            interim: vec![100],
            ..good("100 Continue then 200", format!("HTTP/1.1 100 Continue\r\n\r\n{}", ok_head("Content-Length: 2\r\n\r\nok")), BodyKind::Length(2), "ok")
        },
        Good {
            interim: vec![103, 100],
            ..good(
                "103 Early Hints, 100, then 200",
                format!("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n{}", chunked("2\r\nok\r\n0\r\n\r\n")),
                BodyKind::Chunked,
                "ok",
            )
        },
        Good {
            status: 404,
            ..good("no reason phrase", "HTTP/1.1 404 \r\nContent-Length: 1\r\n\r\nx", BodyKind::Length(1), "x")
        },
        Good {
            method: Method::CONNECT,
            leftover: "tunnel bytes",
            ..good("CONNECT 200", "HTTP/1.1 200 Connection established\r\n\r\ntunnel bytes", BodyKind::Empty, "")
        },
    ];

    for case in &cases {
        for step in FEEDS {
            let ex = exchange(&case.method, case.wire.as_bytes(), step, Limits::DEFAULT)
                .unwrap_or_else(|err| panic!("{} (step {step}): {err:?}", case.name));
            let at = format!("{} (step {step})", case.name);
            assert_eq!(ex.head.status.as_u16(), case.status, "{at}");
            let interim: Vec<u16> = ex.interim.iter().map(|s| s.as_u16()).collect();
            assert_eq!(interim, case.interim, "{at}");
            assert_eq!(ex.kind, case.kind, "{at}");
            assert_eq!(ex.body, case.body.as_bytes(), "{at}");
            assert_eq!(ex.leftover, case.leftover.as_bytes(), "{at}");
            let trailers: Vec<(String, String)> = ex
                .trailers
                .iter()
                .flat_map(|map| map.iter())
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
                .collect();
            let want: Vec<(String, String)> = case
                .trailers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(trailers, want, "{at}");
        }
    }
}

#[test]
fn parsed_head_has_version_reason_and_headers_in_order() {
    let wire = b"HTTP/1.0 418 I'm a teapot\r\nX-A: 1\r\nx-a: 2\r\nContent-Type: text/plain\r\nX-Tab: a\tb\r\n\r\nrest";
    let (head, n) = parse_response_head(wire, &Limits::DEFAULT)
        .unwrap()
        .unwrap();
    assert_eq!(&wire[n..], b"rest");
    assert_eq!(head.version, Version::HTTP_10);
    assert_eq!(head.status, StatusCode::IM_A_TEAPOT);
    assert_eq!(head.reason, "I'm a teapot");
    let xa: Vec<_> = head.headers.get_all("x-a").iter().collect();
    assert_eq!(xa, ["1", "2"]);
    assert_eq!(head.headers["content-type"], "text/plain");
    assert_eq!(head.headers["x-tab"], "a\tb");
    assert!(!head.is_interim());
    // Every proper prefix is incomplete, not an error.
    for i in 0..n {
        assert!(
            parse_response_head(&wire[..i], &Limits::DEFAULT)
                .unwrap()
                .is_none(),
            "prefix {i}"
        );
    }
}

#[test]
fn interim_and_final_statuses() {
    let parse = |wire: &str| parse_response_head(wire.as_bytes(), &Limits::DEFAULT);
    for (code, interim) in [
        (100, true),
        (102, true),
        (103, true),
        (199, true),
        (200, false),
        (204, false),
        (404, false),
    ] {
        let (head, _) = parse(&format!("HTTP/1.1 {code} X\r\n\r\n"))
            .unwrap()
            .unwrap();
        assert_eq!(head.is_interim(), interim, "{code}");
    }
    let err = parse("HTTP/1.1 101 Switching Protocols\r\n\r\n").unwrap_err();
    assert!(err.is_parse() && err.to_string().contains("101"), "{err}");
}

#[test]
fn decoder_after_error_keeps_failing_and_eof_rules() {
    let mut input = BytesMut::from(&b"zz\r\n"[..]);
    let mut decoder = BodyDecoder::new(BodyKind::Chunked, Limits::DEFAULT);
    assert!(decoder.decode(&mut input).unwrap_err().is_parse());
    let mut more = BytesMut::from(&b"0\r\n\r\n"[..]);
    assert!(decoder.decode(&mut more).is_err());
    assert!(decoder.eof().is_err());
    assert!(!decoder.is_done());

    // eof: fine for close-delimited and finished bodies, an error otherwise.
    let mut close = BodyDecoder::new(BodyKind::CloseDelimited, Limits::DEFAULT);
    close.eof().unwrap();
    assert!(close.is_done());
    let mut empty = BodyDecoder::new(BodyKind::Empty, Limits::DEFAULT);
    empty.eof().unwrap();
    let mut length = BodyDecoder::new(BodyKind::Length(3), Limits::DEFAULT);
    let mut input = BytesMut::from(&b"ab"[..]);
    assert_eq!(
        length.decode(&mut input).unwrap(),
        DecodeStep::Data("ab".into())
    );
    assert_eq!(length.decode(&mut input).unwrap(), DecodeStep::NeedMore);
    let err = length.eof().unwrap_err();
    assert!(err.is_body() && !err.is_parse(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "error reading response body: connection closed before the body was complete (1 bytes missing)"
    );
}

#[test]
fn body_data_is_split_off_without_copying() {
    let mut input = BytesMut::from(&b"5\r\nhello\r\n0\r\n\r\nNEXT"[..]);
    let base = input.as_ptr() as usize;
    let mut decoder = BodyDecoder::new(BodyKind::Chunked, Limits::DEFAULT);
    let DecodeStep::Data(data) = decoder.decode(&mut input).unwrap() else {
        panic!("no data")
    };
    assert_eq!(&data[..], b"hello");
    assert_eq!(data.as_ptr() as usize, base + 3, "data was copied");
    assert_eq!(decoder.decode(&mut input).unwrap(), DecodeStep::Done);
    assert_eq!(&input[..], b"NEXT");
}

#[test]
fn body_kind_rules() {
    let headers = |pairs: &[(&'static str, &'static str)]| {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    };
    let kind = |method: Method, status: u16, pairs: &[(&'static str, &'static str)]| {
        body_kind(
            &method,
            StatusCode::from_u16(status).unwrap(),
            &headers(pairs),
        )
    };
    assert_eq!(
        kind(Method::GET, 200, &[]).unwrap(),
        BodyKind::CloseDelimited
    );
    assert_eq!(
        kind(Method::GET, 200, &[("content-length", "7")]).unwrap(),
        BodyKind::Length(7)
    );
    assert_eq!(
        kind(
            Method::GET,
            200,
            &[("content-length", "18446744073709551615")]
        )
        .unwrap(),
        BodyKind::Length(u64::MAX)
    );
    assert_eq!(
        kind(Method::GET, 200, &[("transfer-encoding", "chunked")]).unwrap(),
        BodyKind::Chunked
    );
    assert_eq!(
        kind(
            Method::GET,
            200,
            &[
                ("transfer-encoding", "gzip"),
                ("transfer-encoding", "chunked")
            ]
        )
        .unwrap(),
        BodyKind::Chunked
    );
    assert_eq!(
        kind(Method::GET, 200, &[("transfer-encoding", "chunked, gzip")]).unwrap(),
        BodyKind::CloseDelimited
    );
    for status in [100, 103, 204, 304] {
        assert_eq!(
            kind(Method::GET, status, &[("content-length", "5")]).unwrap(),
            BodyKind::Empty,
            "{status}"
        );
    }
    assert_eq!(
        kind(Method::HEAD, 200, &[("content-length", "5")]).unwrap(),
        BodyKind::Empty
    );
    // A HEAD response with conflicting framing has no body to misread.
    assert_eq!(
        kind(
            Method::HEAD,
            200,
            &[("content-length", "5"), ("transfer-encoding", "chunked")]
        )
        .unwrap(),
        BodyKind::Empty
    );
    assert!(kind(Method::CONNECT, 407, &[("content-length", "2")]).unwrap() == BodyKind::Length(2));
    let err = kind(
        Method::POST,
        200,
        &[("content-length", "5"), ("transfer-encoding", "chunked")],
    )
    .unwrap_err();
    assert!(err.is_parse() && !err.is_body(), "{err:?}");
}

#[test]
fn keep_alive_rules() {
    let map = |conn: Option<&'static str>| {
        let mut map = HeaderMap::new();
        if let Some(v) = conn {
            map.insert("connection", HeaderValue::from_static(v));
        }
        map
    };
    let cases = [
        (Version::HTTP_11, None, None, true),
        (Version::HTTP_11, Some("close"), None, false),
        (Version::HTTP_11, None, Some("close"), false),
        (Version::HTTP_11, None, Some("Upgrade, CLOSE"), false),
        (
            Version::HTTP_11,
            Some("keep-alive"),
            Some("keep-alive"),
            true,
        ),
        (Version::HTTP_10, None, None, false),
        (Version::HTTP_10, Some("keep-alive"), None, false),
        (
            Version::HTTP_10,
            Some("keep-alive"),
            Some("Keep-Alive"),
            true,
        ),
        (Version::HTTP_10, None, Some("keep-alive, close"), false),
        (Version::HTTP_2, None, None, false),
    ];
    for (version, req, resp, want) in cases {
        assert_eq!(
            keep_alive(version, &map(req), &map(resp)),
            want,
            "{version:?} {req:?} {resp:?}"
        );
    }
}

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

fn pairs(list: &[(&[u8], &[u8])]) -> Pairs {
    list.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect()
}

#[test]
fn request_heads_are_encoded_exactly() {
    let mut buf = Vec::new();
    let uri: Uri = "http://user:pw@example.com:8080/a/b?x=1&y=%20"
        .parse()
        .unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("accept", HeaderValue::from_static("*/*"));
    headers.insert("x-tab", HeaderValue::from_static("a\tb"));
    encode_request_head(
        &Method::GET,
        &uri,
        Version::HTTP_11,
        &headers,
        RequestBody::None,
        &mut buf,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(buf.clone()).unwrap(),
        "GET /a/b?x=1&y=%20 HTTP/1.1\r\nhost: example.com:8080\r\naccept: */*\r\nx-tab: a\tb\r\n\r\n"
    );

    // Appends after what is already there; Host given by hand is kept as is.
    let mut buf = b"previous".to_vec();
    let uri: Uri = "http://[::1]/".parse().unwrap();
    let raw = pairs(&[(b"Host", b"virtual.test"), (b"X-Id", b"7")]);
    encode_request_head(
        &Method::POST,
        &uri,
        Version::HTTP_11,
        raw,
        RequestBody::Length(11),
        &mut buf,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(buf).unwrap(),
        "previousPOST / HTTP/1.1\r\nHost: virtual.test\r\nX-Id: 7\r\ncontent-length: 11\r\n\r\n"
    );

    let mut buf = Vec::new();
    let uri: Uri = "http://[::1]:9/up".parse().unwrap();
    encode_request_head(
        &Method::PUT,
        &uri,
        Version::HTTP_11,
        Pairs::new(),
        RequestBody::Chunked,
        &mut buf,
    )
    .unwrap();
    encode_chunk(b"hello", &mut buf);
    encode_chunk(b"", &mut buf);
    encode_chunk(&[b'x'; 26], &mut buf);
    encode_last_chunk(&mut buf);
    let expected = format!(
        "PUT /up HTTP/1.1\r\nhost: [::1]:9\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n1a\r\n{}\r\n0\r\n\r\n",
        "x".repeat(26)
    );
    assert_eq!(String::from_utf8(buf.clone()).unwrap(), expected);

    // Our own decoder reads our chunked encoding back.
    let head_end = expected.find("\r\n\r\n").unwrap() + 4;
    let mut input = BytesMut::from(&buf[head_end..]);
    let mut decoder = BodyDecoder::new(BodyKind::Chunked, Limits::DEFAULT);
    let mut body = Vec::new();
    while let DecodeStep::Data(data) = decoder.decode(&mut input).unwrap() {
        body.extend_from_slice(&data);
    }
    assert!(decoder.is_done() && input.is_empty());
    assert_eq!(body, [&b"hello"[..], &[b'x'; 26]].concat());

    // HTTP/1.0 without a Host and without an authority is fine.
    let mut buf = Vec::new();
    encode_request_head(
        &Method::GET,
        &"/".parse().unwrap(),
        Version::HTTP_10,
        Pairs::new(),
        RequestBody::None,
        &mut buf,
    )
    .unwrap();
    assert_eq!(buf, b"GET / HTTP/1.0\r\n\r\n");
}

#[test]
fn bad_requests_are_refused_and_leave_the_buffer_alone() {
    let uri: Uri = "http://example.com/".parse().unwrap();
    let v11 = Version::HTTP_11;
    #[rustfmt::skip]
    let cases: Vec<(&str, Uri, Version, Pairs, RequestBody)> = vec![
        ("CR in value", uri.clone(), v11, pairs(&[(b"X-A", b"a\rb")]), RequestBody::None),
        ("LF in value", uri.clone(), v11, pairs(&[(b"X-A", b"a\nb")]), RequestBody::None),
        ("NUL in value", uri.clone(), v11, pairs(&[(b"X-A", b"a\0b")]), RequestBody::None),
        ("header injection", uri.clone(), v11, pairs(&[(b"X-A", b"a\r\nInjected: yes")]), RequestBody::None),
        ("request smuggling", uri.clone(), v11, pairs(&[(b"X-A", b"a\r\n\r\nGET /admin HTTP/1.1")]), RequestBody::None),
        ("DEL in value", uri.clone(), v11, pairs(&[(b"X-A", b"a\x7f")]), RequestBody::None),
        ("space in name", uri.clone(), v11, pairs(&[(b"X A", b"1")]), RequestBody::None),
        ("colon in name", uri.clone(), v11, pairs(&[(b"X:A", b"1")]), RequestBody::None),
        ("CRLF in name", uri.clone(), v11, pairs(&[(b"X\r\nA", b"1")]), RequestBody::None),
        ("NUL in name", uri.clone(), v11, pairs(&[(b"X\0", b"1")]), RequestBody::None),
        ("empty name", uri.clone(), v11, pairs(&[(b"", b"1")]), RequestBody::None),
        ("non-ASCII name", uri.clone(), v11, pairs(&[("Ä".as_bytes(), b"1")]), RequestBody::None),
        ("CL by hand", uri.clone(), v11, pairs(&[(b"Content-Length", b"5")]), RequestBody::Length(5)),
        ("TE by hand", uri.clone(), v11, pairs(&[(b"transfer-encoding", b"chunked")]), RequestBody::None),
        ("two Hosts", uri.clone(), v11, pairs(&[(b"Host", b"a"), (b"host", b"b")]), RequestBody::None),
        ("no Host, no authority", "/path".parse().unwrap(), v11, Pairs::new(), RequestBody::None),
        ("chunked over HTTP/1.0", uri.clone(), Version::HTTP_10, Pairs::new(), RequestBody::Chunked),
        ("HTTP/2 over HTTP/1", uri.clone(), Version::HTTP_2, Pairs::new(), RequestBody::None),
    ];
    for (name, uri, version, headers, body) in cases {
        let mut buf = b"keep".to_vec();
        let err = encode_request_head(&Method::GET, &uri, version, headers, body, &mut buf)
            .expect_err(name);
        assert!(
            err.is_request() && !err.is_parse() && !err.is_body(),
            "{name}: {err:?}"
        );
        assert_eq!(buf, b"keep", "{name}: buffer changed");
    }
}

/// One exchange over a real socket: a scripted peer writes exact bytes, in
/// pieces, and a tiny client loop drives the codec.
#[test]
fn codec_composes_with_corio_sockets() {
    use corio::net::{TcpListener, TcpStream};
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use std::time::Duration;

    /// Reads until a request head (ending in an empty line) arrived; returns it.
    async fn read_request(stream: &mut TcpStream) -> String {
        let mut seen = Vec::new();
        let mut byte = [0u8; 1];
        while !seen.ends_with(b"\r\n\r\n") {
            assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "client closed");
            seen.push(byte[0]);
        }
        String::from_utf8(seen).unwrap()
    }

    /// The client: sends a GET for `path`, reads one response from `stream`
    /// with `buf` (which keeps bytes for the next response).
    async fn get(
        stream: &mut TcpStream,
        buf: &mut BytesMut,
        path: &str,
    ) -> Result<(ResponseHead, Vec<u8>, bool), Error> {
        let mut out = Vec::new();
        let uri: Uri = format!("http://127.0.0.1{path}").parse().unwrap();
        let request_headers = HeaderMap::new();
        encode_request_head(
            &Method::GET,
            &uri,
            Version::HTTP_11,
            &request_headers,
            RequestBody::None,
            &mut out,
        )?;
        stream.write_all(&out).await.map_err(Error::connect)?;

        let mut chunk = [0u8; 5];
        let limits = Limits::DEFAULT;
        let head = loop {
            match parse_response_head(buf, &limits)? {
                Some((head, n)) => {
                    buf.advance(n);
                    if head.is_interim() {
                        continue;
                    }
                    break head;
                }
                None => {
                    let n = stream
                        .read(&mut chunk)
                        .await
                        .map_err(|e| Error::body("read").with_source(e))?;
                    if n == 0 {
                        return Err(incomplete_head(buf.len()));
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        };
        let kind = body_kind(&Method::GET, head.status, &head.headers)?;
        let mut decoder = BodyDecoder::new(kind, limits);
        let mut body = Vec::new();
        loop {
            match decoder.decode(buf)? {
                DecodeStep::Data(data) => body.extend_from_slice(&data),
                DecodeStep::Done => break,
                DecodeStep::NeedMore => {
                    let n = stream
                        .read(&mut chunk)
                        .await
                        .map_err(|e| Error::body("read").with_source(e))?;
                    if n == 0 {
                        decoder.eof()?;
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
        let reuse = kind != BodyKind::CloseDelimited
            && keep_alive(head.version, &request_headers, &head.headers);
        Ok((head, body, reuse))
    }

    let outcome = corio::run(corio::timeout(Duration::from_secs(10), async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = corio::spawn(async move {
            // Connection 1: three exchanges, the last one close-delimited.
            let (mut s, _) = listener.accept().await.unwrap();
            let first = read_request(&mut s).await;
            // Written in small pieces, with pauses, to split every state.
            let script: &[&[u8]] = &[
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-",
                b"Encoding: chunked\r\n\r\n5;ext=1\r\nhel",
                b"lo\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r",
                // The end of the first response and the whole second one in one write.
                b"\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
            ];
            for piece in script {
                s.write_all(piece).await.unwrap();
                s.flush().await.unwrap();
                corio::sleep(Duration::from_millis(2)).await;
            }
            let second = read_request(&mut s).await;
            let third = read_request(&mut s).await;
            s.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close")
                .await
                .unwrap();
            drop(s);

            // Connection 2: a body cut short.
            let (mut s, _) = listener.accept().await.unwrap();
            read_request(&mut s).await;
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
                .await
                .unwrap();
            drop(s);
            (first, second, third)
        });

        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut buf = BytesMut::new();
        let (head, body, reuse) = get(&mut stream, &mut buf, "/chunked").await.unwrap();
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(body, b"hello world");
        assert!(reuse);
        // The second response arrived with the end of the first one: it sits
        // in the buffer, and the pipelined bytes are not lost.
        let (head, body, reuse) = get(&mut stream, &mut buf, "/length").await.unwrap();
        assert_eq!(head.headers["content-length"], "3");
        assert_eq!(body, b"abc");
        assert!(reuse);
        let (_, body, reuse) = get(&mut stream, &mut buf, "/close").await.unwrap();
        assert_eq!(body, b"until close");
        assert!(!reuse);

        let mut stream = TcpStream::connect(addr).await.unwrap();
        let err = get(&mut stream, &mut BytesMut::new(), "/cut")
            .await
            .unwrap_err();
        assert!(err.is_body() && !err.is_parse(), "{err:?}");
        assert!(err.to_string().contains("93 bytes missing"), "{err}");

        let (first, second, third) = peer.await.unwrap();
        assert_eq!(first, "GET /chunked HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
        assert!(second.starts_with("GET /length "), "{second}");
        assert!(third.starts_with("GET /close "), "{third}");
    }));
    outcome.expect("the exchange took more than 10 s");
}
