//! TLS for IMAP: rustls with the ring provider (as lettre uses for SMTP), the bundled public
//! roots (webpki-roots, so nothing depends on the machine's certificate store) and, for a server
//! with a private certificate, the CA certificates of a configured PEM file.

use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::{TlsConnector, rustls};

/// The most certificates read from a CA file.
const MAX_EXTRA_ROOTS: usize = 100;

/// The certificates of a PEM file, each checked to be usable as a trust anchor.
pub(crate) fn extra_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut certs = Vec::new();
    for cert in iter.take(MAX_EXTRA_ROOTS) {
        let cert = cert.map_err(|e| format!("{shown} is not a PEM certificate file: {e}"))?;
        let mut probe = RootCertStore::empty();
        probe.add(cert.clone()).map_err(|e| format!("{shown} holds a certificate that cannot be trusted: {e}"))?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(format!("{shown} holds no PEM certificate"));
    }
    Ok(certs)
}

fn connector(ca_file: Option<&Path>) -> Result<TlsConnector, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in extra_roots(path)? {
            roots.add(cert).map_err(|e| e.to_string())?;
        }
    }
    // The provider is named rather than taken from the process default, which is ambiguous
    // when more than one provider is compiled in.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The TLS handshake over an open connection; the certificate must name `host`.
pub(crate) async fn handshake(
    tcp: TcpStream,
    host: &str,
    ca_file: Option<&Path>,
) -> Result<TlsStream<TcpStream>, String> {
    let name =
        ServerName::try_from(host.trim().to_string()).map_err(|e| format!("{host:?} is not a host name: {e}"))?;
    connector(ca_file)?.connect(name, tcp).await.map_err(|e| format!("TLS handshake with {host} failed: {e}"))
}
