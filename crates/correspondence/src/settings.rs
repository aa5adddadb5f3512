//! The `[smtp]` section of the configuration: where outbound email goes and how the queue
//! drains, and the part of it queueing needs ([`QueueSettings`]), handed to every caller that
//! queues (HTTP handlers through the router, jobs through their registration). The password is
//! never printed: `Debug` masks it and serialising leaves it out.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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
    /// PEM certificates trusted besides the bundled public roots (a private or self-signed server).
    pub ca_file: Option<PathBuf>,
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
            ca_file: None,
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
            .field("ca_file", &self.ca_file)
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
        if let Some(path) = &self.ca_file {
            crate::outbox::tls::extra_roots(path).map_err(|message| ("smtp.ca_file", message))?;
        }
        Ok(())
    }
}

/// What queueing an email needs of the `[smtp]` section: the right-hand side of generated
/// Message-IDs and the attempt limit written on the row. Queueing happens wherever a business
/// write calls for an email (HTTP handlers, jobs, other modules' ops through `ops::send`), in the
/// caller's transaction, so it reads these from that transaction: `caredesk serve` stores them
/// from its configuration at start ([`install`]), the same value its drain's mailer is built from.
/// Nothing is held per process.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueSettings {
    pub message_id_domain: String,
    pub max_attempts: i32,
}

impl SmtpSettings {
    pub fn queue_settings(&self) -> QueueSettings {
        QueueSettings { message_id_domain: self.message_id_domain.clone(), max_attempts: self.max_attempts }
    }
}

/// Stores the queue settings of this configuration (called by `caredesk serve` at start; every
/// node of one installation shares the database and should share its `[smtp]` section too).
pub async fn install(db: &db::Db, smtp: &SmtpSettings) -> db::Result<()> {
    let mut tx = db.begin().await?;
    crate::store::set_queue_settings(&mut tx, &smtp.queue_settings()).await?;
    tx.commit().await
}
