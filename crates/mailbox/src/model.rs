//! Pure types and rules of inbound email: a raw message parsed into what threading needs, the
//! signs that a message was sent by a machine (auto-replies, lists, loops), the case number in a
//! subject, and the text cleaned for a case thread. No I/O.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

/// The longest raw message accepted (the API body limit is 2 MiB; IMAP messages larger than
/// this are stored and marked failed rather than processed).
pub const MAX_RAW_BYTES: usize = 10 * 1024 * 1024;
/// A thread entry holds at most 20,000 characters; longer texts are cut with a marker.
const MAX_THREAD_CHARS: usize = 19_000;
/// A case subject holds at most 200 characters.
const MAX_SUBJECT_CHARS: usize = 200;
/// The most Message-IDs taken from References (a long thread lists every ancestor).
const MAX_REFERENCES: usize = 50;

/// One attachment as it came in the message.
#[derive(Debug, Clone)]
pub struct IncomingAttachment {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Headers that say a machine sent the message rather than a person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoSignals {
    /// Auto-Submitted present and not "no" (RFC 3834).
    pub auto_submitted: bool,
    /// Precedence bulk, junk or list.
    pub precedence_bulk: bool,
    /// List-Id present: a mailing list.
    pub list_id: bool,
    /// X-Autoreply, X-Autorespond or an X-Auto-Response-Suppress of an auto-reply.
    pub autoreply_header: bool,
    /// Return-Path `<>`: a bounce or other delivery report.
    pub null_return_path: bool,
    /// From mailer-daemon or postmaster.
    pub daemon_sender: bool,
}

/// A raw message parsed into what threading, the thread and the mailbox page need.
#[derive(Debug, Clone, Default)]
pub struct ParsedEmail {
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// Lower-cased.
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// The Date header, seconds since the Unix epoch.
    pub sent_at_seconds: Option<i64>,
    /// The text part, or the HTML part turned into text when there is no text part.
    pub text: String,
    /// The first HTML part as sent (not yet sanitised).
    pub html: Option<String>,
    pub attachments: Vec<IncomingAttachment>,
    pub signals: AutoSignals,
}

/// Why a message cannot be processed (it stays stored, marked failed, with this as its error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseProblem {
    Empty,
    TooLarge,
    NotAMessage,
}

impl ParseProblem {
    pub fn message(&self) -> &'static str {
        match self {
            ParseProblem::Empty => "the message is empty",
            ParseProblem::TooLarge => "the message is larger than 10 MiB",
            ParseProblem::NotAMessage => {
                "the bytes are not an RFC 822 message (no From, To, Subject, Message-ID or Date header)"
            }
        }
    }
}

