//! What can go wrong with cases, each variant a sentence with a stable code.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("must be 1 to {max_chars} characters")]
    TextInvalid { field: &'static str, max_chars: usize },
    #[error("is not a known value")]
    ValueUnknown { field: &'static str },
    #[error("a case cannot go from {from} to {to}")]
    StatusTransitionNotAllowed { from: &'static str, to: &'static str },
    #[error("a resolution code is needed to resolve a case")]
    ResolutionCodeMissing,
    #[error("only tier 1 cases can be escalated")]
    AlreadyTierTwo,
    #[error("the case is already in that queue")]
    SameQueue,
    #[error("must be in the future")]
    DueInThePast,
    #[error("the file is larger than 5 MiB")]
    AttachmentTooLarge,
    #[error("only PDF, PNG, JPEG and plain text files are accepted")]
    AttachmentTypeRefused,
    #[error("a case cannot be linked to or merged into itself")]
    SelfReference,
    #[error("the case is closed and can no longer change")]
    CaseClosed,
    #[error("no such case")]
    CaseNotFound,
    #[error("no such queue")]
    QueueNotFound,
    #[error("no such customer")]
    CustomerNotFound,
    #[error("no such staff user")]
    UserNotFound,
    #[error("no such callback")]
    CallbackNotFound,
    #[error("no such attachment")]
    AttachmentNotFound,
    #[error("that name is already taken")]
    NameTaken,
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl web::Problem for CaseError {
    fn status(&self) -> StatusCode {
        use CaseError as E;
        match self {
            E::CaseNotFound
            | E::QueueNotFound
            | E::CustomerNotFound
            | E::UserNotFound
            | E::CallbackNotFound
            | E::AttachmentNotFound => StatusCode::NOT_FOUND,
            E::StatusTransitionNotAllowed { .. } | E::AlreadyTierTwo | E::SameQueue | E::CaseClosed | E::NameTaken => {
                StatusCode::CONFLICT
            }
            E::AttachmentTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            E::AttachmentTypeRefused => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            E::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        use CaseError as E;
        match self {
            E::TextInvalid { .. } => "text_invalid",
            E::ValueUnknown { .. } => "value_unknown",
            E::StatusTransitionNotAllowed { .. } => "status_transition_not_allowed",
            E::ResolutionCodeMissing => "resolution_code_missing",
            E::AlreadyTierTwo => "already_tier_two",
            E::SameQueue => "same_queue",
            E::DueInThePast => "due_in_the_past",
            E::AttachmentTooLarge => "attachment_too_large",
            E::AttachmentTypeRefused => "attachment_type_refused",
            E::SelfReference => "self_reference",
            E::CaseClosed => "case_closed",
            E::CaseNotFound => "case_not_found",
            E::QueueNotFound => "queue_not_found",
            E::CustomerNotFound => "customer_not_found",
            E::UserNotFound => "user_not_found",
            E::CallbackNotFound => "callback_not_found",
            E::AttachmentNotFound => "attachment_not_found",
            E::NameTaken => "name_taken",
            E::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use CaseError as E;
        match self {
            E::TextInvalid { field, .. } | E::ValueUnknown { field } => Some(field),
            E::ResolutionCodeMissing => Some("resolution_code"),
            E::DueInThePast => Some("due_at"),
            E::AttachmentTooLarge | E::AttachmentTypeRefused => Some("file"),
            E::SelfReference => Some("other_case_id"),
            E::NameTaken => Some("name"),
            _ => None,
        }
    }
}
