//! [`Error`]: the one opaque error type of corio-http (hyper's and reqwest's shape).
//!
//! # Design
//!
//! Everything that can go wrong in an HTTP exchange — building the request,
//! connecting, a timeout, a malformed response, a limit that was hit, a body
//! that ended early — is one boxed [`Error`], so that `Result<T, Error>` stays
//! one pointer wide. Callers tell the cases apart with predicates
//! ([`Error::is_timeout`], [`Error::is_parse`], ...) rather than by matching on
//! an enum, which leaves the crate free to add cases.
//!
//! The predicates are not exclusive: an error has one *kind* (what went wrong)
//! and may also be tied to the response *body* (where it went wrong). A chunk
//! size line that is not hex is both [`is_parse`](Error::is_parse) and
//! [`is_body`](Error::is_body); a trailer section that is too large is both
//! [`is_limit`](Error::is_limit) and [`is_body`](Error::is_body).
//!
//! `Display` says what happened and to what, in one line without the cause:
//! `error reading response body from http://127.0.0.1:8080/x: chunk size line
//! is not hex`. A foreign cause (an `io::Error`, an `httparse::Error`) is kept
//! as the [`source`](std::error::Error::source) and is not repeated in the
//! message, so that error reporters that walk the chain print each part once.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use http::{StatusCode, Uri};

/// A boxed cause, as kept in [`Error::source`](std::error::Error::source).
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// An error from corio-http: a failed request, a bad response, a limit hit;
/// what aiohttp raises as `ClientError` and its subclasses.
///
/// The error is opaque: ask what happened with the predicates
/// ([`is_timeout`](Error::is_timeout), [`is_connect`](Error::is_connect),
/// [`is_request`](Error::is_request), [`is_parse`](Error::is_parse),
/// [`is_limit`](Error::is_limit), [`is_body`](Error::is_body), ...), where with
/// [`url`](Error::url), and why with [`source`](std::error::Error::source).
/// More than one predicate can hold: a malformed chunk header is both
/// [`is_parse`](Error::is_parse) and [`is_body`](Error::is_body).
///
/// aiohttp's names map as follows: `ClientConnectorError` is
/// [`is_connect`](Error::is_connect), `ServerTimeoutError` /
/// `asyncio.TimeoutError` [`is_timeout`](Error::is_timeout),
/// `ClientResponseError` from `raise_for_status()`
/// [`is_status`](Error::is_status), `ClientPayloadError`
/// [`is_body`](Error::is_body), `ServerDisconnectedError` an
/// [`is_body`](Error::is_body) or [`is_parse`](Error::is_parse) error whose
/// message says the connection closed, `TooManyRedirects`
/// [`is_redirect`](Error::is_redirect).
///
/// The type is `Send + Sync + 'static` and one pointer wide.
///
/// # Examples
///
/// ```
/// fn describe(err: &corio_http::Error) -> &'static str {
///     if err.is_timeout() {
///         "timed out"
///     } else if err.is_connect() {
///         "could not connect"
///     } else if err.is_limit() {
///         "the response was too large"
///     } else if err.is_parse() {
///         "the server sent a malformed response"
///     } else {
///         "other"
///     }
/// }
///
/// // The error can cross threads and be boxed like any other error.
/// fn boxed(err: corio_http::Error) -> Box<dyn std::error::Error + Send + Sync> {
///     Box::new(err)
/// }
/// # let _ = (describe, boxed);
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    /// Whether the error happened while reading or writing a body.
    body: bool,
    message: Option<Cow<'static, str>>,
    url: Option<Uri>,
    source: Option<BoxError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The request we were asked to send is invalid (header injection, builder misuse).
    Request,
    /// Connecting (DNS, TCP, TLS) failed.
    Connect,
    /// A deadline passed.
    Timeout,
    /// Too many redirects, or a redirect we refuse to follow.
    Redirect,
    /// The server answered with an error status (`raise_for_status`).
    Status(StatusCode),
    /// Reading or writing a body failed (I/O, or the peer closed early).
    Body,
    /// Decoding a body (decompression, charset, JSON) failed.
    Decode,
    /// The peer sent bytes that are not valid HTTP/1.1.
    Parse,
    /// A configured limit was hit.
    Limit,
}

