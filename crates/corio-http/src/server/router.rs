//! Routing: path patterns, the route table and the handler type.
//!
//! A [`Router`] is a list of routes tried in registration order, as aiohttp's
//! `UrlDispatcher` does. A pattern is a sequence of `/`-separated segments,
//! each either a literal or a `{name}` parameter that matches one non-empty
//! segment. The request path is split the same way and every segment is
//! percent-decoded before it is compared, so `/caf%C3%A9` matches the literal
//! `/café` and a parameter receives the decoded text.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures_lite::FutureExt;
use http::{header, HeaderValue, Method, StatusCode};

use super::request::Request;
use super::response::Response;

type BoxFuture = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;
type DynHandler = dyn Fn(Request) -> BoxFuture + Send + Sync + 'static;

/// One segment of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

struct Route {
    method: Method,
    pattern: String,
    segments: Vec<Segment>,
    handler: Arc<DynHandler>,
}

/// The route table of a server: aiohttp's `web.Application` with its router.
///
/// Routes are added with [`route`](Router::route) or the per-method helpers
/// ([`get`](Router::get), [`post`](Router::post), ...) and are tried in the
/// order they were added; the first whose method and pattern match handles
/// the request. A pattern is an absolute path whose segments are literals or
/// `{name}` parameters (`/users/{id}/posts/{post}`); a parameter matches
/// exactly one non-empty segment and its decoded value is available from
/// [`Request::param`].
///
/// When no route matches the path the server answers `404 Not Found`; when
/// routes match the path but not the method it answers
/// `405 Method Not Allowed` with an `Allow` header listing the methods that
/// would have matched. A `HEAD` request is served by the matching `GET` route
/// (unless a `HEAD` route exists), and the body is left out of the response.
///
/// A handler is any `Fn(Request) -> impl Future<Output = Response>` that is
/// `Send + Sync + 'static`: an `async fn` or a closure returning an `async`
/// block. A handler that panics produces `500 Internal Server Error`; the
/// connection keeps serving.
///
/// # Examples
///
/// ```
/// use corio_http::server::{Request, Response, Router};
///
/// async fn hello(req: Request) -> Response {
///     let name = req.param("name").unwrap_or("Anonymous");
///     Response::text(format!("Hello, {name}!"))
/// }
///
/// let router = Router::new()
///     .get("/", hello)
///     .get("/{name}", hello)
///     .post("/echo", |req: Request| async move { Response::bytes(req.into_body()) });
/// assert_eq!(router.len(), 3);
/// ```
pub struct Router {
    routes: Vec<Route>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for r in &self.routes {
            list.entry(&format_args!("{} {}", r.method, r.pattern));
        }
        list.finish()
    }
}

impl Default for Router {
    fn default() -> Self {
        Router::new()
    }
}

