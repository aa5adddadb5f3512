//! The acknowledgement a customer gets when their email opens a case: "We received your message,
//! your reference is CASE-000123", merged from the `case_acknowledgement` template and queued
//! through correspondence's outbound queue with `Auto-Submitted: auto-replied` (RFC 3834),
//! threaded as a reply to their message. Never sent for automatic mail, to a no-reply address, to
//! a customer who asked not to be emailed, nor twice for one case (its Message-ID is fixed per case).

use crate::MailboxError;
use crate::model::{self, ParsedEmail};
use correspondence::merge::MergeValues;
use correspondence::model::{EmailAddress, ExtraHeader, OutboundEmail};
use correspondence::ops::MergeSubject;
use db::Tx;
use kernel::{Actor, Timestamp};

/// The template the acknowledgement is merged from (seeded by migration 0017).
pub const TEMPLATE_KEY: &str = "case_acknowledgement";

/// The most Message-IDs an acknowledgement's References header carries.
const MAX_REFERENCES: usize = 10;

/// Local parts (before the `@`) of addresses that take no answers.
const NO_REPLY_MARKERS: [&str; 8] =
    ["noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply", "bounce", "notification"];

/// Whether an address says it reads no answers (`no-reply@`, `donotreply@`, `bounces@`,
/// `mailer-daemon@`, ...), so acknowledging it would only make a bounce.
pub fn is_no_reply_address(address: &str) -> bool {
    let local = address.rsplit_once('@').map_or(address, |(local, _)| local).to_ascii_lowercase();
    let local = local.split('+').next().unwrap_or_default();
    local.is_empty()
        || matches!(local, "mailer-daemon" | "postmaster" | "daemon" | "nobody")
        || NO_REPLY_MARKERS.iter().any(|marker| local.contains(marker))
}

/// The Message-ID of a case's acknowledgement: one per case, so a second is recognised.
pub fn message_id(case_id: i64, domain: &str) -> String {
    format!("case-{case_id}-ack@{domain}")
}

/// Their subject as the acknowledgement answers it: cleaned, without a leading `Re:`.
pub fn answered_subject(their_subject: &str) -> String {
    let subject = model::case_subject(their_subject);
    match subject.get(..3) {
        Some(re) if re.eq_ignore_ascii_case("re:") => subject.get(3..).unwrap_or_default().trim().to_string(),
        _ => subject,
    }
}

/// Subject and text of the acknowledgement when its template cannot be used (missing, or edited
/// to need a value this message does not have): the wording the template was seeded with.
pub fn text(case_number: &str, their_subject: &str, their_name: Option<&str>) -> (String, String) {
    // Our number comes first: threading by subject takes the first case number it finds, and
    // their subject may name another (found by fuzzing: "café case-7").
    let subject = answered_subject(their_subject);
    let greeting = match their_name.map(|n| model::one_line(n, 80)).filter(|n| !n.is_empty()) {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_string(),
    };
    let body = format!(
        "{greeting}\n\nWe received your message, your reference is {case_number}.\n\
         We will answer as soon as we can. To add to this matter, reply to this email or keep\n\
         {case_number} in the subject.\n\nCustomer Service\n\n\
         (This is an automatic acknowledgement.)\n"
    );
    (format!("Re: [{case_number}] {subject}"), body)
}

/// The References of a reply: theirs (the last few) and their own Message-ID.
fn references(parsed: &ParsedEmail) -> Vec<String> {
    let ids: Vec<String> =
        parsed.references.iter().chain(parsed.message_id.iter()).filter_map(|id| sendable_id(id)).collect();
    let skip = ids.len().saturating_sub(MAX_REFERENCES);
    ids.into_iter().skip(skip).collect()
}

/// A Message-ID we may write into a header; a malformed one of theirs is left out, so it
/// cannot make the whole acknowledgement unsendable.
fn sendable_id(id: &str) -> Option<String> {
    correspondence::model::parse_message_id(id, "in_reply_to").ok()
}

