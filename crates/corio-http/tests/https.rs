//! HTTPS through the [`Session`], end to end: a local server built here with
//! rcgen (a CA and leaves signed by it) and futures-rustls' server side over
//! corio's `TcpListener`, speaking just enough HTTP/1.1 (request heads
//! without bodies, fixed answers with a Content-Length or chunked,
//! keep-alive).
//!
//! The server sniffs the first byte of every connection: a TLS handshake
//! record (0x16) is served over TLS, anything else as plain HTTP, so that
//! `http://localhost:P/` and `https://localhost:P/` differ only by scheme.
//! It counts accepted connections and failed handshakes, and records every
//! request head with the scheme it came over.

#![cfg(feature = "tls")]

use std::error::Error as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use corio::net::{TcpListener, TcpStream};
use corio_http::{Certificate, Session, TlsRoots};
use futures_lite::io::{AsyncRead, AsyncWrite};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use http::StatusCode;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::{CertificateError, ServerConfig};
use rustls_pki_types::PrivateKeyDer;

/// Bound on every test, so that a bug fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(5);

fn run<F: std::future::Future>(future: F) -> F::Output {
    let rt = corio::Runtime::builder().worker_threads(4).build().unwrap();
    rt.block_on(async { corio::timeout(LIMIT, future).await.expect("test timed out") })
}

/// A certificate authority made for one test.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// The CA as the client loads it: from its PEM text.
    fn certificate(&self) -> Certificate {
        Certificate::from_pem(self.cert.pem().as_bytes()).unwrap()
    }

    /// A server configuration presenting a leaf for `names` (DNS names or
    /// IP addresses) signed by this CA, offering ALPN h2 and http/1.1.
    fn server(&self, names: &[&str]) -> Arc<ServerConfig> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let params = CertificateParams::new(names).unwrap();
        let key = KeyPair::generate().unwrap();
        let leaf = params.signed_by(&key, &self.cert, &self.key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    tls: bool,
    /// The request head, lowercased.
    head: String,
}

/// What the server does after answering a request.
enum Then {
    /// Waits for the next request on the connection.
    KeepAlive,
    /// Closes the connection (with close_notify over TLS).
    Close,
    /// Drops the connection: over TLS, without close_notify.
    Abort,
}

type Script = dyn Fn(&Seen) -> (Vec<u8>, Then) + Send + Sync;

/// A local HTTP and HTTPS server on 127.0.0.1.
struct Server {
    addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
    handshake_failures: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// TLS connections the client closed with a `close_notify` (the server's
    /// read ended cleanly, not with an unexpected EOF).
    clean_closes: Arc<AtomicUsize>,
    _task: corio::task::Task<()>,
}

impl Server {
    fn port(&self) -> u16 {
        self.addr.port()
    }
    fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }
    fn handshake_failures(&self) -> usize {
        self.handshake_failures.load(Ordering::SeqCst)
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    fn clean_closes(&self) -> usize {
        self.clean_closes.load(Ordering::SeqCst)
    }
}

/// Starts a server presenting `config` to TLS clients and answering every
/// request with what `script` says.
async fn server<F>(config: Arc<ServerConfig>, script: F) -> Server
where
    F: Fn(&Seen) -> (Vec<u8>, Then) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(AtomicUsize::new(0));
    let handshake_failures = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script: Arc<Script> = Arc::new(script);
    let acceptor = futures_rustls::TlsAcceptor::from(config);
    let clean_closes = Arc::new(AtomicUsize::new(0));
    let (a, h, s, c) = (
        accepts.clone(),
        handshake_failures.clone(),
        seen.clone(),
        clean_closes.clone(),
    );
    let task = corio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            a.fetch_add(1, Ordering::SeqCst);
            let (acceptor, h, s, c, script) = (
                acceptor.clone(),
                h.clone(),
                s.clone(),
                c.clone(),
                script.clone(),
            );
            corio::spawn(async move {
                let mut first = [0u8; 1];
                if tcp.read_exact(&mut first).await.is_err() {
                    return;
                }
                let stream = Prefixed {
                    prefix: Some(first[0]),
                    inner: tcp,
                };
                if first[0] == 0x16 {
                    match acceptor.accept(stream).await {
                        Ok(tls) => {
                            if serve_conn(tls, true, &s, &*script).await {
                                c.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Err(_) => {
                            h.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                } else {
                    let _ = serve_conn(stream, false, &s, &*script).await;
                }
            })
            .detach();
        }
    });
    Server {
        addr,
        accepts,
        handshake_failures,
        seen,
        clean_closes,
        _task: task,
    }
}

