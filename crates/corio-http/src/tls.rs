//! HTTPS: which certificates to trust ([`TlsRoots`], [`Certificate`]), the
//! rustls client configuration built from them, and the TLS handshake over a
//! corio [`TcpStream`].
//!
//! # Design
//!
//! * **One configuration per session.** [`TlsConfig`] is built once, when the
//!   session is built, from a root store choice ([`TlsRoots`]: the bundled
//!   Mozilla roots by default, the system's, or none) plus any extra CA
//!   certificates the user added. It holds an `Arc<rustls::ClientConfig>` that
//!   every connection of the session shares, so that rustls can resume TLS
//!   sessions across connections. ALPN offers `http/1.1` only, since that is
//!   the only protocol this crate speaks.
//! * **The ring provider, chosen explicitly.** The configuration names ring
//!   instead of relying on rustls' process-wide default provider, which is
//!   ambiguous (and panics) when another crate in the program enables
//!   aws-lc-rs as well.
//! * **Errors.** A certificate that does not parse, or a system store with no
//!   usable root, is an [`is_request`](crate::Error::is_request) error when
//!   the session is built: nothing was sent. Every handshake failure (unknown
//!   issuer, name mismatch, expired certificate, the peer closing mid-way) is
//!   an [`is_connect`](crate::Error::is_connect) error whose
//!   [`source`](std::error::Error::source) is the `rustls::Error` (or the
//!   `io::Error` when the transport failed), not the `io::Error` wrapper
//!   futures-rustls puts around it.
//!
//! asyncio's counterpart is the `ssl.SSLContext` passed as aiohttp's `ssl=`
//! argument; [`TlsRoots::System`] is `ssl.create_default_context()`,
//! [`Certificate`] is `SSLContext.load_verify_locations(cadata=...)`.

use std::fmt;
use std::io;
use std::sync::Arc;

use corio_reactor::net::TcpStream;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};

use crate::Error;

/// A TLS client stream over a corio TCP stream: what an `https` connection
/// reads and writes through.
///
/// It implements futures-io's `AsyncRead + AsyncWrite + Unpin + Send`.
pub(crate) type TlsStream = futures_rustls::client::TlsStream<TcpStream>;

/// The protocol offered through ALPN.
const ALPN_HTTP1: &[u8] = b"http/1.1";

/// Which root certificates an HTTPS session trusts before any certificate
/// added by hand.
///
/// The default, [`TlsRoots::Bundled`], needs nothing from the machine and
/// behaves the same everywhere. [`TlsRoots::System`] follows the operating
/// system's store (and `SSL_CERT_FILE` / `SSL_CERT_DIR` when set), which is
/// what a corporate proxy's private CA usually needs. [`TlsRoots::Empty`]
/// trusts only the certificates added by hand, which suits a client that
/// talks to one service with a private CA.
///
/// asyncio's counterpart is the choice of `cafile`/`capath` in
/// `ssl.create_default_context()`.
///
/// # Examples
///
/// ```
/// use corio_http::TlsRoots;
///
/// assert_eq!(TlsRoots::default(), TlsRoots::Bundled);
/// let private_ca_only = TlsRoots::Empty;
/// assert_ne!(private_ca_only, TlsRoots::System);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TlsRoots {
    /// The Mozilla root program's certificates, compiled into the program
    /// (the `webpki-roots` crate).
    #[default]
    Bundled,
    /// The certificates of the operating system's store, loaded once when
    /// the session is built (the `rustls-native-certs` crate).
    System,
    /// No root at all: only the certificates added by hand are trusted.
    Empty,
}

/// A CA certificate to trust in addition to (or, with [`TlsRoots::Empty`],
/// instead of) the root store.
///
/// The certificate is checked to be a well-formed X.509 certificate usable
/// as a trust anchor when it is made, so that a bad file is reported where it
/// is loaded rather than at the first request.
///
/// asyncio's counterpart is `SSLContext.load_verify_locations(cadata=...)`.
///
/// # Examples
///
/// ```
/// use corio_http::Certificate;
///
/// let err = Certificate::from_pem(b"not a certificate").unwrap_err();
/// assert!(err.is_request());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: CertificateDer<'static>,
}