/// Message-IDs from a header, without angle brackets, at most `MAX_REFERENCES`.
fn ids_of(value: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<String> = match value {
        HeaderValue::Text(text) => vec![text.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    let ids: Vec<String> = list.iter().map(|id| clean_message_id(id)).filter(|id| !id.is_empty()).collect();
    let skip = ids.len().saturating_sub(MAX_REFERENCES);
    ids.into_iter().skip(skip).collect()
}

/// A Message-ID as compared: without spaces, control characters or angle brackets around it, at
/// most 250 characters. Cleaning a cleaned id changes nothing (the fuzz target checks it: an
/// earlier version could leave a `>` at the cut).
pub fn clean_message_id(id: &str) -> String {
    let kept: String = id.chars().filter(|c| !c.is_control() && !c.is_whitespace()).collect();
    let inner = kept.trim_start_matches('<').trim_end_matches('>');
    let cut: String = inner.chars().take(250).collect();
    cut.trim_end_matches('>').to_string()
}

fn addresses(list: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    list.map(|a| a.iter().filter_map(|addr| addr.address()).map(|s| s.trim().to_lowercase()).collect())
        .unwrap_or_default()
}

fn signals(message: &mail_parser::Message<'_>, from: Option<&str>) -> AutoSignals {
    let raw = |name: &str| message.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    let auto_submitted = raw("Auto-Submitted").is_some_and(|v| !v.is_empty() && !v.starts_with("no"));
    let precedence_bulk = raw("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list"));
    let suppress = raw("X-Auto-Response-Suppress")
        .is_some_and(|v| v.split(',').any(|part| matches!(part.trim(), "all" | "oof" | "autoreply")));
    let autoreply_header = raw("X-Autoreply").is_some() || raw("X-Autorespond").is_some() || suppress;
    let null_return_path =
        raw("Return-Path").is_some_and(|v| v.chars().filter(|c| !c.is_whitespace()).collect::<String>() == "<>");
    let daemon_sender = from
        .and_then(|f| f.split('@').next())
        .is_some_and(|local| matches!(local, "mailer-daemon" | "postmaster") || local.starts_with("mailer-daemon"));
    AutoSignals {
        auto_submitted,
        precedence_bulk,
        list_id: raw("List-Id").is_some(),
        autoreply_header,
        null_return_path,
        daemon_sender,
    }
}

fn attachments_of(message: &mail_parser::Message<'_>) -> Vec<IncomingAttachment> {
    message
        .attachments()
        .enumerate()
        .map(|(index, part)| {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".to_string())
                .to_ascii_lowercase();
            let file_name =
                part.attachment_name().map(str::to_string).unwrap_or_else(|| format!("attachment-{}", index + 1));
            IncomingAttachment { file_name, content_type, bytes: part.contents().to_vec() }
        })
        .collect()
}

/// Parses a raw RFC 822 message. Never panics; bytes with no header at all are `NotAMessage`.
pub fn parse_email(raw: &[u8]) -> Result<ParsedEmail, ParseProblem> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseProblem::Empty);
    }
    if raw.len() > MAX_RAW_BYTES {
        return Err(ParseProblem::TooLarge);
    }
    let message = MessageParser::default().parse(raw).ok_or(ParseProblem::NotAMessage)?;
    let known = ["From", "Sender", "To", "Subject", "Message-ID", "Date"];
    if !known.iter().any(|name| message.header_raw(*name).is_some()) {
        return Err(ParseProblem::NotAMessage);
    }
    let from = message.from().and_then(|a| a.first());
    let from_address = from.and_then(|a| a.address()).map(|a| a.trim().to_lowercase()).filter(|a| !a.is_empty());
    let from_name = from.and_then(|a| a.name()).map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let html = message.html_bodies().find(|p| p.is_text_html()).and_then(|p| p.text_contents()).map(str::to_string);
    let text = message.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    Ok(ParsedEmail {
        message_id: message.message_id().map(clean_message_id).filter(|id| !id.is_empty()),
        in_reply_to: ids_of(message.in_reply_to()),
        references: ids_of(message.references()),
        signals: signals(&message, from_address.as_deref()),
        from_address,
        from_name,
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        subject: message.subject().unwrap_or_default().to_string(),
        sent_at_seconds: message.date().map(|d| d.to_timestamp()),
        text,
        html,
        attachments: attachments_of(&message),
    })
}

/// What the loop checks learned besides the headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoopFacts {
    /// Our own Message-IDs among References and In-Reply-To.
    pub own_references: usize,
    /// Messages from the same sender already received within the window.
    pub recent_from_sender: i64,
}

/// The limits the loop checks use (the `mailbox_setting` row).
#[derive(Debug, Clone, Copy)]
pub struct LoopLimits {
    pub own_references_limit: i64,
    pub sender_limit: i64,
}