/// A TCP stream with the byte the server sniffed put back in front.
struct Prefixed {
    prefix: Option<u8>,
    inner: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if let Some(byte) = self.prefix.take() {
            buf[0] = byte;
            return Poll::Ready(Ok(1));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// Serves requests (heads only: these tests send no request body) until the
/// client closes or the script says to close. Returns whether the client
/// closed cleanly: a read that ended with `Ok(0)` (over TLS, only after a
/// `close_notify`; a bare TCP close is an error there).
async fn serve_conn<S>(mut stream: S, tls: bool, log: &Mutex<Vec<Seen>>, script: &Script) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut tmp).await {
                Ok(0) => return true,
                Err(_) => return false,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        buf.drain(..end);
        let seen = Seen { tls, head };
        log.lock().unwrap().push(seen.clone());
        let (reply, then) = script(&seen);
        if stream.write_all(&reply).await.is_err() || stream.flush().await.is_err() {
            return false;
        }
        match then {
            Then::KeepAlive => {}
            Then::Close => {
                let _ = stream.close().await;
                return false;
            }
            Then::Abort => return false,
        }
    }
}

/// `HTTP/1.1 200 OK` with `body`, its Content-Length and extra header lines.
fn ok(body: &[u8], extra: &str) -> Vec<u8> {
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body);
    reply
}

/// The path of a request head's request line.
fn path(seen: &Seen) -> &str {
    seen.head.split(' ').nth(1).unwrap_or("")
}

/// A session trusting `ca` only.
fn trusting(ca: &Ca) -> Session {
    Session::builder()
        .tls_roots(TlsRoots::Empty)
        .add_root_certificate(ca.certificate())
        .build()
}

fn rustls_cause(err: &corio_http::Error) -> &rustls::Error {
    err.source()
        .and_then(|s| s.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("no rustls::Error source in {err:?}"))
}

#[test]
fn get_by_name_and_by_address_reuses_the_connection() {
    let ca = Ca::new("corio test CA");
    run(async {
        let srv = server(ca.server(&["localhost", "127.0.0.1"]), |seen| {
            (
                ok(format!("hello {}", path(seen)).as_bytes(), ""),
                Then::KeepAlive,
            )
        })
        .await;
        let port = srv.port();
        let session = trusting(&ca);
        for (n, host) in ["localhost", "127.0.0.1"].into_iter().enumerate() {
            for i in 0..2 {
                let url = format!("https://{host}:{port}/r{i}");
                let resp = session.get(&url).send().await.unwrap();
                assert_eq!(resp.status(), StatusCode::OK);
                assert_eq!(resp.url().as_str(), url);
                assert_eq!(resp.content_length(), Some(9));
                assert_eq!(resp.text().await.unwrap(), format!("hello /r{i}"));
                // Two requests per host, one TLS connection per host.
                assert_eq!(srv.accepts(), n + 1, "{url}");
                assert_eq!(session.idle_connections(), n + 1);
            }
        }
        let seen = srv.seen();
        assert_eq!(seen.len(), 4);
        assert!(seen.iter().all(|s| s.tls), "{seen:?}");
        assert!(seen[0].head.starts_with("get /r0 http/1.1\r\n"), "{seen:?}");
        assert!(
            seen[0]
                .head
                .contains(&format!("\r\nhost: localhost:{port}\r\n")),
            "{seen:?}"
        );
        assert!(
            seen[2]
                .head
                .contains(&format!("\r\nhost: 127.0.0.1:{port}\r\n")),
            "{seen:?}"
        );

        // The CA added on top of the bundled roots works as well.
        let bundled = Session::builder()
            .add_root_certificate(ca.certificate())
            .build();
        let url = format!("https://localhost:{port}/bundled");
        let text = bundled.get(&url).send().await.unwrap().text().await;
        assert_eq!(text.unwrap(), "hello /bundled");
        assert_eq!(srv.accepts(), 3);
        assert_eq!(srv.handshake_failures(), 0);
    });
}

