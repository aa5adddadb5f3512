//! What can go wrong with chats, calls and their settings, each variant a sentence with a stable
//! code and the input field at fault.

use http::StatusCode;
use web::Problem;

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("tell us your name")]
    NameMissing,
    #[error("must be an email address such as maria@example.org")]
    EmailInvalid,
    #[error("is too long or contains control characters")]
    TextInvalid { field: &'static str },
    #[error("write a message first")]
    MessageEmpty,
    #[error("a message holds at most 2000 characters")]
    MessageTooLong,
    #[error("no such chat")]
    ChatNotFound,
    #[error("this chat belongs to another agent")]
    ChatNotYours,
    #[error("this chat has already ended")]
    ChatEnded,
    #[error("this chat was already taken")]
    ChatAlreadyTaken,
    #[error("this chat is still waiting; take it first")]
    ChatNotActive,
    #[error("must be a staff user who answers chats")]
    TransferTargetInvalid,
    #[error("this chat is already yours; pick another agent or the queue")]
    TransferToSelf,
    #[error("a note holds at most 500 characters")]
    NoteInvalid,
    #[error("no chat is waiting")]
    QueueEmpty,
    #[error("this chat cannot be resumed; start a new one")]
    ResumeTokenUnknown,
    #[error("this web site may not open chats here")]
    OriginRefused,
    #[error("too many chats from this address; wait a minute")]
    TooManyChats,
    #[error("must be ringing, answered, transferred or ended")]
    CallEventUnknown,
    #[error("must be 1 to 100 characters")]
    CallIdInvalid,
    #[error("this event cannot follow the call's last one")]
    CallEventOutOfOrder,
    #[error("must be an http or https address")]
    RecordingUrlInvalid,
    #[error("the telephony secret is missing or wrong")]
    TelephonySecretInvalid,
    #[error("no telephony secret is set; an administrator sets it on the chat settings page")]
    TelephonyNotConfigured,
    #[error("must be 1 to 20 letters, digits, *, #, - or _")]
    ExtensionInvalid,
    #[error("another user already has this extension")]
    ExtensionTaken,
    #[error("no such staff user")]
    UserNotFound,
    #[error("each line must be an origin such as https://www.example.org")]
    OriginInvalid,
    #[error("must be a whole number from 1 to 100000")]
    LimitInvalid,
    #[error("must be at least 16 characters without spaces")]
    SecretTooShort,
    #[error("no such customer")]
    CustomerNotFound,
    #[error("{0}")]
    Contact(#[from] contacts::ContactError),
    #[error("{0}")]
    Case(#[from] cases::CaseError),
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl Problem for LiveError {
    fn status(&self) -> StatusCode {
        use LiveError as E;
        match self {
            E::ChatNotFound | E::UserNotFound | E::CustomerNotFound => StatusCode::NOT_FOUND,
            // Not a 5xx: the web layer reports every server error as an internal one.
            E::ChatNotYours | E::OriginRefused | E::TelephonyNotConfigured => StatusCode::FORBIDDEN,
            E::ChatEnded
            | E::ChatAlreadyTaken
            | E::ChatNotActive
            | E::CallEventOutOfOrder
            | E::ExtensionTaken
            | E::QueueEmpty => StatusCode::CONFLICT,
            E::TooManyChats => StatusCode::TOO_MANY_REQUESTS,
            E::TelephonySecretInvalid | E::ResumeTokenUnknown => StatusCode::UNAUTHORIZED,
            E::Contact(e) => e.status(),
            E::Case(e) => e.status(),
            E::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        use LiveError as E;
        match self {
            E::NameMissing => "name_missing",
            E::EmailInvalid => "email_invalid",
            E::TextInvalid { .. } => "text_invalid",
            E::MessageEmpty => "message_empty",
            E::MessageTooLong => "message_too_long",
            E::ChatNotFound => "chat_not_found",
            E::ChatNotYours => "chat_not_yours",
            E::ChatEnded => "chat_ended",
            E::ChatAlreadyTaken => "chat_already_taken",
            E::QueueEmpty => "queue_empty",
            E::ChatNotActive => "chat_not_active",
            E::TransferTargetInvalid => "transfer_target_invalid",
            E::TransferToSelf => "transfer_to_self",
            E::NoteInvalid => "note_invalid",
            E::ResumeTokenUnknown => "resume_token_unknown",
            E::OriginRefused => "origin_refused",
            E::TooManyChats => "too_many_chats",
            E::CallEventUnknown => "call_event_unknown",
            E::CallIdInvalid => "call_id_invalid",
            E::CallEventOutOfOrder => "call_event_out_of_order",
            E::RecordingUrlInvalid => "recording_url_invalid",
            E::TelephonySecretInvalid => "telephony_secret_invalid",
            E::TelephonyNotConfigured => "telephony_not_configured",
            E::ExtensionInvalid => "extension_invalid",
            E::ExtensionTaken => "extension_taken",
            E::UserNotFound => "user_not_found",
            E::OriginInvalid => "origin_invalid",
            E::LimitInvalid => "limit_invalid",
            E::SecretTooShort => "secret_too_short",
            E::CustomerNotFound => "customer_not_found",
            E::Contact(e) => e.code(),
            E::Case(e) => e.code(),
            E::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use LiveError as E;
        match self {
            E::NameMissing => Some("name"),
            E::EmailInvalid => Some("email"),
            E::TextInvalid { field } => Some(field),
            E::MessageEmpty | E::MessageTooLong => Some("body"),
            E::CallEventUnknown | E::CallEventOutOfOrder => Some("event"),
            E::CallIdInvalid => Some("call_id"),
            E::RecordingUrlInvalid => Some("recording_url"),
            E::ExtensionInvalid | E::ExtensionTaken => Some("extension"),
            E::OriginInvalid => Some("widget_origins"),
            E::LimitInvalid => Some("visitor_chats_per_minute"),
            E::SecretTooShort => Some("telephony_secret"),
            E::CustomerNotFound => Some("customer_id"),
            E::TransferTargetInvalid | E::TransferToSelf => Some("to_user_id"),
            E::NoteInvalid => Some("note"),
            E::Contact(e) => e.field(),
            E::Case(e) => e.field(),
            _ => None,
        }
    }
}
