//! TLS for IMAP with the outbound mail's client configuration (correspondence's
//! `outbox::tls`): rustls with the ring provider, the bundled public roots (webpki-roots, so
//! nothing depends on the machine's certificate store) and, for a server with a private
//! certificate, the CA certificates of a configured PEM file.

use std::path::Path;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;

use correspondence::outbox::tls::connector;
pub(crate) use correspondence::outbox::tls::extra_roots;

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
