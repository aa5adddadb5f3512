//! Pure types of correspondence: email addresses and the outbound email a caller queues, the
//! states an outbound email moves through, and the parse functions that build them.

use crate::CorrespondenceError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const MAX_RECIPIENTS: usize = 50;
pub const MAX_SUBJECT_CHARS: usize = 998;
pub const MAX_BODY_BYTES: usize = 1_000_000;
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// One mailbox address, checked by the same parser that writes the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str, field: &'static str) -> Result<EmailAddress, CorrespondenceError> {
        let trimmed = raw.trim();
        let valid = !trimmed.is_empty()
            && trimmed.len() <= 320
            && !trimmed.contains([',', ';', '\r', '\n'])
            && trimmed.parse::<lettre::message::Mailbox>().is_ok();
        if valid { Ok(EmailAddress(trimmed.to_string())) } else { Err(CorrespondenceError::AddressInvalid { field }) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A list with at least one address (`to`) or possibly none (`cc`).
    pub fn parse_list(
        raw: &[String],
        field: &'static str,
        required: bool,
    ) -> Result<Vec<EmailAddress>, CorrespondenceError> {
        if required && raw.is_empty() {
            return Err(CorrespondenceError::RecipientMissing { field });
        }
        if raw.len() > MAX_RECIPIENTS {
            return Err(CorrespondenceError::TooManyRecipients { field });
        }
        raw.iter().map(|a| EmailAddress::parse(a, field)).collect()
    }
}

/// A file sent with an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub file_name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

impl Attachment {
    pub fn parse(file_name: &str, content_type: &str, content: Vec<u8>) -> Result<Attachment, CorrespondenceError> {
        let name = file_name.trim();
        if name.is_empty() || name.len() > 200 || name.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
            return Err(CorrespondenceError::AttachmentInvalid { reason: "file name" });
        }
        if content_type.parse::<lettre::message::header::ContentType>().is_err() {
            return Err(CorrespondenceError::AttachmentInvalid { reason: "content type" });
        }
        if content.len() > MAX_ATTACHMENT_BYTES {
            return Err(CorrespondenceError::AttachmentInvalid { reason: "size (10 MiB at most)" });
        }
        Ok(Attachment { file_name: name.to_string(), content_type: content_type.to_string(), content })
    }
}

/// An email to queue. `in_reply_to` and `references` are Message-IDs without angle brackets.
#[derive(Debug, Clone, Default)]
pub struct OutboundEmail {
    pub to: Vec<EmailAddress>,
    pub cc: Vec<EmailAddress>,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub case_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub attachments: Vec<Attachment>,
    /// The template version this email was merged from, if any.
    pub template_id: Option<i64>,
    /// A caller-chosen Message-ID (without brackets); generated when absent.
    pub message_id: Option<String>,
    /// Headers besides the ones the drain writes itself, from a fixed allow-list.
    pub headers: Vec<ExtraHeader>,
}

/// The headers a queued email may carry besides those the drain writes: only ones that say how
/// the message was made and what answers it wants (RFC 3834, Microsoft's auto-reply
/// suppression, the old Precedence), so no caller can add routing or identity headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ExtraHeaderName {
    #[serde(rename = "Auto-Submitted")]
    AutoSubmitted,
    #[serde(rename = "X-Auto-Response-Suppress")]
    XAutoResponseSuppress,
    #[serde(rename = "Precedence")]
    Precedence,
}

impl ExtraHeaderName {
    pub const ALL: [ExtraHeaderName; 3] =
        [ExtraHeaderName::AutoSubmitted, ExtraHeaderName::XAutoResponseSuppress, ExtraHeaderName::Precedence];

    pub fn as_str(self) -> &'static str {
        match self {
            ExtraHeaderName::AutoSubmitted => "Auto-Submitted",
            ExtraHeaderName::XAutoResponseSuppress => "X-Auto-Response-Suppress",
            ExtraHeaderName::Precedence => "Precedence",
        }
    }

    /// The values each header may take (X-Auto-Response-Suppress: a comma-separated list of them).
    fn allowed_values(self) -> &'static [&'static str] {
        match self {
            ExtraHeaderName::AutoSubmitted => &["no", "auto-generated", "auto-replied", "auto-notified"],
            ExtraHeaderName::XAutoResponseSuppress => &["All", "DR", "NDR", "RN", "NRN", "OOF", "AutoReply"],
            ExtraHeaderName::Precedence => &["bulk", "list", "junk"],
        }
    }
}

