//! How a response body is delimited ([`body_kind`], RFC 9112 section 6.3) and
//! whether the connection may be reused ([`keep_alive`]).

use http::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Method, StatusCode, Version};

use crate::Error;

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// No body at all (HEAD, 1xx, 204, 304, 2xx to CONNECT).
    Empty,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// Chunked transfer coding; ends with a zero-size chunk and trailers.
    Chunked,
    /// Everything until the server closes the connection, which therefore
    /// cannot be reused.
    CloseDelimited,
}

/// Transfer codings we recognise besides `chunked`. They are not decoded
/// here; a body that uses one of them without `chunked` last is read until
/// the connection closes, as RFC 9112 says, and handed out as sent.
const KNOWN_CODINGS: [&str; 5] = ["gzip", "x-gzip", "deflate", "compress", "x-compress"];

/// Decides how the body of a response to `method` with `status` and
/// `headers` is delimited, following RFC 9112 section 6.3.
///
/// In order:
/// 1. A response to HEAD, a 1xx, 204 or 304 response, and a 2xx response to
///    CONNECT have no body, whatever their headers say: [`BodyKind::Empty`].
/// 2. `Transfer-Encoding` together with `Content-Length` is refused: two
///    parsers that resolve the conflict differently are how requests get
///    smuggled.
/// 3. `Transfer-Encoding` (all its fields, as one comma-separated list) whose
///    last coding is `chunked` gives [`BodyKind::Chunked`]; a list that does
///    not end in `chunked` gives [`BodyKind::CloseDelimited`] (RFC 9112
///    6.3 rule 4). `chunked` twice and an empty list are refused, and so is
///    any coding outside `chunked`, `gzip`, `x-gzip`, `deflate`, `compress`,
///    `x-compress` (including codings with parameters): a body whose framing
///    we cannot name is one we cannot delimit safely.
/// 4. `Content-Length` (all its fields, each a comma-separated list) must be
///    one decimal number, possibly repeated ("5, 5" and two fields of "5"
///    are accepted): [`BodyKind::Length`]. Differing values, an empty value,
///    a sign, hex, whitespace inside a number or a value above `u64::MAX`
///    are refused.
/// 5. Otherwise the body runs until the connection closes:
///    [`BodyKind::CloseDelimited`].
///
/// # Errors
///
/// An [`is_parse`](Error::is_parse) error for the refused cases above. The
/// connection must be closed after it.
pub(crate) fn body_kind(
    method: &Method,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<BodyKind, Error> {
    if method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || (method == Method::CONNECT && status.is_success())
    {
        return Ok(BodyKind::Empty);
    }

    let has_te = headers.contains_key(TRANSFER_ENCODING);
    let has_cl = headers.contains_key(CONTENT_LENGTH);
    if has_te && has_cl {
        return Err(Error::parse(
            "response has both Transfer-Encoding and Content-Length",
        ));
    }
    if has_te {
        return transfer_encoding(headers);
    }
    if has_cl {
        return content_length(headers).map(BodyKind::Length);
    }
    Ok(BodyKind::CloseDelimited)
}

fn transfer_encoding(headers: &HeaderMap) -> Result<BodyKind, Error> {
    let mut any = false;
    let mut chunked_seen = false;
    let mut chunked_last = false;
    for value in headers.get_all(TRANSFER_ENCODING) {
        for coding in list_items(value.as_bytes()) {
            any = true;
            if coding.eq_ignore_ascii_case(b"chunked") {
                if chunked_seen {
                    return Err(Error::parse("Transfer-Encoding applies chunked twice"));
                }
                chunked_seen = true;
                chunked_last = true;
            } else if KNOWN_CODINGS
                .iter()
                .any(|known| coding.eq_ignore_ascii_case(known.as_bytes()))
            {
                chunked_last = false;
            } else {
                return Err(Error::parse(format!(
                    "unsupported transfer coding {:?}",
                    String::from_utf8_lossy(coding)
                )));
            }
        }
    }
    if !any {
        return Err(Error::parse("empty Transfer-Encoding"));
    }
    Ok(if chunked_last {
        BodyKind::Chunked
    } else {
        BodyKind::CloseDelimited
    })
}

fn content_length(headers: &HeaderMap) -> Result<u64, Error> {
    let mut length: Option<u64> = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let mut items = 0;
        for item in list_items(value.as_bytes()) {
            items += 1;
            let n = parse_decimal(item).ok_or_else(|| {
                Error::parse(format!(
                    "invalid Content-Length {:?}",
                    String::from_utf8_lossy(value.as_bytes())
                ))
            })?;
            match length {
                Some(previous) if previous != n => {
                    return Err(Error::parse(format!(
                        "differing Content-Length values {previous} and {n}"
                    )));
                }
                _ => length = Some(n),
            }
        }
        if items == 0 {
            return Err(Error::parse("empty Content-Length"));
        }
    }
    length.ok_or_else(|| Error::parse("empty Content-Length"))
}

/// Parses 1DIGIT+ into a u64; `None` for anything else or on overflow.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

/// The non-empty items of a comma-separated list, optional whitespace
/// trimmed (RFC 9110 section 5.6.1: empty items are ignored).
fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|item| !item.is_empty())
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Whether a `name` header's comma-separated list holds `item` (any case).
pub(crate) fn has_list_item(headers: &HeaderMap, name: HeaderName, item: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .any(|value| value_has_list_item(value, item))
}

/// Whether the comma-separated list `value` holds `item` (any case).
pub(crate) fn value_has_list_item(value: &HeaderValue, item: &str) -> bool {
    list_items(value.as_bytes()).any(|i| i.eq_ignore_ascii_case(item.as_bytes()))
}

fn has_connection_option(headers: &HeaderMap, option: &str) -> bool {
    has_list_item(headers, CONNECTION, option)
}

/// Whether the connection may carry another request after this exchange.
///
/// `Connection: close` in the request or the response ends it. Otherwise an
/// `HTTP/1.1` response keeps it open, and an `HTTP/1.0` response only with
/// `Connection: keep-alive`; any other version closes it. `version` is the
/// response's.
///
/// This looks at headers only: the caller must also close the connection
/// after a [`BodyKind::CloseDelimited`] body, after any error, and when the
/// body was not read to its end.
pub(crate) fn keep_alive(version: Version, request: &HeaderMap, response: &HeaderMap) -> bool {
    if has_connection_option(request, "close") || has_connection_option(response, "close") {
        return false;
    }
    match version {
        Version::HTTP_11 => true,
        Version::HTTP_10 => has_connection_option(response, "keep-alive"),
        _ => false,
    }
}
