//! [`Request`]: what a handler receives.

use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Method, Version};

use super::router::percent_decode;

/// An HTTP request as a handler sees it: aiohttp's `web.Request`.
///
/// It carries the method, the path and query string of the request target,
/// the HTTP version, the headers, the parameters captured by the route
/// pattern, the peer's address and the body. The body has been read in full
/// (and de-chunked) before the handler runs, bounded by the server's
/// [`max_body_size`](super::Server::max_body_size) (larger bodies are
/// answered with `413 Payload Too Large` without calling the handler), so the
/// accessors are plain functions.
///
/// # Examples
///
/// ```
/// use corio_http::server::{Request, Response, Router};
///
/// async fn show(req: Request) -> Response {
///     let id = req.param("id").unwrap_or("?");
///     let verbose = req.query_param("verbose").is_some();
///     let agent = req.header("user-agent").unwrap_or("unknown");
///     Response::text(format!("{} {id} verbose={verbose} agent={agent}", req.method()))
/// }
/// let router = Router::new().get("/items/{id}", show);
/// # assert_eq!(router.len(), 1);
/// ```
pub struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) body: Bytes,
    pub(crate) remote_addr: SocketAddr,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("params", &self.params)
            .field("body_len", &self.body.len())
            .field("remote_addr", &self.remote_addr)
            .finish()
    }
}

impl Request {
    /// Builds a request by hand, for calling a handler directly in a test.
    ///
    /// `target` is a request target such as `/search?q=corio`; the version is
    /// HTTP/1.1, the headers are empty, the body is `body` and the remote
    /// address is `127.0.0.1:0`. Route parameters can be added with
    /// [`with_param`](Request::with_param).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    /// use http::Method;
    ///
    /// let req = Request::new(Method::POST, "/search?q=corio", "payload");
    /// assert_eq!(req.path(), "/search");
    /// assert_eq!(req.query_param("q").as_deref(), Some("corio"));
    /// assert_eq!(req.body().as_ref(), b"payload");
    /// ```
    pub fn new(method: Method, target: &str, body: impl Into<Bytes>) -> Request {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (target.to_owned(), None),
        };
        Request {
            method,
            path,
            query,
            version: Version::HTTP_11,
            headers: HeaderMap::new(),
            params: Vec::new(),
            body: body.into(),
            remote_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// Adds a route parameter, as the router does when a pattern matches.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// let req = Request::new(http::Method::GET, "/corio", "").with_param("name", "corio");
    /// assert_eq!(req.param("name"), Some("corio"));
    /// ```
    pub fn with_param(mut self, name: &str, value: &str) -> Request {
        self.params.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn set_params(&mut self, params: Vec<(String, String)>) {
        self.params = params;
    }

    /// The request method (`GET`, `POST`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    /// use http::Method;
    ///
    /// assert_eq!(Request::new(Method::PUT, "/", "").method(), Method::PUT);
    /// ```
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path of the request target, still percent-encoded (`/a%20b`).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// let req = Request::new(http::Method::GET, "/a%20b?x=1", "");
    /// assert_eq!(req.path(), "/a%20b");
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw query string (after `?`, still encoded), if the target had one.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// assert_eq!(Request::new(http::Method::GET, "/?a=1&b", "").query(), Some("a=1&b"));
    /// assert_eq!(Request::new(http::Method::GET, "/", "").query(), None);
    /// ```
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The decoded `name=value` pairs of the query string, in order
    /// (aiohttp's `request.query`); `+` decodes to a space, a pair without
    /// `=` has an empty value.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// let req = Request::new(http::Method::GET, "/?q=a+b&tag=x&tag=y&flag", "");
    /// let pairs = req.query_pairs();
    /// assert_eq!(pairs[0], ("q".to_string(), "a b".to_string()));
    /// assert_eq!(pairs.len(), 4);
    /// assert_eq!(pairs[3], ("flag".to_string(), String::new()));
    /// ```
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let Some(q) = self.query.as_deref() else {
            return Vec::new();
        };
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k, true), percent_decode(v, true))
            })
            .collect()
    }

    /// The decoded value of the first query parameter called `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// let req = Request::new(http::Method::GET, "/?city=S%C3%A3o+Paulo", "");
    /// assert_eq!(req.query_param("city").as_deref(), Some("São Paulo"));
    /// assert_eq!(req.query_param("missing"), None);
    /// ```
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The HTTP version of the request (1.0 or 1.1).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// assert_eq!(Request::new(http::Method::GET, "/", "").version(), http::Version::HTTP_11);
    /// ```
    pub fn version(&self) -> Version {
        self.version
    }

    /// The request headers.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// let mut req = Request::new(http::Method::GET, "/", "");
    /// req.headers_mut().insert("x-id", "7".parse().unwrap());
    /// assert_eq!(req.headers()["x-id"], "7");
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The request headers, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// let mut req = Request::new(http::Method::GET, "/", "");
    /// req.headers_mut().insert("accept", "text/plain".parse().unwrap());
    /// assert_eq!(req.header("accept"), Some("text/plain"));
    /// ```
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The first value of header `name` (case-insensitive), if it is present
    /// and visible ASCII.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// let mut req = Request::new(http::Method::GET, "/", "");
    /// req.headers_mut().insert("host", "example.com".parse().unwrap());
    /// assert_eq!(req.header("Host"), Some("example.com"));
    /// assert_eq!(req.header("cookie"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value captured by the route parameter `{name}`, percent-decoded
    /// (aiohttp's `request.match_info[name]`).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// let req = Request::new(http::Method::GET, "/users/7", "").with_param("id", "7");
    /// assert_eq!(req.param("id"), Some("7"));
    /// assert_eq!(req.param("other"), None);
    /// ```
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All route parameters, in pattern order.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// let req = Request::new(http::Method::GET, "/", "").with_param("a", "1").with_param("b", "2");
    /// assert_eq!(req.params().count(), 2);
    /// ```
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The address of the client.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// assert!(Request::new(http::Method::GET, "/", "").remote_addr().ip().is_loopback());
    /// ```
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// The request body (aiohttp's `await request.read()`), de-chunked.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// let req = Request::new(http::Method::POST, "/", "hello");
    /// assert_eq!(req.body().as_ref(), b"hello");
    /// ```
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body as UTF-8 text (aiohttp's `await request.text()`).
    ///
    /// # Errors
    ///
    /// When the body is not valid UTF-8.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// assert_eq!(Request::new(http::Method::POST, "/", "héllo").text(), Ok("héllo"));
    /// assert!(Request::new(http::Method::POST, "/", vec![0xff]).text().is_err());
    /// ```
    pub fn text(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.body)
    }

    /// Takes the body out of the request.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::Request;
    ///
    /// let body = Request::new(http::Method::POST, "/", "data").into_body();
    /// assert_eq!(body, "data");
    /// ```
    pub fn into_body(self) -> Bytes {
        self.body
    }
}
