//! One connection: read a request head, read its body, run the handler,
//! write the response; repeat while the connection is kept alive.
//!
//! Requests on one connection are handled strictly one after another, so
//! pipelined requests are answered in order: the bytes of the next request
//! simply wait in `buf` until the current response is written.
//!
//! Every wait on the client is bounded: the head of a request must arrive
//! within `header_read_timeout` (from the accept, or from the first byte of a
//! later request), a kept-alive connection may stay silent for at most
//! `idle_timeout`, and each read of a body or write of a response must make
//! progress within `body_timeout`. A protocol error is answered with its
//! status (400, 408, 413, 431, 501) and `Connection: close`; an I/O error or
//! an early EOF just closes the connection.

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Buf, Bytes, BytesMut};
use corio_reactor::net::TcpStream;
use corio_timer::{sleep_until, timeout, Sleep};
use futures_lite::{future, AsyncRead, AsyncReadExt, AsyncWriteExt, StreamExt};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};

use crate::proto;

use super::request::Request;
use super::response::{Body, Response};
use super::router::Router;
use super::{Config, IdleSlot, Shared};

/// Why a connection stops.
enum Stop {
    /// Answer with this status, then close.
    Reply(StatusCode),
    /// Close without a word (EOF, I/O error, timeout while idle, shutdown).
    Close,
}

impl From<io::Error> for Stop {
    fn from(_: io::Error) -> Stop {
        Stop::Close
    }
}

/// A parsed request head.
struct Head {
    method: Method,
    path: String,
    query: Option<String>,
    version: Version,
    headers: HeaderMap,
    /// Whether any header the connection itself reads (`Transfer-Encoding`,
    /// `Content-Length`, `Connection`, `Expect`) is present: most requests
    /// have none, and then their lookups are skipped.
    conn_headers: bool,
}

/// How the request body is delimited.
enum Framing {
    Length(u64),
    Chunked,
}

/// The longest chunk-size line (with extensions) we accept.
const MAX_CHUNK_LINE: usize = 1024;
/// Bytes asked for per read.
const READ_SIZE: usize = 8 * 1024;
/// How long, and how much, we read and drop after an error response.
const LINGER_TIME: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 1024 * 1024;
/// Bodies up to this size are written together with the head.
const COALESCE: usize = 16 * 1024;

struct Conn {
    io: TcpStream,
    buf: BytesMut,
    scratch: Box<[u8]>,
    /// The response head (and a small body) being written; kept between
    /// responses so that a response allocates no buffer of its own.
    out: Vec<u8>,
    cfg: Arc<Config>,
    shared: Arc<Shared>,
    /// Where the shutdown finds this connection while it waits idle.
    idle: Arc<IdleSlot>,
    /// The head and idle deadlines' timer.
    timer: HeadTimer,
    /// [`parse_head`]'s list of header names and value positions, kept
    /// between requests.
    spans: Vec<(HeaderName, Range<usize>)>,
    peer: SocketAddr,
}

/// The timer of a connection's head and idle deadlines, kept from request to
/// request. Moving its deadline later costs nothing: the timer goes off at
/// the old deadline, sees the new one and re-arms for it. So a request on a
/// kept-alive connection arms and cancels no timer of its own; it polls the
/// one that is there.
struct HeadTimer(Option<Sleep>);

impl HeadTimer {
    /// `Ready` once `at` has passed; otherwise the task is woken by then.
    fn poll_expired(&mut self, at: Instant, cx: &mut Context<'_>) -> Poll<()> {
        let sleep = self.0.get_or_insert_with(|| sleep_until(at));
        loop {
            if sleep.deadline() > at {
                sleep.reset(at);
            }
            ready!(Pin::new(&mut *sleep).poll(cx));
            if sleep.deadline() >= at {
                return Poll::Ready(());
            }
            // It went off at an earlier deadline that has since moved.
            sleep.reset(at);
        }
    }
}

/// What ended a wait for request bytes.
enum Woken {
    Read(io::Result<usize>),
    Shutdown,
    Elapsed,
}