/// The reasons a message counts as automatic, in a fixed order; empty for a person's message.
pub fn auto_flags(signals: &AutoSignals, facts: LoopFacts, limits: LoopLimits) -> Vec<&'static str> {
    let own_references = i64::try_from(facts.own_references).unwrap_or(i64::MAX);
    [
        (signals.auto_submitted, "auto_submitted"),
        (signals.precedence_bulk, "precedence_bulk"),
        (signals.list_id, "list_id"),
        (signals.autoreply_header, "autoreply_header"),
        (signals.null_return_path, "null_return_path"),
        (signals.daemon_sender, "daemon_sender"),
        (own_references > limits.own_references_limit, "own_references_loop"),
        (facts.recent_from_sender >= limits.sender_limit, "sender_burst"),
    ]
    .into_iter()
    .filter_map(|(on, flag)| on.then_some(flag))
    .collect()
}

/// How many of `ids` were generated by us (their domain part is `own_domain`).
pub fn own_reference_count(ids: &[String], own_domain: &str) -> usize {
    let domain = own_domain.trim().to_ascii_lowercase();
    ids.iter().filter(|id| id.rsplit_once('@').is_some_and(|(_, d)| d.eq_ignore_ascii_case(&domain))).count()
}

/// The case number named in a subject (`CASE-000123`, `[case-123]`), as cases write it.
pub fn case_number_in(subject: &str) -> Option<String> {
    let upper = subject.to_ascii_uppercase();
    upper.match_indices("CASE-").find_map(|(at, _)| {
        let before = upper.get(..at).and_then(|b| b.chars().last());
        let after = upper.get(at + 5..).unwrap_or_default();
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        let next = after.get(digits.len()..).and_then(|a| a.chars().next());
        let bounded =
            before.is_none_or(|c| !c.is_ascii_alphanumeric()) && next.is_none_or(|c| !c.is_ascii_alphanumeric());
        let key = digits.parse::<i64>().ok().filter(|k| *k > 0 && digits.len() <= 12)?;
        bounded.then(|| format!("CASE-{key:06}"))
    })
}

/// Text safe for a case thread: line breaks normalised, control characters dropped, cut to the
/// thread's limit with a marker; never empty.
pub fn thread_text(text: &str) -> String {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let cleaned: String = normalised.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        return "(the message has no text)".to_string();
    }
    if trimmed.chars().count() > MAX_THREAD_CHARS {
        let cut: String = trimmed.chars().take(MAX_THREAD_CHARS).collect();
        return format!("{cut}\n[... cut here; the whole message is kept in the mailbox]");
    }
    trimmed.to_string()
}

/// A subject fit for a new case: one line, at most 200 characters, never empty.
pub fn case_subject(subject: &str) -> String {
    let one_line: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let cleaned: String = one_line.chars().filter(|c| !c.is_control()).take(MAX_SUBJECT_CHARS).collect();
    if cleaned.trim().is_empty() { "(no subject)".to_string() } else { cleaned.trim().to_string() }
}

/// A short one-line text for lists and the contact summary.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let joined: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.chars().filter(|c| !c.is_control()).take(max_chars).collect()
}

/// Where an inbound message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundStatus {
    /// Stored, not yet processed.
    Received,
    /// Threaded into a case.
    Processed,
    /// Kept out of the case threads: automatic mail with no case to go to.
    Held,
    /// The same Message-ID was processed before.
    Duplicate,
    /// Processing failed; the error says why, and it can be processed again.
    Failed,
}

impl InboundStatus {
    pub fn code(self) -> &'static str {
        match self {
            InboundStatus::Received => "received",
            InboundStatus::Processed => "processed",
            InboundStatus::Held => "held",
            InboundStatus::Duplicate => "duplicate",
            InboundStatus::Failed => "failed",
        }
    }

    pub fn parse(code: &str) -> Option<InboundStatus> {
        [Self::Received, Self::Processed, Self::Held, Self::Duplicate, Self::Failed]
            .into_iter()
            .find(|s| s.code() == code)
    }

    /// Only a message not yet threaded may be processed (again).
    pub fn can_process(self) -> bool {
        matches!(self, InboundStatus::Received | InboundStatus::Failed)
    }
}