impl Certificate {
    /// Reads the first certificate of a PEM file (`-----BEGIN CERTIFICATE-----`).
    ///
    /// Other PEM sections (private keys, parameters) before or after it are
    /// skipped. Use [`from_pem_bundle`](Certificate::from_pem_bundle) to read
    /// every certificate of a bundle.
    ///
    /// # Errors
    ///
    /// An [`is_request`](crate::Error::is_request) error if the input holds no
    /// certificate, the PEM is malformed, or the certificate does not parse.
    ///
    /// # Examples
    ///
    /// ```
    /// fn load(path: &str) -> Result<corio_http::Certificate, Box<dyn std::error::Error>> {
    ///     let pem = std::fs::read(path)?;
    ///     Ok(corio_http::Certificate::from_pem(&pem)?)
    /// }
    /// # let _ = load;
    /// ```
    pub fn from_pem(pem: &[u8]) -> Result<Certificate, Error> {
        match CertificateDer::pem_slice_iter(pem).next() {
            Some(Ok(der)) => Certificate::checked(der),
            Some(Err(err)) => Err(Error::request("malformed PEM certificate").with_source(err)),
            None => Err(Error::request("no certificate in PEM input")),
        }
    }

    /// Reads every certificate of a PEM bundle, in order.
    ///
    /// Other PEM sections are skipped.
    ///
    /// # Errors
    ///
    /// An [`is_request`](crate::Error::is_request) error if the input holds no
    /// certificate, the PEM is malformed, or any certificate does not parse.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = corio_http::Certificate::from_pem_bundle(b"").unwrap_err();
    /// assert!(err.is_request());
    /// ```
    pub fn from_pem_bundle(pem: &[u8]) -> Result<Vec<Certificate>, Error> {
        let mut certs = Vec::new();
        for der in CertificateDer::pem_slice_iter(pem) {
            let der =
                der.map_err(|err| Error::request("malformed PEM certificate").with_source(err))?;
            certs.push(Certificate::checked(der)?);
        }
        if certs.is_empty() {
            return Err(Error::request("no certificate in PEM input"));
        }
        Ok(certs)
    }

    /// Takes a DER-encoded certificate.
    ///
    /// # Errors
    ///
    /// An [`is_request`](crate::Error::is_request) error if the bytes are not
    /// a certificate usable as a trust anchor.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = corio_http::Certificate::from_der(vec![0x30, 0x00]).unwrap_err();
    /// assert!(err.is_request());
    /// ```
    pub fn from_der(der: impl Into<Vec<u8>>) -> Result<Certificate, Error> {
        Certificate::checked(CertificateDer::from(der.into()))
    }

    /// The certificate's DER encoding.
    ///
    /// # Examples
    ///
    /// ```
    /// fn same(a: &corio_http::Certificate, b: &corio_http::Certificate) -> bool {
    ///     a.der() == b.der()
    /// }
    /// # let _ = same;
    /// ```
    pub fn der(&self) -> &[u8] {
        self.der.as_ref()
    }

    fn checked(der: CertificateDer<'static>) -> Result<Certificate, Error> {
        RootCertStore::empty()
            .add(der.clone())
            .map_err(|err| Error::request("invalid CA certificate").with_source(err))?;
        Ok(Certificate { der })
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("der_len", &self.der.as_ref().len())
            .finish()
    }
}

/// The TLS client configuration of a session: the trusted roots and ALPN
/// `http/1.1`, shared by all its connections.
#[derive(Clone, Debug)]
pub(crate) struct TlsConfig {
    config: Arc<ClientConfig>,
}