/// Serves one accepted connection until it closes.
pub(super) async fn serve(
    io: TcpStream,
    peer: SocketAddr,
    router: Arc<Router>,
    cfg: Arc<Config>,
    shared: Arc<Shared>,
    idle: Arc<IdleSlot>,
) {
    let _ = io.set_nodelay(true);
    let mut conn = Conn {
        io,
        buf: BytesMut::with_capacity(READ_SIZE),
        scratch: vec![0; READ_SIZE].into_boxed_slice(),
        out: Vec::new(),
        cfg,
        shared,
        idle,
        timer: HeadTimer(None),
        spans: Vec::new(),
        peer,
    };
    if let Err(Stop::Reply(status)) = conn.run(&router).await {
        if conn.write_error(status).await.is_ok() {
            conn.linger().await;
        }
    }
    let _ = conn.io.shutdown(std::net::Shutdown::Both);
}

impl Conn {
    async fn run(&mut self, router: &Router) -> Result<(), Stop> {
        let mut head_deadline = Some(Instant::now() + self.cfg.header_read_timeout);
        loop {
            let Some(head) = self.read_head(head_deadline.take()).await? else {
                return Ok(());
            };
            let framing = framing(&head)?;
            if expects_continue(&head) {
                // Check the size first: an oversized body is refused before
                // the client sends it.
                if let Framing::Length(n) = framing {
                    if n > self.cfg.max_body_size as u64 {
                        return Err(Stop::Reply(StatusCode::PAYLOAD_TOO_LARGE));
                    }
                }
                if self.buf.is_empty() {
                    self.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
                }
            }
            let body = match framing {
                Framing::Length(n) => self.read_length(n).await?,
                Framing::Chunked => self.read_chunked().await?,
            };
            let mut keep_alive = wants_keep_alive(&head);
            let is_head = head.method == Method::HEAD;
            let version = head.version;
            let req = Request {
                method: head.method,
                path: head.path,
                query: head.query,
                version: head.version,
                headers: head.headers,
                params: Vec::new(),
                body,
                remote_addr: self.peer,
            };
            let resp = router.dispatch(req).await;
            if self.shared.is_shutting_down() {
                keep_alive = false;
            }
            if !self
                .write_response(resp, is_head, version, keep_alive)
                .await?
            {
                return Ok(());
            }
        }
    }

