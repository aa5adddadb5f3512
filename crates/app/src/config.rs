//! The one typed configuration. Layers, later winning: built-in defaults, then `caredesk.toml`
//! (or the file `--config` names), then `CAREDESK_SECTION__KEY` environment variables, then
//! command-line flags. Unknown keys in the file or the environment are an error, so a typo never
//! silently does nothing. Secrets (the database URL's password) are never printed.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const ENV_PREFIX: &str = "CAREDESK_";
pub const DEFAULT_CONFIG_FILE: &str = "caredesk.toml";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub jobs: JobsConfig,
    /// Outbound email (the password is never printed).
    pub smtp: correspondence::SmtpSettings,
    /// The IMAP mailboxes polled for inbound email: the flat keys and `[[imap.mailboxes]]`
    /// (passwords are never printed).
    pub imap: mailbox::imap::ImapSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: String,
    /// Load the demo data set into an empty database at start.
    pub demo: bool,
    /// Seconds a request may take before it is answered with 408.
    pub request_timeout_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Directory of the embedded SQLite database (`caredesk.db`).
    pub data_dir: PathBuf,
    /// A `postgres://` URL switches to PostgreSQL.
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Mark cookies Secure; turn on when serving behind HTTPS.
    pub secure_cookies: bool,
    /// Consecutive failed sign-ins that lock an account.
    pub lockout_threshold: i32,
    pub lockout_minutes: i64,
    /// Sign-in attempts one address may make per minute on one node.
    pub signin_per_minute_per_ip: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter such as `info` or `caredesk=debug,info`.
    pub level: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Run the background worker in `serve`.
    pub worker: bool,
    pub poll_milliseconds: u64,
    pub lease_seconds: i64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { listen: "127.0.0.1:8080".into(), demo: false, request_timeout_seconds: 30 }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig { data_dir: PathBuf::from("./caredesk-data"), database_url: None }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        let web = web::WebSettings::default();
        AuthConfig {
            session_idle_minutes: web.session_idle_seconds / 60,
            session_absolute_hours: web.session_absolute_seconds / 3_600,
            secure_cookies: web.secure_cookies,
            lockout_threshold: web.lockout_threshold,
            lockout_minutes: web.lockout_seconds / 60,
            signin_per_minute_per_ip: web.signin_per_minute_per_ip,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: "text".into(), level: "info".into() }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig { worker: true, poll_milliseconds: 1_000, lease_seconds: 300 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config file {path} is invalid: {message}")]
    File { path: String, message: String },
    #[error("environment variable {name} is invalid: {message}")]
    Env { name: String, message: String },
    #[error("{field} is invalid: {message}")]
    Value { field: &'static str, message: String },
}

impl Config {
    /// Reads the file (if any) and the environment over the defaults.
    pub fn load(file: Option<&Path>, env: impl Iterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let mut table = toml::Table::new();
        let explicit = file.is_some();
        let path = file.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        if explicit || path.exists() {
            let text = std::fs::read_to_string(&path)
                .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
            table = text
                .parse::<toml::Table>()
                .map_err(|e| ConfigError::File { path: path.display().to_string(), message: e.to_string() })?;
            toml::Value::Table(table.clone())
                .try_into::<Config>()
                .map_err(|e| ConfigError::File { path: path.display().to_string(), message: e.to_string() })?;
        }
        let mut env: Vec<(String, String)> = env.filter(|(name, _)| name.starts_with(ENV_PREFIX)).collect();
        env.sort();
        for (name, raw) in env {
            overlay_env(&mut table, &name, &raw)?;
            toml::Value::Table(table.clone())
                .try_into::<Config>()
                .map_err(|e| ConfigError::Env { name: name.clone(), message: e.to_string() })?;
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e| ConfigError::File { path: path.display().to_string(), message: e.to_string() })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Value {
                field: "server.listen",
                message: format!("{:?} is not an address like 127.0.0.1:8080", self.server.listen),
            });
        }
        if let Some(url) = &self.storage.database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Value {
                field: "storage.database_url",
                message: "must start with postgres://".into(),
            });
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(ConfigError::Value { field: "log.format", message: "must be text or json".into() });
        }
        let positive = [
            ("auth.session_idle_minutes", self.auth.session_idle_minutes),
            ("auth.session_absolute_hours", self.auth.session_absolute_hours),
            ("auth.lockout_minutes", self.auth.lockout_minutes),
            ("jobs.lease_seconds", self.jobs.lease_seconds),
            ("auth.lockout_threshold", i64::from(self.auth.lockout_threshold)),
        ];
        if let Some((field, _)) = positive.iter().find(|(_, v)| *v <= 0) {
            return Err(ConfigError::Value { field, message: "must be greater than zero".into() });
        }
        self.smtp.validate().map_err(|(field, message)| ConfigError::Value { field, message })?;
        self.imap.validate().map_err(|(field, message)| ConfigError::Value { field, message })?;
        Ok(())
    }

    pub fn web_settings(&self) -> web::WebSettings {
        web::WebSettings {
            session_idle_seconds: self.auth.session_idle_minutes * 60,
            session_absolute_seconds: self.auth.session_absolute_hours * 3_600,
            secure_cookies: self.auth.secure_cookies,
            lockout_threshold: self.auth.lockout_threshold,
            lockout_seconds: self.auth.lockout_minutes * 60,
            signin_per_minute_per_ip: self.auth.signin_per_minute_per_ip,
        }
    }

    /// Where the data lives, with any password in the URL masked.
    pub fn storage_description(&self) -> String {
        match &self.storage.database_url {
            Some(url) => mask_password(url),
            None => format!("SQLite at {}", self.storage.data_dir.join(db::SQLITE_FILE_NAME).display()),
        }
    }
}

