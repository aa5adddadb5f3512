//! TLS from the first byte (SMTPS, usually port 465) on a socket the drain opens itself, so it
//! has TCP_NODELAY like the plain and STARTTLS paths (lettre's own implicit-TLS connect leaves
//! Nagle's algorithm on). rustls with the ring provider and the bundled public roots, as lettre
//! uses, plus the certificates of `smtp.ca_file` for a private or self-signed server.

use lettre::transport::smtp::client::AsyncTokioStream;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::{TlsConnector, client::TlsStream};

/// The most certificates read from a CA file.
const MAX_EXTRA_ROOTS: usize = 100;

/// The certificates of a PEM file, each checked to be usable as a trust anchor.
pub fn extra_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
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

/// The client configuration: bundled roots and those of the CA file. IMAP (the mailbox crate)
/// connects with the same one.
pub fn connector(ca_file: Option<&Path>) -> Result<TlsConnector, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in extra_roots(path)? {
            roots.add(cert).map_err(|e| e.to_string())?;
        }
    }
    // Named rather than the process default, which is ambiguous with more than one provider built.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Connects with TCP_NODELAY: lettre writes a message's body and its closing dot separately,
/// and with Nagle's algorithm the dot waits for the server's delayed ACK.
pub(super) async fn connect_nodelay(host: &str, port: u16) -> io::Result<TcpStream> {
    let socket = TcpStream::connect((host, port)).await?;
    socket.set_nodelay(true)?;
    Ok(socket)
}

/// [`connect_nodelay`] for tests, which check the flag on the socket the drain would use.
#[cfg(test)]
pub(crate) async fn connect_nodelay_for_test(host: &str, port: u16) -> io::Result<TcpStream> {
    connect_nodelay(host, port).await
}

/// The TLS handshake over an open socket; the certificate must name `host`.
pub(super) async fn handshake(connector: &TlsConnector, host: &str, socket: TcpStream) -> Result<TlsSocket, String> {
    let name = ServerName::try_from(host.to_string()).map_err(|e| format!("{host:?} is not a host name: {e}"))?;
    let stream = connector.connect(name, socket).await.map_err(|e| format!("TLS handshake with {host} failed: {e}"))?;
    Ok(TlsSocket(stream))
}

/// A TLS stream lettre can talk SMTP over.
#[derive(Debug)]
pub(super) struct TlsSocket(TlsStream<TcpStream>);

impl AsyncRead for TlsSocket {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsSocket {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsSocket {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}
