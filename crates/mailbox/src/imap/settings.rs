//! The `[imap]` section of the configuration: which mailboxes are polled, how each connection is
//! secured, how often, and which queue new cases from each go to. The flat keys of `[imap]` are
//! one mailbox (as before several were possible), named after its folder; `[[imap.mailboxes]]`
//! tables add more, each with a `name` of its own. Passwords are never printed: `Debug` masks
//! them and serialising leaves them out; each may live in a file (`password_file`).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The shortest and longest time between two polls.
const MIN_POLL_INTERVAL_SECONDS: u64 = 1;
const MAX_POLL_INTERVAL_SECONDS: u64 = 86_400;
/// A password file larger than this is not a password file.
const MAX_PASSWORD_FILE_BYTES: u64 = 4_096;
/// The most mailboxes one installation polls.
const MAX_MAILBOXES: usize = 50;

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

/// One polled mailbox: a `[[imap.mailboxes]]` table, or the flat keys of `[imap]`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapMailbox {
    /// Names the mailbox in sources (`imap:<name>`), jobs and logs: 1 to 40 letters, digits,
    /// `-` or `_`. Changing it makes the mailbox's messages look new to the duplicate check.
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: ImapTls,
    pub username: String,
    #[serde(skip_serializing)]
    pub password: String,
    /// A file holding the password (its trailing line break ignored); used when `password` is empty.
    pub password_file: Option<PathBuf>,
    /// The folder polled, usually INBOX.
    pub folder: String,
    pub poll_interval_seconds: u64,
    /// PEM certificates trusted besides the bundled public roots: the CA of a server with a
    /// self-signed or private certificate.
    pub ca_file: Option<PathBuf>,
    /// The name of the queue new cases from this mailbox go to; absent: the mailbox setting's.
    pub queue: Option<String>,
}

impl Default for ImapMailbox {
    fn default() -> Self {
        ImapMailbox {
            name: String::new(),
            host: String::new(),
            port: 993,
            tls: ImapTls::Tls,
            username: String::new(),
            password: String::new(),
            password_file: None,
            folder: "INBOX".into(),
            poll_interval_seconds: 60,
            ca_file: None,
            queue: None,
        }
    }
}

impl std::fmt::Debug for ImapMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapMailbox")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &"***")
            .field("password_file", &self.password_file)
            .field("folder", &self.folder)
            .field("poll_interval_seconds", &self.poll_interval_seconds)
            .field("ca_file", &self.ca_file)
            .field("queue", &self.queue)
            .finish()
    }
}

/// The `[imap]` section: the flat keys (one mailbox, polled when `host` is set, named after its
/// `mailbox` folder unless `name` is given) and any number of `[[imap.mailboxes]]`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapSettings {
    /// The name of the flat mailbox; empty: its folder (`imap:INBOX`, as before).
    pub name: String,
    /// The IMAP server of the flat mailbox; empty means it is not polled.
    pub host: String,
    pub port: u16,
    pub tls: ImapTls,
    pub username: String,
    #[serde(skip_serializing)]
    pub password: String,
    pub password_file: Option<PathBuf>,
    /// The folder of the flat mailbox (`folder` in `[[imap.mailboxes]]`).
    pub mailbox: String,
    pub poll_interval_seconds: u64,
    pub ca_file: Option<PathBuf>,
    pub queue: Option<String>,
    /// More mailboxes, each with its own server, credentials, folder, interval and queue.
    pub mailboxes: Vec<ImapMailbox>,
}

impl Default for ImapSettings {
    fn default() -> Self {
        let one = ImapMailbox::default();
        ImapSettings {
            name: String::new(),
            host: one.host,
            port: one.port,
            tls: one.tls,
            username: one.username,
            password: one.password,
            password_file: one.password_file,
            mailbox: one.folder,
            poll_interval_seconds: one.poll_interval_seconds,
            ca_file: one.ca_file,
            queue: one.queue,
            mailboxes: Vec::new(),
        }
    }
}

impl std::fmt::Debug for ImapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSettings").field("flat", &self.flat()).field("mailboxes", &self.mailboxes).finish()
    }
}

impl ImapSettings {
    /// Settings polling exactly these mailboxes (no flat one).
    pub fn of(mailboxes: Vec<ImapMailbox>) -> ImapSettings {
        ImapSettings { mailboxes, ..ImapSettings::default() }
    }

    /// The flat keys as a mailbox (polled only when `host` is set).
    fn flat(&self) -> ImapMailbox {
        let name = if self.name.trim().is_empty() { self.mailbox.trim() } else { self.name.trim() };
        ImapMailbox {
            name: name.to_string(),
            host: self.host.clone(),
            port: self.port,
            tls: self.tls,
            username: self.username.clone(),
            password: self.password.clone(),
            password_file: self.password_file.clone(),
            folder: self.mailbox.clone(),
            poll_interval_seconds: self.poll_interval_seconds,
            ca_file: self.ca_file.clone(),
            queue: self.queue.clone(),
        }
    }

