//! The HTTP client: a [`Session`] with a connection pool; aiohttp's
//! `ClientSession`, reqwest's `Client`.
//!
//! # The pieces
//!
//! * [`Session`] holds the configuration ([`SessionBuilder`]) and the pool.
//!   It is cheap to clone (an `Arc`); clones share the pool.
//! * [`Session::get`] and friends return a [`RequestBuilder`];
//!   [`RequestBuilder::send`] sends the request and returns a [`Response`]
//!   once its head arrived. The body is read on demand
//!   ([`Response::chunk`], [`Response::bytes`], ...).
//! * [`Redirect`], [`Retry`] and [`Trace`] are the redirect policy, the
//!   opt-in retry policy and the hooks.
//!
//! # One request, step by step
//!
//! 1. The URL is joined to the base URL, the headers merged with the
//!    session's defaults, and the request head encoded by the codec
//!    (`crate::proto`), which refuses header injection: nothing has been sent
//!    if this fails.
//! 2. A *lease* is taken from the pool: a permit of the origin's limit
//!    (`limit_per_host`), then one of the total limit (`limit`). Both wait
//!    in FIFO order (corio-sync's `Semaphore`).
//! 3. An idle connection to the origin is reused if there is one that is
//!    younger than the idle timeout and was not closed by the server
//!    (checked without waiting; skipped for a request that step 4 may send
//!    again when the connection was used less than a second ago); otherwise
//!    one is opened (name resolution on the blocking pool, connect timeout).
//! 4. The head and body are written; the response head is read (interim 1xx
//!    responses skipped). If a *reused* connection fails before a single
//!    response byte arrived (the server closed it while it was idle), the
//!    request is sent once more on a fresh connection — only for idempotent
//!    methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) with a body that can
//!    be sent again. A POST or PATCH is never sent twice: its error is
//!    returned.
//! 5. Redirects and retries (see [`SessionBuilder::redirect`] and [`Retry`])
//!    repeat steps 1 to 4 with a new lease.
//! 6. The [`Response`] owns the connection and its lease until its body was
//!    read to the end; then the connection goes back to the pool (if the
//!    server allows keep-alive) and the permits are released.
//!
//! # Timeouts
//!
//! Every wait is bounded. The connect timeout (default 30 s) bounds name
//! resolution plus connecting; the read timeout (default none) bounds every
//! single read, head or body; the total timeout (default 300 s, like
//! aiohttp's `ClientTimeout.total`) bounds the whole request — connecting,
//! redirects, retries and reading the body — so a server that sends one byte
//! at a time, each within the read timeout, still fails at the total timeout.
//! All three fail with [`is_timeout`](Error::is_timeout).
//!
//! # Cancel safety
//!
//! A connection is owned by exactly one request or response at a time and
//! closed when that owner is dropped, and a permit is released when its
//! owner is dropped, so dropping any future of this module at any await
//! point leaks nothing and never puts a half-used connection back in the
//! pool.

mod conn;
mod policy;
mod request;
mod response;
mod trace;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Buf;
use futures_lite::io::AsyncWriteExt;
use futures_lite::StreamExt;
use http::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LANGUAGE,
    CONTENT_LENGTH, CONTENT_LOCATION, CONTENT_TYPE, COOKIE, LOCATION, PROXY_AUTHORIZATION,
    RETRY_AFTER, USER_AGENT,
};
use http::{Method, StatusCode, Uri, Version};
use url::Url;

pub use policy::{Redirect, Retry};
pub use request::RequestBuilder;
pub use response::{BytesStream, Response};
pub use trace::{RequestInfo, Trace};

use crate::proto::{self, BodyDecoder, BodyKind, Limits, RequestBody};
use crate::Error;
use conn::{Conn, Key, Pool};
use request::Body;
use response::{read_more, BodyReader};

/// The settings a session was built with.
#[derive(Clone)]
struct Config {
    default_headers: HeaderMap,
    base_url: Option<Url>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    total_timeout: Option<Duration>,
    limit: usize,
    limit_per_host: usize,
    idle_timeout: Duration,
    redirect: Redirect,
    max_body_size: Option<u64>,
    limits: Limits,
    trace: Option<Arc<dyn Trace>>,
    retry: Option<Retry>,
    decompress: bool,
    #[cfg(feature = "tls")]
    tls_roots: crate::TlsRoots,
    #[cfg(feature = "tls")]
    tls_extra: Vec<crate::Certificate>,
}

