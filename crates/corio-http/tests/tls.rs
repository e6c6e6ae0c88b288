//! The public TLS configuration types: loading CA certificates and choosing
//! the root store. The handshake itself is tested beside the code
//! (`src/tls.rs`), against a local rustls server.

#![cfg(feature = "tls")]

use std::error::Error as _;

use corio_http::{Certificate, TlsRoots};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

fn ca_pem(name: &str) -> (String, Vec<u8>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), cert.der().to_vec())
}

#[test]
fn public_types_are_send_sync_unpin() {
    fn check<T: Send + Sync + Unpin + std::fmt::Debug + Clone + 'static>() {}
    check::<Certificate>();
    check::<TlsRoots>();
}

#[test]
fn certificate_from_pem_and_der_agree() {
    let (pem, der) = ca_pem("corio test CA");
    let from_pem = Certificate::from_pem(pem.as_bytes()).unwrap();
    assert_eq!(from_pem.der(), &der[..]);
    let from_der = Certificate::from_der(der.clone()).unwrap();
    assert_eq!(from_pem, from_der);
    // Debug output stays short: no certificate dump.
    let debug = format!("{from_pem:?}");
    assert!(
        debug.starts_with("Certificate") && debug.len() < 64,
        "{debug}"
    );
}

#[test]
fn pem_with_other_sections_and_bundles() {
    let (a, a_der) = ca_pem("first CA");
    let (b, b_der) = ca_pem("second CA");
    let key = KeyPair::generate().unwrap().serialize_pem();
    // A key before the certificate is skipped.
    let mixed = format!("{key}{a}");
    assert_eq!(
        Certificate::from_pem(mixed.as_bytes()).unwrap().der(),
        &a_der[..]
    );
    // from_pem takes the first certificate, from_pem_bundle all of them.
    let bundle = format!("{a}\n{key}{b}");
    assert_eq!(
        Certificate::from_pem(bundle.as_bytes()).unwrap().der(),
        &a_der[..]
    );
    let all = Certificate::from_pem_bundle(bundle.as_bytes()).unwrap();
    let ders: Vec<&[u8]> = all.iter().map(Certificate::der).collect();
    assert_eq!(ders, vec![&a_der[..], &b_der[..]]);
}

#[test]
fn bad_certificates_are_request_errors() {
    let (pem, der) = ca_pem("corio test CA");
    let key_only = KeyPair::generate().unwrap().serialize_pem();
    for input in [&b""[..], b"garbage", key_only.as_bytes()] {
        let err = Certificate::from_pem(input).unwrap_err();
        assert!(err.is_request() && !err.is_connect(), "{err:?}");
        assert!(Certificate::from_pem_bundle(input)
            .unwrap_err()
            .is_request());
    }
    // A PEM certificate whose base64 body is damaged.
    let damaged = pem.replacen("MII", "M!I", 1);
    assert!(Certificate::from_pem(damaged.as_bytes())
        .unwrap_err()
        .is_request());
    // DER that is not a certificate, or a truncated one, says why.
    for bad in [
        vec![0x30, 0x00],
        der[..der.len() / 2].to_vec(),
        b"hello".to_vec(),
    ] {
        let err = Certificate::from_der(bad).unwrap_err();
        assert!(err.is_request(), "{err:?}");
        assert!(err.source().is_some(), "{err:?}");
        assert!(err.to_string().contains("certificate"), "{err}");
    }
}

#[test]
fn roots_default_to_the_bundled_store() {
    assert_eq!(TlsRoots::default(), TlsRoots::Bundled);
    let all = [TlsRoots::Bundled, TlsRoots::System, TlsRoots::Empty];
    for (i, a) in all.iter().enumerate() {
        for (j, b) in all.iter().enumerate() {
            assert_eq!(i == j, a == b);
        }
    }
}