    /// Reads and parses the next request head.
    ///
    /// `deadline` is the head deadline for the first request (counted from
    /// the accept); `None` for later requests, which first get
    /// `idle_timeout` for their first byte. `Ok(None)` means a clean end:
    /// EOF, silence or shutdown while no byte of a request had arrived.
    async fn read_head(&mut self, mut deadline: Option<Instant>) -> Result<Option<Head>, Stop> {
        let idle_deadline = Instant::now() + self.cfg.idle_timeout;
        loop {
            if !self.buf.is_empty() {
                match parse_head(&mut self.buf, &self.cfg, &mut self.spans)? {
                    Some(head) => return Ok(Some(head)),
                    None if self.buf.len() > self.cfg.max_head_size => {
                        return Err(Stop::Reply(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
                    }
                    None => {}
                }
            }
            let idle = self.buf.is_empty();
            let until = match deadline {
                Some(d) => d,
                None if idle => idle_deadline,
                None => {
                    let d = Instant::now() + self.cfg.header_read_timeout;
                    deadline = Some(d);
                    d
                }
            };
            let (shared, idle_slot, timer) = (&*self.shared, &*self.idle, &mut self.timer);
            let (io, scratch) = (&mut self.io, &mut self.scratch[..]);
            // The read first: bytes that are there are taken even at the
            // deadline or the shutdown.
            let woken = future::poll_fn(|cx| {
                if let Poll::Ready(r) = Pin::new(&mut *io).poll_read(cx, scratch) {
                    Poll::Ready(Woken::Read(r))
                } else if idle && shared.poll_idle_shutdown(idle_slot, cx).is_ready() {
                    // Between requests a shutdown closes the connection.
                    Poll::Ready(Woken::Shutdown)
                } else if timer.poll_expired(until, cx).is_ready() {
                    Poll::Ready(Woken::Elapsed)
                } else {
                    Poll::Pending
                }
            })
            .await;
            let n = match woken {
                Woken::Elapsed if idle => return Ok(None),
                Woken::Elapsed => return Err(Stop::Reply(StatusCode::REQUEST_TIMEOUT)),
                // Shutting down while idle. A request that already reached
                // the socket (its readiness maybe not yet reported) is
                // served; only a silent connection closes.
                Woken::Shutdown => {
                    match std::io::Read::read(&mut self.io.get_ref(), &mut self.scratch) {
                        Ok(n) if n > 0 => n,
                        _ => return Ok(None),
                    }
                }
                Woken::Read(Err(e)) => return Err(e.into()),
                Woken::Read(Ok(0)) => {
                    // EOF: fine between requests, a vanished client otherwise.
                    return if idle { Ok(None) } else { Err(Stop::Close) };
                }
                Woken::Read(Ok(n)) => n,
            };
            self.buf.extend_from_slice(&self.scratch[..n]);
            if deadline.is_none() {
                deadline = Some(Instant::now() + self.cfg.header_read_timeout);
            }
        }
    }

    /// Reads more bytes into `buf`; EOF is an error (mid-body).
    async fn fill(&mut self) -> Result<(), Stop> {
        let n = match timeout(self.cfg.body_timeout, self.io.read(&mut self.scratch)).await {
            Ok(Ok(0)) | Err(_) => return Err(Stop::Close),
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return Err(e.into()),
        };
        self.buf.extend_from_slice(&self.scratch[..n]);
        Ok(())
    }

    async fn read_length(&mut self, len: u64) -> Result<Bytes, Stop> {
        if len > self.cfg.max_body_size as u64 {
            return Err(Stop::Reply(StatusCode::PAYLOAD_TOO_LARGE));
        }
        let len = len as usize;
        while self.buf.len() < len {
            self.buf.reserve(len - self.buf.len());
            self.fill().await?;
        }
        Ok(self.buf.split_to(len).freeze())
    }

    /// Decodes a chunked body (RFC 9112 section 7.1); trailers are read and
    /// dropped.
    async fn read_chunked(&mut self) -> Result<Bytes, Stop> {
        let bad = || Stop::Reply(StatusCode::BAD_REQUEST);
        let mut body = BytesMut::new();
        loop {
            let line_len = self.read_line(MAX_CHUNK_LINE).await?;
            let line = &self.buf[..line_len];
            let size_part = match line.iter().position(|&b| b == b';') {
                Some(i) => &line[..i],
                None => line,
            };
            let size_part = trim_ows(size_part);
            if size_part.is_empty()
                || size_part.len() > 15
                || !size_part.iter().all(u8::is_ascii_hexdigit)
            {
                return Err(bad());
            }
            // At most 15 hex digits: cannot overflow a u64.
            let size = size_part.iter().fold(0u64, |acc, &b| {
                acc * 16 + (b as char).to_digit(16).unwrap_or(0) as u64
            });
            self.buf.advance(line_len + 2);
            if size == 0 {
                break;
            }
            if body.len() as u64 + size > self.cfg.max_body_size as u64 {
                return Err(Stop::Reply(StatusCode::PAYLOAD_TOO_LARGE));
            }
            let size = size as usize;
            while self.buf.len() < size + 2 {
                self.fill().await?;
            }
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(bad());
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.advance(size + 2);
        }
        // Trailer section: header lines up to an empty line.
        let mut trailer_bytes = 0;
        loop {
            let line_len = self.read_line(self.cfg.max_head_size).await?;
            self.buf.advance(line_len + 2);
            if line_len == 0 {
                break;
            }
            trailer_bytes += line_len + 2;
            if trailer_bytes > self.cfg.max_head_size {
                return Err(Stop::Reply(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
            }
        }
        Ok(body.freeze())
    }

    /// Waits until `buf` holds a CRLF-terminated line; returns its length
    /// without the CRLF. A line longer than `max` is a 400.
    async fn read_line(&mut self, max: usize) -> Result<usize, Stop> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                if pos > max {
                    return Err(Stop::Reply(StatusCode::BAD_REQUEST));
                }
                return Ok(pos);
            }
            if self.buf.len() > max + 1 {
                return Err(Stop::Reply(StatusCode::BAD_REQUEST));
            }
            self.fill().await?;
        }
    }

    /// After an error response, half-closes and reads (and drops) what the
    /// client is still sending for a moment: closing a socket with unread
    /// input makes the kernel send a reset, which can destroy the response
    /// before the client reads it (an oversized upload getting its 413).
    async fn linger(&mut self) {
        let _ = self.io.shutdown(std::net::Shutdown::Write);
        let (io, scratch) = (&mut self.io, &mut self.scratch);
        let drain = async move {
            let mut total = 0;
            while total < LINGER_BYTES {
                match io.read(scratch).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => total += n,
                }
            }
        };
        let _ = timeout(LINGER_TIME, drain).await;
    }