    /// Every mailbox to poll: the flat one when it names a host, then `[[imap.mailboxes]]`.
    pub fn mailboxes(&self) -> Vec<ImapMailbox> {
        let flat = self.flat();
        flat.enabled().then_some(flat).into_iter().chain(self.mailboxes.iter().cloned()).collect()
    }

    /// Whether any mailbox is polled.
    pub fn enabled(&self) -> bool {
        !self.mailboxes().is_empty()
    }

    /// Checks what types alone cannot; the error names the key at fault (`imap.<key>` for the
    /// flat keys, `imap.mailboxes` with the mailbox's name and key in the message otherwise).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let flat = self.flat();
        if flat.enabled() {
            flat.validate().map_err(|(key, message)| (flat_field(key), message))?;
        }
        if self.mailboxes.len() > MAX_MAILBOXES {
            return Err(("imap.mailboxes", format!("at most {MAX_MAILBOXES} mailboxes")));
        }
        let mut names: Vec<String> = if flat.enabled() { vec![flat.name.clone()] } else { Vec::new() };
        for (n, mailbox) in self.mailboxes.iter().enumerate() {
            let shown = if mailbox.name.trim().is_empty() { format!("number {}", n + 1) } else { mailbox.name.clone() };
            let at = |key: &str, message: String| ("imap.mailboxes", format!("mailbox {shown}: {key} {message}"));
            if !valid_name(&mailbox.name) {
                return Err(at("name", "must be 1 to 40 letters, digits, - or _".into()));
            }
            if names.iter().any(|n| n.eq_ignore_ascii_case(&mailbox.name)) {
                return Err(at("name", "is used by another mailbox".into()));
            }
            if !mailbox.enabled() {
                return Err(at("host", "must be set".into()));
            }
            mailbox.validate().map_err(|(key, message)| at(key, message))?;
            names.push(mailbox.name.clone());
        }
        Ok(())
    }
}

/// The flat key's full name, for errors.
fn flat_field(key: &str) -> &'static str {
    match key {
        "name" => "imap.name",
        "port" => "imap.port",
        "username" => "imap.username",
        "password_file" => "imap.password_file",
        "folder" => "imap.mailbox",
        "poll_interval_seconds" => "imap.poll_interval_seconds",
        "ca_file" => "imap.ca_file",
        "queue" => "imap.queue",
        _ => "imap.host",
    }
}

fn valid_name(name: &str) -> bool {
    (1..=40).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl ImapMailbox {
    /// Polling is on when a host is named.
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }

    /// The source its messages are stored under.
    pub fn source(&self) -> String {
        format!("imap:{}", self.name)
    }

    /// The dedupe key of its poll job: one queued poll per mailbox across all nodes.
    pub fn job_key(&self) -> String {
        format!("{}:{}", super::POLL_JOB, self.name)
    }

    /// Checks one mailbox; the error names the key (`username`, `password_file`, ...).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.name.trim().is_empty() || self.name.chars().any(char::is_control) || self.name.len() > 200 {
            return Err(("name", "must be a short name such as billing".into()));
        }
        if self.port == 0 {
            return Err(("port", "must be a port number such as 993".into()));
        }
        if self.username.trim().is_empty() {
            return Err(("username", "must be set when host is".into()));
        }
        if !self.password.is_empty() && self.password_file.is_some() {
            return Err(("password_file", "set either password or password_file, not both".into()));
        }
        self.password().map_err(|message| ("password_file", message))?;
        let folder = self.folder.trim();
        if folder.is_empty() || folder.chars().any(char::is_control) || folder.len() > 200 {
            return Err(("folder", "must be a folder name such as INBOX".into()));
        }
        if !(MIN_POLL_INTERVAL_SECONDS..=MAX_POLL_INTERVAL_SECONDS).contains(&self.poll_interval_seconds) {
            return Err(("poll_interval_seconds", "must be 1 to 86400".into()));
        }
        if let Some(path) = &self.ca_file {
            crate::imap::tls::extra_roots(path).map_err(|message| ("ca_file", message))?;
        }
        if let Some(queue) = &self.queue
            && (queue.trim().is_empty() || queue.len() > 100)
        {
            return Err(("queue", "must name a queue such as Billing".into()));
        }
        Ok(())
    }

    /// The password: the `password` key, else the contents of `password_file`.
    pub fn password(&self) -> Result<String, String> {
        let Some(path) = &self.password_file else {
            if self.password.is_empty() {
                return Err("set password or password_file".into());
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
