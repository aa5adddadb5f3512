//! The `[imap]` section of the configuration: which mailbox is polled, how the connection is
//! secured and how often. The password is never printed: `Debug` masks it and serialising leaves
//! it out; it may live in a file of its own (`password_file`) so the config file holds no secret.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The shortest and longest time between two polls.
const MIN_POLL_INTERVAL_SECONDS: u64 = 1;
const MAX_POLL_INTERVAL_SECONDS: u64 = 86_400;
/// A password file larger than this is not a password file.
const MAX_PASSWORD_FILE_BYTES: u64 = 4_096;

/// How the connection to the IMAP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImapTls {
    /// No encryption: only for a server on the same machine or a test server.
    None,
    /// A plain connection upgraded with STARTTLS before login (usually port 143); refused when
    /// the server does not offer it, never silently left plain.
    Starttls,
    /// TLS from the first byte (IMAPS, usually port 993).
    Tls,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapSettings {
    /// The IMAP server; empty means no polling.
    pub host: String,
    pub port: u16,
    pub tls: ImapTls,
    pub username: String,
    #[serde(skip_serializing)]
    pub password: String,
    /// A file holding the password (its trailing line break ignored); used when `password` is empty.
    pub password_file: Option<PathBuf>,
    /// The mailbox (folder) polled, usually INBOX.
    pub mailbox: String,
    pub poll_interval_seconds: u64,
    /// PEM certificates trusted besides the bundled public roots: the CA of a server with a
    /// self-signed or private certificate.
    pub ca_file: Option<PathBuf>,
}

impl Default for ImapSettings {
    fn default() -> Self {
        ImapSettings {
            host: String::new(),
            port: 993,
            tls: ImapTls::Tls,
            username: String::new(),
            password: String::new(),
            password_file: None,
            mailbox: "INBOX".into(),
            poll_interval_seconds: 60,
            ca_file: None,
        }
    }
}

impl std::fmt::Debug for ImapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &"***")
            .field("password_file", &self.password_file)
            .field("mailbox", &self.mailbox)
            .field("poll_interval_seconds", &self.poll_interval_seconds)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl ImapSettings {
    /// Polling is on when a host is named.
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }

    /// Checks what types alone cannot; the error names the key at fault. Nothing to check when
    /// polling is off.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.enabled() {
            return Ok(());
        }
        if self.port == 0 {
            return Err(("imap.port", "must be a port number such as 993".into()));
        }
        if self.username.trim().is_empty() {
            return Err(("imap.username", "must be set when imap.host is".into()));
        }
        if !self.password.is_empty() && self.password_file.is_some() {
            return Err(("imap.password_file", "set either imap.password or imap.password_file, not both".into()));
        }
        self.password().map_err(|message| ("imap.password_file", message))?;
        let mailbox = self.mailbox.trim();
        if mailbox.is_empty() || mailbox.chars().any(char::is_control) || mailbox.len() > 200 {
            return Err(("imap.mailbox", "must be a folder name such as INBOX".into()));
        }
        if !(MIN_POLL_INTERVAL_SECONDS..=MAX_POLL_INTERVAL_SECONDS).contains(&self.poll_interval_seconds) {
            return Err(("imap.poll_interval_seconds", "must be 1 to 86400".into()));
        }
        if let Some(path) = &self.ca_file {
            crate::imap::tls::extra_roots(path).map_err(|message| ("imap.ca_file", message))?;
        }
        Ok(())
    }

    /// The password: the `password` key, else the contents of `password_file`.
    pub fn password(&self) -> Result<String, String> {
        let Some(path) = &self.password_file else {
            if self.password.is_empty() {
                return Err("set imap.password or imap.password_file".into());
            }
            return Ok(self.password.clone());
        };
        let size = std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?.len();
        if size > MAX_PASSWORD_FILE_BYTES {
            return Err(format!("{} is larger than {MAX_PASSWORD_FILE_BYTES} bytes", path.display()));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let password = text.trim_end_matches(['\r', '\n']).to_string();
        if password.is_empty() {
            return Err(format!("{} is empty", path.display()));
        }
        Ok(password)
    }
}
