//! The one op other modules send through: merge a template with the customer's facts, then
//! queue the email or the letter and log the contact, all in the caller's transaction.

use crate::CorrespondenceError;
use crate::merge::{self, MergeValues};
use crate::model::{Channel, EmailAddress, Language, OutboundEmail, QueuedEmail, TemplateKey};
use crate::ops::templates::{MergeData, MergeSubject, latest_template, load_merge_data};
use crate::store::letters::{self, NewLetterRow};
use crate::store::merge as facts;
use contacts::model::{Code, ContactTimes, Direction, Summary};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Timestamp};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// What to send to whom. Absent language: the customer's preferred one, else English. Absent
/// channel: letter when the customer prefers mail or cannot be emailed, else email.
#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    pub template_key: String,
    pub language: Option<String>,
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub case_id: Option<i64>,
    /// `{{extra.<name>}}` values, by `<name>`.
    pub extra: MergeValues,
    pub channel: Option<Channel>,
    /// The contact's reason code; `notice` when absent.
    pub reason_code: Option<String>,
    /// Whose name fills `{{agent.name}}` when the actor is not that user (a job on their behalf).
    pub agent_user_id: Option<i64>,
    /// A fixed Message-ID (email only) so a retried caller finds what it queued before.
    pub message_id: Option<String>,
}

/// What was sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sent {
    pub channel: Channel,
    pub template_id: i64,
    pub email: Option<QueuedEmail>,
    pub letter_id: Option<i64>,
    pub contact_id: i64,
}

fn choose_channel(data: &MergeData, email: Option<&String>) -> Channel {
    let emailable = email.is_some() && !data.customer.do_not_email;
    match data.customer.preferred_channel.as_str() {
        "letter" | "mail" => Channel::Letter,
        _ if emailable => Channel::Email,
        _ => Channel::Letter,
    }
}

pub async fn send(
    tx: &mut Tx,
    actor: &Actor,
    request: SendRequest,
    now: Timestamp,
) -> Result<Sent, CorrespondenceError> {
    let key = TemplateKey::parse(&request.template_key)?;
    let requested_language = request.language.as_deref().map(Language::parse).transpose()?;
    let subject = MergeSubject {
        customer_id: request.customer_id,
        account_id: request.account_id,
        case_id: request.case_id,
        extra: request.extra.clone(),
        agent_user_id: request.agent_user_id,
    };
    let data = load_merge_data(tx, actor, &subject, now).await?;
    if data.customer.merged_into.is_some() {
        return Err(CorrespondenceError::Contact(contacts::ContactError::CustomerWasMerged));
    }
    let language = requested_language
        .or_else(|| Language::parse(&data.customer.preferred_language).ok())
        .unwrap_or_else(Language::english);
    let template = latest_template(tx, key.as_str(), language.as_str()).await?;
    let subject_text = merge::merge(&template.subject, "subject", &data.values)?;
    let body = merge::merge(&template.body, "body", &data.values)?;
    let address = facts::primary_email(tx, data.customer.customer_id).await?;
    let channel = request.channel.unwrap_or_else(|| choose_channel(&data, address.as_ref()));
    let account_id = data.account.as_ref().map(|a| a.account_id);
    let (email, letter_id) = match channel {
        Channel::Email => {
            let to =
                address.filter(|_| !data.customer.do_not_email).ok_or(CorrespondenceError::CustomerNotEmailable)?;
            let (in_reply_to, references) = match request.case_id {
                Some(case_id) => thread_headers(tx, case_id).await?,
                None => (None, Vec::new()),
            };
            let email = OutboundEmail {
                to: vec![EmailAddress::parse(&to, "to").map_err(|_| CorrespondenceError::CustomerNotEmailable)?],
                subject: crate::model::parse_subject(&subject_text)?,
                text_body: crate::model::parse_body(&body, "body")?,
                in_reply_to,
                references,
                case_id: request.case_id,
                customer_id: Some(data.customer.customer_id),
                template_id: Some(template.template_id),
                message_id: request.message_id.clone(),
                ..OutboundEmail::default()
            };
            (Some(crate::ops::queue_email(tx, actor, email, now).await?), None)
        }
        Channel::Letter => {
            let recipient = recipient_block(tx, &data).await?;
            let row = NewLetterRow {
                customer_id: data.customer.customer_id,
                account_id,
                case_id: request.case_id,
                template_id: Some(template.template_id),
                language: &template.language,
                recipient: &recipient,
                subject: &subject_text,
                body: &body,
                created_by: &actor.name(),
                now: now.micros(),
            };
            let id = letters::insert_letter(tx, &row).await?;
            let detail = json!({ "template_id": template.template_id, "customer_id": data.customer.customer_id });
            let event = AuditEvent { action: "letter.queued", entity: "letter", entity_id: id.to_string(), detail };
            audit::append(tx, actor, event, now).await?;
            (None, Some(id))
        }
    };
    let what = match channel {
        Channel::Email => "Email queued",
        Channel::Letter => "Letter queued for printing",
    };
    let summary = format!(
        "{what}: {subject_text} (template {} v{}, {})",
        template.template_key, template.version, template.language
    );
    let contact = log_contact(
        tx,
        actor,
        &data,
        account_id,
        request.case_id,
        channel,
        request.reason_code.as_deref(),
        &summary,
        now,
    )
    .await?;
    Ok(Sent { channel, template_id: template.template_id, email, letter_id, contact_id: contact })
}

