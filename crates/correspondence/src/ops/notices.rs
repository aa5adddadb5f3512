//! Customer notices: the letters and emails other modules' events call for (a late fee, a
//! returned payment, a broken arrangement, a billed deposit). Each goes through [`send`] in the
//! caller's transaction, at most once per event, and only while its switch is on.

use crate::CorrespondenceError;
use crate::ops::send::{SendRequest, Sent, send};
use crate::store::notices::{self as store, NoticeEventRow, NoticeRow};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Timestamp};
use serde_json::json;

/// What became of a notice an event called for.
#[derive(Debug, Clone)]
pub enum NoticeOutcome {
    /// Queued as an email or a letter, with its contact logged.
    Sent(Box<Sent>),
    /// The notice is switched off; nothing was written.
    SwitchedOff,
    /// This event's notice was handled before (a re-run of the job that found it).
    AlreadyHandled,
    /// The customer can be neither emailed nor written to (no address, asked not to be emailed,
    /// merged away); recorded, so a re-run does not try again.
    Unreachable(&'static str),
}

impl NoticeOutcome {
    pub fn sent(&self) -> Option<&Sent> {
        match self {
            NoticeOutcome::Sent(sent) => Some(sent),
            _ => None,
        }
    }
}

/// Sends the notice `request.template_key` (which is also the notice's key) for one event.
/// `event_key` names the event in the caller's words (`FEE-0000042`); a second call with the
/// same key sends nothing. A notice not in the `notice` table is `TemplateNotFound`.
pub async fn send_notice(
    tx: &mut Tx,
    actor: &Actor,
    event_key: &str,
    request: SendRequest,
    now: Timestamp,
) -> Result<NoticeOutcome, CorrespondenceError> {
    let key = request.template_key.clone();
    let notice = store::notice(tx, &key).await?.ok_or(CorrespondenceError::TemplateNotFound)?;
    if !notice.enabled {
        return Ok(NoticeOutcome::SwitchedOff);
    }
    let Some(claim) = store::claim_event(tx, &key, event_key, request.customer_id, now.micros()).await? else {
        return Ok(NoticeOutcome::AlreadyHandled);
    };
    let customer_id = request.customer_id;
    // Each refusal below comes before `send` writes anything, so the claim alone stays.
    let sent = match send(tx, actor, request, now).await {
        Ok(sent) => sent,
        Err(CorrespondenceError::CustomerNotEmailable) => return unreachable(&key, event_key, "not_emailable"),
        Err(CorrespondenceError::CustomerHasNoAddress) => return unreachable(&key, event_key, "no_address"),
        Err(CorrespondenceError::Contact(contacts::ContactError::CustomerWasMerged)) => {
            return unreachable(&key, event_key, "customer_merged");
        }
        Err(error) => return Err(error),
    };
    let channel = sent.channel.code();
    let email_id = sent.email.as_ref().map(|e| e.email_id);
    store::record_sent(tx, claim, channel, email_id, sent.letter_id, sent.contact_id).await?;
    let detail = json!({ "notice_key": key, "event_key": event_key, "customer_id": customer_id,
        "channel": channel, "email_id": email_id, "letter_id": sent.letter_id });
    let event = AuditEvent { action: "notice.sent", entity: "notice_event", entity_id: claim.to_string(), detail };
    audit::append(tx, actor, event, now).await?;
    Ok(NoticeOutcome::Sent(Box::new(sent)))
}

fn unreachable(key: &str, event_key: &str, why: &'static str) -> Result<NoticeOutcome, CorrespondenceError> {
    tracing::info!(notice = key, event = event_key, why, "notice not sent: the customer cannot be reached");
    Ok(NoticeOutcome::Unreachable(why))
}

/// Every notice and whether it is on.
pub async fn notices(tx: &mut Tx) -> Result<Vec<NoticeRow>, CorrespondenceError> {
    Ok(store::notices(tx).await?)
}

/// Switches a notice on or off (admins); None when there is no such notice.
pub async fn set_notice_enabled(
    tx: &mut Tx,
    actor: &Actor,
    key: &str,
    enabled: bool,
    now: Timestamp,
) -> Result<Option<NoticeRow>, CorrespondenceError> {
    let Some(before) = store::notice(tx, key).await? else { return Ok(None) };
    store::set_enabled(tx, key, enabled, now.micros()).await?;
    let detail = json!({ "notice_key": key, "from": before.enabled, "to": enabled });
    let event = AuditEvent { action: "notice.switched", entity: "notice", entity_id: key.to_string(), detail };
    audit::append(tx, actor, event, now).await?;
    Ok(store::notice(tx, key).await?)
}

/// What became of one event's notice, if anything was tried.
pub async fn notice_event(
    tx: &mut Tx,
    key: &str,
    event_key: &str,
) -> Result<Option<NoticeEventRow>, CorrespondenceError> {
    Ok(store::event(tx, key, event_key).await?)
}
