//! Response heads: [`parse_response_head`] and [`ResponseHead`].

use std::borrow::Cow;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode, Version};

use super::scan::{scan_block, BlockRules};
use super::Limits;
use crate::Error;

/// The status line and headers of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResponseHead {
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub(crate) version: Version,
    /// The status code, 100 to 999.
    pub(crate) status: StatusCode,
    /// The reason phrase as sent ("OK"); empty if absent or not UTF-8.
    /// Borrowed when it is the status code's canonical one.
    pub(crate) reason: Cow<'static, str>,
    /// The header fields, in the order received.
    pub(crate) headers: HeaderMap,
}

impl ResponseHead {
    /// Whether this is an interim response (`100 Continue`, `103 Early
    /// Hints`, any other 1xx but 101) that the caller skips before parsing
    /// the final response from the bytes that follow it.
    ///
    /// An interim response has no body. `101 Switching Protocols` is never
    /// interim: we never ask to upgrade, so [`parse_response_head`] refuses
    /// it.
    pub(crate) fn is_interim(&self) -> bool {
        self.status.is_informational() && self.status != StatusCode::SWITCHING_PROTOCOLS
    }
}

/// The most header fields whose slots [`parse_response_head`] keeps on the
/// stack.
const STACK_FIELDS: usize = 24;

/// Parses a response head from the start of `buf`, incrementally.
///
/// Returns `Ok(None)` while the head is incomplete: read more bytes, append
/// them and call again with the whole buffer (the head is re-parsed; it is
/// bounded by `limits.max_head_size`). Returns `Ok(Some((head, consumed)))`
/// once the empty line that ends the head has arrived; the body (or the next
/// response) starts at `buf[consumed..]`.
///
/// Lines must end in CR LF. Only `HTTP/1.0` and `HTTP/1.1` are accepted.
///
/// # Errors
///
/// * [`is_parse`](Error::is_parse): a malformed status line (bad version,
///   a status code that is not three digits in 100..=999), a header name that
///   is not a token or has whitespace before the colon, a header value with
///   control bytes, obs-fold, a bare CR or LF, a NUL byte, an empty head, or
///   a `101 Switching Protocols` (never requested).
/// * [`is_limit`](Error::is_limit): more than `limits.max_headers` fields, a
///   head larger than `limits.max_head_size`, a line longer than
///   `limits.max_line_len`. These are reported as soon as the bytes that
///   break the limit have arrived.
pub(crate) fn parse_response_head(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<(ResponseHead, usize)>, Error> {
    let rules = BlockRules {
        what: "response head",
        body: false,
        fields_from: 1,
        max_line_len: limits.max_line_len,
        max_lines: limits.max_headers.saturating_add(1),
    };
    let window = &buf[..buf.len().min(limits.max_head_size)];
    let Some(block) = scan_block(window, &rules)? else {
        if buf.len() >= limits.max_head_size {
            return Err(Error::limit(format!(
                "response head is larger than {} bytes",
                limits.max_head_size
            )));
        }
        return Ok(None);
    };
    if block.lines == 0 {
        return Err(Error::parse(
            "empty line where the status line was expected",
        ));
    }

    // Header slots on the stack for the usual head, on the heap for a big one.
    let mut stack = [httparse::EMPTY_HEADER; STACK_FIELDS];
    let mut heap = Vec::new();
    let fields = if block.lines - 1 <= STACK_FIELDS {
        &mut stack[..block.lines - 1]
    } else {
        heap.resize(block.lines - 1, httparse::EMPTY_HEADER);
        &mut heap[..]
    };
    let mut response = httparse::Response::new(fields);
    match response.parse(&window[..block.len]) {
        Ok(httparse::Status::Complete(n)) if n == block.len => {}
        Ok(_) => return Err(Error::parse("response head ends where it should not")),
        Err(err) => {
            let message = match err {
                httparse::Error::HeaderName => "invalid header name",
                httparse::Error::HeaderValue => "invalid header value",
                httparse::Error::NewLine => "invalid line ending",
                httparse::Error::Status => "invalid status code",
                httparse::Error::Token => "invalid token",
                httparse::Error::TooManyHeaders => "too many header fields",
                httparse::Error::Version => {
                    "unsupported HTTP version (expected HTTP/1.0 or HTTP/1.1)"
                }
            };
            return Err(Error::parse(message).with_source(err));
        }
    }

    let version = match response.version {
        Some(0) => Version::HTTP_10,
        Some(1) => Version::HTTP_11,
        _ => return Err(Error::parse("unsupported HTTP version")),
    };
    let code = response.code.unwrap_or(0);
    let status = StatusCode::from_u16(code)
        .map_err(|err| Error::parse(format!("invalid status code {code:03}")).with_source(err))?;
    if status == StatusCode::SWITCHING_PROTOCOLS {
        return Err(Error::parse(
            "unexpected 101 Switching Protocols: no upgrade was requested",
        ));
    }
    let reason = match (response.reason.unwrap_or(""), status.canonical_reason()) {
        (sent, Some(canonical)) if sent == canonical => Cow::Borrowed(canonical),
        ("", _) => Cow::Borrowed(""),
        (sent, _) => Cow::Owned(sent.to_owned()),
    };

    let mut headers = HeaderMap::with_capacity(response.headers.len());
    for field in response.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|err| {
            Error::parse(format!("invalid header name {:?}", field.name)).with_source(err)
        })?;
        let value = HeaderValue::from_bytes(field.value).map_err(|err| {
            Error::parse(format!("invalid value for header `{name}`")).with_source(err)
        })?;
        headers.append(name, value);
    }

    let head = ResponseHead {
        version,
        status,
        reason,
        headers,
    };
    Ok(Some((head, block.len)))
}

/// The error for a connection that closed before a complete response head
/// arrived, `buffered` bytes of it having been received.
///
/// An [`is_parse`](Error::is_parse) error; its message tells a connection
/// that closed before sending anything (on a reused connection, a request
/// that can be retried if it was idempotent) from one that closed mid-head.
pub(crate) fn incomplete_head(buffered: usize) -> Error {
    if buffered == 0 {
        Error::parse("connection closed before a response was received")
    } else {
        Error::parse(format!(
            "connection closed before the response head was complete ({buffered} bytes received)"
        ))
    }
}
