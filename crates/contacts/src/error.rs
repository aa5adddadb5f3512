//! What can go wrong with contacts and their codes, each variant a sentence with a stable code
//! and the input field at fault.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("must be one of phone, email, chat, letter, in_person, portal, system")]
    ChannelUnknown,
    #[error("must be inbound or outbound")]
    DirectionUnknown,
    #[error("must be a time such as 2026-11-25T09:52:00Z")]
    TimeInvalid { field: &'static str },
    #[error("is more than five minutes ahead of the server clock")]
    TimeInFuture { field: &'static str },
    #[error("the contact ended before it started")]
    EndedBeforeStarted,
    #[error("a contact lasts at most 24 hours")]
    ContactTooLong,
    #[error("must be at most 4000 characters")]
    SummaryTooLong,
    #[error("must not contain control characters other than line breaks and tabs")]
    SummaryInvalid,
    #[error("choose a reason")]
    ReasonMissing,
    #[error("is not an active reason code")]
    ReasonUnknown,
    #[error("is not an active sub-reason of the reason given")]
    SubReasonUnknown,
    #[error("is not an active disposition")]
    DispositionUnknown,
    #[error("no such customer")]
    CustomerUnknown,
    #[error("no such customer")]
    CustomerNotFound,
    #[error("this customer was merged into another; log the contact on the survivor")]
    CustomerWasMerged,
    #[error("no such account of this customer")]
    AccountUnknown,
    #[error("must be a positive id")]
    IdInvalid { field: &'static str },
    #[error("no such contact")]
    ContactNotFound,
    #[error("must be 2 to 40 lower-case letters, digits or underscores, starting with a letter")]
    CodeInvalid { field: &'static str },
    #[error("must be 1 to 80 characters without control characters")]
    LabelInvalid,
    #[error("is not an active top-level reason code")]
    ParentUnknown,
    #[error("that code is already defined")]
    CodeTaken { field: &'static str },
    #[error("no such code")]
    CodeNotFound,
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl web::Problem for ContactError {
    fn status(&self) -> StatusCode {
        use ContactError as E;
        match self {
            E::CustomerNotFound | E::ContactNotFound | E::CodeNotFound => StatusCode::NOT_FOUND,
            E::CustomerWasMerged | E::CodeTaken { .. } => StatusCode::CONFLICT,
            E::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        use ContactError as E;
        match self {
            E::ChannelUnknown => "channel_unknown",
            E::DirectionUnknown => "direction_unknown",
            E::TimeInvalid { .. } => "time_invalid",
            E::TimeInFuture { .. } => "time_in_future",
            E::EndedBeforeStarted => "ended_before_started",
            E::ContactTooLong => "contact_too_long",
            E::SummaryTooLong => "summary_too_long",
            E::SummaryInvalid => "summary_invalid",
            E::ReasonMissing => "reason_missing",
            E::ReasonUnknown => "reason_unknown",
            E::SubReasonUnknown => "sub_reason_unknown",
            E::DispositionUnknown => "disposition_unknown",
            E::CustomerUnknown => "customer_unknown",
            E::CustomerNotFound => "customer_not_found",
            E::CustomerWasMerged => "customer_was_merged",
            E::AccountUnknown => "account_unknown",
            E::IdInvalid { .. } => "id_invalid",
            E::ContactNotFound => "contact_not_found",
            E::CodeInvalid { .. } => "code_invalid",
            E::LabelInvalid => "label_invalid",
            E::ParentUnknown => "parent_code_unknown",
            E::CodeTaken { .. } => "code_taken",
            E::CodeNotFound => "code_not_found",
            E::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use ContactError as E;
        match self {
            E::ChannelUnknown => Some("channel"),
            E::DirectionUnknown => Some("direction"),
            E::TimeInvalid { field }
            | E::TimeInFuture { field }
            | E::IdInvalid { field }
            | E::CodeInvalid { field }
            | E::CodeTaken { field } => Some(field),
            E::EndedBeforeStarted | E::ContactTooLong => Some("ended_at"),
            E::SummaryTooLong | E::SummaryInvalid => Some("summary"),
            E::ReasonMissing | E::ReasonUnknown => Some("reason_code"),
            E::SubReasonUnknown => Some("sub_reason_code"),
            E::DispositionUnknown => Some("disposition_code"),
            E::CustomerUnknown | E::CustomerWasMerged => Some("customer_id"),
            E::AccountUnknown => Some("account_id"),
            E::LabelInvalid => Some("label"),
            E::ParentUnknown => Some("parent_code"),
            E::CustomerNotFound | E::ContactNotFound | E::CodeNotFound | E::Db(_) => None,
        }
    }
}