impl Default for Config {
    fn default() -> Config {
        let mut default_headers = HeaderMap::new();
        default_headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("corio-http/", env!("CARGO_PKG_VERSION"))),
        );
        Config {
            default_headers,
            base_url: None,
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: None,
            total_timeout: Some(Duration::from_secs(300)),
            limit: 100,
            limit_per_host: 0,
            idle_timeout: Duration::from_secs(90),
            redirect: Redirect::default(),
            max_body_size: None,
            limits: Limits::DEFAULT,
            trace: None,
            retry: None,
            decompress: true,
            #[cfg(feature = "tls")]
            tls_roots: crate::TlsRoots::default(),
            #[cfg(feature = "tls")]
            tls_extra: Vec::new(),
        }
    }
}

/// The configuration of a [`Session`] being built: headers, base URL,
/// timeouts, pool limits, redirect and retry policies, hooks; the keyword
/// arguments of aiohttp's `ClientSession(...)` and `TCPConnector(...)`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use corio_http::{Redirect, Session};
///
/// let session = Session::builder()
///     .base_url("http://127.0.0.1:8080/api/")
///     .user_agent("my-crawler/1.0")
///     .connect_timeout(Duration::from_secs(5))
///     .read_timeout(Duration::from_secs(10))
///     .timeout(Duration::from_secs(60))
///     .limit(20)
///     .limit_per_host(4)
///     .redirect(Redirect::limited(5))
///     .max_body_size(10 << 20)
///     .build();
/// # let _ = session;
/// ```
pub struct SessionBuilder {
    config: Config,
}

impl fmt::Debug for SessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder").finish_non_exhaustive()
    }
}

impl SessionBuilder {
    /// Headers sent with every request, unless the request sets a header of
    /// the same name; aiohttp's `headers=`. Replaces earlier defaults except
    /// the user agent, which is kept unless `headers` has one.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("x-api-key", http::HeaderValue::from_static("k"));
    /// let session = corio_http::Session::builder().default_headers(headers).build();
    /// # let _ = session;
    /// ```
    pub fn default_headers(mut self, headers: HeaderMap) -> SessionBuilder {
        let agent = self.config.default_headers.remove(USER_AGENT);
        self.config.default_headers = headers;
        if let Some(agent) = agent {
            if !self.config.default_headers.contains_key(USER_AGENT) {
                self.config.default_headers.insert(USER_AGENT, agent);
            }
        }
        self
    }

    /// The `User-Agent` sent by default (`corio-http/VERSION` unless set).
    ///
    /// # Panics
    ///
    /// If `agent` is not a valid header value (control bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().user_agent("bot/2").build();
    /// # let _ = session;
    /// ```
    pub fn user_agent(mut self, agent: &str) -> SessionBuilder {
        let value = HeaderValue::from_str(agent).expect("a user agent without control bytes");
        self.config.default_headers.insert(USER_AGENT, value);
        self
    }

    /// The URL that relative request URLs are joined to (RFC 3986), like
    /// aiohttp's `base_url=`: with `http://h/api/`, `"items"` means
    /// `http://h/api/items` and `"/items"` means `http://h/items`.
    ///
    /// # Panics
    ///
    /// If `base` is not an absolute URL.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().base_url("http://127.0.0.1:8080/v1/").build();
    /// # let _ = session;
    /// ```
    pub fn base_url(mut self, base: &str) -> SessionBuilder {
        self.config.base_url = Some(Url::parse(base).expect("an absolute base URL"));
        self
    }

    /// The longest time name resolution plus connecting may take (default
    /// 30 s); aiohttp's `ClientTimeout(connect=...)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().connect_timeout(std::time::Duration::from_secs(3)).build();
    /// # let _ = session;
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> SessionBuilder {
        self.config.connect_timeout = Some(timeout);
        self
    }

    /// The longest wait for any single read from the server, head or body
    /// (default: none); aiohttp's `ClientTimeout(sock_read=...)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().read_timeout(std::time::Duration::from_secs(10)).build();
    /// # let _ = session;
    /// ```
    pub fn read_timeout(mut self, timeout: Duration) -> SessionBuilder {
        self.config.read_timeout = Some(timeout);
        self
    }

    /// The longest a whole request may take, body included (default 300 s);
    /// aiohttp's `ClientTimeout(total=...)`. [`RequestBuilder::timeout`]
    /// overrides it per request.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().timeout(std::time::Duration::from_secs(30)).build();
    /// # let _ = session;
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> SessionBuilder {
        self.config.total_timeout = Some(timeout);
        self
    }

    /// The most connections in use at once, all origins together (default
    /// 100, 0 for no limit); aiohttp's `TCPConnector(limit=...)`. A request
    /// beyond it waits for a connection to be released, in FIFO order.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().limit(10).build();
    /// # let _ = session;
    /// ```
    pub fn limit(mut self, limit: usize) -> SessionBuilder {
        self.config.limit = limit;
        self
    }