    async fn write_all(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        match timeout(self.cfg.body_timeout, self.io.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Stop::Close),
        }
    }

    async fn write_error(&mut self, status: StatusCode) -> Result<(), Stop> {
        let resp = Response::text(format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ))
        .with_status(status);
        self.write_response(resp, false, Version::HTTP_11, false)
            .await
            .map(drop)
    }

    /// Writes `resp`; returns whether the connection stays open.
    async fn write_response(
        &mut self,
        resp: Response,
        is_head: bool,
        version: Version,
        keep_alive: bool,
    ) -> Result<bool, Stop> {
        let Response {
            status,
            headers,
            body,
        } = resp;
        let bodiless = status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED;
        // A handler's `Connection: close` also closes (read below, while
        // the headers are copied out).
        let mut close = !keep_alive;
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(status.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(status.canonical_reason().unwrap_or("Unknown").as_bytes());
        out.extend_from_slice(b"\r\n");
        let mut chunked = false;
        match &body {
            _ if bodiless => {}
            Body::Full(b) => {
                let mut digits = [0u8; 20];
                push_header(&mut out, "content-length", decimal(b.len(), &mut digits));
            }
            Body::Stream(_) if version == Version::HTTP_11 => {
                chunked = true;
                push_header(&mut out, "transfer-encoding", "chunked");
            }
            // HTTP/1.0 has no chunked encoding: the end of the body is the
            // end of the connection.
            Body::Stream(_) => close = close || !is_head,
        }
        for (name, value) in &headers {
            if name == header::CONNECTION {
                close = close || proto::value_has_list_item(value, "close");
                continue;
            }
            if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
                continue;
            }
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if !headers.contains_key(header::DATE) {
            with_cached_date(|date| push_header(&mut out, "date", date));
        }
        if close {
            push_header(&mut out, "connection", "close");
        } else if version == Version::HTTP_10 {
            push_header(&mut out, "connection", "keep-alive");
        }
        out.extend_from_slice(b"\r\n");

        match body {
            _ if is_head || bodiless => self.write_all(&out).await?,
            Body::Full(b) if b.len() <= COALESCE => {
                out.extend_from_slice(&b);
                self.write_all(&out).await?;
            }
            Body::Full(b) => {
                self.write_all(&out).await?;
                self.write_all(&b).await?;
            }
            Body::Stream(mut stream) => {
                self.write_all(&out).await?;
                loop {
                    let item = match timeout(self.cfg.body_timeout, stream.next()).await {
                        Ok(item) => item,
                        // Headers are out: all we can do is cut the body.
                        Err(_) => return Err(Stop::Close),
                    };
                    let Some(chunk) = item else { break };
                    if chunk.is_empty() {
                        continue;
                    }
                    if chunked {
                        let mut frame = Vec::with_capacity(chunk.len() + 20);
                        proto::encode_chunk(&chunk, &mut frame);
                        self.write_all(&frame).await?;
                    } else {
                        self.write_all(&chunk).await?;
                    }
                }
                if chunked {
                    let mut last = Vec::with_capacity(5);
                    proto::encode_last_chunk(&mut last);
                    self.write_all(&last).await?;
                }
            }
        }
        if out.capacity() <= 2 * COALESCE {
            self.out = out;
        }
        let _ = timeout(self.cfg.body_timeout, self.io.flush()).await;
        Ok(!close)
    }
}

fn push_header(out: &mut Vec<u8>, name: &str, value: impl AsRef<str>) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_ref().as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Writes `n` in decimal at the end of `buf`; returns the digits.
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The most header slots [`parse_head`] keeps on the stack.
const STACK_HEADERS: usize = 128;

