//! The drain: a background job that claims due emails from the queue with a lease, sends them
//! over SMTP (pooled connections, several at once, each try under a timeout) and records the
//! outcome. An email is never sent twice by this code: a claim is one statement, so two drains
//! never hold the same email; the outcome is written only by the lease holder; and an email left
//! in `sending` by a worker that died (sent or not, nobody knows) becomes `uncertain` instead of
//! being sent again. Its stable Message-ID lets receivers drop a copy if a person retries it.

use crate::settings::{SmtpSecurity, SmtpSettings};
use crate::store::{self, AttachmentRow, ClaimedEmail};
use db::Db;
use kernel::{Clock, Timestamp};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Emails one claim takes; the drain keeps `concurrency` of them in flight.
const CLAIM_BATCH_PER_SENDER: usize = 4;

/// A configured SMTP client with its connection pool.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: SmtpSettings,
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> Result<Mailer, String> {
        settings.validate().map_err(|(field, message)| format!("{field} {message}"))?;
        if settings.host.trim().is_empty() {
            return Err("smtp.host is not set".into());
        }
        let host = settings.host.trim();
        let builder = match settings.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
            SmtpSecurity::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)),
        }
        .map_err(|e| format!("smtp.host: {e}"))?;
        let pool_size = u32::try_from(settings.concurrency).unwrap_or(8);
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(Duration::from_secs(settings.send_timeout_seconds)))
            .pool_config(PoolConfig::new().max_size(pool_size));
        if let Some(username) = settings.username.as_ref().filter(|u| !u.is_empty()) {
            let password = settings.password.clone().unwrap_or_default();
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        let from = settings.from_address.parse::<Mailbox>().map_err(|e| format!("smtp.from_address: {e}"))?;
        Ok(Mailer { transport: builder.build(), from, settings: settings.clone() })
    }

    /// The mailer for the installed settings, built once and reused (its pool with it).
    pub fn installed() -> Result<Arc<Mailer>, String> {
        static CACHE: Mutex<Option<Arc<Mailer>>> = Mutex::new(None);
        let settings = crate::settings::installed();
        let mut cache = CACHE.lock().map_err(|_| "mailer cache poisoned".to_string())?;
        if let Some(mailer) = cache.as_ref().filter(|m| m.settings == *settings) {
            return Ok(mailer.clone());
        }
        let mailer = Arc::new(Mailer::new(&settings)?);
        *cache = Some(mailer.clone());
        Ok(mailer)
    }

    /// One try: the whole SMTP exchange under the send timeout (lettre's own covers connect only).
    async fn send(&self, message: Message) -> Result<(), TryError> {
        let limit = Duration::from_secs(self.settings.send_timeout_seconds);
        match tokio::time::timeout(limit, self.transport.send(message)).await {
            Err(_) => Err(TryError::Transient(format!("no answer within {} seconds", limit.as_secs()))),
            Ok(Err(e)) if e.is_permanent() => Err(TryError::Permanent(e.to_string())),
            Ok(Err(e)) => Err(TryError::Transient(e.to_string())),
            Ok(Ok(_)) => Ok(()),
        }
    }
}

#[derive(Debug)]
enum TryError {
    /// Worth another try later (timeout, connection refused, 4xx).
    Transient(String),
    /// The server refused the message for good (5xx), or it cannot be built.
    Permanent(String),
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

/// Sends every due email, batch after batch, until none is due.
pub async fn drain(db: &Db, mailer: &Mailer, clock: &dyn Clock) -> Result<DrainOutcome, db::Error> {
    let mut outcome = DrainOutcome::default();
    let mut tx = db.begin().await?;
    outcome.uncertain = store::expire_leases(&mut tx, clock.now().micros()).await?;
    tx.commit().await?;
    let concurrency = mailer.settings.concurrency.max(1);
    let batch = concurrency * CLAIM_BATCH_PER_SENDER;
    let rounds = u64::try_from(CLAIM_BATCH_PER_SENDER).unwrap_or(4) + 1;
    let lease_seconds = i64::try_from(mailer.settings.send_timeout_seconds.saturating_mul(rounds)).unwrap_or(600) + 30;
    loop {
        let now = clock.now();
        let token = db::random_token(12);
        let mut tx = db.begin().await?;
        let limit = i64::try_from(batch).unwrap_or(32);
        let claimed =
            store::claim_due(&mut tx, now.micros(), now.plus_seconds(lease_seconds).micros(), &token, limit).await?;
        let ids: Vec<i64> = claimed.iter().map(|c| c.email_id).collect();
        let attachments = store::attachments_of(&mut tx, &ids).await?;
        tx.commit().await?;
        if claimed.is_empty() {
            return Ok(outcome);
        }
        let results = send_all(mailer, claimed, attachments, concurrency, now).await;
        record_results(db, &token, results, clock.now(), &mut outcome).await?;
    }
}

async fn send_all(
    mailer: &Mailer,
    claimed: Vec<ClaimedEmail>,
    attachments: Vec<AttachmentRow>,
    concurrency: usize,
    now: Timestamp,
) -> Vec<(ClaimedEmail, Result<(), TryError>)> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut sends = Vec::with_capacity(claimed.len());
    for email in claimed {
        let files: Vec<&AttachmentRow> = attachments.iter().filter(|a| a.email_id == email.email_id).collect();
        let message = build_message(&mailer.from, &email, &files, now);
        let semaphore = semaphore.clone();
        sends.push(async move {
            let result = match message {
                Err(error) => Err(TryError::Permanent(error)),
                Ok(message) => match semaphore.acquire().await {
                    Ok(_permit) => mailer.send(message).await,
                    Err(_) => Err(TryError::Transient("sender stopped".into())),
                },
            };
            (email, result)
        });
    }
    join_all(sends).await
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

async fn record_results(
    db: &Db,
    token: &str,
    results: Vec<(ClaimedEmail, Result<(), TryError>)>,
    now: Timestamp,
    outcome: &mut DrainOutcome,
) -> Result<(), db::Error> {
    let mut tx = db.begin().await?;
    for (email, result) in results {
        match result {
            Ok(()) => {
                if store::mark_sent(&mut tx, email.email_id, token, now.micros()).await? {
                    outcome.sent += 1;
                }
            }
            Err(error) => {
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
        }
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

/// The drain job's handler: drains with the installed settings, then schedules itself again
/// for the earliest email waiting on a back-off (under the other of two keys, because a running
/// job holds its own key).
pub async fn run_drain_job(db: Db, job: db::jobs::ClaimedJob, clock: Arc<dyn Clock>) -> Result<(), String> {
    let mailer = match Mailer::installed() {
        Ok(mailer) => mailer,
        Err(reason) => {
            tracing::warn!(%reason, "outbound email stays queued: SMTP is not configured");
            return Ok(());
        }
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

/// Registers the module's job handlers with the worker.
pub fn register_jobs(registry: &mut db::jobs::Registry, clock: Arc<dyn Clock>) {
    let drain_clock = clock.clone();
    registry.register(crate::ops::DRAIN_JOB, move |db, job| run_drain_job(db, job, drain_clock.clone()));
    registry.register(crate::ops::CASE_REPLY_JOB, move |db, job| crate::ops::run_case_reply_job(db, job, clock.now()));
}
