//! What can go wrong in correspondence, each variant a sentence with a stable code and the input
//! field at fault.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum CorrespondenceError {
    #[error("must be an email address such as ana@example.com")]
    AddressInvalid { field: &'static str },
    #[error("name at least one recipient")]
    RecipientMissing { field: &'static str },
    #[error("at most 50 recipients")]
    TooManyRecipients { field: &'static str },
    #[error("must be one line of 1 to 998 characters")]
    SubjectInvalid,
    #[error("must not be empty, at most 1 MB, without NUL characters")]
    BodyInvalid { field: &'static str },
    #[error("the attachment's {reason} is not acceptable")]
    AttachmentInvalid { reason: &'static str },
    #[error("must be base64")]
    AttachmentNotBase64,
    #[error("must be a Message-ID such as <abc@example.com>")]
    MessageIdInvalid { field: &'static str },
    #[error("{reason}")]
    HeaderRefused { reason: String },
    #[error("must be one of queued, sending, sent, failed, uncertain")]
    StatusUnknown,
    #[error("no such email")]
    EmailNotFound,
    #[error("only a failed or uncertain email can be retried")]
    EmailNotRetryable,
    #[error("no such customer")]
    CustomerNotFound,
    #[error("must be a positive id")]
    IdInvalid { field: &'static str },
    #[error("names no merge field: {name:?} (see the list of fields)")]
    MergeFieldUnknown { field: &'static str, name: String },
    #[error("has a {{{{ without its }}}}")]
    MergeFieldUnclosed { field: &'static str },
    #[error("merge field {name} has no value here: choose the customer, account, case or bill it needs")]
    MergeValueMissing { name: String },
    #[error("must be 2 to 60 lower-case letters, digits or underscores, starting with a letter")]
    TemplateKeyInvalid,
    #[error("must be a two-letter language code such as en, es or fr")]
    LanguageInvalid,
    #[error("must be email or letter")]
    KindInvalid,
    #[error("must be email or letter")]
    ChannelInvalid,
    #[error("must be 1 to 120 characters on one line")]
    NameInvalid,
    #[error("no such template")]
    TemplateNotFound,
    #[error("this template is a {actual} template")]
    TemplateKindMismatch { actual: String },
    #[error("the customer has no email address, or asked not to be emailed")]
    CustomerNotEmailable,
    #[error("the customer has no postal address")]
    CustomerHasNoAddress,
    #[error("no such account of this customer")]
    AccountUnknown,
    #[error("no such case")]
    CaseUnknown,
    #[error("no such letter")]
    LetterNotFound,
    #[error("must be a date YYYY-MM-DD")]
    DateInvalid,
    #[error("no such print batch")]
    PrintBatchNotFound,
    #[error("no letters are waiting to be printed")]
    PrintQueueEmpty,
    #[error("the PDF could not be made: {0}")]
    Pdf(String),
    #[error("could not log the contact: {0}")]
    Contact(#[from] contacts::ContactError),
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl web::Problem for CorrespondenceError {
    fn status(&self) -> StatusCode {
        use CorrespondenceError as E;
        match self {
            E::EmailNotFound
            | E::CustomerNotFound
            | E::TemplateNotFound
            | E::LetterNotFound
            | E::PrintBatchNotFound => StatusCode::NOT_FOUND,
            E::EmailNotRetryable | E::PrintQueueEmpty => StatusCode::CONFLICT,
            E::Pdf(_) => StatusCode::INTERNAL_SERVER_ERROR,
            E::Contact(inner) => inner.status(),
            E::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        use CorrespondenceError as E;
        match self {
            E::AddressInvalid { .. } => "address_invalid",
            E::RecipientMissing { .. } => "recipient_missing",
            E::TooManyRecipients { .. } => "too_many_recipients",
            E::SubjectInvalid => "subject_invalid",
            E::BodyInvalid { .. } => "body_invalid",
            E::AttachmentInvalid { .. } => "attachment_invalid",
            E::AttachmentNotBase64 => "attachment_not_base64",
            E::MessageIdInvalid { .. } => "message_id_invalid",
            E::HeaderRefused { .. } => "header_refused",
            E::StatusUnknown => "status_unknown",
            E::EmailNotFound => "email_not_found",
            E::EmailNotRetryable => "email_not_retryable",
            E::CustomerNotFound => "customer_not_found",
            E::IdInvalid { .. } => "id_invalid",
            E::MergeFieldUnknown { .. } => "merge_field_unknown",
            E::MergeFieldUnclosed { .. } => "merge_field_unclosed",
            E::MergeValueMissing { .. } => "merge_value_missing",
            E::TemplateKeyInvalid => "template_key_invalid",
            E::LanguageInvalid => "language_invalid",
            E::KindInvalid => "kind_invalid",
            E::ChannelInvalid => "channel_invalid",
            E::NameInvalid => "name_invalid",
            E::TemplateNotFound => "template_not_found",
            E::TemplateKindMismatch { .. } => "template_kind_mismatch",
            E::CustomerNotEmailable => "customer_not_emailable",
            E::CustomerHasNoAddress => "customer_has_no_address",
            E::AccountUnknown => "account_unknown",
            E::CaseUnknown => "case_unknown",
            E::LetterNotFound => "letter_not_found",
            E::DateInvalid => "date_invalid",
            E::PrintBatchNotFound => "print_batch_not_found",
            E::PrintQueueEmpty => "print_queue_empty",
            E::Pdf(_) => "pdf_failed",
            E::Contact(inner) => inner.code(),
            E::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use CorrespondenceError as E;
        match self {
            E::AddressInvalid { field }
            | E::RecipientMissing { field }
            | E::TooManyRecipients { field }
            | E::BodyInvalid { field }
            | E::MessageIdInvalid { field }
            | E::IdInvalid { field } => Some(field),
            E::SubjectInvalid => Some("subject"),
            E::AttachmentInvalid { .. } | E::AttachmentNotBase64 => Some("attachments"),
            E::HeaderRefused { .. } => Some("headers"),
            E::StatusUnknown => Some("status"),
            E::MergeFieldUnknown { field, .. } | E::MergeFieldUnclosed { field } => Some(field),
            E::MergeValueMissing { .. } => Some("merge"),
            E::TemplateKeyInvalid | E::TemplateKindMismatch { .. } => Some("template_key"),
            E::LanguageInvalid => Some("language"),
            E::KindInvalid => Some("kind"),
            E::ChannelInvalid | E::CustomerNotEmailable | E::CustomerHasNoAddress => Some("channel"),
            E::NameInvalid => Some("name"),
            E::AccountUnknown => Some("account_id"),
            E::CaseUnknown => Some("case_id"),
            E::DateInvalid => Some("date"),
            E::Contact(inner) => inner.field(),
            E::EmailNotFound
            | E::EmailNotRetryable
            | E::CustomerNotFound
            | E::TemplateNotFound
            | E::LetterNotFound
            | E::PrintBatchNotFound
            | E::PrintQueueEmpty
            | E::Pdf(_)
            | E::Db(_) => None,
        }
    }
}