/// Parses a request head at the start of `buf`: `Ok(None)` if it is not
/// complete yet; otherwise the head, whose bytes are taken off `buf`.
fn parse_head(
    buf: &mut BytesMut,
    cfg: &Config,
    spans: &mut Vec<(HeaderName, Range<usize>)>,
) -> Result<Option<Head>, Stop> {
    let bad = || Stop::Reply(StatusCode::BAD_REQUEST);
    // Header slots: on the stack for the usual limits, and left uninitialized
    // (httparse writes the ones it uses), so a request head costs neither an
    // allocation nor the clearing of `max_headers` slots.
    let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
    let mut heap = Vec::new();
    let max_headers = cfg.max_headers;
    let slots = if max_headers <= STACK_HEADERS {
        &mut stack[..max_headers]
    } else {
        heap.resize_with(max_headers, MaybeUninit::uninit);
        &mut heap[..]
    };
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, slots) {
        Ok(httparse::Status::Complete(len)) if len > cfg.max_head_size => {
            return Err(Stop::Reply(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE))
        }
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Stop::Reply(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE))
        }
        Err(_) => return Err(bad()),
    };
    let method = Method::from_bytes(req.method.unwrap_or("").as_bytes()).map_err(|_| bad())?;
    let version = match req.version {
        Some(0) => Version::HTTP_10,
        Some(1) => Version::HTTP_11,
        _ => return Err(bad()),
    };
    let target = req.path.unwrap_or("");
    let target = if target.starts_with('/') || (target == "*" && method == Method::OPTIONS) {
        target
    } else if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        // absolute-form: keep the path and query after the authority.
        match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => &rest[i..],
            Some(_) => return Err(bad()),
            None => "/",
        }
    } else {
        return Err(bad());
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.to_owned(), None),
    };
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        path
    };
    // The values are not copied out: the head becomes one shared `Bytes`
    // and each value a slice of it (a reference count, no allocation).
    // Until the split, a value is its position in `buf`.
    spans.clear();
    let mut conn_headers = false;
    for h in req.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| bad())?;
        conn_headers = conn_headers
            || name == header::TRANSFER_ENCODING
            || name == header::CONTENT_LENGTH
            || name == header::CONNECTION
            || name == header::EXPECT;
        let start = h.value.as_ptr() as usize - buf.as_ptr() as usize;
        spans.push((name, start..start + h.value.len()));
    }
    let raw = buf.split_to(len).freeze();
    let mut headers = HeaderMap::with_capacity(spans.len());
    for (name, range) in spans.drain(..) {
        let value = HeaderValue::from_maybe_shared(raw.slice(range)).map_err(|_| bad())?;
        headers.append(name, value);
    }
    let head = Head {
        method,
        path,
        query,
        version,
        headers,
        conn_headers,
    };
    Ok(Some(head))
}

/// Decides how the body is delimited; rejects ambiguous framing (request
/// smuggling) with 400 and codings we cannot decode with 501.
fn framing(head: &Head) -> Result<Framing, Stop> {
    if !head.conn_headers {
        return Ok(Framing::Length(0));
    }
    let bad = || Stop::Reply(StatusCode::BAD_REQUEST);
    let te = head.headers.get_all(header::TRANSFER_ENCODING);
    let cl = head.headers.get_all(header::CONTENT_LENGTH);
    let has_te = te.iter().next().is_some();
    let has_cl = cl.iter().next().is_some();
    if has_te && has_cl {
        return Err(bad());
    }
    if has_te {
        if head.version == Version::HTTP_10 {
            return Err(bad());
        }
        let mut codings = Vec::new();
        for value in te {
            let value = value.to_str().map_err(|_| bad())?;
            for token in value.split(',') {
                let token = token.trim();
                if !token.is_empty() {
                    codings.push(token.to_ascii_lowercase());
                }
            }
        }
        return match codings.as_slice() {
            [only] if only == "chunked" => Ok(Framing::Chunked),
            [.., last] if last == "chunked" => Err(Stop::Reply(StatusCode::NOT_IMPLEMENTED)),
            _ => Err(bad()),
        };
    }
    let mut length = None;
    for value in cl {
        let digits = value.as_bytes();
        if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let n: u64 = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if length.is_some_and(|l| l != n) {
            return Err(bad());
        }
        length = Some(n);
    }
    Ok(Framing::Length(length.unwrap_or(0)))
}

fn wants_keep_alive(head: &Head) -> bool {
    if !head.conn_headers {
        return head.version == Version::HTTP_11;
    }
    match head.version {
        Version::HTTP_11 => !proto::has_list_item(&head.headers, header::CONNECTION, "close"),
        _ => proto::has_list_item(&head.headers, header::CONNECTION, "keep-alive"),
    }
}

/// An HTTP/1.1 request with `Expect: 100-continue`.
fn expects_continue(head: &Head) -> bool {
    head.version == Version::HTTP_11
        && head.conn_headers
        && proto::has_list_item(&head.headers, header::EXPECT, "100-continue")
}

