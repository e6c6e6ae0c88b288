//! Request heads ([`encode_request_head`]) and the chunked request body
//! ([`encode_chunk`], [`encode_last_chunk`]).

use http::{Method, Uri, Version};

use crate::Error;

/// How the request body is delimited; [`encode_request_head`] writes the
/// matching header itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestBody {
    /// No body, and no framing header.
    None,
    /// Exactly this many bytes follow the head: `Content-Length: n`.
    Length(u64),
    /// The body follows in chunks ([`encode_chunk`], then
    /// [`encode_last_chunk`]): `Transfer-Encoding: chunked`. HTTP/1.1 only.
    Chunked,
}

/// Appends the request line and header section of a request to `buf`.
///
/// The request target is the origin form of `target` (its path and query,
/// `/` if empty). `headers` are written in order, as given; then `Host`
/// (from the authority of `target`, without user info) if `headers` had
/// none, is added right after the request line; then the framing header for
/// `body`; then the empty line. `headers` is anything that yields name/value
/// byte pairs: `&http::HeaderMap`, or raw pairs, which are checked as
/// strictly as the type-checked ones.
///
/// # Errors
///
/// An [`is_request`](Error::is_request) error, with `buf` left as it was,
/// when a header name is not a token (empty, spaces, colons, control bytes),
/// a header value contains CR, LF, NUL or another control byte than HTAB
/// (header injection is impossible), a header is `Content-Length` or
/// `Transfer-Encoding` (the framing comes from `body`), `Host` is given more
/// than once, an HTTP/1.1 request has neither a `Host` header nor an
/// authority in `target`, the version is not HTTP/1.0 or HTTP/1.1, or a
/// chunked body is asked for with HTTP/1.0.
pub(crate) fn encode_request_head<I, K, V>(
    method: &Method,
    target: &Uri,
    version: Version,
    headers: I,
    body: RequestBody,
    buf: &mut Vec<u8>,
) -> Result<(), Error>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    let start = buf.len();
    let result = write_head(method, target, version, headers, body, buf);
    if result.is_err() {
        buf.truncate(start);
    }
    result
}

fn write_head<I, K, V>(
    method: &Method,
    target: &Uri,
    version: Version,
    headers: I,
    body: RequestBody,
    buf: &mut Vec<u8>,
) -> Result<(), Error>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    let version_str: &[u8] = match version {
        Version::HTTP_11 => b"HTTP/1.1",
        Version::HTTP_10 => b"HTTP/1.0",
        other => return Err(Error::request(format!("cannot send {other:?} over HTTP/1"))),
    };
    if version == Version::HTTP_10 && body == RequestBody::Chunked {
        return Err(Error::request("chunked request bodies need HTTP/1.1"));
    }
    let method = method.as_str().as_bytes();
    if !is_token(method) {
        return Err(Error::request("invalid method"));
    }
    let path = target.path_and_query().map_or("/", |pq| pq.as_str());
    let path = if path.is_empty() { "/" } else { path };
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::request("invalid byte in request target"));
    }

    buf.extend_from_slice(method);
    buf.push(b' ');
    buf.extend_from_slice(path.as_bytes());
    buf.push(b' ');
    buf.extend_from_slice(version_str);
    buf.extend_from_slice(b"\r\n");
    let after_request_line = buf.len();

    let mut hosts = 0;
    for (name, value) in headers {
        let (name, value) = (name.as_ref(), value.as_ref());
        if !is_token(name) {
            return Err(Error::request(format!(
                "invalid header name {:?}",
                String::from_utf8_lossy(name)
            )));
        }
        let shown = String::from_utf8_lossy(name);
        if let Some(&bad) = value.iter().find(|&&b| is_forbidden_in_value(b)) {
            let what = match bad {
                b'\r' => "CR",
                b'\n' => "LF",
                0 => "NUL",
                _ => "a control byte",
            };
            return Err(Error::request(format!(
                "value of header `{shown}` contains {what}"
            )));
        }
        if name.eq_ignore_ascii_case(b"content-length")
            || name.eq_ignore_ascii_case(b"transfer-encoding")
        {
            return Err(Error::request(format!(
                "header `{shown}` is set from the request body's framing, not by hand"
            )));
        }
        if name.eq_ignore_ascii_case(b"host") {
            hosts += 1;
            if hosts > 1 {
                return Err(Error::request("more than one Host header"));
            }
        }
        buf.extend_from_slice(name);
        buf.extend_from_slice(b": ");
        buf.extend_from_slice(value);
        buf.extend_from_slice(b"\r\n");
    }

    if hosts == 0 {
        match target.authority() {
            Some(authority) => {
                let host = authority
                    .as_str()
                    .rsplit_once('@')
                    .map_or(authority.as_str(), |(_userinfo, host)| host);
                let line = [b"host: ", host.as_bytes(), b"\r\n"].concat();
                buf.splice(after_request_line..after_request_line, line);
            }
            None if version == Version::HTTP_11 => {
                return Err(Error::request(
                    "an HTTP/1.1 request needs a Host header or an absolute URI",
                ));
            }
            None => {}
        }
    }

    match body {
        RequestBody::None => {}
        RequestBody::Length(n) => {
            buf.extend_from_slice(b"content-length: ");
            push_decimal(n, buf);
            buf.extend_from_slice(b"\r\n");
        }
        RequestBody::Chunked => buf.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    buf.extend_from_slice(b"\r\n");
    Ok(())
}

/// Appends `data` as one chunk of a chunked body: its size in hex, CR LF, the
/// data, CR LF.
///
/// Empty `data` appends nothing: an empty chunk would end the body, which is
/// [`encode_last_chunk`]'s job.
pub(crate) fn encode_chunk(data: &[u8], buf: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    push_hex(data.len() as u64, buf);
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(data);
    buf.extend_from_slice(b"\r\n");
}

/// Appends the last chunk of a chunked body, with no trailers: `0` CR LF CR LF.
pub(crate) fn encode_last_chunk(buf: &mut Vec<u8>) {
    buf.extend_from_slice(b"0\r\n\r\n");
}

/// RFC 9110 `tchar`: the bytes a method or header name may contain.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Control bytes other than HTAB, DEL included: CR and LF would end the
/// field (header injection), NUL truncates it in C servers.
fn is_forbidden_in_value(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

fn push_hex(mut n: u64, buf: &mut Vec<u8>) {
    let mut digits = [0u8; 16];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b"0123456789abcdef"[(n & 0xf) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

fn push_decimal(mut n: u64, buf: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}