/// The outcome of looking a request up in the route table.
pub(crate) enum Match<'r> {
    Found(&'r Arc<DynHandler>, Vec<(String, String)>),
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

impl Router {
    /// An empty route table: every request gets `404 Not Found`.
    ///
    /// # Examples
    ///
    /// ```
    /// let router = corio_http::server::Router::new();
    /// assert!(router.is_empty());
    /// ```
    pub fn new() -> Router {
        Router { routes: Vec::new() }
    }

    /// Adds a route for `method` and the path `pattern`, handled by `handler`.
    ///
    /// Routes are tried in the order they are added. See the [type
    /// documentation](Router) for the pattern syntax.
    ///
    /// # Panics
    ///
    /// When `pattern` does not start with `/`, has an unbalanced or empty
    /// `{}` parameter, a parameter that is not a whole segment (`/a{b}`), or
    /// the same parameter name twice.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Request, Response, Router};
    /// use http::Method;
    ///
    /// let router = Router::new().route(Method::PATCH, "/items/{id}", |req: Request| async move {
    ///     Response::text(format!("patched {}", req.param("id").unwrap()))
    /// });
    /// assert_eq!(router.len(), 1);
    /// ```
    pub fn route<H, F>(mut self, method: Method, pattern: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + Send + Sync + 'static,
        F: Future<Output = Response> + Send + 'static,
    {
        let segments = parse_pattern(pattern);
        let handler: Arc<DynHandler> = Arc::new(move |req| Box::pin(handler(req)) as BoxFuture);
        self.routes.push(Route {
            method,
            pattern: pattern.to_owned(),
            segments,
            handler,
        });
        self
    }

    /// Adds a `GET` route (which also serves `HEAD`): aiohttp's `web.get`.
    ///
    /// # Panics
    ///
    /// When `pattern` is invalid; see [`route`](Router::route).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Request, Response, Router};
    ///
    /// let router = Router::new().get("/", |_req: Request| async { Response::text("home") });
    /// assert_eq!(router.len(), 1);
    /// ```
    pub fn get<H, F>(self, pattern: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + Send + Sync + 'static,
        F: Future<Output = Response> + Send + 'static,
    {
        self.route(Method::GET, pattern, handler)
    }

    /// Adds a `POST` route: aiohttp's `web.post`.
    ///
    /// # Panics
    ///
    /// When `pattern` is invalid; see [`route`](Router::route).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Request, Response, Router};
    ///
    /// let router = Router::new().post("/echo", |req: Request| async move {
    ///     Response::bytes(req.into_body())
    /// });
    /// assert_eq!(router.len(), 1);
    /// ```
    pub fn post<H, F>(self, pattern: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + Send + Sync + 'static,
        F: Future<Output = Response> + Send + 'static,
    {
        self.route(Method::POST, pattern, handler)
    }

    /// Adds a `PUT` route: aiohttp's `web.put`.
    ///
    /// # Panics
    ///
    /// When `pattern` is invalid; see [`route`](Router::route).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Request, Response, Router};
    ///
    /// let router = Router::new().put("/items/{id}", |_req: Request| async {
    ///     Response::empty(http::StatusCode::NO_CONTENT)
    /// });
    /// assert_eq!(router.len(), 1);
    /// ```
    pub fn put<H, F>(self, pattern: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + Send + Sync + 'static,
        F: Future<Output = Response> + Send + 'static,
    {
        self.route(Method::PUT, pattern, handler)
    }

    /// Adds a `DELETE` route: aiohttp's `web.delete`.
    ///
    /// # Panics
    ///
    /// When `pattern` is invalid; see [`route`](Router::route).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Request, Response, Router};
    ///
    /// let router = Router::new().delete("/items/{id}", |_req: Request| async {
    ///     Response::empty(http::StatusCode::NO_CONTENT)
    /// });
    /// assert_eq!(router.len(), 1);
    /// ```
    pub fn delete<H, F>(self, pattern: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + Send + Sync + 'static,
        F: Future<Output = Response> + Send + 'static,
    {
        self.route(Method::DELETE, pattern, handler)
    }

    /// The number of routes.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_http::server::{Request, Response, Router};
    ///
    /// let router = Router::new().get("/", |_req: Request| async { Response::text("") });
    /// assert_eq!(router.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the table has no routes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(corio_http::server::Router::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Finds the route for `method` and the (raw, still encoded) `path`.
    pub(crate) fn lookup(&self, method: &Method, path: &str) -> Match<'_> {
        let segments = split_path(path);
        let mut allowed: Vec<Method> = Vec::new();
        let mut get_route = None;
        for route in &self.routes {
            let Some(params) = match_segments(&route.segments, &segments) else {
                continue;
            };
            if route.method == *method {
                return Match::Found(&route.handler, params);
            }
            if *method == Method::HEAD && route.method == Method::GET && get_route.is_none() {
                get_route = Some((&route.handler, params));
            }
            if !allowed.contains(&route.method) {
                allowed.push(route.method.clone());
            }
        }
        if let Some((handler, params)) = get_route {
            return Match::Found(handler, params);
        }
        if allowed.is_empty() {
            Match::NotFound
        } else {
            if allowed.contains(&Method::GET) && !allowed.contains(&Method::HEAD) {
                allowed.push(Method::HEAD);
            }
            Match::MethodNotAllowed(allowed)
        }
    }

    /// Routes `req` and runs its handler, turning a panic into a 500.
    pub(crate) async fn dispatch(&self, mut req: Request) -> Response {
        match self.lookup(req.method(), req.path()) {
            Match::Found(handler, params) => {
                req.set_params(params);
                let handler = Arc::clone(handler);
                // The handler may panic while creating its future or while
                // the future runs: both become a 500 for this request only.
                let run = std::panic::catch_unwind(AssertUnwindSafe(|| handler(req)));
                match run {
                    Ok(fut) => match AssertUnwindSafe(fut).catch_unwind().await {
                        Ok(resp) => resp,
                        Err(_) => internal_error(),
                    },
                    Err(_) => internal_error(),
                }
            }
            Match::MethodNotAllowed(allowed) => {
                let list: Vec<&str> = allowed.iter().map(Method::as_str).collect();
                let allow = HeaderValue::from_str(&list.join(", "))
                    .unwrap_or_else(|_| HeaderValue::from_static(""));
                let mut resp = Response::text("405 Method Not Allowed")
                    .with_status(StatusCode::METHOD_NOT_ALLOWED);
                resp.headers_mut().insert(header::ALLOW, allow);
                resp
            }
            Match::NotFound => Response::text("404 Not Found").with_status(StatusCode::NOT_FOUND),
        }
    }
}

fn internal_error() -> Response {
    Response::text("500 Internal Server Error").with_status(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Parses a route pattern; panics with a message on an invalid one.
fn parse_pattern(pattern: &str) -> Vec<Segment> {
    assert!(
        pattern.starts_with('/'),
        "route pattern {pattern:?} must start with '/'"
    );
    let mut out = Vec::new();
    if pattern == "/" {
        return out;
    }
    for seg in pattern[1..].split('/') {
        if let Some(inner) = seg.strip_prefix('{') {
            let name = inner.strip_suffix('}').unwrap_or_else(|| {
                panic!("route pattern {pattern:?}: parameter {seg:?} must be a whole segment")
            });
            assert!(
                !name.is_empty() && !name.contains(['{', '}']),
                "route pattern {pattern:?}: invalid parameter {seg:?}"
            );
            assert!(
                !out.contains(&Segment::Param(name.to_owned())),
                "route pattern {pattern:?}: parameter {name:?} appears twice"
            );
            out.push(Segment::Param(name.to_owned()));
        } else {
            assert!(
                !seg.contains(['{', '}']),
                "route pattern {pattern:?}: parameter in {seg:?} must be a whole segment"
            );
            out.push(Segment::Literal(seg.to_owned()));
        }
    }
    out
}

/// Splits a request path into decoded segments (`/` is no segment at all).
fn split_path(path: &str) -> Vec<String> {
    if path == "/" || path.is_empty() {
        return Vec::new();
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    path.split('/').map(|s| percent_decode(s, false)).collect()
}

fn match_segments(pattern: &[Segment], path: &[String]) -> Option<Vec<(String, String)>> {
    if pattern.len() != path.len() {
        return None;
    }
    let mut params = Vec::new();
    for (seg, value) in pattern.iter().zip(path) {
        match seg {
            Segment::Literal(lit) if lit == value => {}
            Segment::Literal(_) => return None,
            Segment::Param(_) if value.is_empty() => return None,
            Segment::Param(name) => params.push((name.clone(), value.clone())),
        }
    }
    Some(params)
}

/// Decodes `%XX` escapes (and `+` as a space when `plus` is set); invalid
/// escapes stay as they are, invalid UTF-8 becomes U+FFFD.
pub(crate) fn percent_decode(s: &str, plus: bool) -> String {
    if !s.contains(['%', '+']) {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("a%20b", false), "a b");
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%4", false), "%4");
        assert_eq!(percent_decode("%zz", false), "%zz");
        assert_eq!(percent_decode("caf%C3%A9", false), "café");
    }

    #[test]
    fn patterns() {
        assert_eq!(parse_pattern("/"), vec![]);
        assert_eq!(
            parse_pattern("/users/{id}"),
            vec![
                Segment::Literal("users".into()),
                Segment::Param("id".into())
            ]
        );
        assert!(std::panic::catch_unwind(|| parse_pattern("users")).is_err());
        assert!(std::panic::catch_unwind(|| parse_pattern("/a{b}")).is_err());
        assert!(std::panic::catch_unwind(|| parse_pattern("/{a}/{a}")).is_err());
        assert!(std::panic::catch_unwind(|| parse_pattern("/{}")).is_err());
    }

    #[test]
    fn matching() {
        let p = parse_pattern("/users/{id}/posts/{post}");
        let m = match_segments(&p, &split_path("/users/7/posts/a%2Fb")).unwrap();
        assert_eq!(
            m,
            vec![("id".into(), "7".into()), ("post".into(), "a/b".into())]
        );
        assert!(match_segments(&p, &split_path("/users//posts/x")).is_none());
        assert!(match_segments(&parse_pattern("/{name}"), &split_path("/")).is_none());
        assert!(match_segments(&parse_pattern("/"), &split_path("/")).is_some());
        assert!(match_segments(&parse_pattern("/a"), &split_path("/a/")).is_none());
    }
}
