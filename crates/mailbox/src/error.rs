//! What can go wrong with inbound email, each variant a sentence with a stable code and the input
//! field at fault. Processing failures are not errors of the request: the message is stored and
//! marked failed; these are for the request itself.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("send the raw message as the request body")]
    MessageEmpty,
    #[error("send the message as message/rfc822 or text/plain")]
    ContentTypeRefused,
    #[error("no such inbound message")]
    MessageNotFound,
    #[error("only a failed or unprocessed message can be processed again")]
    NotRetryable,
    #[error("must be one of received, processed, held, duplicate, failed")]
    StatusUnknown,
    #[error("the thread refused the message: {0}")]
    Case(#[from] cases::CaseError),
    #[error("the timeline refused the contact: {0}")]
    Contact(#[from] contacts::ContactError),
    #[error("the acknowledgement could not be queued: {0}")]
    Acknowledgement(#[from] correspondence::CorrespondenceError),
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl web::Problem for MailboxError {
    fn status(&self) -> StatusCode {
        use MailboxError as E;
        match self {
            E::MessageEmpty => StatusCode::UNPROCESSABLE_ENTITY,
            E::ContentTypeRefused => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            E::MessageNotFound => StatusCode::NOT_FOUND,
            E::NotRetryable => StatusCode::CONFLICT,
            E::StatusUnknown => StatusCode::UNPROCESSABLE_ENTITY,
            E::Case(_) | E::Contact(_) | E::Acknowledgement(_) | E::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        use MailboxError as E;
        match self {
            E::MessageEmpty => "message_empty",
            E::ContentTypeRefused => "content_type_refused",
            E::MessageNotFound => "message_not_found",
            E::NotRetryable => "message_not_retryable",
            E::StatusUnknown => "status_unknown",
            E::Case(_) | E::Contact(_) | E::Acknowledgement(_) | E::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use MailboxError as E;
        match self {
            E::MessageEmpty => Some("body"),
            E::ContentTypeRefused => Some("content-type"),
            E::StatusUnknown => Some("status"),
            _ => None,
        }
    }
}
