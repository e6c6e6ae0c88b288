//! [`Trace`] hooks and the [`RequestInfo`] they are given: aiohttp's
//! `TraceConfig`.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use url::Url;

use crate::Error;

/// What a [`Trace`] hook is told about a request: its method, URL and headers
/// as the session is about to send them; aiohttp's `TraceRequestStartParams`.
///
/// # Examples
///
/// ```
/// use corio_http::{RequestInfo, Trace};
///
/// struct Log;
///
/// impl Trace for Log {
///     fn on_request_start(&self, req: &RequestInfo) {
///         println!("{} {}", req.method(), req.url());
///     }
/// }
/// # let _ = Log;
/// ```
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
}

impl RequestInfo {
    /// The request method.
    ///
    /// # Examples
    ///
    /// ```
    /// fn is_get(req: &corio_http::RequestInfo) -> bool {
    ///     req.method() == http::Method::GET
    /// }
    /// # let _ = is_get;
    /// ```
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL the request was made for (before any redirect).
    ///
    /// # Examples
    ///
    /// ```
    /// fn host(req: &corio_http::RequestInfo) -> Option<&str> {
    ///     req.url().host_str()
    /// }
    /// # let _ = host;
    /// ```
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The request's own headers (the session's default headers, `Host` and
    /// the framing headers are added when it is written).
    ///
    /// # Examples
    ///
    /// ```
    /// fn authorized(req: &corio_http::RequestInfo) -> bool {
    ///     req.headers().contains_key(http::header::AUTHORIZATION)
    /// }
    /// # let _ = authorized;
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// Hooks a session calls as a request goes through its stages; aiohttp's
/// `TraceConfig` signals.
///
/// Every method has an empty default, so an implementation overrides only
/// what it needs. The hooks run inline on the task that sends the request:
/// keep them short and non-blocking. For one [`send`](crate::RequestBuilder::send)
/// the order is: `on_request_start`; then per connection attempt either
/// `on_connection_reuse` or `on_dns_resolved` (host names only) and
/// `on_connection_create`; `on_redirect` for each redirect followed; finally
/// `on_request_end` (when the final response head arrived) or
/// `on_request_error`.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use corio_http::{RequestInfo, Session, Trace};
///
/// #[derive(Default)]
/// struct Count(AtomicUsize);
///
/// impl Trace for Count {
///     fn on_request_start(&self, _req: &RequestInfo) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// let count = Arc::new(Count::default());
/// let session = Session::builder().trace(count.clone()).build();
/// # let _ = session;
/// ```
pub trait Trace: Send + Sync {
    /// A request is about to be sent (once per `send`, redirects included).
    fn on_request_start(&self, req: &RequestInfo) {
        let _ = req;
    }

    /// The final response head arrived, `elapsed` after `on_request_start`.
    fn on_request_end(&self, req: &RequestInfo, status: StatusCode, elapsed: Duration) {
        let _ = (req, status, elapsed);
    }

    /// The request failed with `err`.
    fn on_request_error(&self, req: &RequestInfo, err: &Error) {
        let _ = (req, err);
    }

    /// A new connection to `addr` was opened in `elapsed`.
    fn on_connection_create(&self, addr: SocketAddr, elapsed: Duration) {
        let _ = (addr, elapsed);
    }

    /// An idle pooled connection to `addr` is used again.
    fn on_connection_reuse(&self, addr: SocketAddr) {
        let _ = addr;
    }

    /// The host name `host` resolved to `addrs` in `elapsed`.
    fn on_dns_resolved(&self, host: &str, addrs: &[SocketAddr], elapsed: Duration) {
        let _ = (host, addrs, elapsed);
    }

    /// A `status` redirect from `from` to `to` is being followed.
    fn on_redirect(&self, from: &Url, to: &Url, status: StatusCode) {
        let _ = (from, to, status);
    }
}

impl fmt::Debug for dyn Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("dyn Trace")
    }
}