/// In-Reply-To and References for an email on a case: the customer's latest message (the
/// inbound engineer's table), else our own latest email on the case.
pub async fn thread_headers(tx: &mut Tx, case_id: i64) -> Result<(Option<String>, Vec<String>), CorrespondenceError> {
    let (inbound, outbound) = facts::case_thread(tx, case_id).await?;
    let parent = inbound.last().or(outbound.last()).cloned();
    let mut references: Vec<String> = inbound.into_iter().chain(outbound).collect();
    references.dedup();
    let keep_from = references.len().saturating_sub(20);
    Ok((parent, references.split_off(keep_from)))
}

/// The address block printed in the envelope window.
async fn recipient_block(tx: &mut Tx, data: &MergeData) -> Result<String, CorrespondenceError> {
    let mailing = data.account.as_ref().and_then(|a| a.mailing_address_id);
    let address = facts::postal_address(tx, data.customer.customer_id, mailing)
        .await?
        .ok_or(CorrespondenceError::CustomerHasNoAddress)?;
    let mut lines = vec![data.customer.display_name.clone(), address.line1];
    lines.extend(address.line2.filter(|l| !l.trim().is_empty()));
    let city = match address.region.filter(|r| !r.trim().is_empty()) {
        Some(region) => format!("{} {} {}", address.city, region, address.postal_code),
        None => format!("{} {}", address.postal_code, address.city),
    };
    lines.push(city);
    lines.push(address.country);
    Ok(lines.join("\n"))
}

#[allow(clippy::too_many_arguments)]
async fn log_contact(
    tx: &mut Tx,
    actor: &Actor,
    data: &MergeData,
    account_id: Option<i64>,
    case_id: Option<i64>,
    channel: Channel,
    reason: Option<&str>,
    summary: &str,
    now: Timestamp,
) -> Result<i64, CorrespondenceError> {
    let code = Code::parse(reason.unwrap_or("notice"), "reason_code")?;
    let found =
        contacts::store::find_reason_code(tx, code.as_str()).await?.ok_or(contacts::ContactError::ReasonUnknown)?;
    let (reason_code, sub_reason_code) = match found.parent_code {
        Some(parent) => (Code::parse(&parent, "reason_code")?, Some(code)),
        None => (code, None),
    };
    let new = contacts::ops::NewContact {
        customer_id: data.customer.customer_id,
        account_id,
        case_id,
        order_id: None,
        payment_id: None,
        channel: match channel {
            Channel::Email => contacts::model::Channel::Email,
            Channel::Letter => contacts::model::Channel::Letter,
        },
        direction: Direction::Outbound,
        reason_code,
        sub_reason_code,
        disposition_code: None,
        summary: Summary::parse(summary)?,
        times: ContactTimes { started_at: now, ended_at: now },
    };
    Ok(contacts::ops::log_contact(tx, actor, new, now).await?.contact_id)
}
