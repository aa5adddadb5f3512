//! What can go wrong in billing, each variant a sentence with a stable code and the input field
//! at fault, mapped to HTTP once here.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("must be a date such as 2026-11-01")]
    DateInvalid { field: &'static str },
    #[error("must be a month such as 2026-11")]
    PeriodInvalid,
    #[error("must be a bill cycle from 1 to 28")]
    CycleInvalid,
    #[error("must be a decimal number with at most six digits after the point, such as 0.1123")]
    RateInvalid { field: &'static str },
    #[error("must be blocks such as 500:0.1123;*:0.1389, limits rising, the last one *")]
    TiersInvalid,
    #[error("must be a percentage from 0 to 100 with at most four decimals, such as 6.25")]
    TaxInvalid,
    #[error("must be an amount of zero or more, such as 12.50")]
    AmountInvalid { field: &'static str },
    #[error("must be 1 to 40 letters, digits, dashes or underscores")]
    CodeInvalid { field: &'static str },
    #[error("must be one of actual, rollover, replacement")]
    ReadKindInvalid,
    #[error("must be a whole number of zero or more")]
    ReadingInvalid,
    #[error("is below the previous reading; flag it as a rollover or replacement if the meter restarted")]
    ReadingBelowPrevious,
    #[error("a read for this meter on this date is already recorded")]
    ReadAlreadyRecorded,
    #[error("no such meter")]
    MeterUnknown,
    #[error("a version of this rate code with this effective date already exists")]
    RateVersionTaken,
    #[error("uses a different service or currency than earlier versions of this rate code")]
    RateVersionMismatch,
    #[error("must be a known currency code such as USD")]
    CurrencyInvalid,
    #[error("the file has errors; nothing was imported")]
    ImportRejected { errors: Vec<String> },
    #[error("a bill run of this cycle and period is already under way")]
    RunUnderWay,
    #[error("no such bill")]
    BillNotFound,
    #[error("no such bill run")]
    RunNotFound,
    #[error("no such account")]
    AccountNotFound,
    #[error("the bill could not be drawn as a PDF")]
    PdfFailed,
    #[error("the ledger refused the posting: {0}")]
    Ledger(#[from] ledger::LedgerError),
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl web::Problem for BillingError {
    fn status(&self) -> StatusCode {
        use BillingError as E;
        match self {
            E::BillNotFound | E::RunNotFound | E::AccountNotFound => StatusCode::NOT_FOUND,
            E::RateVersionTaken | E::ReadAlreadyRecorded | E::RunUnderWay => StatusCode::CONFLICT,
            E::Db(_) | E::Ledger(_) | E::PdfFailed => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        use BillingError as E;
        match self {
            E::DateInvalid { .. } => "date_invalid",
            E::PeriodInvalid => "period_invalid",
            E::CycleInvalid => "cycle_invalid",
            E::RateInvalid { .. } => "rate_invalid",
            E::TiersInvalid => "tiers_invalid",
            E::TaxInvalid => "tax_invalid",
            E::AmountInvalid { .. } => "amount_invalid",
            E::CodeInvalid { .. } => "code_invalid",
            E::ReadKindInvalid => "read_kind_invalid",
            E::ReadingInvalid => "reading_invalid",
            E::ReadingBelowPrevious => "reading_below_previous",
            E::ReadAlreadyRecorded => "read_already_recorded",
            E::MeterUnknown => "meter_unknown",
            E::RateVersionTaken => "rate_version_taken",
            E::RateVersionMismatch => "rate_version_mismatch",
            E::CurrencyInvalid => "currency_invalid",
            E::ImportRejected { .. } => "import_rejected",
            E::RunUnderWay => "run_under_way",
            E::BillNotFound => "bill_not_found",
            E::RunNotFound => "run_not_found",
            E::AccountNotFound => "account_not_found",
            E::PdfFailed => "pdf_failed",
            E::Ledger(_) | E::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use BillingError as E;
        match self {
            E::DateInvalid { field } | E::RateInvalid { field } | E::AmountInvalid { field } => Some(field),
            E::CodeInvalid { field } => Some(field),
            E::PeriodInvalid => Some("period"),
            E::CycleInvalid => Some("cycle"),
            E::TiersInvalid => Some("tiers"),
            E::TaxInvalid => Some("tax_percent"),
            E::ReadKindInvalid => Some("kind"),
            E::ReadingInvalid | E::ReadingBelowPrevious => Some("reading"),
            E::ReadAlreadyRecorded => Some("read_date"),
            E::MeterUnknown => Some("meter_number"),
            E::RateVersionTaken => Some("effective_from"),
            E::RateVersionMismatch => Some("service_type"),
            E::CurrencyInvalid => Some("currency"),
            E::ImportRejected { .. } => Some("file"),
            _ => None,
        }
    }
}