impl Error {
    fn new(kind: Kind, message: Option<Cow<'static, str>>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                body: false,
                message,
                url: None,
                source: None,
            }),
        }
    }

    /// An invalid request of ours: a header with CR/LF/NUL, a bad header
    /// name, conflicting framing, a missing Host.
    pub(crate) fn request(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(Kind::Request, Some(message.into()))
    }

    /// Connecting failed.
    pub(crate) fn connect(source: impl Into<BoxError>) -> Error {
        Error::new(Kind::Connect, None).with_source(source)
    }

    /// A deadline passed.
    pub(crate) fn timeout() -> Error {
        Error::new(Kind::Timeout, None)
    }

    /// A redirect could not be followed.
    pub(crate) fn redirect(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(Kind::Redirect, Some(message.into()))
    }

    /// The server answered with an error status.
    pub(crate) fn from_status(status: StatusCode) -> Error {
        Error::new(Kind::Status(status), None)
    }

    /// Reading or writing the body failed (the peer closed early, an I/O error).
    pub(crate) fn body(message: impl Into<Cow<'static, str>>) -> Error {
        let mut err = Error::new(Kind::Body, Some(message.into()));
        err.inner.body = true;
        err
    }

    /// Decoding the body failed.
    pub(crate) fn decode(source: impl Into<BoxError>) -> Error {
        let mut err = Error::new(Kind::Decode, None).with_source(source);
        err.inner.body = true;
        err
    }

    /// The response head is malformed.
    pub(crate) fn parse(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(Kind::Parse, Some(message.into()))
    }

    /// The body framing (chunk headers, trailers) is malformed.
    pub(crate) fn parse_body(message: impl Into<Cow<'static, str>>) -> Error {
        let mut err = Error::parse(message);
        err.inner.body = true;
        err
    }

    /// The response head hit a limit.
    pub(crate) fn limit(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(Kind::Limit, Some(message.into()))
    }

    /// The body (its size, a chunk extension, the trailers) hit a limit.
    pub(crate) fn limit_body(message: impl Into<Cow<'static, str>>) -> Error {
        let mut err = Error::limit(message);
        err.inner.body = true;
        err
    }

    /// Attaches the cause, returned by [`source`](std::error::Error::source).
    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Error {
        self.inner.source = Some(source.into());
        self
    }

    /// Returns this error with `url` as the URL it concerns, replacing any URL
    /// it had.
    ///
    /// The codec knows no URL; the layer that knows which request failed
    /// attaches it, so that the message says "... from http://host/path".
    ///
    /// # Examples
    ///
    /// ```
    /// fn tag(err: corio_http::Error, url: http::Uri) -> corio_http::Error {
    ///     let err = err.with_url(url.clone());
    ///     assert_eq!(err.url(), Some(&url));
    ///     err
    /// }
    /// # let _ = tag;
    /// ```
    pub fn with_url(mut self, url: Uri) -> Error {
        self.inner.url = Some(url);
        self
    }

    /// The URL the failed request was for, if known.
    ///
    /// # Examples
    ///
    /// ```
    /// fn report(err: &corio_http::Error) -> String {
    ///     match err.url() {
    ///         Some(url) => format!("{url} failed"),
    ///         None => "a request failed".to_string(),
    ///     }
    /// }
    /// # let _ = report;
    /// ```
    pub fn url(&self) -> Option<&Uri> {
        self.inner.url.as_ref()
    }

    /// The status code, for an error made from an error status
    /// ([`is_status`](Error::is_status)); `None` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// fn not_found(err: &corio_http::Error) -> bool {
    ///     err.status() == Some(http::StatusCode::NOT_FOUND)
    /// }
    /// # let _ = not_found;
    /// ```
    pub fn status(&self) -> Option<StatusCode> {
        match self.inner.kind {
            Kind::Status(status) => Some(status),
            _ => None,
        }
    }

    /// Whether a deadline passed (a connect, read or total timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// fn retry(err: &corio_http::Error) -> bool {
    ///     err.is_timeout() || err.is_connect()
    /// }
    /// # let _ = retry;
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == Kind::Timeout
    }

    /// Whether connecting to the server failed (DNS, TCP or TLS).
    ///
    /// # Examples
    ///
    /// ```
    /// fn server_down(err: &corio_http::Error) -> bool {
    ///     err.is_connect()
    /// }
    /// # let _ = server_down;
    /// ```
    pub fn is_connect(&self) -> bool {
        self.inner.kind == Kind::Connect
    }

    /// Whether following redirects failed (too many, or a bad `Location`).
    ///
    /// # Examples
    ///
    /// ```
    /// fn redirect_loop(err: &corio_http::Error) -> bool {
    ///     err.is_redirect()
    /// }
    /// # let _ = redirect_loop;
    /// ```
    pub fn is_redirect(&self) -> bool {
        self.inner.kind == Kind::Redirect
    }

    /// Whether the error concerns a body: the peer closed the connection
    /// before the body was complete, the body's framing (chunk headers,
    /// trailers) was malformed or too large, or decoding it failed.
    ///
    /// Malformed framing is also [`is_parse`](Error::is_parse), a limit also
    /// [`is_limit`](Error::is_limit).
    ///
    /// # Examples
    ///
    /// ```
    /// fn truncated(err: &corio_http::Error) -> bool {
    ///     err.is_body() && !err.is_parse() && !err.is_limit()
    /// }
    /// # let _ = truncated;
    /// ```
    pub fn is_body(&self) -> bool {
        self.inner.body
    }

    /// Whether decoding the body (decompression, text, JSON) failed.
    ///
    /// # Examples
    ///
    /// ```
    /// fn bad_payload(err: &corio_http::Error) -> bool {
    ///     err.is_decode()
    /// }
    /// # let _ = bad_payload;
    /// ```
    pub fn is_decode(&self) -> bool {
        self.inner.kind == Kind::Decode
    }

    /// Whether the error was made from an error status
    /// (aiohttp's `raise_for_status()`); [`status`](Error::status) gives it.
    ///
    /// # Examples
    ///
    /// ```
    /// fn server_error(err: &corio_http::Error) -> bool {
    ///     err.is_status() && err.status().is_some_and(|s| s.is_server_error())
    /// }
    /// # let _ = server_error;
    /// ```
    pub fn is_status(&self) -> bool {
        matches!(self.inner.kind, Kind::Status(_))
    }

    /// Whether the request we were asked to send is invalid: a header name
    /// that is not a token, a header value with CR, LF or NUL (header
    /// injection), framing headers set by hand, no `Host`.
    ///
    /// Nothing was sent when this error is returned.
    ///
    /// # Examples
    ///
    /// ```
    /// fn our_bug(err: &corio_http::Error) -> bool {
    ///     err.is_request()
    /// }
    /// # let _ = our_bug;
    /// ```
    pub fn is_request(&self) -> bool {
        self.inner.kind == Kind::Request
    }

    /// Whether the peer sent a malformed response: a bad status line, header
    /// or version, conflicting or invalid framing headers (`Content-Length`
    /// with `Transfer-Encoding`, differing lengths), a bad chunk header, an
    /// unexpected `101 Switching Protocols`.
    ///
    /// The connection must not be reused after such an error.
    ///
    /// # Examples
    ///
    /// ```
    /// fn broken_server(err: &corio_http::Error) -> bool {
    ///     err.is_parse()
    /// }
    /// # let _ = broken_server;
    /// ```
    pub fn is_parse(&self) -> bool {
        self.inner.kind == Kind::Parse
    }

    /// Same as [`is_parse`](Error::is_parse): the peer broke the protocol.
    ///
    /// # Examples
    ///
    /// ```
    /// fn broken_server(err: &corio_http::Error) -> bool {
    ///     err.is_protocol()
    /// }
    /// # let _ = broken_server;
    /// ```
    pub fn is_protocol(&self) -> bool {
        self.is_parse()
    }

    /// Whether a configured limit was hit: the header count, the head size,
    /// a line length, a chunk extension or the trailer size, the body size.
    ///
    /// The response may be valid HTTP; it was refused for its size. The
    /// connection must not be reused after such an error.
    ///
    /// # Examples
    ///
    /// ```
    /// fn too_big(err: &corio_http::Error) -> bool {
    ///     err.is_limit()
    /// }
    /// # let _ = too_big;
    /// ```
    pub fn is_limit(&self) -> bool {
        self.inner.kind == Kind::Limit
    }

    /// What went wrong, as the start of the message.
    fn what(&self) -> Cow<'static, str> {
        let inner = &*self.inner;
        match inner.kind {
            Kind::Request => "invalid request".into(),
            Kind::Connect => "error connecting".into(),
            Kind::Timeout => "operation timed out".into(),
            Kind::Redirect => "error following redirect".into(),
            Kind::Status(status) if status.is_client_error() => {
                format!("HTTP status client error ({status})").into()
            }
            Kind::Status(status) if status.is_server_error() => {
                format!("HTTP status server error ({status})").into()
            }
            Kind::Status(status) => format!("HTTP status {status}").into(),
            Kind::Decode => "error decoding response body".into(),
            Kind::Body => "error reading response body".into(),
            Kind::Parse | Kind::Limit if inner.body => "error reading response body".into(),
            Kind::Parse => "invalid response".into(),
            Kind::Limit => "response refused".into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what())?;
        if let Some(url) = &self.inner.url {
            let preposition = if self.is_request() || self.is_connect() {
                "for"
            } else {
                "from"
            };
            write!(f, " {preposition} {url}")?;
        }
        if let Some(message) = &self.inner.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let mut d = f.debug_struct("corio_http::Error");
        d.field("kind", &inner.kind);
        if inner.body {
            d.field("body", &true);
        }
        if let Some(message) = &inner.message {
            d.field("message", message);
        }
        if let Some(url) = &inner.url {
            d.field("url", &format_args!("{url}"));
        }
        if let Some(source) = &inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|source| &**source as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// The names of the predicates that hold for `err`, in a fixed order.
    fn predicates(err: &Error) -> String {
        let all = [
            ("timeout", err.is_timeout()),
            ("connect", err.is_connect()),
            ("redirect", err.is_redirect()),
            ("body", err.is_body()),
            ("decode", err.is_decode()),
            ("status", err.is_status()),
            ("request", err.is_request()),
            ("parse", err.is_parse()),
            ("protocol", err.is_protocol()),
            ("limit", err.is_limit()),
        ];
        let held: Vec<&str> = all.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect();
        held.join(" ")
    }

    #[test]
    fn each_constructor_sets_its_predicates_only() {
        let io = || io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        let cases = [
            (Error::timeout(), "timeout"),
            (Error::connect(io()), "connect"),
            (Error::redirect("x"), "redirect"),
            (Error::body("x"), "body"),
            (Error::decode(io()), "body decode"),
            (Error::from_status(StatusCode::NOT_FOUND), "status"),
            (Error::request("x"), "request"),
            (Error::parse("x"), "parse protocol"),
            (Error::parse_body("x"), "body parse protocol"),
            (Error::limit("x"), "limit"),
            (Error::limit_body("x"), "body limit"),
        ];
        for (err, want) in &cases {
            assert_eq!(predicates(err), *want, "{err:?}");
        }
    }

    #[test]
    fn display_says_what_to_what_and_why() {
        let url: Uri = "http://127.0.0.1:8080/x".parse().unwrap();
        let err = Error::parse_body("chunk size line is not hex").with_url(url.clone());
        assert_eq!(
            err.to_string(),
            "error reading response body from http://127.0.0.1:8080/x: chunk size line is not hex"
        );
        assert_eq!(err.url(), Some(&url));
        assert_eq!(
            Error::request("header value contains CR").to_string(),
            "invalid request: header value contains CR"
        );
        let err = Error::from_status(StatusCode::NOT_FOUND).with_url(url);
        assert_eq!(
            err.to_string(),
            "HTTP status client error (404 Not Found) from http://127.0.0.1:8080/x"
        );
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(Error::timeout().status(), None);
    }

    #[test]
    fn source_chain_keeps_the_cause_out_of_the_message() {
        let err = Error::connect(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"))
            .with_url("http://[::1]:1/".parse().unwrap());
        assert_eq!(err.to_string(), "error connecting for http://[::1]:1/");
        let source = err.source().expect("a source");
        assert_eq!(source.to_string(), "refused");
        let io = source.downcast_ref::<io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), io::ErrorKind::ConnectionRefused);
        assert!(Error::parse("x").source().is_none());
        let debug = format!("{err:?}");
        assert!(
            debug.contains("Connect") && debug.contains("refused"),
            "{debug}"
        );
    }

    #[test]
    fn error_is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(
            std::mem::size_of::<Result<(), Error>>(),
            std::mem::size_of::<usize>()
        );
    }
}