/// One allowed header with an allowed value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExtraHeader {
    pub name: ExtraHeaderName,
    pub value: String,
}

/// The most extra headers one email carries.
const MAX_EXTRA_HEADERS: usize = 3;

impl ExtraHeader {
    /// `Auto-Submitted: auto-replied`, the mark of an automatic answer (RFC 3834 section 5).
    pub fn auto_replied() -> ExtraHeader {
        ExtraHeader { name: ExtraHeaderName::AutoSubmitted, value: "auto-replied".into() }
    }

    /// Checks a header name (case-insensitive) and value against the allow-list.
    pub fn parse(name: &str, value: &str) -> Result<ExtraHeader, CorrespondenceError> {
        let refused = |reason: String| CorrespondenceError::HeaderRefused { reason };
        let allowed_names = ExtraHeaderName::ALL.map(ExtraHeaderName::as_str).join(", ");
        let name = ExtraHeaderName::ALL
            .into_iter()
            .find(|n| n.as_str().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| refused(format!("{:?} is not an allowed header (only {allowed_names})", name.trim())))?;
        let allowed = name.allowed_values();
        let value = value.trim();
        let parts: Vec<&str> = match name {
            ExtraHeaderName::XAutoResponseSuppress => value.split(',').map(str::trim).collect(),
            _ => vec![value],
        };
        let canonical: Option<Vec<&str>> =
            parts.iter().map(|part| allowed.iter().find(|a| a.eq_ignore_ascii_case(part)).copied()).collect();
        match canonical {
            Some(values) if !values.is_empty() => Ok(ExtraHeader { name, value: values.join(", ") }),
            _ => Err(refused(format!("{} must be {}", name.as_str(), allowed.join(", ")))),
        }
    }

    /// Checks a list: allowed headers, each at most once, at most three.
    pub fn parse_list(pairs: &[(String, String)]) -> Result<Vec<ExtraHeader>, CorrespondenceError> {
        let headers = pairs.iter().map(|(n, v)| ExtraHeader::parse(n, v)).collect::<Result<Vec<_>, _>>()?;
        check_extra_headers(&headers)?;
        Ok(headers)
    }
}

/// Each allowed header at most once.
pub fn check_extra_headers(headers: &[ExtraHeader]) -> Result<(), CorrespondenceError> {
    let twice = headers.iter().enumerate().find(|(i, h)| headers.iter().skip(i + 1).any(|o| o.name == h.name));
    if let Some((_, header)) = twice {
        return Err(CorrespondenceError::HeaderRefused { reason: format!("{} is given twice", header.name.as_str()) });
    }
    if headers.len() > MAX_EXTRA_HEADERS {
        return Err(CorrespondenceError::HeaderRefused { reason: "at most 3 headers".into() });
    }
    Ok(())
}

/// What the caller learns about the email it queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QueuedEmail {
    pub email_id: i64,
    /// Without angle brackets; the header carries `<message_id>`.
    pub message_id: String,
}

/// Where an outbound email is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Waiting for its (next) try.
    Queued,
    /// A worker holds it and is talking to the SMTP server.
    Sending,
    /// The SMTP server accepted it.
    Sent,
    /// Every try failed; a person may retry it.
    Failed,
    /// A worker stopped mid-send: it may have been delivered, so it is not sent again unless a
    /// person retries it.
    Uncertain,
}

impl EmailStatus {
    pub const ALL: [EmailStatus; 5] =
        [EmailStatus::Queued, EmailStatus::Sending, EmailStatus::Sent, EmailStatus::Failed, EmailStatus::Uncertain];

    pub fn code(self) -> &'static str {
        match self {
            EmailStatus::Queued => "queued",
            EmailStatus::Sending => "sending",
            EmailStatus::Sent => "sent",
            EmailStatus::Failed => "failed",
            EmailStatus::Uncertain => "uncertain",
        }
    }

    pub fn parse(raw: &str) -> Result<EmailStatus, CorrespondenceError> {
        EmailStatus::ALL.into_iter().find(|s| s.code() == raw.trim()).ok_or(CorrespondenceError::StatusUnknown)
    }

    /// The one transition rule: which status may follow which.
    pub fn can_become(self, next: EmailStatus) -> bool {
        use EmailStatus as S;
        matches!(
            (self, next),
            (S::Queued, S::Sending)
                | (S::Sending, S::Sent)
                | (S::Sending, S::Queued)
                | (S::Sending, S::Failed)
                | (S::Sending, S::Uncertain)
                | (S::Failed, S::Queued)
                | (S::Uncertain, S::Queued)
        )
    }
}

