//! SMTP connections the drain opens itself and keeps open across many messages. lettre's pooled
//! transport asks every reused connection NOOP before each message and leaves Nagle's algorithm
//! on; lettre writes a message body and its closing dot in two writes, so the dot waited for the
//! server's delayed ACK (about 40 ms a message on Linux). Here every socket (plain, STARTTLS and
//! implicit TLS alike) has TCP_NODELAY, a connection is checked with NOOP once when it is taken
//! from the idle set, and a connection that saw any error or timeout is dropped, never reused
//! mid-conversation.

use super::TryError;
use super::tls;
use crate::settings::{SmtpSecurity, SmtpSettings};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::sync::Mutex;
use std::time::Duration;

/// How to reach and greet the server; built once from the settings.
pub(super) struct Connector {
    host: String,
    port: u16,
    security: SmtpSecurity,
    /// STARTTLS: lettre upgrades our socket.
    tls: Option<TlsParameters>,
    /// Implicit TLS: our own handshake on our own socket.
    implicit: Option<tokio_rustls::TlsConnector>,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
    /// Connections left open by the last drain, at most `concurrency` of them.
    idle: Mutex<Vec<AsyncSmtpConnection>>,
    idle_limit: usize,
}

impl Connector {
    pub(super) fn new(settings: &SmtpSettings) -> Result<Connector, String> {
        let host = settings.host.trim().to_string();
        let ca_file = settings.ca_file.as_deref();
        let tls = match settings.security {
            SmtpSecurity::Starttls => {
                let mut builder = TlsParameters::builder(host.clone());
                if let Some(path) = ca_file {
                    let pem = std::fs::read(path).map_err(|e| format!("smtp.ca_file: {}: {e}", path.display()))?;
                    let cert = Certificate::from_pem(&pem).map_err(|e| format!("smtp.ca_file: {e}"))?;
                    builder = builder.add_root_certificate(cert);
                }
                Some(builder.build_rustls().map_err(|e| format!("smtp.host: {e}"))?)
            }
            SmtpSecurity::Plain | SmtpSecurity::Tls => None,
        };
        let implicit = match settings.security {
            SmtpSecurity::Tls => Some(tls::connector(ca_file).map_err(|e| format!("smtp.ca_file: {e}"))?),
            SmtpSecurity::Plain | SmtpSecurity::Starttls => None,
        };
        let credentials = settings
            .username
            .as_ref()
            .filter(|u| !u.is_empty())
            .map(|u| Credentials::new(u.clone(), settings.password.clone().unwrap_or_default()));
        Ok(Connector {
            host,
            port: settings.port,
            security: settings.security,
            tls,
            implicit,
            credentials,
            hello: ClientId::default(),
            timeout: Duration::from_secs(settings.send_timeout_seconds),
            idle: Mutex::new(Vec::new()),
            idle_limit: settings.concurrency,
        })
    }

    /// A connection from the idle set that still answers NOOP, else None (open one when needed).
    pub(super) async fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let mut connection = self.idle.lock().ok()?.pop()?;
            if matches!(tokio::time::timeout(self.timeout, connection.test_connected()).await, Ok(true)) {
                return Some(connection);
            }
        }
    }

    /// Keeps a healthy connection for the next drain.
    pub(super) fn give_back(&self, connection: AsyncSmtpConnection) {
        if connection.has_broken() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.idle_limit
        {
            idle.push(connection);
        }
    }

    /// Connects, secures and authenticates a new connection (the caller bounds it in time).
    pub(super) async fn open(&self) -> Result<AsyncSmtpConnection, TryError> {
        let socket = tls::connect_nodelay(&self.host, self.port)
            .await
            .map_err(|e| TryError::Transient(format!("connection: {e}")))?;
        let mut connection = match &self.implicit {
            Some(connector) => {
                let secured = tls::handshake(connector, &self.host, socket).await.map_err(TryError::Transient)?;
                AsyncSmtpConnection::connect_with_transport(Box::new(secured), &self.hello)
                    .await
                    .map_err(TryError::from_smtp)?
            }
            None => {
                let mut connection = AsyncSmtpConnection::connect_with_transport(Box::new(socket), &self.hello)
                    .await
                    .map_err(TryError::from_smtp)?;
                if let (SmtpSecurity::Starttls, Some(tls)) = (&self.security, &self.tls) {
                    connection.starttls(tls.clone(), &self.hello).await.map_err(TryError::from_smtp)?;
                }
                connection
            }
        };
        if let Some(credentials) = &self.credentials {
            connection.auth(DEFAULT_MECHANISMS, credentials).await.map_err(TryError::from_smtp)?;
        }
        Ok(connection)
    }
}
