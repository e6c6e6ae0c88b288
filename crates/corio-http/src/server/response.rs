//! [`Response`]: what a handler returns.

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures_lite::Stream;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};

/// The body of a response.
pub(crate) enum Body {
    /// A body known in full: sent with `Content-Length`.
    Full(Bytes),
    /// A body produced piece by piece: sent chunked.
    Stream(Pin<Box<dyn Stream<Item = Bytes> + Send + 'static>>),
}

/// An HTTP response: aiohttp's `web.Response` (and `web.StreamResponse`).
///
/// A response is a status, headers and a body. The helpers set the usual
/// content type: [`text`](Response::text) (`text/plain; charset=utf-8`),
/// [`html`](Response::html), [`json_str`](Response::json_str)
/// (`application/json`, from JSON text you serialized yourself),
/// [`bytes`](Response::bytes) (`application/octet-stream`), and
/// [`stream`](Response::stream), whose body is a [`Stream`] of [`Bytes`] sent
/// with chunked transfer encoding (or, to an HTTP/1.0 client, delimited by
/// closing the connection).
///
/// The server sets `Content-Length` (or `Transfer-Encoding`), `Date` (unless
/// the handler set one) and `Connection` itself, replacing any such framing
/// header the handler set. A handler that sets `Connection: close` makes the
/// server close the connection after this response. Responses with status
/// 1xx, `204 No Content` or `304 Not Modified` never carry a body.
///
/// # Examples
///
/// ```
/// use corio_http::server::Response;
/// use http::StatusCode;
///
/// let resp = Response::json_str(r#"{"id": 7}"#)
///     .with_status(StatusCode::CREATED)
///     .with_header("x-request-id", "abc");
/// assert_eq!(resp.status(), StatusCode::CREATED);
/// assert_eq!(resp.headers()["content-type"], "application/json");
/// assert_eq!(resp.headers()["x-request-id"], "abc");
/// ```
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = match &self.body {
            Body::Full(b) => format!("{} bytes", b.len()),
            Body::Stream(_) => "stream".to_owned(),
        };
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &body)
            .finish()
    }
}

impl Default for Response {
    fn default() -> Self {
        Response::empty(StatusCode::OK)
    }
}

const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const TEXT_HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

impl Response {
    /// A response with `status`, no headers and an empty body.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    /// use http::StatusCode;
    ///
    /// let resp = Response::empty(StatusCode::NO_CONTENT);
    /// assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    /// assert_eq!(resp.body_bytes().map(|b| b.len()), Some(0));
    /// ```
    pub fn empty(status: StatusCode) -> Response {
        Response {
            status,
            headers: HeaderMap::new(),
            body: Body::Full(Bytes::new()),
        }
    }

    /// `content_type` is one of the constants above: `from_static` checks
    /// its bytes at compile time there, not on every response.
    fn with_type(body: Bytes, content_type: HeaderValue) -> Response {
        let mut resp = Response::empty(StatusCode::OK);
        resp.headers.insert(CONTENT_TYPE, content_type);
        resp.body = Body::Full(body);
        resp
    }

    /// `200 OK` with a `text/plain; charset=utf-8` body: `web.Response(text=...)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    ///
    /// let resp = Response::text("Hello, corio!");
    /// assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
    /// assert_eq!(resp.body_bytes().unwrap(), "Hello, corio!");
    /// ```
    pub fn text(text: impl Into<String>) -> Response {
        Response::with_type(Bytes::from(text.into()), TEXT_PLAIN)
    }

    /// `200 OK` with a `text/html; charset=utf-8` body.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    ///
    /// let resp = Response::html("<h1>hi</h1>");
    /// assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
    /// ```
    pub fn html(html: impl Into<String>) -> Response {
        Response::with_type(Bytes::from(html.into()), TEXT_HTML)
    }

    /// `200 OK` with JSON text you serialized yourself, as `application/json`
    /// (`web.json_response` without the serializer).
    ///
    /// The text is sent as it is; it is not checked to be valid JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    ///
    /// let resp = Response::json_str(r#"{"ok": true}"#);
    /// assert_eq!(resp.headers()["content-type"], "application/json");
    /// ```
    pub fn json_str(json: impl Into<String>) -> Response {
        Response::with_type(Bytes::from(json.into()), APPLICATION_JSON)
    }