    /// The most connections in use at once to one origin (scheme, host,
    /// port) (default 0, no limit); aiohttp's `limit_per_host`.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().limit_per_host(2).build();
    /// # let _ = session;
    /// ```
    pub fn limit_per_host(mut self, limit: usize) -> SessionBuilder {
        self.config.limit_per_host = limit;
        self
    }

    /// How long an idle pooled connection is kept (default 90 s); aiohttp's
    /// `keepalive_timeout`. An older one is closed instead of reused.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().idle_timeout(std::time::Duration::from_secs(15)).build();
    /// # let _ = session;
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> SessionBuilder {
        self.config.idle_timeout = timeout;
        self
    }

    /// The redirect policy (default [`Redirect::limited`]`(10)`).
    ///
    /// Redirects follow RFC 9110 section 15.4, as browsers do: 301 and 302
    /// turn a POST into a GET without body (other methods are kept, with
    /// their body); 303 turns any method but HEAD into a GET without body;
    /// 307 and 308 keep the method and the body — if the body was a stream,
    /// which cannot be sent again, the 307/308 response is returned instead.
    /// A relative `Location` is resolved against the current URL; a missing
    /// or invalid `Location` (or one that is not http/https) returns the 3xx
    /// response as it is. `Authorization`, `Cookie` and
    /// `Proxy-Authorization` are dropped when the redirect changes origin
    /// (scheme, host or port). One redirect more than the limit, or one that
    /// comes back to a (method, URL) already visited, is an
    /// [`is_redirect`](Error::is_redirect) error.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().redirect(corio_http::Redirect::none()).build();
    /// # let _ = session;
    /// ```
    pub fn redirect(mut self, policy: Redirect) -> SessionBuilder {
        self.config.redirect = policy;
        self
    }

    /// The largest body [`Response::bytes`], [`Response::text`] and `json`
    /// accept (default: no limit); more is an [`is_limit`](Error::is_limit)
    /// error. Streaming with [`Response::chunk`] is not limited.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().max_body_size(1 << 20).build();
    /// # let _ = session;
    /// ```
    pub fn max_body_size(mut self, max: u64) -> SessionBuilder {
        self.config.max_body_size = Some(max);
        self
    }

    /// The most header fields a response head may have (default 100).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().max_headers(50).build();
    /// # let _ = session;
    /// ```
    pub fn max_headers(mut self, max: usize) -> SessionBuilder {
        self.config.limits.max_headers = max;
        self
    }

    /// The largest response head in bytes (default 64 KiB).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().max_head_size(16 * 1024).build();
    /// # let _ = session;
    /// ```
    pub fn max_head_size(mut self, max: usize) -> SessionBuilder {
        self.config.limits.max_head_size = max;
        self
    }

    /// The longest status or header line in bytes (default 8 KiB).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().max_line_len(4096).build();
    /// # let _ = session;
    /// ```
    pub fn max_line_len(mut self, max: usize) -> SessionBuilder {
        self.config.limits.max_line_len = max;
        self
    }

    /// Hooks called as requests go through their stages (see [`Trace`]);
    /// aiohttp's `trace_configs=`.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Quiet;
    /// impl corio_http::Trace for Quiet {}
    ///
    /// let session = corio_http::Session::builder().trace(std::sync::Arc::new(Quiet)).build();
    /// # let _ = session;
    /// ```
    pub fn trace(mut self, trace: Arc<dyn Trace>) -> SessionBuilder {
        self.config.trace = Some(trace);
        self
    }

    /// Retries idempotent requests that failed to connect, timed out or got
    /// a 502/503/504 (see [`Retry`]). Off by default.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().retry(corio_http::Retry::new(3)).build();
    /// # let _ = session;
    /// ```
    pub fn retry(mut self, retry: Retry) -> SessionBuilder {
        self.config.retry = Some(retry);
        self
    }

    /// Whether to ask for and decode compressed bodies (default on): sends
    /// `Accept-Encoding: gzip, deflate` (unless the request sets its own) and
    /// decodes a gzip or deflate `Content-Encoding`, removing the
    /// `Content-Encoding` and `Content-Length` headers of such a response;
    /// aiohttp's `auto_decompress`. A body that fails to decode is an
    /// [`is_decode`](Error::is_decode) error.
    ///
    /// # Examples
    ///
    /// ```
    /// let raw = corio_http::Session::builder().decompress(false).build();
    /// # let _ = raw;
    /// ```
    pub fn decompress(mut self, on: bool) -> SessionBuilder {
        self.config.decompress = on;
        self
    }

    /// Which root certificates `https` connections trust (default
    /// [`TlsRoots::Bundled`](crate::TlsRoots::Bundled)); aiohttp's
    /// `ssl=ssl.create_default_context(...)`. Needs the `tls` feature.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().tls_roots(corio_http::TlsRoots::System).build();
    /// # let _ = session;
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls_roots(mut self, roots: crate::TlsRoots) -> SessionBuilder {
        self.config.tls_roots = roots;
        self
    }

