//! [`Response`]: a response head plus its body, read on demand from the
//! connection it arrived on.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http::{HeaderMap, StatusCode, Uri, Version};
use url::Url;

use super::conn::{Conn, Pool};
use crate::proto::{BodyDecoder, DecodeStep};
use crate::Error;

/// A response from a [`Session`](crate::Session): the status and headers are
/// here, the body is read on demand; aiohttp's `ClientResponse`.
///
/// The body can be read whole ([`bytes`](Response::bytes),
/// [`text`](Response::text), `json` with the `json` feature), which is bounded by
/// the session's [`max_body_size`](crate::SessionBuilder::max_body_size), or
/// piece by piece ([`chunk`](Response::chunk),
/// [`bytes_stream`](Response::bytes_stream)), which holds at most one read's
/// worth (16 KiB) at a time, however large the body.
///
/// The connection goes back to the session's pool once the body was read to
/// its end (and the server allows keep-alive). Dropping a response whose
/// body is not complete finishes the body if what is left of it has already
/// been received, and otherwise closes the connection: nothing is read from
/// the network in `drop`.
///
/// # Examples
///
/// ```
/// use corio_http::server::{Response as Reply, Router, Server};
///
/// corio::run(async {
///     let router = Router::new().get("/", |_req| async { Reply::text("hello") });
///     let server = Server::bind("127.0.0.1:0").await?.serve(router);
///     let session = corio_http::Session::new();
///
///     let resp = session.get(format!("http://{}/", server.local_addr())).send().await?;
///     assert_eq!(resp.status(), http::StatusCode::OK);
///     assert_eq!(resp.content_length(), Some(5));
///     assert_eq!(resp.text().await?, "hello");
///
///     server.shutdown().await;
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })
/// .unwrap();
/// ```
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    pub(crate) url: Url,
    /// Boxed: a response is moved through every layer of a request, and the
    /// reader (connection, decoder, decompressor) is most of its size.
    pub(crate) body: Box<BodyReader>,
}

/// The state of a response body being read.
pub(crate) struct BodyReader {
    /// The connection, until the body is complete or failed.
    pub(crate) conn: Option<Conn>,
    pub(crate) decoder: BodyDecoder,
    /// Whether the connection may carry another exchange after this body.
    pub(crate) keep_alive: bool,
    pub(crate) pool: Arc<Pool>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) max_body_size: Option<u64>,
    pub(crate) uri: Uri,
    pub(crate) finished: bool,
    /// Decodes a gzip or deflate `Content-Encoding`, when asked to.
    pub(crate) decompressor: Option<crate::decompress::Decompressor>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("url", &self.url.as_str())
            .field("status", &self.status)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl BodyReader {
    /// Finishes the body if the decoder is done, handing the connection back.
    pub(crate) fn complete(&mut self) {
        self.finished = true;
        if let Some(conn) = self.conn.take() {
            if self.keep_alive {
                self.pool.put(conn);
            }
        }
    }

    /// Reads more bytes into the connection's buffer, within the read
    /// timeout and the request's deadline; `Ok(0)` at end of stream.
    async fn fill(&mut self) -> Result<usize, Error> {
        let conn = self
            .conn
            .as_mut()
            .expect("fill is only called with a connection");
        read_more(conn, self.read_timeout, self.deadline).await
    }

    async fn next_raw(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            if self.finished {
                return Ok(None);
            }
            let Some(conn) = self.conn.as_mut() else {
                return Err(Error::body("the body failed earlier"));
            };
            match self.decoder.decode(&mut conn.buf) {
                Ok(DecodeStep::Data(data)) => return Ok(Some(data)),
                Ok(DecodeStep::Done) => {
                    self.complete();
                    return Ok(None);
                }
                Ok(DecodeStep::NeedMore) => match self.fill().await {
                    Ok(0) => {
                        if let Err(err) = self.decoder.eof() {
                            self.conn = None;
                            return Err(err);
                        }
                    }
                    Ok(_) => {}
                    Err(err) => {
                        self.conn = None;
                        return Err(err);
                    }
                },
                Err(err) => {
                    self.conn = None;
                    return Err(err);
                }
            }
        }
    }

    async fn next_decoded(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            match self.next_raw().await? {
                Some(data) => match &mut self.decompressor {
                    None => return Ok(Some(data)),
                    Some(decompressor) => {
                        let out = decompressor.decode(data).inspect_err(|_| {
                            self.conn = None;
                        })?;
                        if !out.is_empty() {
                            return Ok(Some(out));
                        }
                    }
                },
                None => {
                    if let Some(mut decompressor) = self.decompressor.take() {
                        let out = decompressor.finish()?;
                        if !out.is_empty() {
                            return Ok(Some(out));
                        }
                    }
                    return Ok(None);
                }
            }
        }
    }

    async fn next(&mut self) -> Result<Option<Bytes>, Error> {
        let result = self.next_decoded().await;
        result.map_err(|err| err.with_url(self.uri.clone()))
    }
}

