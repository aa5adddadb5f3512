//! Case replies as email: the cases module enqueues `correspondence.case_reply` when an agent
//! replies on the case page; this handler merges the `case_reply` template around the reply and
//! queues it threaded to the customer's last message, `[CASE-000123]` in the subject.

use crate::CorrespondenceError;
use crate::model::Channel;
use crate::ops::send::{SendRequest, Sent, send};
use crate::store::merge as facts;
use db::Tx;
use kernel::{Actor, Timestamp};

/// The job kind; the same text as `cases::CASE_REPLY_EMAIL_JOB`.
pub const CASE_REPLY_JOB: &str = "correspondence.case_reply";

/// Queues the email for one reply entry. None when there is nothing to send (the case has no
/// customer, or the customer has no email or asked not to be emailed) or it was queued already
/// (the job ran again after a crash: the entry's Message-ID is fixed, so it is found).
pub async fn email_case_reply(
    tx: &mut Tx,
    case_id: i64,
    entry_id: i64,
    agent_user_id: Option<i64>,
    now: Timestamp,
) -> Result<Option<Sent>, CorrespondenceError> {
    let case = facts::case(tx, case_id).await?.ok_or(CorrespondenceError::CaseUnknown)?;
    let Some(customer_id) = case.customer_id else { return Ok(None) };
    let Some(body) = facts::case_entry_body(tx, case_id, entry_id).await? else { return Ok(None) };
    let queue = crate::store::queue_settings(tx).await?;
    let message_id = format!("case-{case_id}-reply-{entry_id}@{}", queue.message_id_domain);
    if crate::store::message_id_taken(tx, &message_id).await? {
        return Ok(None);
    }
    let request = SendRequest {
        template_key: "case_reply".into(),
        customer_id,
        case_id: Some(case_id),
        extra: [("reply".to_string(), body)].into_iter().collect(),
        channel: Some(Channel::Email),
        reason_code: Some("other".into()),
        agent_user_id,
        message_id: Some(message_id),
        ..SendRequest::default()
    };
    match send(tx, &Actor::system("correspondence"), request, now).await {
        Ok(sent) => Ok(Some(sent)),
        Err(CorrespondenceError::CustomerNotEmailable) => {
            tracing::info!(case_id, entry_id, "case reply not emailed: the customer cannot be emailed");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// The job handler.
pub async fn run_case_reply_job(db: db::Db, job: db::jobs::ClaimedJob, now: Timestamp) -> Result<(), String> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let id = |name: &str| payload.get(name).and_then(serde_json::Value::as_i64);
    let (Some(case_id), Some(entry_id)) = (id("case_id"), id("entry_id")) else {
        return Err(format!("payload lacks case_id or entry_id: {}", job.payload));
    };
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    email_case_reply(&mut tx, case_id, entry_id, id("agent_user_id"), now).await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}