    /// Trusts `cert` as a CA for `https` connections, besides the roots.
    /// Needs the `tls` feature.
    ///
    /// # Examples
    ///
    /// ```
    /// fn with_ca(pem: &[u8]) -> Result<corio_http::Session, corio_http::Error> {
    ///     let ca = corio_http::Certificate::from_pem(pem)?;
    ///     Ok(corio_http::Session::builder().add_root_certificate(ca).build())
    /// }
    /// # let _ = with_ca;
    /// ```
    #[cfg(feature = "tls")]
    pub fn add_root_certificate(mut self, cert: crate::Certificate) -> SessionBuilder {
        self.config.tls_extra.push(cert);
        self
    }

    /// Builds the session.
    ///
    /// The TLS configuration is made when the first `https` request needs
    /// it; if it cannot be made (no usable system root), every `https`
    /// request fails with an [`is_request`](Error::is_request) error.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().build();
    /// # let _ = session;
    /// ```
    pub fn build(self) -> Session {
        let config = self.config;
        let pool = Arc::new(Pool::new(
            config.limit,
            config.limit_per_host,
            config.idle_timeout,
        ));
        Session {
            inner: Arc::new(Inner {
                config,
                pool,
                #[cfg(feature = "tls")]
                tls: std::sync::OnceLock::new(),
            }),
        }
    }
}

/// An HTTP/1.1 client with a pool of keep-alive connections; aiohttp's
/// `ClientSession`, reqwest's `Client`.
///
/// Make one and share it (it is a cheap `Arc` clone): connections to the same
/// origin are reused across requests and clones. See the
/// [module docs](crate::client) for how a request goes through the pool, and
/// [`SessionBuilder`] for the settings.
///
/// Idle connections are closed when the last clone of the session is
/// dropped; responses still being read keep their connection until they are
/// done.
///
/// # Examples
///
/// ```
/// use corio_http::server::{Response as Reply, Router, Server};
///
/// corio::run(async {
///     let router = Router::new().get("/hello", |_req| async { Reply::text("hi") });
///     let server = Server::bind("127.0.0.1:0").await?.serve(router);
///
///     let session = corio_http::Session::builder()
///         .base_url(&format!("http://{}/", server.local_addr()))
///         .build();
///     for _ in 0..3 {
///         let text = session.get("hello").send().await?.error_for_status()?.text().await?;
///         assert_eq!(text, "hi");
///     }
///     assert_eq!(session.idle_connections(), 1); // one connection, reused
///
///     server.shutdown().await;
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    pool: Arc<Pool>,
    /// The TLS configuration, made on first use.
    #[cfg(feature = "tls")]
    tls: std::sync::OnceLock<Result<crate::tls::TlsConfig, String>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.inner.config;
        f.debug_struct("Session")
            .field("base_url", &config.base_url.as_ref().map(Url::as_str))
            .field("limit", &config.limit)
            .field("limit_per_host", &config.limit_per_host)
            .field("pool", &self.inner.pool)
            .finish_non_exhaustive()
    }
}

impl Default for Session {
    fn default() -> Session {
        Session::new()
    }
}

/// Whether a request with `method` may be sent twice (RFC 9110 section 9.2.2).
fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

fn origin(url: &Url) -> (String, Option<String>, Option<u16>) {
    (
        url.scheme().to_owned(),
        url.host_str().map(str::to_owned),
        url.port_or_known_default(),
    )
}

fn to_uri(url: &Url) -> Result<Uri, Error> {
    url.as_str()
        .parse::<Uri>()
        .map_err(|err| Error::request(format!("invalid URL {url}")).with_source(err))
}

/// The retry delay a `Retry-After: <seconds>` header asks for.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

/// How much of a redirect response's body is read so that its connection
/// can be reused; a longer body closes the connection instead.
const REDIRECT_DRAIN: usize = 64 * 1024;

impl Session {
    /// A session with the default settings (see [`SessionBuilder`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::new();
    /// assert_eq!(session.idle_connections(), 0);
    /// ```
    pub fn new() -> Session {
        Session::builder().build()
    }

    /// A builder for a session with other settings.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::builder().limit(8).build();
    /// # let _ = session;
    /// ```
    pub fn builder() -> SessionBuilder {
        SessionBuilder {
            config: Config::default(),
        }
    }

