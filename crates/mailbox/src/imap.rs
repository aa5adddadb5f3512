//! IMAP polling: one poll of a configured mailbox, and the recurring job (one per mailbox) that
//! runs it. Unseen messages are fetched without setting \Seen (BODY.PEEK), each is stored (and
//! processed) and committed, and only then marked \Seen — so a crash between the two fetches the
//! message again, and the repeat is recognised by its mailbox, UIDVALIDITY and UID and not stored
//! twice.

mod settings;
pub(crate) mod tls;

pub use settings::{ImapMailbox, ImapSettings, ImapTls};

use crate::ops::{self, Source};
use db::Db;
use futures_util::StreamExt;
use kernel::{Clock, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// The recurring job that polls one `[imap]` mailbox (named in its payload, deduplicated by
/// `mailbox.poll:<name>`); scheduled only for configured mailboxes.
pub const POLL_JOB: &str = "mailbox.poll";
/// The most messages taken in one poll; the rest wait for the next.
const MAX_PER_POLL: usize = 200;
/// A poll that takes longer than this is abandoned (what was committed stays).
const POLL_TIMEOUT_SECONDS: u64 = 300;

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollOutcome {
    /// Unseen messages fetched.
    pub fetched: usize,
    /// Of those, newly stored (the rest had been stored by an earlier, interrupted poll).
    pub stored: usize,
}

/// Polls one mailbox once (nothing when it names no host). A `queue` the database does not
/// know as an active queue fails the poll before anything is fetched.
pub async fn poll_once(db: &Db, mailbox: &ImapMailbox, now: Timestamp) -> Result<PollOutcome, String> {
    if !mailbox.enabled() {
        return Ok(PollOutcome::default());
    }
    let queue_id = match &mailbox.queue {
        Some(name) => {
            let mut tx = db.read().await.map_err(|e| e.to_string())?;
            let found = crate::store::active_queue_by_name(&mut tx, name.trim()).await.map_err(|e| e.to_string())?;
            tx.rollback().await.map_err(|e| e.to_string())?;
            Some(found.ok_or_else(|| format!("imap mailbox {}: no active queue named {name:?}", mailbox.name))?)
        }
        None => None,
    };
    let poll = connect_and_poll(db, mailbox, queue_id, now);
    tokio::time::timeout(Duration::from_secs(POLL_TIMEOUT_SECONDS), poll)
        .await
        .map_err(|_| format!("the IMAP poll took longer than {POLL_TIMEOUT_SECONDS} seconds"))?
}

/// Registers the poll job's handler with the mailboxes it polls. A job names its mailbox; one
/// queued before mailboxes had names (no name) polls the flat `[imap]` mailbox; one naming a
/// mailbox no longer configured does nothing.
pub fn register_jobs(registry: &mut db::jobs::Registry, settings: ImapSettings, clock: Arc<dyn Clock>) {
    let mailboxes = Arc::new(settings.mailboxes());
    let flat = (!settings.host.trim().is_empty()).then(|| settings.mailboxes().into_iter().next()).flatten();
    let flat = Arc::new(flat);
    registry.register(POLL_JOB, move |db, job| {
        let (mailboxes, flat, clock) = (mailboxes.clone(), flat.clone(), clock.clone());
        async move {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
            let mailbox = match payload.get("mailbox").and_then(serde_json::Value::as_str) {
                Some(name) => mailboxes.iter().find(|m| m.name == name).cloned(),
                None => flat.as_ref().clone(),
            };
            let Some(mailbox) = mailbox else {
                tracing::info!(payload = %job.payload, "IMAP poll for a mailbox no longer configured: skipped");
                return Ok(());
            };
            let outcome = poll_once(&db, &mailbox, clock.now()).await?;
            let (fetched, stored) = (outcome.fetched, outcome.stored);
            tracing::info!(fetched, stored, mailbox = %mailbox.name, folder = %mailbox.folder, "IMAP poll");
            Ok(())
        }
    });
}

/// Queues the next poll of every mailbox, its `poll_interval_seconds` from now, unless one is
/// already queued or running (every node may call this; the per-mailbox dedupe key keeps one, and
/// the job's lease lets one node poll a mailbox at a time).
pub async fn schedule_poll(tx: &mut db::Tx, settings: &ImapSettings, now: Timestamp) -> db::Result<()> {
    for mailbox in settings.mailboxes() {
        let interval = i64::try_from(mailbox.poll_interval_seconds).unwrap_or(i64::MAX);
        let payload = serde_json::json!({ "mailbox": mailbox.name });
        db::jobs::enqueue_unique(tx, POLL_JOB, &mailbox.job_key(), &payload, now.plus_seconds(interval)).await?;
    }
    Ok(())
}

async fn connect_and_poll(
    db: &Db,
    settings: &ImapMailbox,
    queue_id: Option<i64>,
    now: Timestamp,
) -> Result<PollOutcome, String> {
    let password = settings.password()?;
    let (host, port) = (settings.host.trim(), settings.port);
    let tcp =
        tokio::net::TcpStream::connect((host, port)).await.map_err(|e| format!("cannot connect to {host}: {e}"))?;
    let ca_file = settings.ca_file.as_deref();
    match settings.tls {
        ImapTls::None => {
            let mut client = async_imap::Client::new(tcp);
            greeting(&mut client).await?;
            poll_session(db, (settings, queue_id), client, &password, now).await
        }
        ImapTls::Tls => {
            let mut client = async_imap::Client::new(tls::handshake(tcp, host, ca_file).await?);
            greeting(&mut client).await?;
            poll_session(db, (settings, queue_id), client, &password, now).await
        }
        ImapTls::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            greeting(&mut client).await?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| format!("the server refused STARTTLS (nothing was sent in the clear): {e}"))?;
            // The server says nothing more until the handshake, so no buffered bytes are lost.
            let secured = tls::handshake(client.into_inner(), host, ca_file).await?;
            poll_session(db, (settings, queue_id), async_imap::Client::new(secured), &password, now).await
        }
    }
}

async fn greeting<S>(client: &mut async_imap::Client<S>) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match client.read_response().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err("the server closed the connection before its IMAP greeting".into()),
        Err(e) => Err(format!("no IMAP greeting: {e}")),
    }
}

async fn poll_session<S>(
    db: &Db,
    (settings, queue_id): (&ImapMailbox, Option<i64>),
    client: async_imap::Client<S>,
    password: &str,
    now: Timestamp,
) -> Result<PollOutcome, String>
where
    S: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut session =
        client.login(&settings.username, password).await.map_err(|(e, _)| format!("login refused: {e}"))?;
    let selected = session.select(&settings.folder).await.map_err(|e| format!("cannot select the folder: {e}"))?;
    let validity = selected.uid_validity.unwrap_or(0);
    let source = settings.source();
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
        let stored = ops::receive(&mut tx, Source { name: &source, uid: Some(&key), queue_id }, &raw, now)
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
