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
    #[error("could not log the contact: {0}")]
    Contact(#[from] contacts::ContactError),
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl web::Problem for CorrespondenceError {
    fn status(&self) -> StatusCode {
        use CorrespondenceError as E;
        match self {
            E::EmailNotFound | E::CustomerNotFound => StatusCode::NOT_FOUND,
            E::EmailNotRetryable => StatusCode::CONFLICT,
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
            E::StatusUnknown => "status_unknown",
            E::EmailNotFound => "email_not_found",
            E::EmailNotRetryable => "email_not_retryable",
            E::CustomerNotFound => "customer_not_found",
            E::IdInvalid { .. } => "id_invalid",
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
            E::StatusUnknown => Some("status"),
            E::Contact(inner) => inner.field(),
            E::EmailNotFound | E::EmailNotRetryable | E::CustomerNotFound | E::Db(_) => None,
        }
    }
}
