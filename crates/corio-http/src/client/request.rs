//! [`RequestBuilder`]: one request being put together, then sent.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use futures_core::Stream;
use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::Method;
use url::Url;

use super::{Response, Session};
use crate::Error;

/// A request body as the session holds it.
pub(crate) enum Body {
    /// No body.
    Empty,
    /// A body in memory; can be sent again (redirects, retries).
    Bytes(Bytes),
    /// A body produced as it is sent, with chunked framing; sent at most once.
    /// (The mutex only makes the body `Sync`; it is never locked, the owner
    /// takes the stream out with `into_inner`.)
    Stream(Mutex<Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>>),
}

impl Body {
    /// A copy of the body if it can be sent again.
    pub(crate) fn try_clone(&self) -> Option<Body> {
        match self {
            Body::Empty => Some(Body::Empty),
            Body::Bytes(bytes) => Some(Body::Bytes(bytes.clone())),
            Body::Stream(_) => None,
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            Body::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// A request under construction, made by [`Session::get`],
/// [`Session::post`], ... [`Session::request`]; what aiohttp takes as the
/// keyword arguments of `session.request(...)`.
///
/// Each method consumes and returns the builder; [`send`](RequestBuilder::send)
/// sends it. A mistake found while building (a bad URL, an invalid header
/// name or value) is kept and returned by `send`, which then sends nothing.
///
/// # Examples
///
/// ```
/// use corio_http::server::{Request, Response as Reply, Router, Server};
///
/// corio::run(async {
///     let router = Router::new().post("/echo", |req: Request| async move {
///         Reply::text(format!("{:?} {}", req.query(), req.text().unwrap_or("")))
///     });
///     let server = Server::bind("127.0.0.1:0").await?.serve(router);
///     let session = corio_http::Session::new();
///
///     let text = session
///         .post(format!("http://{}/echo", server.local_addr()))
///         .query(&[("q", "a b")])
///         .header("x-trace", "1")
///         .body("payload")
///         .send()
///         .await?
///         .text()
///         .await?;
///     assert_eq!(text, r#"Some("q=a+b") payload"#);
///
///     server.shutdown().await;
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })
/// .unwrap();
/// ```
pub struct RequestBuilder {
    pub(crate) session: Session,
    pub(crate) method: Method,
    pub(crate) url: Result<Url, Error>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    pub(crate) timeout: Option<Duration>,
    pub(crate) error: Option<Error>,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RequestBuilder");
        d.field("method", &self.method);
        match &self.url {
            Ok(url) => d.field("url", &url.as_str()),
            Err(err) => d.field("url", err),
        };
        d.field("headers", &self.headers)
            .field("body", &self.body)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RequestBuilder {
    fn fail(&mut self, err: Error) {
        if self.error.is_none() {
            self.error = Some(err);
        }
    }

    /// Appends `pairs` to the URL's query string, form-encoded
    /// (`?a=1&b=x+y`); aiohttp's `params=`.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::new();
    /// let req = session.get("http://127.0.0.1:1/search").query(&[("q", "rust async"), ("page", "2")]);
    /// # let _ = req;
    /// ```
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> RequestBuilder {
        if let Ok(url) = &mut self.url {
            let mut query = url.query_pairs_mut();
            for (k, v) in pairs {
                query.append_pair(k.as_ref(), v.as_ref());
            }
        }
        self
    }

    /// Adds a header (appended to any of the same name); aiohttp's
    /// `headers=`.
    ///
    /// A name that is not a valid header name, or a value with CR, LF, NUL
    /// or another control byte, is kept as an [`is_request`](Error::is_request)
    /// error that [`send`](RequestBuilder::send) returns without sending
    /// anything.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::new();
    /// let req = session.get("http://127.0.0.1:1/").header("x-request-id", "42");
    /// # let _ = req;
    /// ```
    pub fn header<K, V>(mut self, name: K, value: V) -> RequestBuilder
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
    {
        match (name.try_into(), value.try_into()) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            (Err(_), _) => self.fail(Error::request("invalid header name")),
            (_, Err(_)) => self.fail(Error::request(
                "invalid header value (CR, LF, NUL and control bytes are refused)",
            )),
        }
        self
    }

    /// Adds all of `headers` (appended to any of the same name).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("x-a", http::HeaderValue::from_static("1"));
    /// let req = corio_http::Session::new().get("http://127.0.0.1:1/").headers(headers);
    /// # let _ = req;
    /// ```
    pub fn headers(mut self, headers: HeaderMap) -> RequestBuilder {
        let mut last = None;
        for (name, value) in headers {
            if let Some(name) = name {
                last = Some(name);
            }
            if let Some(name) = &last {
                self.headers.append(name.clone(), value);
            }
        }
        self
    }

    /// Sets the body, sent with `Content-Length`; aiohttp's `data=` with
    /// bytes or a string.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::new();
    /// let req = session.put("http://127.0.0.1:1/item").body(vec![1u8, 2, 3]);
    /// # let _ = req;
    /// ```
    pub fn body(mut self, body: impl Into<Bytes>) -> RequestBuilder {
        self.body = Body::Bytes(body.into());
        self
    }