/// Reads more bytes into `conn.buf`, bounded by `read_timeout` (the longest
/// wait for one read) and `deadline` (the request's total timeout).
pub(crate) async fn read_more(
    conn: &mut Conn,
    read_timeout: Option<Duration>,
    deadline: Option<Instant>,
) -> Result<usize, Error> {
    let mut until = deadline;
    if let Some(limit) = read_timeout {
        let read_deadline = Instant::now() + limit;
        until = Some(until.map_or(read_deadline, |d| d.min(read_deadline)));
    }
    let result = match until {
        Some(until) => corio_timer::timeout_at(until, conn.fill())
            .await
            .map_err(|_| Error::timeout())?,
        None => conn.fill().await,
    };
    result.map_err(|err| Error::body("error reading from the connection").with_source(err))
}

impl Drop for BodyReader {
    fn drop(&mut self) {
        // Finish a body whose rest is already buffered, so that the
        // connection can be reused; anything else closes the connection.
        if self.finished {
            return;
        }
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        loop {
            match self.decoder.decode(&mut conn.buf) {
                Ok(DecodeStep::Data(_)) => continue,
                Ok(DecodeStep::Done) => {
                    self.complete();
                    return;
                }
                Ok(DecodeStep::NeedMore) | Err(_) => return,
            }
        }
    }
}

impl Response {
    /// The status code; aiohttp's `resp.status`.
    ///
    /// # Examples
    ///
    /// ```
    /// fn ok(resp: &corio_http::Response) -> bool {
    ///     resp.status().is_success()
    /// }
    /// # let _ = ok;
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version of the response (HTTP/1.0 or HTTP/1.1).
    ///
    /// # Examples
    ///
    /// ```
    /// fn old(resp: &corio_http::Response) -> bool {
    ///     resp.version() == http::Version::HTTP_10
    /// }
    /// # let _ = old;
    /// ```
    pub fn version(&self) -> Version {
        self.version
    }