    /// `200 OK` with a binary `application/octet-stream` body
    /// (`web.Response(body=...)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    ///
    /// let resp = Response::bytes(vec![1u8, 2, 3]);
    /// assert_eq!(resp.body_bytes().unwrap().as_ref(), &[1, 2, 3]);
    /// ```
    pub fn bytes(body: impl Into<Bytes>) -> Response {
        Response::with_type(body.into(), OCTET_STREAM)
    }

    /// `200 OK` whose body is the items of `stream`, sent as they come with
    /// chunked transfer encoding (aiohttp's `web.StreamResponse` + `write`).
    ///
    /// The default content type is `application/octet-stream`; change it with
    /// [`with_header`](Response::with_header). Empty items are skipped. The
    /// stream is polled by the connection's task after the response head is
    /// sent; if it panics, the connection is closed (the status line is
    /// already out).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use corio_http::server::Response;
    ///
    /// let parts = futures_lite::stream::iter(vec![Bytes::from("a"), Bytes::from("b")]);
    /// let resp = Response::stream(parts).with_header("content-type", "text/plain");
    /// assert!(resp.body_bytes().is_none()); // not known in advance
    /// ```
    pub fn stream<S>(stream: S) -> Response
    where
        S: Stream<Item = Bytes> + Send + 'static,
    {
        let mut resp = Response::with_type(Bytes::new(), OCTET_STREAM);
        resp.body = Body::Stream(Box::pin(stream));
        resp
    }

    /// Sets the status (builder style).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    /// use http::StatusCode;
    ///
    /// let resp = Response::text("gone").with_status(StatusCode::GONE);
    /// assert_eq!(resp.status(), StatusCode::GONE);
    /// ```
    pub fn with_status(mut self, status: StatusCode) -> Response {
        self.status = status;
        self
    }

    /// Sets header `name` to `value`, replacing earlier values (builder style).
    ///
    /// # Panics
    ///
    /// When `name` is not a valid header name or `value` not a valid header
    /// value (for example one containing a newline). Use
    /// [`headers_mut`](Response::headers_mut) with checked conversions for
    /// untrusted input.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    ///
    /// let resp = Response::text("").with_header("cache-control", "no-store");
    /// assert_eq!(resp.headers()["cache-control"], "no-store");
    /// ```
    pub fn with_header<K, V>(mut self, name: K, value: V) -> Response
    where
        HeaderName: TryFrom<K>,
        HeaderValue: TryFrom<V>,
    {
        let Ok(name) = HeaderName::try_from(name) else {
            panic!("Response::with_header: invalid header name");
        };
        let Ok(value) = HeaderValue::try_from(value) else {
            panic!("Response::with_header: invalid value for header {name}");
        };
        self.headers.insert(name, value);
        self
    }

    /// The status.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    ///
    /// assert_eq!(Response::text("").status(), http::StatusCode::OK);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Sets the status.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    /// use http::StatusCode;
    ///
    /// let mut resp = Response::text("");
    /// resp.set_status(StatusCode::ACCEPTED);
    /// assert_eq!(resp.status(), StatusCode::ACCEPTED);
    /// ```
    pub fn set_status(&mut self, status: StatusCode) {
        self.status = status;
    }

    /// The headers.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    ///
    /// assert!(Response::text("").headers().contains_key("content-type"));
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The headers, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    /// use http::header::{HeaderValue, LOCATION};
    ///
    /// let mut resp = Response::empty(http::StatusCode::FOUND);
    /// resp.headers_mut().insert(LOCATION, HeaderValue::from_static("/home"));
    /// assert_eq!(resp.headers()[LOCATION], "/home");
    /// ```
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body, if it is known in full (`None` for a [`stream`](Response::stream)).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Response;
    ///
    /// assert_eq!(Response::text("hi").body_bytes().unwrap(), "hi");
    /// ```
    pub fn body_bytes(&self) -> Option<&Bytes> {
        match &self.body {
            Body::Full(b) => Some(b),
            Body::Stream(_) => None,
        }
    }
}

impl From<String> for Response {
    fn from(text: String) -> Response {
        Response::text(text)
    }
}

impl From<&'static str> for Response {
    fn from(text: &'static str) -> Response {
        Response::text(text)
    }
}

impl From<StatusCode> for Response {
    fn from(status: StatusCode) -> Response {
        Response::empty(status)
    }
}