    /// Sets a body produced by a stream, sent with chunked framing as the
    /// stream yields (empty pieces are skipped); aiohttp's `data=` with an
    /// async generator.
    ///
    /// Such a body is sent once: it is not sent again on a 307/308 redirect
    /// (the redirect response is returned) nor retried.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    ///
    /// let pieces = futures_lite::stream::iter(vec![
    ///     Ok::<_, std::io::Error>(Bytes::from_static(b"hello ")),
    ///     Ok(Bytes::from_static(b"world")),
    /// ]);
    /// let req = corio_http::Session::new().post("http://127.0.0.1:1/upload").body_stream(pieces);
    /// # let _ = req;
    /// ```
    pub fn body_stream<S>(mut self, stream: S) -> RequestBuilder
    where
        S: Stream<Item = io::Result<Bytes>> + Send + 'static,
    {
        self.body = Body::Stream(Mutex::new(Box::pin(stream)));
        self
    }

    /// Sets a form-encoded body (`a=1&b=x+y`) and
    /// `Content-Type: application/x-www-form-urlencoded`; aiohttp's
    /// `data=` with a dict.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::new();
    /// let req = session.post("http://127.0.0.1:1/login").form(&[("user", "ann"), ("pass", "x y")]);
    /// # let _ = req;
    /// ```
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> RequestBuilder {
        let mut encoder = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            encoder.append_pair(k.as_ref(), v.as_ref());
        }
        self.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self.body = Body::Bytes(encoder.finish().into());
        self
    }

    /// Sets a JSON body and `Content-Type: application/json`; aiohttp's
    /// `json=`. Needs the `json` feature.
    ///
    /// A value that fails to serialize is kept as an
    /// [`is_request`](Error::is_request) error for [`send`](RequestBuilder::send).
    ///
    /// # Examples
    ///
    /// ```
    /// let body = serde_json::json!({ "name": "corio" });
    /// let req = corio_http::Session::new().post("http://127.0.0.1:1/items").json(&body);
    /// # let _ = req;
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> RequestBuilder {
        match serde_json::to_vec(value) {
            Ok(body) => {
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                self.body = Body::Bytes(body.into());
            }
            Err(err) => {
                self.fail(Error::request("cannot serialize the JSON body").with_source(err))
            }
        }
        self
    }

    /// Sets `Authorization: Basic ...` from a user name and an optional
    /// password; aiohttp's `auth=BasicAuth(...)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = corio_http::Session::new().get("http://127.0.0.1:1/").basic_auth("ann", Some("secret"));
    /// # let _ = req;
    /// ```
    pub fn basic_auth(
        self,
        user: impl fmt::Display,
        password: Option<impl fmt::Display>,
    ) -> RequestBuilder {
        let credentials = match password {
            Some(password) => format!("{user}:{password}"),
            None => format!("{user}:"),
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        self.set_auth(format!("Basic {encoded}"))
    }

    /// Sets `Authorization: Bearer <token>`.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = corio_http::Session::new().get("http://127.0.0.1:1/").bearer_auth("t0ken");
    /// # let _ = req;
    /// ```
    pub fn bearer_auth(self, token: impl fmt::Display) -> RequestBuilder {
        self.set_auth(format!("Bearer {token}"))
    }

    fn set_auth(mut self, value: String) -> RequestBuilder {
        match HeaderValue::try_from(value) {
            Ok(mut value) => {
                value.set_sensitive(true);
                self.headers.insert(AUTHORIZATION, value);
            }
            Err(_) => self.fail(Error::request(
                "invalid credentials for the Authorization header",
            )),
        }
        self
    }

    /// Overrides the session's total timeout for this request (connecting,
    /// sending, redirects, retries and reading the body, all together);
    /// aiohttp's `timeout=ClientTimeout(total=...)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let req = corio_http::Session::new().get("http://127.0.0.1:1/").timeout(Duration::from_secs(2));
    /// # let _ = req;
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> RequestBuilder {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the request and waits for the response head, following
    /// redirects and retrying as the session is configured; aiohttp's
    /// `await session.request(...)`.
    ///
    /// The returned [`Response`] has its status and headers; its body is read
    /// on demand.
    ///
    /// # Errors
    ///
    /// * [`is_request`](Error::is_request): a bad URL or header, found before
    ///   anything is sent; an `https` URL without the `tls` feature.
    /// * [`is_connect`](Error::is_connect): name resolution or connecting failed.
    /// * [`is_timeout`](Error::is_timeout): the connect, read or total timeout passed.
    /// * [`is_parse`](Error::is_parse) / [`is_limit`](Error::is_limit): the
    ///   response head is malformed or too large.
    /// * [`is_body`](Error::is_body): writing the request failed.
    /// * [`is_redirect`](Error::is_redirect): too many redirects, or a loop.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request: the connection it was using
    /// is closed (never returned to the pool half-used) and its pool permits
    /// are released; a request body stream is dropped. Whether the server
    /// saw the request is unknown.
    ///
    /// # Examples
    ///
    /// ```
    /// async fn status(url: &str) -> Result<u16, corio_http::Error> {
    ///     let session = corio_http::Session::new();
    ///     Ok(session.get(url).send().await?.status().as_u16())
    /// }
    /// # let _ = status;
    /// ```
    pub async fn send(self) -> Result<Response, Error> {
        let RequestBuilder {
            session,
            method,
            url,
            headers,
            body,
            timeout,
            error,
        } = self;
        if let Some(err) = error {
            return Err(err);
        }
        let url = url?;
        session.execute(method, url, headers, body, timeout).await
    }
}