/// A Message-ID as stored (no angle brackets): `left@right`, printable ASCII without spaces.
pub fn parse_message_id(raw: &str, field: &'static str) -> Result<String, CorrespondenceError> {
    let inner = raw.trim().trim_start_matches('<').trim_end_matches('>');
    let valid = inner.len() <= 250
        && inner.split_once('@').is_some_and(|(l, r)| !l.is_empty() && !r.is_empty())
        && inner.chars().all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | ','));
    if valid { Ok(inner.to_string()) } else { Err(CorrespondenceError::MessageIdInvalid { field }) }
}

/// A new Message-ID for `domain`: random enough that two nodes never collide.
pub fn new_message_id(random_hex: &str, now_micros: i64, domain: &str) -> String {
    format!("{now_micros:x}.{random_hex}@{domain}")
}

/// The subject line: one line, not empty, within the RFC 5322 line limit.
pub fn parse_subject(raw: &str) -> Result<String, CorrespondenceError> {
    let subject = raw.trim();
    if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS || subject.contains(['\r', '\n']) {
        return Err(CorrespondenceError::SubjectInvalid);
    }
    Ok(subject.to_string())
}

pub fn parse_body(raw: &str, field: &'static str) -> Result<String, CorrespondenceError> {
    if raw.trim().is_empty() || raw.len() > MAX_BODY_BYTES || raw.contains('\0') {
        return Err(CorrespondenceError::BodyInvalid { field });
    }
    Ok(raw.to_string())
}

/// A template's key: one key, one line of versions per language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateKey(String);

impl TemplateKey {
    pub fn parse(raw: &str) -> Result<TemplateKey, CorrespondenceError> {
        let key = raw.trim();
        let valid = (2..=60).contains(&key.len())
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid { Ok(TemplateKey(key.to_string())) } else { Err(CorrespondenceError::TemplateKeyInvalid) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A two-letter language code (ISO 639-1), lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language(String);

impl Language {
    pub fn parse(raw: &str) -> Result<Language, CorrespondenceError> {
        let code = raw.trim();
        if code.len() == 2 && code.chars().all(|c| c.is_ascii_lowercase()) {
            Ok(Language(code.to_string()))
        } else {
            Err(CorrespondenceError::LanguageInvalid)
        }
    }

    pub fn english() -> Language {
        Language("en".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a piece of correspondence reaches the customer; also what a template is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SendChannel)]
pub enum Channel {
    Email,
    Letter,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Letter => "letter",
        }
    }

    pub fn parse(raw: &str) -> Result<Channel, CorrespondenceError> {
        match raw.trim() {
            "email" => Ok(Channel::Email),
            "letter" => Ok(Channel::Letter),
            _ => Err(CorrespondenceError::ChannelInvalid),
        }
    }
}

/// A template version to save, with its merge fields checked.
#[derive(Debug, Clone)]
pub struct NewTemplateVersion {
    pub key: TemplateKey,
    pub language: Language,
    pub kind: Channel,
    pub name: String,
    pub subject: String,
    pub body: String,
}

impl NewTemplateVersion {
    pub fn parse(
        key: &str,
        language: &str,
        kind: &str,
        name: &str,
        subject: &str,
        body: &str,
    ) -> Result<NewTemplateVersion, CorrespondenceError> {
        let kind = Channel::parse(kind).map_err(|_| CorrespondenceError::KindInvalid)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
            return Err(CorrespondenceError::NameInvalid);
        }
        let subject = parse_subject(subject)?;
        let body = parse_body(body, "body")?;
        crate::merge::parse(&subject, "subject")?;
        crate::merge::parse(&body, "body")?;
        Ok(NewTemplateVersion {
            key: TemplateKey::parse(key)?,
            language: Language::parse(language)?,
            kind,
            name: name.to_string(),
            subject,
            body,
        })
    }
}
