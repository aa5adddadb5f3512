//! The `[smtp]` section of the configuration: where outbound email goes and how the queue
//! drains. The password is never printed: `Debug` masks it and serialising leaves it out.

use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (refused if the server does not offer it).
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or a test sink.
    Plain,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// The SMTP server; empty means outbound email stays queued (nothing is sent).
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// AUTH is used when a username is set.
    pub username: Option<String>,
    #[serde(skip_serializing)]
    pub password: Option<String>,
    /// The From address of every outbound email.
    pub from_address: String,
    /// The right-hand side of generated Message-IDs (`<random@domain>`).
    pub message_id_domain: String,
    /// Seconds one message may take to send before the try counts as failed.
    pub send_timeout_seconds: u64,
    /// Senders in one drain, each with its own SMTP connection kept open across its messages.
    pub concurrency: usize,
    /// Tries before an email is marked failed.
    pub max_attempts: i32,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: None,
            password: None,
            from_address: "Customer Service <service@caredesk.invalid>".into(),
            message_id_domain: "caredesk.invalid".into(),
            send_timeout_seconds: 30,
            concurrency: 8,
            max_attempts: 8,
        }
    }
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from_address", &self.from_address)
            .field("message_id_domain", &self.message_id_domain)
            .field("send_timeout_seconds", &self.send_timeout_seconds)
            .field("concurrency", &self.concurrency)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl SmtpSettings {
    /// Checks what types alone cannot; the error names the key at fault.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.from_address.parse::<lettre::message::Mailbox>().is_err() {
            return Err(("smtp.from_address", "must be an address such as Service <service@example.com>".into()));
        }
        let domain = &self.message_id_domain;
        let domain_ok = !domain.is_empty()
            && domain.len() <= 253
            && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !domain_ok {
            return Err(("smtp.message_id_domain", "must be a domain name such as mail.example.com".into()));
        }
        if self.send_timeout_seconds == 0 || self.send_timeout_seconds > 600 {
            return Err(("smtp.send_timeout_seconds", "must be 1 to 600".into()));
        }
        if self.concurrency == 0 || self.concurrency > 64 {
            return Err(("smtp.concurrency", "must be 1 to 64".into()));
        }
        if self.max_attempts <= 0 || self.max_attempts > 50 {
            return Err(("smtp.max_attempts", "must be 1 to 50".into()));
        }
        Ok(())
    }
}

/// The settings queueing reads: `queue_email` needs the Message-ID domain and the attempt limit
/// wherever it is called (HTTP, jobs, other modules' ops) and takes no configuration, so they are
/// installed once at start by [`configure`]. The drain does not read them: its [`Mailer`] is built
/// from the `[smtp]` section handed to `outbox::register_jobs`.
///
/// [`Mailer`]: crate::outbox::Mailer
fn current() -> &'static RwLock<Arc<SmtpSettings>> {
    static CURRENT: std::sync::OnceLock<RwLock<Arc<SmtpSettings>>> = std::sync::OnceLock::new();
    CURRENT.get_or_init(|| RwLock::new(Arc::new(SmtpSettings::default())))
}

/// Installs the settings of this process (called by `caredesk serve` at start).
pub fn configure(settings: SmtpSettings) {
    if let Ok(mut slot) = current().write() {
        *slot = Arc::new(settings);
    }
}

/// The settings installed by [`configure`], or the defaults.
pub fn installed() -> Arc<SmtpSettings> {
    current().read().map(|s| s.clone()).unwrap_or_default()
}