    /// Starts a request with `method` to `url` (absolute, or relative to the
    /// base URL); aiohttp's `session.request(method, url)`.
    ///
    /// An invalid URL is reported by [`send`](RequestBuilder::send) as an
    /// [`is_request`](Error::is_request) error.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = corio_http::Session::new();
    /// let req = session.request(http::Method::OPTIONS, "http://127.0.0.1:1/");
    /// # let _ = req;
    /// ```
    pub fn request(&self, method: Method, url: impl AsRef<str>) -> RequestBuilder {
        let text = url.as_ref();
        let url = parse_url(self.inner.config.base_url.as_ref(), text)
            .map_err(|err| Error::request(format!("invalid URL {text:?}")).with_source(err))
            .and_then(|url| match url.scheme() {
                "http" | "https" if url.host_str().is_some() => Ok(url),
                _ => Err(Error::request(format!(
                    "unsupported URL {text:?} (http or https with a host expected)"
                ))),
            });
        RequestBuilder {
            session: self.clone(),
            method,
            url,
            headers: HeaderMap::new(),
            body: Body::Empty,
            timeout: None,
            error: None,
        }
    }

    /// Starts a GET request; aiohttp's `session.get(url)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = corio_http::Session::new().get("http://127.0.0.1:1/");
    /// # let _ = req;
    /// ```
    pub fn get(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// Starts a POST request; aiohttp's `session.post(url)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = corio_http::Session::new().post("http://127.0.0.1:1/").body("x");
    /// # let _ = req;
    /// ```
    pub fn post(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// Starts a PUT request; aiohttp's `session.put(url)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = corio_http::Session::new().put("http://127.0.0.1:1/").body("x");
    /// # let _ = req;
    /// ```
    pub fn put(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// Starts a PATCH request; aiohttp's `session.patch(url)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = corio_http::Session::new().patch("http://127.0.0.1:1/").body("x");
    /// # let _ = req;
    /// ```
    pub fn patch(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// Starts a DELETE request; aiohttp's `session.delete(url)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = corio_http::Session::new().delete("http://127.0.0.1:1/item/1");
    /// # let _ = req;
    /// ```
    pub fn delete(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// Starts a HEAD request; aiohttp's `session.head(url)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = corio_http::Session::new().head("http://127.0.0.1:1/");
    /// # let _ = req;
    /// ```
    pub fn head(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// How many idle connections the pool holds (expired ones included
    /// until they are next looked at).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_http::Session::new().idle_connections(), 0);
    /// ```
    pub fn idle_connections(&self) -> usize {
        self.inner.pool.idle_count()
    }

    /// Runs a request to its final response head: total timeout, hooks,
    /// redirects, retries.
    async fn execute(
        &self,
        method: Method,
        url: Url,
        headers: HeaderMap,
        body: Body,
        timeout: Option<Duration>,
    ) -> Result<Response, Error> {
        let config = &self.inner.config;
        let started = Instant::now();
        let deadline = timeout.or(config.total_timeout).map(|t| started + t);
        let info = config.trace.as_ref().map(|trace| {
            let info = RequestInfo {
                method: method.clone(),
                url: url.clone(),
                headers: headers.clone(),
            };
            trace.on_request_start(&info);
            info
        });
        // The URL is turned into a `Uri` once here (and once per redirect);
        // the hops below update both in place, so a timeout names the URL
        // of the hop it interrupted.
        let mut url = url;
        let result = match to_uri(&url) {
            Err(err) => Err(err),
            Ok(mut uri) => {
                let work = self.follow(method, &mut url, &mut uri, headers, body, deadline);
                match deadline {
                    Some(deadline) => match corio_timer::timeout_at(deadline, work).await {
                        Ok(result) => result,
                        Err(_) => Err(Error::timeout().with_url(uri.clone())),
                    },
                    None => work.await,
                }
            }
        };
        if let (Some(trace), Some(info)) = (&config.trace, &info) {
            match &result {
                Ok(resp) => trace.on_request_end(info, resp.status(), started.elapsed()),
                Err(err) => trace.on_request_error(info, err),
            }
        }
        result
    }

    /// Sends the request and follows redirects; `url` and `uri` (the same
    /// URL) are moved along to each redirect's target.
    async fn follow(
        &self,
        mut method: Method,
        url: &mut Url,
        uri: &mut Uri,
        mut headers: HeaderMap,
        mut body: Body,
        deadline: Option<Instant>,
    ) -> Result<Response, Error> {
        let config = &self.inner.config;
        let max = config.redirect.max;
        // The (method, URL) pairs requested so far; filled at the first
        // redirect, so that a request without one allocates nothing for it.
        let mut visited = HashSet::new();
        let mut hops = 0;
        loop {
            let replay = body.try_clone();
            let mut resp = self
                .with_retry(&method, url, uri, &headers, body, deadline)
                .await?;
            let status = resp.status();
            if max == 0 || !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
                return Ok(resp);
            }
            let Some(next) = resp
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|location| url.join(location).ok())
                .filter(|next| matches!(next.scheme(), "http" | "https") && next.has_host())
            else {
                return Ok(resp);
            };
            let (next_method, next_body) = match status.as_u16() {
                303 if method != Method::HEAD => (Method::GET, Some(Body::Empty)),
                301 | 302 if method == Method::POST => (Method::GET, Some(Body::Empty)),
                _ => (method.clone(), replay),
            };
            let Some(next_body) = next_body else {
                // A streamed body cannot be sent again: the caller gets the redirect.
                return Ok(resp);
            };
            if hops >= max {
                return Err(
                    Error::redirect(format!("too many redirects (more than {max})"))
                        .with_url(uri.clone()),
                );
            }
            if visited.is_empty() {
                visited.insert((method.clone(), url.to_string()));
            }
            if !visited.insert((next_method.clone(), next.to_string())) {
                return Err(
                    Error::redirect(format!("redirect loop at {next}")).with_url(uri.clone())
                );
            }
            let next_uri = to_uri(&next)?;
            if next_method != method && next_method == Method::GET {
                for name in [
                    CONTENT_TYPE,
                    CONTENT_ENCODING,
                    CONTENT_LANGUAGE,
                    CONTENT_LOCATION,
                ] {
                    headers.remove(name);
                }
            }
            if origin(url) != origin(&next) {
                for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
                    headers.remove(name);
                }
            }
            if let Some(trace) = &config.trace {
                trace.on_redirect(url, &next, status);
            }
            // Read a short body to the end so that its connection is reused.
            let mut drained = 0;
            while drained <= REDIRECT_DRAIN {
                match resp.chunk().await {
                    Ok(Some(piece)) => drained += piece.len(),
                    _ => break,
                }
            }
            drop(resp);
            hops += 1;
            method = next_method;
            *url = next;
            *uri = next_uri;
            body = next_body;
        }
    }

    /// Sends the request, retrying as the retry policy says.
    async fn with_retry(
        &self,
        method: &Method,
        url: &Url,
        uri: &Uri,
        headers: &HeaderMap,
        body: Body,
        deadline: Option<Instant>,
    ) -> Result<Response, Error> {
        let retry = self
            .inner
            .config
            .retry
            .filter(|_| idempotent(method) && body.try_clone().is_some());
        // The exchange future is boxed: it is most of a request's state, and
        // every layer above (redirects, the total timeout, `send`) would
        // otherwise copy it into its own.
        let Some(retry) = retry else {
            return Box::pin(self.exchange(method, url, uri, headers, body, deadline)).await;
        };
        let mut attempt = 1;
        loop {
            let this = body
                .try_clone()
                .expect("only replayable bodies are retried");
            let last = attempt >= retry.max_attempts;
            let result = Box::pin(self.exchange(method, url, uri, headers, this, deadline)).await;
            let delay = match &result {
                Ok(resp)
                    if !last
                        && matches!(
                            resp.status(),
                            StatusCode::BAD_GATEWAY
                                | StatusCode::SERVICE_UNAVAILABLE
                                | StatusCode::GATEWAY_TIMEOUT
                        ) =>
                {
                    retry.delay(attempt, retry_after(resp.headers()))
                }
                Err(err) if !last && (err.is_connect() || err.is_timeout()) => {
                    retry.delay(attempt, None)
                }
                _ => return result,
            };
            drop(result);
            corio_timer::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One exchange: lease, connection, request out, response head in.
    async fn exchange(
        &self,
        method: &Method,
        url: &Url,
        uri: &Uri,
        headers: &HeaderMap,
        body: Body,
        deadline: Option<Instant>,
    ) -> Result<Response, Error> {
        let config = &self.inner.config;
        let key = Key {
            scheme: if url.scheme() == "https" {
                "https"
            } else {
                "http"
            },
            host: url.host_str().unwrap_or_default().to_owned(),
            port: url.port_or_known_default().unwrap_or(80),
        };
        #[cfg(feature = "tls")]
        let tls = if key.scheme == "https" {
            let made = self.inner.tls.get_or_init(|| {
                crate::tls::TlsConfig::new(config.tls_roots, &config.tls_extra)
                    .map_err(|err| err.to_string())
            });
            match made {
                Ok(tls) => Some(tls),
                Err(message) => return Err(Error::request(message.clone()).with_url(uri.clone())),
            }
        } else {
            None
        };
        #[cfg(not(feature = "tls"))]
        if key.scheme == "https" {
            return Err(Error::request("https needs the `tls` feature").with_url(uri.clone()));
        }

        // The request head, checked before anything is sent.
        let mut merged = HeaderMap::with_capacity(config.default_headers.len() + headers.len());
        for (name, value) in &config.default_headers {
            if !headers.contains_key(name) {
                merged.append(name.clone(), value.clone());
            }
        }
        for (name, value) in headers {
            merged.append(name.clone(), value.clone());
        }
        if config.decompress && !merged.contains_key(ACCEPT_ENCODING) {
            merged.insert(
                ACCEPT_ENCODING,
                HeaderValue::from_static(crate::decompress::ACCEPT_ENCODING),
            );
        }
        let framing = match &body {
            Body::Empty if matches!(*method, Method::POST | Method::PUT | Method::PATCH) => {
                RequestBody::Length(0)
            }
            Body::Empty => RequestBody::None,
            Body::Bytes(bytes) => RequestBody::Length(bytes.len() as u64),
            Body::Stream(_) => RequestBody::Chunked,
        };
        let mut head = Vec::with_capacity(256);
        proto::encode_request_head(method, uri, Version::HTTP_11, &merged, framing, &mut head)
            .map_err(|err| err.with_url(uri.clone()))?;

        let mut lease = Some(self.inner.pool.lease(&key).await);
        let replayable = idempotent(method) && body.try_clone().is_some();
        let mut body = Some(body);
        let mut fresh_only = false;
        loop {
            // A replayable request may skip the pool's check for a closed
            // connection: if the connection turns out stale, the request is
            // sent again on a fresh one below.
            let pooled = if fresh_only {
                None
            } else {
                self.inner.pool.take(&key, replayable)
            };
            let mut conn = match pooled {
                Some(conn) => {
                    if let Some(trace) = &config.trace {
                        trace.on_connection_reuse(conn.addr);
                    }
                    conn
                }
                None => conn::connect(
                    &key,
                    config.connect_timeout,
                    config.trace.as_ref(),
                    #[cfg(feature = "tls")]
                    tls,
                )
                .await
                .map_err(|err| err.with_url(uri.clone()))?,
            };
            let this_body = if replayable {
                body.as_ref()
                    .and_then(Body::try_clone)
                    .unwrap_or(Body::Empty)
            } else {
                body.take().unwrap_or(Body::Empty)
            };
            match self.roundtrip(&mut conn, &head, this_body, deadline).await {
                Ok(resp_head) => {
                    conn.lease = lease.take();
                    return self
                        .response(conn, method, &merged, url, uri.clone(), resp_head, deadline)
                        .map_err(|err| err.with_url(uri.clone()));
                }
                Err(Failure { error, stale }) => {
                    if stale && conn.reused && replayable && !fresh_only {
                        fresh_only = true;
                        continue;
                    }
                    return Err(error.with_url(uri.clone()));
                }
            }
        }
    }

    /// Writes the request on `conn` and reads the final response head.
    async fn roundtrip(
        &self,
        conn: &mut Conn,
        head: &[u8],
        body: Body,
        deadline: Option<Instant>,
    ) -> Result<proto::ResponseHead, Failure> {
        let config = &self.inner.config;
        // Writing: a failure before any response byte on a reused connection
        // means the server had closed it (stale).
        let write = async {
            match body {
                Body::Empty => conn.io.write_all(head).await?,
                Body::Bytes(bytes) if bytes.len() <= 16 * 1024 => {
                    let mut all = Vec::with_capacity(head.len() + bytes.len());
                    all.extend_from_slice(head);
                    all.extend_from_slice(&bytes);
                    conn.io.write_all(&all).await?;
                }
                Body::Bytes(bytes) => {
                    conn.io.write_all(head).await?;
                    conn.io.write_all(&bytes).await?;
                }
                Body::Stream(stream) => {
                    let mut stream = stream
                        .into_inner()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    conn.io.write_all(head).await?;
                    let mut buf = Vec::new();
                    while let Some(piece) = stream.next().await {
                        let piece = piece?;
                        buf.clear();
                        proto::encode_chunk(&piece, &mut buf);
                        conn.io.write_all(&buf).await?;
                    }
                    buf.clear();
                    proto::encode_last_chunk(&mut buf);
                    conn.io.write_all(&buf).await?;
                }
            }
            conn.io.flush().await
        };
        if let Err(err) = write.await {
            return Err(Failure {
                error: Error::body("error sending the request").with_source(err),
                stale: true,
            });
        }
        let mut received = false;
        loop {
            match proto::parse_response_head(&conn.buf, &config.limits) {
                Ok(Some((resp_head, used))) => {
                    conn.buf.advance(used);
                    received = true;
                    if resp_head.is_interim() {
                        continue;
                    }
                    return Ok(resp_head);
                }
                Ok(None) => {}
                Err(error) => {
                    return Err(Failure {
                        error,
                        stale: false,
                    })
                }
            }
            match read_more(conn, config.read_timeout, deadline).await {
                Ok(0) => {
                    let stale = !received && conn.buf.is_empty();
                    return Err(Failure {
                        error: proto::incomplete_head(conn.buf.len()),
                        stale,
                    });
                }
                Ok(_) => {}
                Err(error) => {
                    let stale = !received && conn.buf.is_empty() && !error.is_timeout();
                    return Err(Failure { error, stale });
                }
            }
        }
    }

    /// Builds the response for `resp_head` read on `conn`.
    #[allow(clippy::too_many_arguments)]
    fn response(
        &self,
        conn: Conn,
        method: &Method,
        request_headers: &HeaderMap,
        url: &Url,
        uri: Uri,
        resp_head: proto::ResponseHead,
        deadline: Option<Instant>,
    ) -> Result<Response, Error> {
        let config = &self.inner.config;
        let kind = proto::body_kind(method, resp_head.status, &resp_head.headers)?;
        let keep_alive = kind != BodyKind::CloseDelimited
            && proto::keep_alive(resp_head.version, request_headers, &resp_head.headers);
        let mut headers = resp_head.headers;
        let mut decompressor = None;
        if config.decompress && kind != BodyKind::Empty {
            let mut codings = headers.get_all(CONTENT_ENCODING).iter();
            if let (Some(value), None) = (codings.next(), codings.next()) {
                match crate::decompress::ContentEncoding::from_header(value) {
                    Some(crate::decompress::ContentEncoding::Identity) | None => {}
                    Some(encoding) => {
                        decompressor = Some(crate::decompress::Decompressor::new(encoding, None));
                        headers.remove(CONTENT_ENCODING);
                        headers.remove(CONTENT_LENGTH);
                    }
                }
            }
        }
        let mut reader = BodyReader {
            conn: Some(conn),
            decoder: BodyDecoder::new(kind, config.limits),
            keep_alive,
            pool: self.inner.pool.clone(),
            read_timeout: config.read_timeout,
            deadline,
            max_body_size: config.max_body_size,
            uri,
            finished: false,
            decompressor,
        };
        if reader.decoder.is_done() {
            reader.complete();
        }
        Ok(Response {
            status: resp_head.status,
            version: resp_head.version,
            headers,
            url: url.clone(),
            body: Box::new(reader),
        })
    }
}

/// A failed exchange, and whether it failed as a connection the server had
/// closed while idle does (nothing received).
struct Failure {
    error: Error,
    stale: bool,
}

/// Parses `text`, relative to `base` if there is one.
///
/// Programs tend to request one URL again and again (an API endpoint, a
/// health check, a page polled), and parsing costs more than the rest of
/// building a request (a sixth of a whole keep-alive GET's instructions). So
/// each thread remembers the last URL it parsed, with its text and base; a
/// repeat costs a string comparison and a clone. A miss costs the clones
/// that fill the memory.
fn parse_url(base: Option<&Url>, text: &str) -> Result<Url, url::ParseError> {
    type Last = Option<(Option<String>, String, Url)>;
    thread_local! {
        static LAST: std::cell::RefCell<Last> = const { std::cell::RefCell::new(None) };
    }
    let base_text = base.map(Url::as_str);
    let hit = LAST.try_with(|last| match &*last.borrow() {
        Some((b, t, url)) if t == text && b.as_deref() == base_text => Some(url.clone()),
        _ => None,
    });
    if let Ok(Some(url)) = hit {
        return Ok(url);
    }
    let url = match base {
        Some(base) => base.join(text),
        None => Url::parse(text),
    }?;
    let _ = LAST.try_with(|last| {
        *last.borrow_mut() = Some((base_text.map(str::to_owned), text.to_owned(), url.clone()));
    });
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The remembered parse is used only for the same text with the same
    /// base; anything else parses afresh, and errors are never remembered.
    #[test]
    fn parse_url_reuses_only_an_identical_request() {
        let a = Url::parse("http://a.example/x/").unwrap();
        let b = Url::parse("http://b.example/y/").unwrap();
        for _ in 0..2 {
            assert_eq!(
                parse_url(None, "http://h/p").unwrap().as_str(),
                "http://h/p"
            );
            assert_eq!(
                parse_url(None, "http://h/p").unwrap().as_str(),
                "http://h/p"
            );
            assert_eq!(
                parse_url(Some(&a), "z").unwrap().as_str(),
                "http://a.example/x/z"
            );
            assert_eq!(
                parse_url(Some(&b), "z").unwrap().as_str(),
                "http://b.example/y/z"
            );
            assert_eq!(
                parse_url(Some(&b), "z").unwrap().as_str(),
                "http://b.example/y/z"
            );
            assert_eq!(
                parse_url(None, "z"),
                Err(url::ParseError::RelativeUrlWithoutBase)
            );
            assert_eq!(
                parse_url(Some(&a), "/q").unwrap().as_str(),
                "http://a.example/q"
            );
            assert_eq!(
                parse_url(None, "http://H/p").unwrap().as_str(),
                "http://h/p"
            );
        }
    }
}