#[test]
fn concurrent_requests_share_the_tls_configuration() {
    let ca = Ca::new("corio test CA");
    run(async {
        let srv = server(ca.server(&["localhost"]), |seen| {
            (ok(path(seen).as_bytes(), ""), Then::KeepAlive)
        })
        .await;
        let session = Session::builder()
            .tls_roots(TlsRoots::Empty)
            .add_root_certificate(ca.certificate())
            .limit_per_host(3)
            .build();
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let session = session.clone();
                let url = format!("https://localhost:{}/{i}", srv.port());
                corio::spawn(async move {
                    let resp = session.get(&url).send().await.unwrap();
                    assert_eq!(resp.text().await.unwrap(), format!("/{i}"));
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        // At most three connections were ever opened, all reused.
        assert!((1..=3).contains(&srv.accepts()), "{}", srv.accepts());
        assert_eq!(session.idle_connections(), srv.accepts());
        assert_eq!(srv.seen().len(), 12);
    });
}

#[test]
fn large_body_spans_many_tls_records() {
    let ca = Ca::new("corio test CA");
    let body: Vec<u8> = (0..(1usize << 20)).map(|i| (i % 251) as u8).collect();
    let expected = body.clone();
    run(async {
        let srv = server(ca.server(&["localhost"]), move |_| {
            (ok(&body, ""), Then::KeepAlive)
        })
        .await;
        let session = trusting(&ca);
        let url = format!("https://localhost:{}/big", srv.port());
        for _ in 0..2 {
            let got = session.get(&url).send().await.unwrap().bytes().await;
            assert!(got.unwrap()[..] == expected[..]);
        }
        assert_eq!(srv.accepts(), 1);
    });
}

#[test]
fn server_closing_an_idle_tls_connection_is_not_an_error() {
    let ca = Ca::new("corio test CA");
    run(async {
        // Every answer says keep-alive, but the server closes (close_notify)
        // right after it.
        let srv = server(ca.server(&["localhost"]), |_| {
            (ok(b"once", ""), Then::Close)
        })
        .await;
        let session = trusting(&ca);
        let url = format!("https://localhost:{}/", srv.port());
        for n in 1..=3 {
            let resp = session.get(&url).send().await.unwrap();
            assert_eq!(resp.text().await.unwrap(), "once");
            assert_eq!(srv.accepts(), n);
            // Let the close_notify arrive before the next request looks at
            // the pool: the closed connection is dropped there.
            corio::sleep(Duration::from_millis(50)).await;
        }
        // Back to back, the next request may find the connection before the
        // close_notify arrived; it is then sent again on a fresh connection
        // (a GET is idempotent), never failed.
        for n in 4..=8 {
            let resp = session.get(&url).send().await.unwrap();
            assert_eq!(resp.text().await.unwrap(), "once");
            assert_eq!(srv.accepts(), n);
        }
        // The server read each request once: nothing was answered twice.
        assert_eq!(srv.seen().len(), 8);
    });
}

/// Connections the session lets go (here: all of them, with the session)
/// end with a `close_notify`, so the server reads an orderly end of stream
/// instead of a truncation.
#[test]
fn dropped_tls_connections_close_with_close_notify() {
    let ca = Ca::new("corio test CA");
    run(async {
        let srv = server(ca.server(&["localhost"]), |_| {
            (ok(b"hi", ""), Then::KeepAlive)
        })
        .await;
        let session = trusting(&ca);
        let url = format!("https://localhost:{}/", srv.port());
        let two = futures_lite::future::zip(session.get(&url).send(), session.get(&url).send());
        let (a, b) = two.await;
        assert_eq!(a.unwrap().text().await.unwrap(), "hi");
        assert_eq!(b.unwrap().text().await.unwrap(), "hi");
        let opened = srv.accepts();
        assert!((1..=2).contains(&opened), "{opened}");
        drop(session);
        let start = std::time::Instant::now();
        while srv.clean_closes() < opened && start.elapsed() < Duration::from_secs(5) {
            corio::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(srv.clean_closes(), opened);
    });
}

#[test]
fn untrusted_ca_is_a_connect_error_with_the_url() {
    let ca = Ca::new("corio test CA");
    let other = Ca::new("someone else");
    run(async {
        let srv = server(ca.server(&["localhost", "127.0.0.1"]), |_| {
            (ok(b"secret", ""), Then::KeepAlive)
        })
        .await;
        let sessions = [Session::new(), trusting(&other)];
        for (i, session) in sessions.iter().enumerate() {
            for host in ["localhost", "127.0.0.1"] {
                let url = format!("https://{host}:{}/x", srv.port());
                let err = session.get(&url).send().await.unwrap_err();
                assert!(err.is_connect(), "{err:?}");
                assert!(!err.is_timeout() && !err.is_request(), "{err:?}");
                assert_eq!(err.url().map(|u| u.to_string()), Some(url.clone()));
                assert!(err.to_string().contains(&url), "{err}");
                assert_eq!(
                    rustls_cause(&err),
                    &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
                    "session {i}"
                );
                assert_eq!(session.idle_connections(), 0);
            }
        }
        // Nothing was sent: every handshake failed on the server's side too.
        assert!(srv.seen().is_empty());
        assert_eq!(srv.accepts(), 4);
        for _ in 0..100 {
            if srv.handshake_failures() == 4 {
                break;
            }
            corio::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(srv.handshake_failures(), 4);
    });
}

#[test]
fn name_mismatch_is_a_connect_error() {
    let ca = Ca::new("corio test CA");
    run(async {
        let srv = server(ca.server(&["example.com", "127.0.0.2"]), |_| {
            (ok(b"secret", ""), Then::KeepAlive)
        })
        .await;
        let session = trusting(&ca);
        for host in ["localhost", "127.0.0.1"] {
            let url = format!("https://{host}:{}/", srv.port());
            let err = session.get(&url).send().await.unwrap_err();
            assert!(err.is_connect(), "{err:?}");
            assert_eq!(err.url().map(|u| u.to_string()), Some(url));
            assert!(
                matches!(
                    rustls_cause(&err),
                    rustls::Error::InvalidCertificate(
                        CertificateError::NotValidForName
                            | CertificateError::NotValidForNameContext { .. }
                    )
                ),
                "{err:?}"
            );
        }
        assert!(srv.seen().is_empty());
    });
}

#[test]
fn empty_roots_without_a_certificate_fail_https_only() {
    run(async {
        let ca = Ca::new("corio test CA");
        let srv = server(ca.server(&["localhost"]), |_| {
            (ok(b"plain", ""), Then::KeepAlive)
        })
        .await;
        let session = Session::builder().tls_roots(TlsRoots::Empty).build();
        let url = format!("https://localhost:{}/", srv.port());
        for _ in 0..2 {
            let err = session.get(&url).send().await.unwrap_err();
            assert!(err.is_request() && !err.is_connect(), "{err:?}");
            assert_eq!(err.url().map(|u| u.to_string()), Some(url.clone()));
        }
        assert_eq!(srv.accepts(), 0, "refused before connecting");
        // Plain http is not affected.
        let plain = format!("http://localhost:{}/", srv.port());
        let text = session.get(&plain).send().await.unwrap().text().await;
        assert_eq!(text.unwrap(), "plain");
    });
}

#[test]
fn redirects_between_http_and_https_strip_credentials_across_origins() {
    let ca = Ca::new("corio test CA");
    run(async {
        let port = Arc::new(AtomicUsize::new(0));
        let p = port.clone();
        let srv = server(ca.server(&["localhost", "127.0.0.1"]), move |seen| {
            let port = p.load(Ordering::SeqCst);
            let to = |location: String| {
                let reply = format!(
                    "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n"
                );
                (reply.into_bytes(), Then::KeepAlive)
            };
            match path(seen) {
                // Only the scheme changes.
                "/upgrade" => to(format!("https://localhost:{port}/landed")),
                // Same origin over https.
                "/same" => to("/landed".to_owned()),
                // Only the host changes.
                "/other-host" => to(format!("https://127.0.0.1:{port}/landed")),
                // Back down to plain http, same host and port.
                "/downgrade" => to(format!("http://localhost:{port}/landed")),
                _ => (ok(b"landed", ""), Then::KeepAlive),
            }
        })
        .await;
        port.store(srv.port() as usize, Ordering::SeqCst);
        let session = trusting(&ca);
        // (start, credentials kept, lands over TLS)
        let cases = [
            ("http://localhost:{}/upgrade", false, true),
            ("https://localhost:{}/same", true, true),
            ("https://localhost:{}/other-host", false, true),
            ("https://localhost:{}/downgrade", false, false),
        ];
        for (url, kept, tls) in &cases {
            let url = url.replace("{}", &srv.port().to_string());
            let before = srv.seen().len();
            let resp = session
                .get(&url)
                .bearer_auth("secret")
                .header("cookie", "id=1")
                .header("x-custom", "kept")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{url}");
            assert_eq!(resp.url().path(), "/landed");
            assert_eq!(resp.url().scheme(), if *tls { "https" } else { "http" });
            assert_eq!(resp.text().await.unwrap(), "landed");
            let seen = srv.seen();
            assert_eq!(seen.len(), before + 2, "{url}: {seen:?}");
            let (first, landed) = (&seen[before], &seen[before + 1]);
            assert!(first.head.contains("\r\nauthorization: bearer secret\r\n"));
            assert_eq!(landed.tls, *tls, "{url}: {landed:?}");
            assert!(landed.head.contains("\r\nx-custom: kept\r\n"), "{landed:?}");
            assert_eq!(
                landed.head.contains("\r\nauthorization: bearer secret\r\n"),
                *kept,
                "{url}: {landed:?}"
            );
            assert_eq!(landed.head.contains("\r\ncookie: id=1\r\n"), *kept, "{url}");
        }
        assert!(!srv.seen()[0].tls);
        // One plain connection to localhost (reused by the downgrade), one
        // TLS connection to localhost (reused by every case), one TLS
        // connection to 127.0.0.1.
        assert_eq!(srv.accepts(), 3);
    });
}

#[test]
fn gzip_bodies_over_https_are_decoded() {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    let text = "compressed over tls ".repeat(500);
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let ca = Ca::new("corio test CA");
    run(async {
        let body = gz.clone();
        let srv = server(ca.server(&["localhost"]), move |seen| {
            let reply = if path(seen) == "/chunked" {
                // The same gzip stream, chunked, in two chunks.
                let (a, b) = body.split_at(body.len() / 2);
                let mut r = b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\n\
                    transfer-encoding: chunked\r\n\r\n"
                    .to_vec();
                for piece in [a, b] {
                    r.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                    r.extend_from_slice(piece);
                    r.extend_from_slice(b"\r\n");
                }
                r.extend_from_slice(b"0\r\n\r\n");
                r
            } else {
                ok(&body, "content-encoding: gzip\r\n")
            };
            (reply, Then::KeepAlive)
        })
        .await;
        let base = format!("https://localhost:{}", srv.port());
        let session = trusting(&ca);
        for path in ["/length", "/chunked"] {
            let resp = session.get(format!("{base}{path}")).send().await.unwrap();
            assert!(resp.headers().get("content-encoding").is_none(), "{path}");
            assert!(resp.headers().get("content-length").is_none(), "{path}");
            assert_eq!(resp.text().await.unwrap(), text, "{path}");
        }
        let seen = srv.seen();
        assert!(seen
            .iter()
            .all(|s| s.tls && s.head.contains("\r\naccept-encoding: gzip, deflate\r\n")));
        // Both bodies were read to their end: the connection was reused.
        assert_eq!(srv.accepts(), 1);
        assert_eq!(session.idle_connections(), 1);

        // Without decompression the gzip bytes come through as they are.
        let raw = Session::builder()
            .tls_roots(TlsRoots::Empty)
            .add_root_certificate(ca.certificate())
            .decompress(false)
            .build();
        let resp = raw.get(format!("{base}/length")).send().await.unwrap();
        assert_eq!(resp.headers()["content-encoding"], "gzip");
        assert_eq!(&resp.bytes().await.unwrap()[..], &gz[..]);
    });
}

/// A listener that accepts connections and never says a word, holding them
/// open for the test's duration.
/// Returns its address, its accept count and its task.
async fn silent() -> (SocketAddr, Arc<AtomicUsize>, corio::task::Task<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(AtomicUsize::new(0));
    let counter = accepts.clone();
    let task = corio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(tcp);
        }
    });
    (addr, accepts, task)
}

#[test]
fn connect_timeout_bounds_the_handshake() {
    let ca = Ca::new("corio test CA");
    run(async {
        let (addr, accepts, _silent) = silent().await;
        let session = Session::builder()
            .tls_roots(TlsRoots::Empty)
            .add_root_certificate(ca.certificate())
            .connect_timeout(Duration::from_millis(200))
            .build();
        let url = format!("https://localhost:{}/", addr.port());
        let started = std::time::Instant::now();
        let err = session.get(&url).send().await.unwrap_err();
        let took = started.elapsed();
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(err.url().map(|u| u.to_string()), Some(url));
        assert!(
            took >= Duration::from_millis(200) && took < Duration::from_secs(2),
            "{took:?}"
        );
        // TCP connected: it was the handshake that timed out.
        assert_eq!(accepts.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn dropping_a_request_mid_handshake_releases_its_permit() {
    let ca = Ca::new("corio test CA");
    run(async {
        let (addr, stuck_accepts, _silent) = silent().await;
        let srv = server(ca.server(&["localhost"]), |_| {
            (ok(b"ok", ""), Then::KeepAlive)
        })
        .await;
        // One connection at a time, all origins together.
        let session = Session::builder()
            .tls_roots(TlsRoots::Empty)
            .add_root_certificate(ca.certificate())
            .limit(1)
            .build();
        let stuck_url = format!("https://localhost:{}/", addr.port());
        for round in 1..=3 {
            let mut stuck = Box::pin(session.get(&stuck_url).send());
            // Poll until the request holds the permit and waits for the
            // server's handshake answer, then drop it there.
            // (The test's overall time limit bounds this loop.)
            while stuck_accepts.load(Ordering::SeqCst) < round {
                assert!(futures_lite::future::poll_once(&mut stuck).await.is_none());
                corio::sleep(Duration::from_millis(5)).await;
            }
            // Connected: a few more polls send the ClientHello and wait.
            for _ in 0..3 {
                assert!(futures_lite::future::poll_once(&mut stuck).await.is_none());
                corio::sleep(Duration::from_millis(5)).await;
            }
            assert_eq!(stuck_accepts.load(Ordering::SeqCst), round);
            drop(stuck);
            let url = format!("https://localhost:{}/", srv.port());
            let resp = session.get(&url).send().await.unwrap();
            assert_eq!(resp.text().await.unwrap(), "ok");
        }
        assert_eq!(srv.accepts(), 1);
        assert_eq!(session.idle_connections(), 1);
    });
}

#[test]
fn close_delimited_body_ends_at_close_notify_only() {
    let ca = Ca::new("corio test CA");
    run(async {
        let srv = server(ca.server(&["localhost"]), |seen| {
            // No Content-Length, no chunking: the body ends where the
            // connection does.
            let reply = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end".to_vec();
            let then = if path(seen) == "/notify" {
                Then::Close
            } else {
                Then::Abort
            };
            (reply, then)
        })
        .await;
        let session = trusting(&ca);
        let base = format!("https://localhost:{}", srv.port());
        let resp = session.get(format!("{base}/notify")).send().await.unwrap();
        assert_eq!(resp.text().await.unwrap(), "until the end");
        // A TCP close without close_notify may be a truncation attack: the
        // body is not taken as complete.
        let resp = session.get(format!("{base}/abort")).send().await.unwrap();
        let err = resp.text().await.unwrap_err();
        assert!(err.is_body(), "{err:?}");
        let io = err
            .source()
            .and_then(|s| s.downcast_ref::<io::Error>())
            .unwrap_or_else(|| panic!("no io::Error source in {err:?}"));
        assert_eq!(io.kind(), io::ErrorKind::UnexpectedEof, "{err:?}");
        assert_eq!(session.idle_connections(), 0);
        assert_eq!(srv.accepts(), 2);
    });
}
