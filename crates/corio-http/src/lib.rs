//! corio's HTTP/1.1 layer: a pooled client [`Session`] (aiohttp's
//! `ClientSession`) and a small [`server`] (aiohttp's `web`).
//!
//! ```
//! use corio_http::server::{Response as Reply, Router, Server};
//! use corio_http::Session;
//!
//! corio::run(async {
//!     // The server: a router of async handlers, served on a free port.
//!     let router = Router::new().get("/hello/{name}", |req| async move {
//!         Reply::text(format!("Hello, {}!", req.param("name").unwrap_or("?")))
//!     });
//!     let server = Server::bind("127.0.0.1:0").await?.serve(router);
//!
//!     // The client: one session, shared, reusing its connections.
//!     let session = Session::new();
//!     let url = format!("http://{}/hello/corio", server.local_addr());
//!     let text = session.get(&url).send().await?.error_for_status()?.text().await?;
//!     assert_eq!(text, "Hello, corio!");
//!
//!     server.shutdown().await;
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })
//! .unwrap();
//! ```
//!
//! # How the pieces relate
//!
//! * [`Session`] ([`client`]) sends requests built with [`RequestBuilder`]
//!   and returns [`Response`]s whose bodies are read on demand; it keeps a
//!   pool of keep-alive connections, bounded by its limits, and follows
//!   redirects ([`Redirect`]), retries ([`Retry`]) and reports to hooks
//!   ([`Trace`]) as configured.
//! * [`server`] runs handlers for requests on a listener.
//! * Both speak HTTP/1.1 through one internal codec that refuses ambiguous or
//!   oversized messages; every failure is one [`Error`] with predicates.

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub mod client;
mod decompress;
mod error;
mod proto;
pub mod server;
#[cfg(feature = "tls")]
mod tls;

pub use client::{
    BytesStream, Redirect, RequestBuilder, RequestInfo, Response, Retry, Session, SessionBuilder,
    Trace,
};
pub use error::Error;
#[cfg(feature = "tls")]
pub use tls::{Certificate, TlsRoots};