    /// The response headers; aiohttp's `resp.headers`.
    ///
    /// # Examples
    ///
    /// ```
    /// fn content_type(resp: &corio_http::Response) -> Option<&str> {
    ///     resp.headers().get(http::header::CONTENT_TYPE)?.to_str().ok()
    /// }
    /// # let _ = content_type;
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The URL this response came from: the last one after redirects;
    /// aiohttp's `resp.url`.
    ///
    /// # Examples
    ///
    /// ```
    /// fn host(resp: &corio_http::Response) -> Option<&str> {
    ///     resp.url().host_str()
    /// }
    /// # let _ = host;
    /// ```
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The body length announced by `Content-Length`, if any (for a response
    /// to HEAD, the length a GET would have had).
    ///
    /// # Examples
    ///
    /// ```
    /// fn small(resp: &corio_http::Response) -> bool {
    ///     resp.content_length().is_some_and(|n| n < 1024)
    /// }
    /// # let _ = small;
    /// ```
    pub fn content_length(&self) -> Option<u64> {
        self.announced_length()
    }

    fn announced_length(&self) -> Option<u64> {
        self.headers
            .get(http::header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Reads the next piece of the body; `Ok(None)` once it is complete.
    ///
    /// Pieces come as they arrive from the network (zero-copy slices of the
    /// read buffer, at most 16 KiB each). At the end of the body the
    /// connection goes back to the pool.
    ///
    /// # Errors
    ///
    /// [`is_timeout`](Error::is_timeout) if the read timeout or the total
    /// timeout passes; [`is_body`](Error::is_body) if the connection closed
    /// early or failed (with [`is_parse`](Error::is_parse) /
    /// [`is_limit`](Error::is_limit) for bad or oversized chunked framing).
    /// After an error the connection is closed and every later call fails.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while it waits for bytes loses nothing: bytes
    /// already read stay buffered and the next call resumes where this one
    /// stopped. No piece is returned twice.
    ///
    /// # Examples
    ///
    /// ```
    /// async fn count(mut resp: corio_http::Response) -> Result<u64, corio_http::Error> {
    ///     let mut n = 0;
    ///     while let Some(chunk) = resp.chunk().await? {
    ///         n += chunk.len() as u64;
    ///     }
    ///     Ok(n)
    /// }
    /// # let _ = count;
    /// ```
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        self.body.next().await
    }

    /// Reads the whole body into memory; aiohttp's `await resp.read()`.
    ///
    /// # Errors
    ///
    /// As [`chunk`](Response::chunk); also [`is_limit`](Error::is_limit) if
    /// the body is larger than the session's
    /// [`max_body_size`](crate::SessionBuilder::max_body_size) (refused from
    /// `Content-Length` before reading when it is announced).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the response with it, and the part of the
    /// body read so far; the connection is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// async fn size(resp: corio_http::Response) -> Result<usize, corio_http::Error> {
    ///     Ok(resp.bytes().await?.len())
    /// }
    /// # let _ = size;
    /// ```
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let max = self.body.max_body_size;
        if let (Some(max), Some(announced)) = (max, self.announced_length()) {
            if announced > max {
                return Err(
                    Error::limit_body(format!("body is larger than {max} bytes"))
                        .with_url(self.body.uri.clone()),
                );
            }
        }
        let mut all = BytesMut::new();
        while let Some(chunk) = self.chunk().await? {
            if let Some(max) = max {
                if (all.len() + chunk.len()) as u64 > max {
                    return Err(
                        Error::limit_body(format!("body is larger than {max} bytes"))
                            .with_url(self.body.uri.clone()),
                    );
                }
            }
            if all.is_empty() && self.body.finished {
                return Ok(chunk);
            }
            all.extend_from_slice(&chunk);
        }
        Ok(all.freeze())
    }

    /// Reads the whole body as text; aiohttp's `await resp.text()`.
    ///
    /// The body is decoded from the charset that `Content-Type` names
    /// (`text/html; charset=iso-8859-1`), UTF-8 when it names none or one
    /// that is unknown; a byte-order mark wins over both. Invalid sequences
    /// become U+FFFD.
    ///
    /// # Errors
    ///
    /// As [`bytes`](Response::bytes).
    ///
    /// # Cancel safety
    ///
    /// As [`bytes`](Response::bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// async fn show(resp: corio_http::Response) -> Result<(), corio_http::Error> {
    ///     println!("{}", resp.text().await?);
    ///     Ok(())
    /// }
    /// # let _ = show;
    /// ```
    pub async fn text(self) -> Result<String, Error> {
        let encoding = self
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| charset(value.as_bytes()))
            .and_then(encoding_rs::Encoding::for_label)
            .unwrap_or(encoding_rs::UTF_8);
        let bytes = self.bytes().await?;
        let (text, _, _) = encoding.decode(&bytes);
        Ok(text.into_owned())
    }

