//! The drain: a background job that claims due emails from the queue with a lease, sends them
//! over SMTP (`concurrency` senders, each keeping one connection open across its messages, each
//! try under a timeout) and records the outcome. An email is never sent twice by this code: a
//! claim is one statement that commits before anything goes out, so two drains never hold the
//! same email; the outcome is written only by the lease holder; and an email left in `sending` by
//! a worker that died (sent or not, nobody knows) becomes `uncertain` instead of being sent
//! again. Its stable Message-ID lets receivers drop a copy if a person retries it.

mod connection;
pub mod tls;

use crate::settings::SmtpSettings;
use crate::store::{self, AttachmentRow, ClaimedEmail};
use connection::Connector;
use db::Db;
use kernel::{Clock, Timestamp};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use std::sync::Arc;
use std::time::Duration;

/// Emails one sender claims at once: one claim and one "sent" update per this many messages.
/// A sender that dies leaves at most this many emails `uncertain`.
const CLAIM_BATCH_PER_SENDER: usize = 16;

/// A configured SMTP client; it keeps idle connections between drains.
pub struct Mailer {
    connector: Connector,
    from: Mailbox,
    settings: SmtpSettings,
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> Result<Mailer, String> {
        settings.validate().map_err(|(field, message)| format!("{field} {message}"))?;
        if settings.host.trim().is_empty() {
            return Err("smtp.host is not set".into());
        }
        let from = settings.from_address.parse::<Mailbox>().map_err(|e| format!("smtp.from_address: {e}"))?;
        Ok(Mailer { connector: Connector::new(settings)?, from, settings: settings.clone() })
    }

    /// One try over the sender's connection (opened first when there is none). The whole
    /// exchange, connecting included, runs under the send timeout; after any error or timeout
    /// the connection is dropped, so the next message starts on a clean one.
    async fn send(&self, slot: &mut Option<AsyncSmtpConnection>, message: &Message) -> Result<(), TryError> {
        let limit = Duration::from_secs(self.settings.send_timeout_seconds);
        let bytes = message.formatted();
        let attempt = async {
            let connection = match slot {
                Some(connection) => connection,
                None => slot.insert(self.connector.open().await?),
            };
            connection.send(message.envelope(), &bytes).await.map(|_| ()).map_err(TryError::from_smtp)
        };
        let result = match tokio::time::timeout(limit, attempt).await {
            Err(_) => Err(TryError::Transient(format!("no answer within {} seconds", limit.as_secs()))),
            Ok(result) => result,
        };
        if result.is_err() {
            *slot = None;
        }
        result
    }
}

#[derive(Debug)]
enum TryError {
    /// Worth another try later (timeout, connection refused, 4xx).
    Transient(String),
    /// The server refused the message for good (5xx), or it cannot be built.
    Permanent(String),
}

impl TryError {
    fn from_smtp(error: lettre::transport::smtp::Error) -> TryError {
        if error.is_permanent() {
            TryError::Permanent(error.to_string())
        } else {
            TryError::Transient(error.to_string())
        }
    }
}

/// What one drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DrainOutcome {
    pub sent: u64,
    pub retrying: u64,
    pub failed: u64,
    /// Emails found in `sending` past their lease and set aside as `uncertain`.
    pub uncertain: u64,
}

impl DrainOutcome {
    fn add(&mut self, other: DrainOutcome) {
        self.sent += other.sent;
        self.retrying += other.retrying;
        self.failed += other.failed;
        self.uncertain += other.uncertain;
    }
}

