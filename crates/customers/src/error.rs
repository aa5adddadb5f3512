//! What can go wrong with customer information, each variant a sentence with a stable code.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("must be person or business")]
    KindUnknown,
    #[error("a person needs a first or last name")]
    PersonNameMissing,
    #[error("a business needs its business name")]
    BusinessNameMissing,
    #[error("must be at most 200 characters without control characters")]
    TextInvalid { field: &'static str },
    #[error("is not a phone number: give 10 digits, 1 + 10 digits, or + and 8 to 15 digits")]
    PhoneInvalid,
    #[error("is not a valid email address")]
    EmailInvalid,
    #[error("an address needs line1, city and postal_code")]
    AddressIncomplete,
    #[error("must be a two-letter country code")]
    CountryInvalid,
    #[error("must be one of phone, email, chat, letter, in_person, portal")]
    ChannelUnknown,
    #[error("must be a 2 to 5 letter language code such as en or es")]
    LanguageInvalid,
    #[error("is not an account number: 10 digits whose last is the check digit")]
    AccountNumberInvalid,
    #[error("must be between 1 and 28")]
    BillCycleOutOfRange,
    #[error("is not a known value")]
    ValueUnknown { field: &'static str },
    #[error("must be a date as YYYY-MM-DD")]
    DateInvalid { field: &'static str },
    #[error("the end date is before the start date")]
    EndBeforeStart,
    #[error("a service agreement cannot go from {from} to {to}")]
    AgreementTransitionNotAllowed { from: &'static str, to: &'static str },
    #[error("must not be empty and at most 4000 characters")]
    NoteInvalid,
    #[error("no such customer")]
    CustomerNotFound,
    #[error("no such account")]
    AccountNotFound,
    #[error("no such premise")]
    PremiseNotFound,
    #[error("no such service agreement")]
    AgreementNotFound,
    #[error("no such alert")]
    AlertNotFound,
    #[error("this customer was merged into another and can no longer change")]
    CustomerWasMerged,
    #[error("a customer cannot be merged into itself")]
    MergeIntoSelf,
    #[error("that number is already in use")]
    NumberTaken { field: &'static str },
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl web::Problem for CustomerError {
    fn status(&self) -> StatusCode {
        use CustomerError as E;
        match self {
            E::CustomerNotFound | E::AccountNotFound | E::PremiseNotFound | E::AgreementNotFound | E::AlertNotFound => {
                StatusCode::NOT_FOUND
            }
            E::CustomerWasMerged | E::AgreementTransitionNotAllowed { .. } | E::NumberTaken { .. } => {
                StatusCode::CONFLICT
            }
            E::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        use CustomerError as E;
        match self {
            E::KindUnknown => "customer_kind_unknown",
            E::PersonNameMissing => "person_name_missing",
            E::BusinessNameMissing => "business_name_missing",
            E::TextInvalid { .. } => "text_invalid",
            E::PhoneInvalid => "phone_invalid",
            E::EmailInvalid => "email_invalid",
            E::AddressIncomplete => "address_incomplete",
            E::CountryInvalid => "country_invalid",
            E::ChannelUnknown => "channel_unknown",
            E::LanguageInvalid => "language_invalid",
            E::AccountNumberInvalid => "account_number_invalid",
            E::BillCycleOutOfRange => "bill_cycle_out_of_range",
            E::ValueUnknown { .. } => "value_unknown",
            E::DateInvalid { .. } => "date_invalid",
            E::EndBeforeStart => "end_before_start",
            E::AgreementTransitionNotAllowed { .. } => "agreement_transition_not_allowed",
            E::NoteInvalid => "note_invalid",
            E::CustomerNotFound => "customer_not_found",
            E::AccountNotFound => "account_not_found",
            E::PremiseNotFound => "premise_not_found",
            E::AgreementNotFound => "agreement_not_found",
            E::AlertNotFound => "alert_not_found",
            E::CustomerWasMerged => "customer_was_merged",
            E::MergeIntoSelf => "merge_into_self",
            E::NumberTaken { .. } => "number_taken",
            E::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use CustomerError as E;
        match self {
            E::KindUnknown => Some("kind"),
            E::PersonNameMissing => Some("last_name"),
            E::BusinessNameMissing => Some("business_name"),
            E::TextInvalid { field } | E::ValueUnknown { field } | E::DateInvalid { field } => Some(field),
            E::NumberTaken { field } => Some(field),
            E::PhoneInvalid => Some("phones"),
            E::EmailInvalid => Some("emails"),
            E::AddressIncomplete | E::CountryInvalid => Some("addresses"),
            E::ChannelUnknown => Some("preferred_channel"),
            E::LanguageInvalid => Some("preferred_language"),
            E::AccountNumberInvalid => Some("account_number"),
            E::BillCycleOutOfRange => Some("bill_cycle"),
            E::EndBeforeStart => Some("end_date"),
            E::NoteInvalid => Some("body"),
            E::MergeIntoSelf => Some("survivor_id"),
            _ => None,
        }
    }
}