    /// Reads the whole body and parses it as JSON; aiohttp's
    /// `await resp.json()`. Needs the `json` feature.
    ///
    /// # Errors
    ///
    /// As [`bytes`](Response::bytes); [`is_decode`](Error::is_decode) if the
    /// body is not valid JSON for `T`.
    ///
    /// # Cancel safety
    ///
    /// As [`bytes`](Response::bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// async fn count(resp: corio_http::Response) -> Result<u64, corio_http::Error> {
    ///     let value: serde_json::Value = resp.json().await?;
    ///     Ok(value["count"].as_u64().unwrap_or(0))
    /// }
    /// # let _ = count;
    /// ```
    #[cfg(feature = "json")]
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, Error> {
        let uri = self.body.uri.clone();
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|err| Error::decode(err).with_url(uri))
    }

    /// Turns the response into a [`Stream`] of body pieces, as
    /// [`chunk`](Response::chunk) returns them; the stream ends after the
    /// last piece or after the first error.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    ///
    /// async fn count(resp: corio_http::Response) -> Result<u64, corio_http::Error> {
    ///     let mut stream = resp.bytes_stream();
    ///     let mut n = 0;
    ///     while let Some(piece) = stream.next().await {
    ///         n += piece?.len() as u64;
    ///     }
    ///     Ok(n)
    /// }
    /// # let _ = count;
    /// ```
    pub fn bytes_stream(self) -> BytesStream {
        let stream = futures_lite::stream::unfold(Some(self), |resp| async move {
            let mut resp = resp?;
            match resp.chunk().await {
                Ok(Some(piece)) => Some((Ok(piece), Some(resp))),
                Ok(None) => None,
                Err(err) => Some((Err(err), None)),
            }
        });
        BytesStream {
            inner: Box::pin(stream),
        }
    }

    /// Returns the response if its status is not an error (4xx, 5xx), and an
    /// [`is_status`](Error::is_status) error otherwise; aiohttp's
    /// `raise_for_status()`.
    ///
    /// # Errors
    ///
    /// An [`is_status`](Error::is_status) error carrying the status and the
    /// URL for a 4xx or 5xx response (which is dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// async fn fetch(session: &corio_http::Session, url: &str) -> Result<String, corio_http::Error> {
    ///     session.get(url).send().await?.error_for_status()?.text().await
    /// }
    /// # let _ = fetch;
    /// ```
    pub fn error_for_status(self) -> Result<Response, Error> {
        if self.status.is_client_error() || self.status.is_server_error() {
            Err(Error::from_status(self.status).with_url(self.body.uri.clone()))
        } else {
            Ok(self)
        }
    }
}

/// The body of a [`Response`] as a [`Stream`] of `Result<Bytes, Error>`,
/// from [`Response::bytes_stream`]; aiohttp's `resp.content.iter_any()`.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// async fn first(resp: corio_http::Response) -> Option<bytes::Bytes> {
///     resp.bytes_stream().next().await?.ok()
/// }
/// # let _ = first;
/// ```
pub struct BytesStream {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>,
}

impl fmt::Debug for BytesStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BytesStream").finish_non_exhaustive()
    }
}

impl Stream for BytesStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// The `charset` parameter of a `Content-Type` value, without quotes.
fn charset(content_type: &[u8]) -> Option<&[u8]> {
    content_type
        .split(|&b| b == b';')
        .skip(1)
        .find_map(|param| {
            let param = param.trim_ascii();
            let (name, value) = param.split_at(param.iter().position(|&b| b == b'=')?);
            name.trim_ascii()
                .eq_ignore_ascii_case(b"charset")
                .then(|| value[1..].trim_ascii())
        })
        .map(|value| {
            value
                .strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
                .unwrap_or(value)
        })
}

#[cfg(test)]
mod tests {
    use super::charset;

    #[test]
    fn charset_parameter() {
        assert_eq!(
            charset(b"text/html; charset=ISO-8859-1"),
            Some(&b"ISO-8859-1"[..])
        );
        assert_eq!(
            charset(b"text/plain;charset=\"utf-8\""),
            Some(&b"utf-8"[..])
        );
        assert_eq!(
            charset(b"text/plain; format=flowed; Charset = koi8-r "),
            Some(&b"koi8-r"[..])
        );
        assert_eq!(charset(b"text/plain"), None);
        assert_eq!(charset(b"text/plain; format=flowed"), None);
        assert_eq!(charset(b"text/plain; charset"), None);
    }
}