/// Sends every due email until none is due: `concurrency` senders run side by side, each
/// claiming a small batch, sending it over its own connection and recording the batch.
pub async fn drain(db: &Db, mailer: &Mailer, clock: &dyn Clock) -> Result<DrainOutcome, db::Error> {
    let mut outcome = DrainOutcome::default();
    let mut tx = db.begin().await?;
    outcome.uncertain = store::expire_leases(&mut tx, clock.now().micros()).await?;
    tx.commit().await?;
    let senders: Vec<_> = (0..mailer.settings.concurrency.max(1)).map(|_| sender(db, mailer, clock)).collect();
    let mut first_error = None;
    for result in join_all(senders).await {
        match result {
            Ok(done) => outcome.add(done),
            Err(error) => first_error = first_error.or(Some(error)),
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(outcome),
    }
}

/// One sender: claim, send, record, until nothing is due. The claim commits before the first
/// message goes out; the batch's outcome is written after the last one.
async fn sender(db: &Db, mailer: &Mailer, clock: &dyn Clock) -> Result<DrainOutcome, db::Error> {
    let mut outcome = DrainOutcome::default();
    let mut connection = mailer.connector.take_idle().await;
    let rounds = u64::try_from(CLAIM_BATCH_PER_SENDER).unwrap_or(16) + 1;
    let lease_seconds = i64::try_from(mailer.settings.send_timeout_seconds.saturating_mul(rounds)).unwrap_or(600) + 30;
    let limit = i64::try_from(CLAIM_BATCH_PER_SENDER).unwrap_or(16);
    loop {
        let now = clock.now();
        let token = db::random_token(12);
        let mut tx = db.begin().await?;
        let lease_until = now.plus_seconds(lease_seconds).micros();
        let claimed = store::claim_due(&mut tx, now.micros(), lease_until, &token, limit).await?;
        let attachments =
            if claimed.is_empty() { Vec::new() } else { store::attachments_held(&mut tx, &token).await? };
        tx.commit().await?;
        if claimed.is_empty() {
            break;
        }
        let mut sent = Vec::with_capacity(claimed.len());
        let mut failures = Vec::new();
        for email in claimed {
            let files: Vec<&AttachmentRow> = attachments.iter().filter(|a| a.email_id == email.email_id).collect();
            let result = match build_message(&mailer.from, &email, &files, now) {
                Err(error) => Err(TryError::Permanent(error)),
                Ok(message) => mailer.send(&mut connection, &message).await,
            };
            match result {
                Ok(()) => sent.push(email.email_id),
                Err(error) => failures.push((email, error)),
            }
        }
        record_results(db, &token, &sent, failures, clock.now(), &mut outcome).await?;
    }
    if let Some(connection) = connection {
        mailer.connector.give_back(connection);
    }
    Ok(outcome)
}

/// Runs the futures together on this task (they borrow the mailer) and keeps their order.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// One transaction per batch: every sent email in one update, each failure on its own row.
async fn record_results(
    db: &Db,
    token: &str,
    sent: &[i64],
    failures: Vec<(ClaimedEmail, TryError)>,
    now: Timestamp,
    outcome: &mut DrainOutcome,
) -> Result<(), db::Error> {
    let mut tx = db.begin().await?;
    outcome.sent += store::mark_sent(&mut tx, sent, token, now.micros()).await?;
    for (email, error) in failures {
        let (permanent, text) = match error {
            TryError::Permanent(text) => (true, text),
            TryError::Transient(text) => (false, text),
        };
        let give_up = permanent || email.attempts >= email.max_attempts;
        let status = if give_up { "failed" } else { "queued" };
        let next = now.plus_seconds(db::jobs::backoff_seconds(email.attempts)).micros();
        let text: String = text.chars().take(2_000).collect();
        tracing::warn!(email_id = email.email_id, error = %text, status, "email send failed");
        store::mark_try_failed(&mut tx, email.email_id, token, status, next, &text, now.micros()).await?;
        if give_up { outcome.failed += 1 } else { outcome.retrying += 1 }
    }
    tx.commit().await
}

/// The message as it goes on the wire, with the stored Message-ID and threading headers.
fn build_message(
    from: &Mailbox,
    email: &ClaimedEmail,
    attachments: &[&AttachmentRow],
    now: Timestamp,
) -> Result<Message, String> {
    let to: Mailboxes = email.to_addresses.parse().map_err(|e| format!("to: {e}"))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(email.subject.clone())
        .message_id(Some(format!("<{}>", email.message_id)))
        .date(std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(now.unix_seconds()).unwrap_or(0)));
    for mailbox in to {
        builder = builder.to(mailbox);
    }
    if !email.cc_addresses.trim().is_empty() {
        let cc: Mailboxes = email.cc_addresses.parse().map_err(|e| format!("cc: {e}"))?;
        for mailbox in cc {
            builder = builder.cc(mailbox);
        }
    }
    if let Some(parent) = &email.in_reply_to {
        builder = builder.in_reply_to(format!("<{parent}>"));
    }
    if let Some(references) = email.reference_ids.as_ref().filter(|r| !r.trim().is_empty()) {
        let ids: Vec<String> = references.split_whitespace().map(|id| format!("<{id}>")).collect();
        builder = builder.references(ids.join(" "));
    }
    for header in extra_headers(email)? {
        let name = lettre::message::header::HeaderName::new_from_ascii_str(header.name.as_str());
        builder = builder.raw_header(lettre::message::header::HeaderValue::new(name, header.value));
    }
    let text = SinglePart::plain(email.text_body.clone());
    let body = match &email.html_body {
        Some(html) => MultiPart::alternative().singlepart(text).singlepart(SinglePart::html(html.clone())),
        None => MultiPart::mixed().singlepart(text),
    };
    let body = attachments.iter().try_fold(body, |body, file| {
        let kind = ContentType::parse(&file.content_type).map_err(|e| format!("attachment type: {e}"))?;
        let part = Attachment::new(file.file_name.clone()).body(file.content.clone(), kind);
        Ok::<MultiPart, String>(if email.html_body.is_some() {
            MultiPart::mixed().multipart(body).singlepart(part)
        } else {
            body.singlepart(part)
        })
    })?;
    let message = if attachments.is_empty() && email.html_body.is_none() {
        builder.singlepart(SinglePart::plain(email.text_body.clone()))
    } else {
        builder.multipart(body)
    };
    message.map_err(|e| format!("message: {e}"))
}