/// `CAREDESK_SERVER__LISTEN=...` sets `[server] listen`. Values parse as TOML where they can
/// (numbers, booleans), otherwise they are strings.
fn overlay_env(table: &mut toml::Table, name: &str, raw: &str) -> Result<(), ConfigError> {
    let rest = name.trim_start_matches(ENV_PREFIX).to_ascii_lowercase();
    let Some((section, key)) = rest.split_once("__") else {
        return Err(ConfigError::Env {
            name: name.into(),
            message: "expected CAREDESK_SECTION__KEY, e.g. CAREDESK_SERVER__LISTEN".into(),
        });
    };
    let value = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let entry = table.entry(section.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(section_table) = entry.as_table_mut() else {
        return Err(ConfigError::Env { name: name.into(), message: format!("{section} is not a section") });
    };
    section_table.insert(key.to_string(), value);
    Ok(())
}

pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let config = Config::load(Some(Path::new("/nonexistent/none.toml")), env(&[]));
        assert!(config.is_err(), "an explicitly named file must exist");
        let config = Config::default();
        assert_eq!(config.server.listen, "127.0.0.1:8080");
        assert_eq!(config.storage.data_dir, PathBuf::from("./caredesk-data"));
        assert!(config.validate().is_ok());
    }

    #[test]
    fn environment_overrides_with_typed_values() {
        let dir = std::env::temp_dir().join(format!("caredesk-cfg-{}", db::random_token(4)));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("c.toml");
        let _ = std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9000\"\n[auth]\nlockout_threshold = 3\n");
        let config = Config::load(
            Some(&file),
            env(&[("CAREDESK_AUTH__LOCKOUT_THRESHOLD", "9"), ("CAREDESK_SERVER__DEMO", "true"), ("OTHER", "x")]),
        );
        let _ = std::fs::remove_dir_all(&dir);
        let config = config.unwrap_or_default();
        assert_eq!(config.server.listen, "127.0.0.1:9000", "file over defaults");
        assert_eq!(config.auth.lockout_threshold, 9, "environment over file");
        assert!(config.server.demo);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let bad_env = Config::load(Some(Path::new("/dev/null")), env(&[("CAREDESK_SERVER__LISTN", "x")]));
        assert!(matches!(bad_env, Err(ConfigError::Env { .. })));
        let no_section = Config::load(Some(Path::new("/dev/null")), env(&[("CAREDESK_LISTEN", "x")]));
        assert!(matches!(no_section, Err(ConfigError::Env { .. })));
        let mut config = Config::default();
        config.storage.database_url = Some("mysql://x".into());
        assert!(matches!(config.validate(), Err(ConfigError::Value { field: "storage.database_url", .. })));
        config.storage.database_url = None;
        config.log.format = "xml".into();
        assert!(matches!(config.validate(), Err(ConfigError::Value { field: "log.format", .. })));
    }

    #[test]
    fn the_imap_section_is_read_from_the_environment_checked_and_its_password_masked() {
        let imap = [
            ("CAREDESK_IMAP__HOST", "imap.example.org"),
            ("CAREDESK_IMAP__PORT", "143"),
            ("CAREDESK_IMAP__TLS", "starttls"),
            ("CAREDESK_IMAP__USERNAME", "desk"),
            ("CAREDESK_IMAP__PASSWORD", "s3cret-pw"),
            ("CAREDESK_IMAP__POLL_INTERVAL_SECONDS", "120"),
        ];
        let config = Config::load(Some(Path::new("/dev/null")), env(&imap)).unwrap_or_default();
        assert_eq!(config.imap.host, "imap.example.org");
        assert_eq!((config.imap.port, config.imap.tls), (143, mailbox::imap::ImapTls::Starttls));
        assert_eq!(config.imap.poll_interval_seconds, 120);
        assert!(!format!("{config:?}").contains("s3cret-pw"), "the password is never printed");
        let unknown = Config::load(Some(Path::new("/dev/null")), env(&[("CAREDESK_IMAP__FOLDER", "INBOX")]));
        assert!(matches!(unknown, Err(ConfigError::Env { .. })), "unknown keys stay errors");
        let bad_mode = Config::load(Some(Path::new("/dev/null")), env(&[("CAREDESK_IMAP__TLS", "ssl")]));
        assert!(matches!(bad_mode, Err(ConfigError::Env { .. })), "tls is none, starttls or tls");
        let no_user = Config::load(Some(Path::new("/dev/null")), env(&imap[..3]));
        assert!(matches!(no_user, Err(ConfigError::Value { field: "imap.username", .. })));
        let missing_file = [&imap[..4], &[("CAREDESK_IMAP__PASSWORD_FILE", "/nonexistent/imap-password")]].concat();
        let missing = Config::load(Some(Path::new("/dev/null")), env(&missing_file));
        assert!(matches!(missing, Err(ConfigError::Value { field: "imap.password_file", .. })));
    }

    #[test]
    fn several_imap_mailboxes_come_from_the_file_or_one_inline_environment_value() {
        let dir = std::env::temp_dir().join(format!("caredesk-cfg-{}", db::random_token(4)));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("c.toml");
        let text = "[imap]\nhost = \"imap.example.org\"\nusername = \"desk\"\npassword = \"flat-pw\"\n\
                    [[imap.mailboxes]]\nname = \"billing\"\nhost = \"imap.example.org\"\nusername = \"bill\"\n\
                    password = \"bill-pw\"\nfolder = \"Billing\"\nqueue = \"Billing\"\npoll_interval_seconds = 300\n";
        let _ = std::fs::write(&file, text);
        let loaded = Config::load(Some(&file), env(&[]));
        let typo = std::fs::write(&file, format!("{text}mailbox = \"INBOX\"\n"));
        let unknown = Config::load(Some(&file), env(&[]));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(typo.is_ok());
        let config = loaded.unwrap_or_default();
        let names: Vec<String> = config.imap.mailboxes().into_iter().map(|m| m.name).collect();
        assert_eq!(names, ["INBOX", "billing"], "the flat keys keep their old name, the folder");
        let billing = config.imap.mailboxes.first().cloned().unwrap_or_default();
        assert_eq!((billing.folder.as_str(), billing.queue.as_deref()), ("Billing", Some("Billing")));
        assert_eq!(billing.poll_interval_seconds, 300);
        let shown = format!("{config:?}");
        assert!(!shown.contains("flat-pw") && !shown.contains("bill-pw"), "passwords are never printed");
        assert!(matches!(unknown, Err(ConfigError::File { .. })), "the flat key `mailbox` is `folder` in a table");

        let inline = "[{name = \"claims\", host = \"imap.example.org\", username = \"c\", password = \"pw\"}]";
        let from_env = Config::load(Some(Path::new("/dev/null")), env(&[("CAREDESK_IMAP__MAILBOXES", inline)]));
        let from_env = from_env.unwrap_or_default();
        assert_eq!(from_env.imap.mailboxes().into_iter().map(|m| m.name).collect::<Vec<_>>(), ["claims"]);
        let twice = "[{name = \"INBOX\", host = \"h\", username = \"u\", password = \"p\"}]";
        let clash = Config::load(
            Some(Path::new("/dev/null")),
            env(&[
                ("CAREDESK_IMAP__HOST", "h"),
                ("CAREDESK_IMAP__USERNAME", "u"),
                ("CAREDESK_IMAP__PASSWORD", "p"),
                ("CAREDESK_IMAP__MAILBOXES", twice),
            ]),
        );
        assert!(matches!(clash, Err(ConfigError::Value { field: "imap.mailboxes", .. })), "names are unique");
        let no_user = Config::load(
            Some(Path::new("/dev/null")),
            env(&[("CAREDESK_IMAP__MAILBOXES", "[{name = \"x\", host = \"h\", password = \"p\"}]")]),
        );
        let message = match no_user {
            Err(ConfigError::Value { field: "imap.mailboxes", message }) => message,
            other => format!("not the error expected: {other:?}"),
        };
        assert!(message.contains("mailbox x: username"), "the mailbox and the key are named: {message}");
    }

    #[test]
    fn passwords_in_database_urls_are_masked() {
        assert_eq!(mask_password("postgres://app:secret@db:5432/caredesk"), "postgres://app:***@db:5432/caredesk");
        assert_eq!(mask_password("postgres://db/caredesk"), "postgres://db/caredesk");
    }
}