impl TlsConfig {
    /// Builds a configuration trusting `roots` plus `extra`.
    ///
    /// # Errors
    ///
    /// An [`is_request`](crate::Error::is_request) error if
    /// [`TlsRoots::System`] was asked for and the system store has no usable
    /// certificate (the first loading error, if any, is the source), or if no
    /// trusted certificate is left at all ([`TlsRoots::Empty`] without
    /// `extra`), since such a session could never connect.
    pub(crate) fn new(roots: TlsRoots, extra: &[Certificate]) -> Result<TlsConfig, Error> {
        let mut store = RootCertStore::empty();
        match roots {
            TlsRoots::Bundled => store
                .roots
                .extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            TlsRoots::System => {
                let loaded = rustls_native_certs::load_native_certs();
                let (added, _ignored) = store.add_parsable_certificates(loaded.certs);
                if added == 0 {
                    let err = Error::request("no usable root certificate in the system store");
                    return Err(match loaded.errors.into_iter().next() {
                        Some(cause) => err.with_source(cause),
                        None => err,
                    });
                }
            }
            TlsRoots::Empty => {}
        }
        for cert in extra {
            store
                .add(cert.der.clone())
                .map_err(|err| Error::request("invalid CA certificate").with_source(err))?;
        }
        if store.is_empty() {
            return Err(Error::request(
                "no trusted certificate: TlsRoots::Empty needs at least one added certificate",
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| Error::request("unsupported TLS configuration").with_source(err))?
            .with_root_certificates(store)
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
        Ok(TlsConfig {
            config: Arc::new(config),
        })
    }

    /// The rustls configuration, shared.
    pub(crate) fn client_config(&self) -> Arc<ClientConfig> {
        Arc::clone(&self.config)
    }
}

impl Default for TlsConfig {
    /// The bundled Mozilla roots and nothing else; cannot fail.
    fn default() -> TlsConfig {
        TlsConfig::new(TlsRoots::Bundled, &[]).expect("the bundled roots are not empty")
    }
}

/// Runs the TLS handshake for `host` over `tcp`.
///
/// `host` is the URL's host: a DNS name, an IPv4 address or an IPv6 address
/// (with or without the URL's brackets); the server's certificate must be
/// valid for it. No timeout is applied here: the caller wraps the future in
/// its connect deadline.
///
/// # Errors
///
/// An [`is_connect`](crate::Error::is_connect) error if `host` is not a valid
/// server name, or the handshake fails; the source is the `rustls::Error`
/// (unknown issuer, name mismatch, expired, alert from the peer) or the
/// `io::Error` of the transport.
///
/// # Cancel safety
///
/// Dropping the future midway drops `tcp`, closing the connection with the
/// handshake unfinished; nothing else is held, so nothing leaks.
pub(crate) async fn connect(
    tcp: TcpStream,
    host: &str,
    config: &TlsConfig,
) -> Result<TlsStream, Error> {
    let name = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let name = ServerName::try_from(name.to_owned()).map_err(Error::connect)?;
    let connector = futures_rustls::TlsConnector::from(config.client_config());
    connector.connect(name, tcp).await.map_err(handshake_error)
}

/// Unwraps the `rustls::Error` that futures-rustls boxes into an
/// `io::Error`, so that it is the direct source of the connect error.
fn handshake_error(err: io::Error) -> Error {
    if err
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
    {
        let inner = err.into_inner().expect("checked above");
        match inner.downcast::<rustls::Error>() {
            Ok(tls) => Error::connect(*tls),
            Err(other) => Error::connect(other),
        }
    } else {
        Error::connect(err)
    }
}

#[cfg(test)]
mod tests {
    //! A local TLS server built here with rcgen (a CA and leaves signed by
    //! it), served with futures-rustls' server side over corio's
    //! `TcpListener`, on a multi-threaded runtime.

    use super::*;

    use std::error::Error as _;
    use std::future::Future;
    use std::time::Duration;

    use corio_reactor::net::TcpListener;
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    use rustls::{CertificateError, ServerConfig};
    use rustls_pki_types::PrivateKeyDer;

    /// Bound on every test, so that a bug fails instead of hanging.
    const LIMIT: Duration = Duration::from_secs(5);

    fn run<F: Future>(future: F) -> F::Output {
        let rt = corio::Runtime::builder().worker_threads(4).build().unwrap();
        rt.block_on(async { corio::timeout(LIMIT, future).await.expect("test timed out") })
    }

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

        fn certificate(&self) -> Certificate {
            Certificate::from_pem(self.cert.pem().as_bytes()).unwrap()
        }

        /// A server configuration presenting a leaf for `names` signed by
        /// this CA, expired if asked.
        fn server(&self, names: &[&str], expired: bool) -> Arc<ServerConfig> {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            let mut params = CertificateParams::new(names).unwrap();
            if expired {
                params.not_before = rcgen::date_time_ymd(2000, 1, 1);
                params.not_after = rcgen::date_time_ymd(2001, 1, 1);
            }
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

    /// Accepts `n` connections; on each, completes the handshake, reads
    /// "ping", answers "pong" and closes with close_notify. Handshake
    /// failures (the tests that expect them) are returned, not panicked on.
    async fn serve(
        n: usize,
        config: Arc<ServerConfig>,
    ) -> (std::net::SocketAddr, corio::Task<Vec<io::Result<()>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = futures_rustls::TlsAcceptor::from(config);
        let task = corio::spawn(async move {
            let mut results = Vec::new();
            for _ in 0..n {
                let (tcp, _) = listener.accept().await.unwrap();
                let result = async {
                    let mut tls = acceptor.accept(tcp).await?;
                    let mut buf = [0u8; 4];
                    tls.read_exact(&mut buf).await?;
                    assert_eq!(&buf, b"ping");
                    tls.write_all(b"pong").await?;
                    tls.close().await
                }
                .await;
                results.push(result);
            }
            results
        });
        (addr, task)
    }

    async fn ping(addr: std::net::SocketAddr, host: &str, config: &TlsConfig) -> Result<(), Error> {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = connect(tcp, host, config).await?;
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(ALPN_HTTP1));
        tls.write_all(b"ping").await.unwrap();
        tls.flush().await.unwrap();
        let mut reply = Vec::new();
        tls.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"pong");
        Ok(())
    }

    fn rustls_cause(err: &Error) -> &rustls::Error {
        err.source()
            .and_then(|s| s.downcast_ref::<rustls::Error>())
            .unwrap_or_else(|| panic!("no rustls::Error source in {err:?}"))
    }

    #[test]
    fn stream_is_send_and_unpin() {
        fn check<T: Send + Unpin + futures_lite::AsyncRead + futures_lite::AsyncWrite>() {}
        fn sync_send<T: Send + Sync>() {}
        check::<TlsStream>();
        sync_send::<TlsConfig>();
        sync_send::<Certificate>();
    }

    #[test]
    fn trusted_ca_by_name_and_by_ip_address() {
        let ca = Ca::new("corio test CA");
        let config = TlsConfig::new(TlsRoots::Empty, &[ca.certificate()]).unwrap();
        run(async {
            let (addr, server) = serve(3, ca.server(&["localhost", "127.0.0.1"], false)).await;
            ping(addr, "localhost", &config).await.unwrap();
            ping(addr, "127.0.0.1", &config).await.unwrap();
            // The same extra CA on top of the bundled roots works too.
            let bundled = TlsConfig::new(TlsRoots::Bundled, &[ca.certificate()]).unwrap();
            ping(addr, "localhost", &bundled).await.unwrap();
            for result in server.await.unwrap() {
                result.unwrap();
            }
        });
    }

    #[test]
    fn ipv6_host_in_brackets() {
        // Skip quietly where the machine has no IPv6 loopback.
        if std::net::TcpListener::bind("[::1]:0").is_err() {
            return;
        }
        let ca = Ca::new("corio test CA");
        let config = TlsConfig::new(TlsRoots::Empty, &[ca.certificate()]).unwrap();
        run(async {
            let listener = TcpListener::bind("[::1]:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let acceptor = futures_rustls::TlsAcceptor::from(ca.server(&["::1"], false));
            let server = corio::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let mut tls = acceptor.accept(tcp).await.unwrap();
                let mut buf = [0u8; 4];
                tls.read_exact(&mut buf).await.unwrap();
                tls.write_all(b"pong").await.unwrap();
                tls.close().await.unwrap();
            });
            ping(addr, "[::1]", &config).await.unwrap();
            server.await.unwrap();
        });
    }