/// The stored extra headers, checked again against the allow-list (the column is ours, but a
/// header line is the one place a stray line break would become a new header).
fn extra_headers(email: &ClaimedEmail) -> Result<Vec<crate::model::ExtraHeader>, String> {
    let Some(json) = email.extra_headers.as_deref().filter(|j| !j.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let stored: Vec<crate::model::ExtraHeader> = serde_json::from_str(json).map_err(|e| format!("headers: {e}"))?;
    stored
        .iter()
        .map(|h| crate::model::ExtraHeader::parse(h.name.as_str(), &h.value).map_err(|e| format!("headers: {e}")))
        .collect()
}

/// The drain job's handler: drains with the mailer built from the configuration, then schedules
/// itself again for the earliest email waiting on a back-off (under the other of two keys, because
/// a running job holds its own key). Without a mailer (no `smtp.host`) emails stay queued.
pub async fn run_drain_job(
    db: Db,
    job: db::jobs::ClaimedJob,
    mailer: Option<Arc<Mailer>>,
    clock: Arc<dyn Clock>,
) -> Result<(), String> {
    let Some(mailer) = mailer else {
        tracing::warn!("outbound email stays queued: SMTP is not configured (smtp.host)");
        return Ok(());
    };
    let outcome = drain(&db, &mailer, clock.as_ref()).await.map_err(|e| e.to_string())?;
    tracing::info!(sent = outcome.sent, retrying = outcome.retrying, failed = outcome.failed, "outbound email drained");
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    if let Some(due) = store::next_due(&mut tx).await.map_err(|e| e.to_string())? {
        let key = if job.payload.contains("retry") { crate::ops::DRAIN_JOB } else { RETRY_KEY };
        let payload = serde_json::json!({ "slot": if key == RETRY_KEY { "retry" } else { "main" } });
        let run_at = Timestamp::from_micros(due.max(clock.now().micros()));
        db::jobs::enqueue_unique(&mut tx, crate::ops::DRAIN_JOB, key, &payload, run_at)
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}

const RETRY_KEY: &str = "correspondence.drain.retry";

/// Registers the module's job handlers with the worker. The mailer is built here, once, from the
/// `[smtp]` settings the caller passes, and shared by every drain (with its idle connections).
pub fn register_jobs(registry: &mut db::jobs::Registry, smtp: &SmtpSettings, clock: Arc<dyn Clock>) {
    let mailer = match Mailer::new(smtp) {
        Ok(mailer) => Some(Arc::new(mailer)),
        Err(reason) => {
            tracing::warn!(%reason, "outbound email will stay queued");
            None
        }
    };
    let drain_clock = clock.clone();
    registry
        .register(crate::ops::DRAIN_JOB, move |db, job| run_drain_job(db, job, mailer.clone(), drain_clock.clone()));
    registry.register(crate::ops::CASE_REPLY_JOB, move |db, job| crate::ops::run_case_reply_job(db, job, clock.now()));
}