/// Calls `f` with the IMF-fixdate of the current second, formatted at most
/// once per second per thread (formatting costs more than the rest of a
/// small response head).
fn with_cached_date<R>(f: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        /// The second (since the epoch) and its formatted date.
        static DATE: std::cell::RefCell<(u64, String)> =
            const { std::cell::RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let secs = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    DATE.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != secs {
            *cached = (secs, http_date(now));
        }
        f(&cached.1)
    })
}

/// Formats `t` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(super) fn http_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem / 60) % 60, rem % 60);
    // 1970-01-01 was a Thursday.
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let month_name = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!("{weekday}, {day:02} {month_name} {year} {h:02}:{m:02}:{s:02} GMT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        let mut buf = [0u8; 20];
        assert_eq!(decimal(0, &mut buf), "0");
        assert_eq!(decimal(13, &mut buf), "13");
        assert_eq!(decimal(usize::MAX, &mut buf), usize::MAX.to_string());
    }

    #[test]
    fn cached_date_is_the_current_one() {
        let before = http_date(SystemTime::now());
        let cached = with_cached_date(str::to_owned);
        let after = http_date(SystemTime::now());
        assert!(cached == before || cached == after, "{cached}");
        // A second call within the same second hands out the same text.
        let again = with_cached_date(str::to_owned);
        assert!(again == cached || again == after, "{again}");
    }

    #[test]
    fn dates() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(http_date(leap), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    fn parse(raw: &[u8]) -> Result<Option<Head>, Stop> {
        let cfg = Config {
            max_headers: 16,
            ..Config::default()
        };
        parse_head(&mut BytesMut::from(raw), &cfg, &mut Vec::new())
    }

    fn head(raw: &str) -> Head {
        match parse(raw.as_bytes()) {
            Ok(Some(h)) => h,
            _ => panic!("did not parse: {raw:?}"),
        }
    }

    /// Requests without any header the connection reads take the short
    /// path; the answers match the full rules.
    #[test]
    fn requests_without_connection_headers() {
        let h11 = head("GET / HTTP/1.1\r\nHost: a\r\nX-Other: 1\r\n\r\n");
        assert!(!h11.conn_headers);
        assert!(matches!(framing(&h11), Ok(Framing::Length(0))));
        assert!(wants_keep_alive(&h11));
        let h10 = head("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
        assert!(!wants_keep_alive(&h10));
        for raw in [
            "GET / HTTP/1.1\r\nconnection: close\r\n\r\n",
            "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert!(head(raw).conn_headers, "{raw}");
        }
        assert!(!wants_keep_alive(&head(
            "GET / HTTP/1.1\r\nconnection: close\r\n\r\n"
        )));
        assert!(wants_keep_alive(&head(
            "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
        )));
    }

    #[test]
    fn framing_rules() {
        let f = |raw: &str| framing(&head(raw));
        assert!(matches!(
            f("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"),
            Ok(Framing::Length(5))
        ));
        assert!(matches!(
            f("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
            Ok(Framing::Length(5))
        ));
        assert!(matches!(
            f("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            Err(Stop::Reply(StatusCode::BAD_REQUEST))
        ));
        assert!(matches!(
            f("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"),
            Err(Stop::Reply(StatusCode::BAD_REQUEST))
        ));
        assert!(matches!(
            f("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            Ok(Framing::Chunked)
        ));
        assert!(matches!(
            f("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            Err(Stop::Reply(StatusCode::NOT_IMPLEMENTED))
        ));
        assert!(matches!(
            f("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            Err(Stop::Reply(StatusCode::BAD_REQUEST))
        ));
        assert!(matches!(
            f("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
            Err(Stop::Reply(StatusCode::BAD_REQUEST))
        ));
    }

    #[test]
    fn targets() {
        assert_eq!(head("GET /a?b=1 HTTP/1.1\r\n\r\n").path, "/a");
        assert_eq!(
            head("GET http://x.org/p?q HTTP/1.1\r\n\r\n")
                .query
                .as_deref(),
            Some("q")
        );
        assert_eq!(head("GET http://x.org HTTP/1.1\r\n\r\n").path, "/");
        assert!(matches!(
            parse(b"GET a HTTP/1.1\r\n\r\n"),
            Err(Stop::Reply(StatusCode::BAD_REQUEST))
        ));
        assert!(matches!(parse(b"GET / HTTP/1.1\r\nHost"), Ok(None)));
    }
}