    #[test]
    fn untrusted_ca_is_a_connect_error() {
        let ca = Ca::new("corio test CA");
        let other = Ca::new("someone else");
        let config = TlsConfig::new(TlsRoots::Empty, &[other.certificate()]).unwrap();
        let bundled = TlsConfig::default();
        run(async {
            let (addr, server) = serve(2, ca.server(&["localhost"], false)).await;
            for config in [&config, &bundled] {
                let err = ping(addr, "localhost", config).await.unwrap_err();
                assert!(err.is_connect(), "{err:?}");
                assert_eq!(
                    rustls_cause(&err),
                    &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
                );
            }
            // The server saw the client's alert.
            assert!(server.await.unwrap().iter().all(|r| r.is_err()));
        });
    }

    #[test]
    fn name_mismatch_is_a_connect_error() {
        let ca = Ca::new("corio test CA");
        let config = TlsConfig::new(TlsRoots::Empty, &[ca.certificate()]).unwrap();
        run(async {
            let (addr, server) = serve(2, ca.server(&["example.com", "127.0.0.2"], false)).await;
            for host in ["localhost", "127.0.0.1"] {
                let err = ping(addr, host, &config).await.unwrap_err();
                assert!(err.is_connect(), "{err:?}");
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
            drop(server.await.unwrap());
        });
    }

    #[test]
    fn expired_certificate_is_a_connect_error() {
        let ca = Ca::new("corio test CA");
        let config = TlsConfig::new(TlsRoots::Empty, &[ca.certificate()]).unwrap();
        run(async {
            let (addr, server) = serve(1, ca.server(&["localhost"], true)).await;
            let err = ping(addr, "localhost", &config).await.unwrap_err();
            assert!(err.is_connect(), "{err:?}");
            assert!(
                matches!(
                    rustls_cause(&err),
                    rustls::Error::InvalidCertificate(
                        CertificateError::Expired | CertificateError::ExpiredContext { .. }
                    )
                ),
                "{err:?}"
            );
            drop(server.await.unwrap());
        });
    }

    #[test]
    fn peer_closing_mid_handshake_is_a_connect_error_with_io_source() {
        let config = TlsConfig::default();
        run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = corio::spawn(async move {
                let (mut tcp, _) = listener.accept().await.unwrap();
                // Read the ClientHello's first bytes, then hang up.
                let mut buf = [0u8; 5];
                tcp.read_exact(&mut buf).await.unwrap();
                assert_eq!(buf[0], 0x16, "a TLS handshake record");
            });
            let tcp = TcpStream::connect(addr).await.unwrap();
            let err = connect(tcp, "localhost", &config).await.unwrap_err();
            server.await.unwrap();
            assert!(err.is_connect(), "{err:?}");
            let io = err
                .source()
                .and_then(|s| s.downcast_ref::<io::Error>())
                .unwrap_or_else(|| panic!("no io::Error source in {err:?}"));
            assert!(
                matches!(
                    io.kind(),
                    io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
                ),
                "{io:?}"
            );
        });
    }

    #[test]
    fn dropping_the_handshake_closes_the_connection() {
        let config = TlsConfig::default();
        run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = corio::spawn(async move {
                let (mut tcp, _) = listener.accept().await.unwrap();
                // Never answer; read until the client goes away.
                let mut seen = Vec::new();
                tcp.read_to_end(&mut seen).await.unwrap();
                seen
            });
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut handshake = Box::pin(connect(tcp, "localhost", &config));
            // The first poll sends the ClientHello and then waits for the server.
            assert!(futures_lite::future::poll_once(&mut handshake)
                .await
                .is_none());
            drop(handshake);
            let seen = server.await.unwrap();
            assert!(!seen.is_empty() && seen[0] == 0x16, "{seen:?}");
        });
    }

    #[test]
    fn invalid_server_name_is_a_connect_error() {
        let config = TlsConfig::default();
        run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let tcp = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let err = connect(tcp, "bad name!", &config).await.unwrap_err();
            assert!(err.is_connect(), "{err:?}");
            assert!(err.source().is_some());
        });
    }

    #[test]
    fn root_store_choices() {
        let bundled = TlsConfig::default();
        assert_eq!(
            bundled.client_config().alpn_protocols,
            vec![b"http/1.1".to_vec()]
        );
        assert!(Arc::ptr_eq(
            &bundled.client_config(),
            &bundled.clone().client_config()
        ));
        // Nothing to trust at all is refused where the session is built.
        let err = TlsConfig::new(TlsRoots::Empty, &[]).unwrap_err();
        assert!(err.is_request(), "{err:?}");
        // The system store depends on the machine: it builds, or says why not.
        match TlsConfig::new(TlsRoots::System, &[]) {
            Ok(config) => assert_eq!(config.client_config().alpn_protocols.len(), 1),
            Err(err) => assert!(err.is_request(), "{err:?}"),
        }
    }
}
