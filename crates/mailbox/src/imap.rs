//! IMAP polling: the `[imap]` settings and one poll of a mailbox. Unseen messages are fetched
//! without setting \Seen (BODY.PEEK), each is stored (and processed) and committed, and only then
//! marked \Seen — so a crash between the two fetches the message again, and the repeat is
//! recognised by its mailbox, UIDVALIDITY and UID and not stored twice.

use crate::ops::{self, Source};
use db::Db;
use futures_util::StreamExt;
use kernel::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The most messages taken in one poll; the rest wait for the next.
const MAX_PER_POLL: usize = 200;
/// A poll that takes longer than this is abandoned (what was committed stays).
const POLL_TIMEOUT_SECONDS: u64 = 300;

/// The `[imap]` section. The password is never printed: `Debug` masks it and serialising leaves
/// it out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapSettings {
    /// The IMAP server; empty means no polling.
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (IMAPS, usually port 993). Not built yet: see DESIGN.md.
    pub tls: bool,
    pub username: String,
    #[serde(skip_serializing)]
    pub password: String,
    /// The mailbox polled, usually INBOX.
    pub mailbox: String,
    pub poll_seconds: u64,
}

impl Default for ImapSettings {
    fn default() -> Self {
        ImapSettings {
            host: String::new(),
            port: 993,
            tls: true,
            username: String::new(),
            password: String::new(),
            mailbox: "INBOX".into(),
            poll_seconds: 60,
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
            .field("mailbox", &self.mailbox)
            .field("poll_seconds", &self.poll_seconds)
            .finish()
    }
}

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollOutcome {
    /// Unseen messages fetched.
    pub fetched: usize,
    /// Of those, newly stored (the rest had been stored by an earlier, interrupted poll).
    pub stored: usize,
}

/// Polls the configured mailbox once.
pub async fn poll_once(db: &Db, settings: &ImapSettings, now: Timestamp) -> Result<PollOutcome, String> {
    if settings.host.trim().is_empty() {
        return Ok(PollOutcome::default());
    }
    if settings.tls {
        return Err("IMAP over TLS is not built yet; poll a local server with tls = false".into());
    }
    let work = poll_plain(db, settings, now);
    tokio::time::timeout(Duration::from_secs(POLL_TIMEOUT_SECONDS), work)
        .await
        .map_err(|_| format!("the IMAP poll took longer than {POLL_TIMEOUT_SECONDS} seconds"))?
}

async fn poll_plain(db: &Db, settings: &ImapSettings, now: Timestamp) -> Result<PollOutcome, String> {
    let address = (settings.host.as_str(), settings.port);
    let stream = tokio::net::TcpStream::connect(address).await.map_err(|e| format!("cannot connect: {e}"))?;
    let mut client = async_imap::Client::new(stream);
    client.read_response().await.map_err(|e| format!("no IMAP greeting: {e}"))?;
    let mut session =
        client.login(&settings.username, &settings.password).await.map_err(|(e, _)| format!("login refused: {e}"))?;
    let mailbox = session.select(&settings.mailbox).await.map_err(|e| format!("cannot select the mailbox: {e}"))?;
    let validity = mailbox.uid_validity.unwrap_or(0);
    let source = format!("imap:{}", settings.mailbox);
    let mut uids: Vec<u32> = session.uid_search("UNSEEN").await.map_err(|e| e.to_string())?.into_iter().collect();
    uids.sort_unstable();
    uids.truncate(MAX_PER_POLL);
    let mut outcome = PollOutcome::default();
    for uid in uids {
        let raw = {
            let mut fetches =
                session.uid_fetch(uid.to_string(), "(UID BODY.PEEK[])").await.map_err(|e| e.to_string())?;
            let mut raw = None;
            while let Some(fetch) = fetches.next().await {
                let fetch = fetch.map_err(|e| e.to_string())?;
                if fetch.uid == Some(uid) {
                    raw = fetch.body().map(<[u8]>::to_vec);
                }
            }
            raw
        };
        let Some(raw) = raw else { continue };
        outcome.fetched += 1;
        let key = format!("{validity}:{uid}");
        let mut tx = db.begin().await.map_err(|e| e.to_string())?;
        let stored = ops::receive(&mut tx, Source { name: &source, uid: Some(&key) }, &raw, now)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        outcome.stored += usize::from(stored.is_some());
        // Only now, with the raw copy committed, may the server forget the message is new.
        let mut marked =
            session.uid_store(uid.to_string(), "+FLAGS.SILENT (\\Seen)").await.map_err(|e| e.to_string())?;
        while let Some(done) = marked.next().await {
            done.map_err(|e| e.to_string())?;
        }
    }
    session.logout().await.map_err(|e| e.to_string())?;
    Ok(outcome)
}
