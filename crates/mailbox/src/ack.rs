//! The acknowledgement a customer gets when their email opens a case: "We received your message,
//! your reference is CASE-000123", queued through correspondence's outbound queue, threaded as a
//! reply to their message. Never sent for automatic mail, to a no-reply address, to a customer who
//! asked not to be emailed, nor twice for one case (its Message-ID is fixed per case).

use crate::MailboxError;
use crate::model::{self, ParsedEmail};
use correspondence::model::{EmailAddress, OutboundEmail};
use db::Tx;
use kernel::{Actor, Timestamp};

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

/// Subject and text of the acknowledgement.
pub fn text(case_number: &str, their_subject: &str, their_name: Option<&str>) -> (String, String) {
    // Our number comes first: threading by subject takes the first case number it finds, and
    // their subject may name another (found by fuzzing: "café case-7").
    let subject = model::case_subject(their_subject);
    let subject = match subject.get(..3) {
        Some(re) if re.eq_ignore_ascii_case("re:") => subject.get(3..).unwrap_or_default().trim().to_string(),
        _ => subject,
    };
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
    let domain = correspondence::settings::installed().message_id_domain.clone();
    let ack_id = message_id(case_id, &domain);
    if correspondence::store::message_id_taken(tx, &ack_id).await? {
        return Ok(false);
    }
    let Some(case) = crate::store::case_brief(tx, case_id).await? else { return Ok(false) };
    let (subject, text_body) = text(&case.case_number, &parsed.subject, parsed.from_name.as_deref());
    let email = OutboundEmail {
        to: vec![to],
        subject,
        text_body,
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
