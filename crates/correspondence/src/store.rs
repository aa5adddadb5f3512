//! All of the outbound email queue's SQL: insert, claim with a lease, mark sent or failed, and
//! the lists the outbox page and the API show. Templates, merge data and letters have their SQL
//! in `store_templates.rs` and `store_letters.rs`.

use crate::settings::QueueSettings;
use db::{Result, Tx};
use serde::Serialize;
use utoipa::ToSchema;

/// One outbound email as the outbox and the API show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
#[schema(as = OutboundEmailRow)]
pub struct EmailRow {
    pub email_id: i64,
    /// Without angle brackets.
    pub message_id: String,
    /// Comma-separated.
    pub to_addresses: String,
    pub cc_addresses: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub in_reply_to: Option<String>,
    /// Space-separated Message-IDs, without angle brackets.
    pub reference_ids: Option<String>,
    pub case_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub template_id: Option<i64>,
    /// queued, sending, sent, failed or uncertain
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Microseconds since the Unix epoch (UTC).
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
    /// Headers besides the drain's own, as JSON: `[{"name": "Auto-Submitted", "value": "auto-replied"}]`.
    pub extra_headers: Option<String>,
}

const EMAIL_COLUMNS: &str = "email_id, message_id, to_addresses, cc_addresses, subject, text_body, html_body, \
     in_reply_to, reference_ids, case_id, customer_id, template_id, status, attempts, max_attempts, next_attempt_at, \
     last_error, created_by, created_at, updated_at, sent_at, extra_headers";

/// An email a worker holds the lease on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedEmail {
    pub email_id: i64,
    pub message_id: String,
    pub to_addresses: String,
    pub cc_addresses: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub in_reply_to: Option<String>,
    pub reference_ids: Option<String>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_token: String,
    /// JSON list of allowed headers (see [`EmailRow::extra_headers`]).
    pub extra_headers: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    pub email_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// The columns one insert writes.
pub struct NewEmailRow<'a> {
    pub message_id: &'a str,
    pub to_addresses: &'a str,
    pub cc_addresses: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: Option<&'a str>,
    pub in_reply_to: Option<&'a str>,
    pub reference_ids: Option<&'a str>,
    pub case_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub template_id: Option<i64>,
    pub max_attempts: i32,
    pub extra_headers: Option<&'a str>,
    pub created_by: &'a str,
    pub now: i64,
}

/// The queue settings `caredesk serve` stored from `[smtp]` (see `settings::install`).
pub async fn queue_settings(tx: &mut Tx) -> Result<QueueSettings> {
    db::fetch_one!(
        tx,
        QueueSettings,
        "select message_id_domain, max_attempts from outbound_setting where setting_id = 1"
    )
}

pub async fn set_queue_settings(tx: &mut Tx, settings: &QueueSettings) -> Result<()> {
    db::execute!(
        tx,
        "update outbound_setting set message_id_domain = $1, max_attempts = $2 where setting_id = 1",
        &settings.message_id_domain,
        settings.max_attempts
    )?;
    Ok(())
}

pub async fn insert_email(tx: &mut Tx, row: &NewEmailRow<'_>) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into outbound_email (message_id, to_addresses, cc_addresses, subject, text_body, html_body,
             in_reply_to, reference_ids, case_id, customer_id, template_id, status, attempts, max_attempts,
             next_attempt_at, created_by, created_at, updated_at, extra_headers)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', 0, $12, $13, $14, $13, $13, $15)
         returning email_id",
        row.message_id,
        row.to_addresses,
        row.cc_addresses,
        row.subject,
        row.text_body,
        row.html_body,
        row.in_reply_to,
        row.reference_ids,
        row.case_id,
        row.customer_id,
        row.template_id,
        row.max_attempts,
        row.now,
        row.created_by,
        row.extra_headers
    )
}

pub async fn insert_attachment(
    tx: &mut Tx,
    email_id: i64,
    file_name: &str,
    content_type: &str,
    content: &[u8],
) -> Result<()> {
    db::execute!(
        tx,
        "insert into outbound_email_attachment (email_id, file_name, content_type, content)
         values ($1, $2, $3, $4)",
        email_id,
        file_name,
        content_type,
        content
    )?;
    Ok(())
}

pub async fn message_id_taken(tx: &mut Tx, message_id: &str) -> Result<bool> {
    let found = db::scalar_optional!(tx, i64, "select email_id from outbound_email where message_id = $1", message_id)?;
    Ok(found.is_some())
}

pub async fn customer_exists(tx: &mut Tx, customer_id: i64) -> Result<bool> {
    let found = db::scalar_optional!(tx, i64, "select customer_id from customer where customer_id = $1", customer_id)?;
    Ok(found.is_some())
}