/// The merge values of an acknowledgement: the customer's facts when the case has a customer
/// (any field a template uses then merges), and always the case's number, their subject and
/// `extra.sender_name` (their name, else their address).
async fn merge_values(
    tx: &mut Tx,
    case_id: i64,
    customer_id: Option<i64>,
    parsed: &ParsedEmail,
    address: &str,
    now: Timestamp,
) -> Result<(MergeValues, String), MailboxError> {
    let actor = Actor::system("mailbox");
    let customer_data = match customer_id {
        Some(customer_id) => {
            let subject = MergeSubject { customer_id, case_id: Some(case_id), ..MergeSubject::default() };
            match correspondence::ops::load_merge_data(tx, &actor, &subject, now).await {
                Ok(data) => Some((data.values, data.customer.preferred_language)),
                Err(correspondence::CorrespondenceError::Db(error)) => return Err(error.into()),
                Err(error) => {
                    tracing::warn!(case_id, %error, "acknowledgement merged without the customer's facts");
                    None
                }
            }
        }
        None => None,
    };
    let (mut values, language) = customer_data.unwrap_or_else(|| {
        let mut values = MergeValues::new();
        values.insert("today".into(), now.to_offset_date_time().date().to_string());
        values.insert("agent.name".into(), "Customer Service".into());
        (values, "en".to_string())
    });
    if let Some(case) = crate::store::case_brief(tx, case_id).await? {
        values.insert("case.number".into(), case.case_number);
    }
    values.insert("case.subject".into(), answered_subject(&parsed.subject));
    let name = parsed.from_name.as_deref().map(|n| model::one_line(n, 80)).filter(|n| !n.is_empty());
    values.insert("extra.sender_name".into(), name.unwrap_or_else(|| address.to_string()));
    Ok((values, language))
}

/// Subject, text and template of the acknowledgement: the `case_acknowledgement` template in the
/// customer's language (else English), or the built-in [`text`] when it cannot be merged, so an
/// edit that needs a value this message lacks never stops the message being processed.
async fn compose(
    tx: &mut Tx,
    case_id: i64,
    case_number: &str,
    customer_id: Option<i64>,
    parsed: &ParsedEmail,
    address: &str,
    now: Timestamp,
) -> Result<(String, String, Option<i64>), MailboxError> {
    let (values, language) = merge_values(tx, case_id, customer_id, parsed, address, now).await?;
    let mut languages = vec![language.as_str()];
    if language != "en" {
        languages.push("en");
    }
    for language in languages {
        let template = match correspondence::ops::latest_template(tx, TEMPLATE_KEY, language).await {
            Ok(template) => template,
            Err(correspondence::CorrespondenceError::TemplateNotFound) => continue,
            Err(error) => return Err(error.into()),
        };
        let subject = correspondence::merge::merge(&template.subject, "subject", &values)
            .and_then(|s| correspondence::model::parse_subject(&s));
        let body = correspondence::merge::merge(&template.body, "body", &values)
            .and_then(|b| correspondence::model::parse_body(&b, "body"));
        match (subject, body) {
            (Ok(subject), Ok(body)) => return Ok((subject, body, Some(template.template_id))),
            (Err(error), _) | (_, Err(error)) => {
                tracing::warn!(case_id, template_id = template.template_id, %error,
                    "the case_acknowledgement template cannot be merged for this message");
            }
        }
    }
    let (subject, body) = text(case_number, &parsed.subject, parsed.from_name.as_deref());
    Ok((subject, body, None))
}

/// Queues the acknowledgement for a case the message opened. False when none is due: no usable
/// sender, a no-reply sender, a customer who asked not to be emailed, or one already queued.
pub async fn acknowledge(
    tx: &mut Tx,
    case_id: i64,
    customer_id: Option<i64>,
    parsed: &ParsedEmail,
    now: Timestamp,
) -> Result<bool, MailboxError> {
    let Some(address) = parsed.from_address.as_deref().filter(|a| !is_no_reply_address(a)) else {
        return Ok(false);
    };
    let Ok(to) = EmailAddress::parse(address, "to") else { return Ok(false) };
    if let Some(customer_id) = customer_id
        && crate::store::customer_refuses_email(tx, customer_id).await?
    {
        return Ok(false);
    }
    let domain = correspondence::store::queue_settings(tx).await?.message_id_domain;
    let ack_id = message_id(case_id, &domain);
    if correspondence::store::message_id_taken(tx, &ack_id).await? {
        return Ok(false);
    }
    let Some(case) = crate::store::case_brief(tx, case_id).await? else { return Ok(false) };
    let (subject, text_body, template_id) =
        compose(tx, case_id, &case.case_number, customer_id, parsed, to.as_str(), now).await?;
    let email = OutboundEmail {
        to: vec![to],
        subject,
        text_body,
        template_id,
        headers: vec![ExtraHeader::auto_replied()],
        in_reply_to: parsed.message_id.as_deref().and_then(sendable_id),
        references: references(parsed),
        case_id: Some(case_id),
        customer_id,
        message_id: Some(ack_id),
        ..OutboundEmail::default()
    };
    correspondence::ops::queue_email(tx, &Actor::system("mailbox"), email, now).await?;
    Ok(true)
}
