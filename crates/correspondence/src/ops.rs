//! The correspondence operations, called alike by HTTP handlers, jobs, other modules and tests.
//! Each runs in the caller's transaction and writes its audit record there, so an email is
//! queued exactly when the business write that called for it commits.

use crate::CorrespondenceError;
use crate::model::{EmailStatus, OutboundEmail, QueuedEmail, new_message_id};
use crate::store::{self, EmailRow, NewEmailRow};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Timestamp};
use serde_json::json;

mod case_reply;
mod letters;
mod notices;
mod send;
mod templates;

pub use case_reply::{CASE_REPLY_JOB, email_case_reply, run_case_reply_job};
pub use letters::{PrintBatch, batch_pdf, end_of_day, letter, letter_pdf, list_letters, print_batch, print_batches};
pub use notices::{NoticeOutcome, notice_event, notices, send_notice, set_notice_enabled};
pub use send::{SendRequest, Sent, send, thread_headers};
pub use templates::{
    MergeData, MergeSubject, Preview, latest_template, load_merge_data, preview, save_template, template,
    template_versions, templates,
};

/// The job that drains the outbound queue; queueing an email schedules it.
pub const DRAIN_JOB: &str = "correspondence.drain";

/// Queues one email and schedules the drain. The Message-ID is generated here (from
/// `smtp.message_id_domain` as `caredesk serve` stored it, see [`crate::settings::install`]) and
/// returned, so a caller can thread later replies.
pub async fn queue_email(
    tx: &mut Tx,
    actor: &Actor,
    email: OutboundEmail,
    now: Timestamp,
) -> Result<QueuedEmail, CorrespondenceError> {
    let queue = store::queue_settings(tx).await?;
    if let Some(customer_id) = email.customer_id
        && !store::customer_exists(tx, customer_id).await?
    {
        return Err(CorrespondenceError::CustomerNotFound);
    }
    let message_id = match &email.message_id {
        Some(chosen) => crate::model::parse_message_id(chosen, "message_id")?,
        None => new_message_id(&db::random_token(12), now.micros(), &queue.message_id_domain),
    };
    let join = |list: &[crate::model::EmailAddress]| list.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ");
    let references = (!email.references.is_empty()).then(|| email.references.join(" "));
    crate::model::check_extra_headers(&email.headers)?;
    let extra_headers = match email.headers.is_empty() {
        true => None,
        false => Some(serde_json::to_string(&email.headers).map_err(|e| db::Error::Malformed(e.to_string()))?),
    };
    let email_id = store::insert_email(
        tx,
        &NewEmailRow {
            message_id: &message_id,
            to_addresses: &join(&email.to),
            cc_addresses: &join(&email.cc),
            subject: &email.subject,
            text_body: &email.text_body,
            html_body: email.html_body.as_deref(),
            in_reply_to: email.in_reply_to.as_deref(),
            reference_ids: references.as_deref(),
            case_id: email.case_id,
            customer_id: email.customer_id,
            template_id: email.template_id,
            max_attempts: queue.max_attempts,
            extra_headers: extra_headers.as_deref(),
            created_by: &actor.name(),
            now: now.micros(),
        },
    )
    .await?;
    for attachment in &email.attachments {
        store::insert_attachment(tx, email_id, &attachment.file_name, &attachment.content_type, &attachment.content)
            .await?;
    }
    let detail = json!({
        "message_id": message_id,
        "to": join(&email.to),
        "subject": email.subject,
        "case_id": email.case_id,
        "customer_id": email.customer_id,
        "attachments": email.attachments.len(),
        "headers": email.headers,
    });
    record(tx, actor, "email.queued", email_id, detail, now).await?;
    db::jobs::enqueue_unique(tx, DRAIN_JOB, DRAIN_JOB, &json!({}), now).await?;
    Ok(QueuedEmail { email_id, message_id })
}

/// Puts a failed or uncertain email back in the queue for one more try, at once.
pub async fn retry_email(
    tx: &mut Tx,
    actor: &Actor,
    email_id: i64,
    now: Timestamp,
) -> Result<EmailRow, CorrespondenceError> {
    let before = store::get_email(tx, email_id).await?.ok_or(CorrespondenceError::EmailNotFound)?;
    let retryable = EmailStatus::parse(&before.status).is_ok_and(|s| s.can_become(EmailStatus::Queued));
    if !retryable || !store::requeue(tx, email_id, now.micros()).await? {
        return Err(CorrespondenceError::EmailNotRetryable);
    }
    record(tx, actor, "email.retried", email_id, json!({ "was": before.status }), now).await?;
    db::jobs::enqueue_unique(tx, DRAIN_JOB, DRAIN_JOB, &json!({}), now).await?;
    store::get_email(tx, email_id).await?.ok_or(CorrespondenceError::EmailNotFound)
}

pub async fn get_email(tx: &mut Tx, email_id: i64) -> Result<EmailRow, CorrespondenceError> {
    store::get_email(tx, email_id).await?.ok_or(CorrespondenceError::EmailNotFound)
}

/// A page of the outbound queue, newest first; `before` is the last email_id of the previous page.
pub async fn list_emails(
    tx: &mut Tx,
    status: Option<EmailStatus>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EmailRow>, CorrespondenceError> {
    let status = status.map(EmailStatus::code).unwrap_or("");
    Ok(store::list_emails(tx, status, before.unwrap_or(i64::MAX), limit.clamp(1, 200)).await?)
}

async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    id: i64,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<(), CorrespondenceError> {
    let event = AuditEvent { action, entity: "outbound_email", entity_id: id.to_string(), detail };
    audit::append(tx, actor, event, now).await?;
    Ok(())
}