/// Takes up to `limit` due emails for this worker: status becomes `sending`, attempts go up by
/// one, and the lease runs until `lease_until`. One statement, so two workers never share one.
pub async fn claim_due(tx: &mut Tx, now: i64, lease_until: i64, token: &str, limit: i64) -> Result<Vec<ClaimedEmail>> {
    let lock = match tx {
        Tx::Sqlite(_) => "",
        Tx::Pg(_) => "for update skip locked",
    };
    let sql = format!(
        "update outbound_email set status = 'sending', attempts = attempts + 1, lease_token = $1,
                lease_until = $2, updated_at = $3
         where email_id in (select email_id from outbound_email
                            where status = 'queued' and next_attempt_at <= $3
                            order by next_attempt_at, email_id limit $4 {lock})
         returning email_id, message_id, to_addresses, cc_addresses, subject, text_body, html_body,
                   in_reply_to, reference_ids, attempts, max_attempts, lease_token, extra_headers"
    );
    db::fetch_all!(tx, ClaimedEmail, db::sqlx::AssertSqlSafe(sql), token, lease_until, now, limit)
}

/// The attachments of every email the lease `token` holds, in one query.
pub async fn attachments_held(tx: &mut Tx, token: &str) -> Result<Vec<AttachmentRow>> {
    db::fetch_all!(
        tx,
        AttachmentRow,
        "select a.email_id, a.file_name, a.content_type, a.content
         from outbound_email_attachment a join outbound_email e on e.email_id = a.email_id
         where e.lease_token = $1 and e.status = 'sending'
         order by a.email_id, a.attachment_id",
        token
    )
}

/// Marks claimed emails sent in one statement; returns how many this lease still held (an email
/// whose lease was taken from this worker is left alone).
pub async fn mark_sent(tx: &mut Tx, email_ids: &[i64], token: &str, now: i64) -> Result<u64> {
    if email_ids.is_empty() {
        return Ok(0);
    }
    // The ids are integers formatted here, never text from outside.
    let ids: Vec<String> = email_ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "update outbound_email set status = 'sent', sent_at = $1, updated_at = $1, lease_token = null,
                lease_until = null, last_error = null
         where lease_token = $2 and status = 'sending' and email_id in ({})",
        ids.join(", ")
    );
    db::execute!(tx, db::sqlx::AssertSqlSafe(sql), now, token)
}

/// Records a failed try: `queued` again at `next_attempt_at`, or `failed` for good.
pub async fn mark_try_failed(
    tx: &mut Tx,
    email_id: i64,
    token: &str,
    status: &str,
    next_attempt_at: i64,
    error: &str,
    now: i64,
) -> Result<bool> {
    let rows = db::execute!(
        tx,
        "update outbound_email set status = $1, next_attempt_at = $2, last_error = $3, updated_at = $4,
                lease_token = null, lease_until = null
         where email_id = $5 and lease_token = $6 and status = 'sending'",
        status,
        next_attempt_at,
        error,
        now,
        email_id,
        token
    )?;
    Ok(rows == 1)
}

/// Emails whose worker vanished while sending become `uncertain`: they may have been delivered.
pub async fn expire_leases(tx: &mut Tx, now: i64) -> Result<u64> {
    db::execute!(
        tx,
        "update outbound_email set status = 'uncertain', updated_at = $1, lease_token = null, lease_until = null,
                last_error = 'the worker stopped while sending; it may have been delivered; retry to send again'
         where status = 'sending' and lease_until < $1",
        now
    )
}

/// When the next queued email is due, if any is waiting.
pub async fn next_due(tx: &mut Tx) -> Result<Option<i64>> {
    db::scalar!(tx, Option<i64>, "select min(next_attempt_at) from outbound_email where status = 'queued'")
}

/// Puts a failed or uncertain email back in the queue; false when it is in another state.
pub async fn requeue(tx: &mut Tx, email_id: i64, now: i64) -> Result<bool> {
    let rows = db::execute!(
        tx,
        "update outbound_email set status = 'queued', next_attempt_at = $1, updated_at = $1,
                max_attempts = attempts + 1
         where email_id = $2 and status in ('failed', 'uncertain')",
        now,
        email_id
    )?;
    Ok(rows == 1)
}

pub async fn get_email(tx: &mut Tx, email_id: i64) -> Result<Option<EmailRow>> {
    let sql = format!("select {EMAIL_COLUMNS} from outbound_email where email_id = $1");
    db::fetch_optional!(tx, EmailRow, db::sqlx::AssertSqlSafe(sql), email_id)
}

/// The newest emails first, optionally of one status, older than `before_id`.
/// `status` empty means every status.
pub async fn list_emails(tx: &mut Tx, status: &str, before_id: i64, limit: i64) -> Result<Vec<EmailRow>> {
    let sql = format!(
        "select {EMAIL_COLUMNS} from outbound_email
         where ($1 = '' or status = $1) and email_id < $2 order by email_id desc limit $3"
    );
    db::fetch_all!(tx, EmailRow, db::sqlx::AssertSqlSafe(sql), status, before_id, limit)
}

pub async fn status_counts(tx: &mut Tx) -> Result<Vec<(String, i64)>> {
    db::fetch_all!(tx, (String, i64), "select status, count(*) from outbound_email group by status order by status")
}

pub mod letters;
pub mod merge;
pub mod notices;
pub mod templates;
