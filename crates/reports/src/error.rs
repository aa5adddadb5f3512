//! What can go wrong asking for a report.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("must be a date as YYYY-MM-DD")]
    DateInvalid { field: &'static str },
    #[error("the period ends before it starts")]
    PeriodReversed,
    #[error("a report covers at most 366 days")]
    PeriodTooLong,
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl web::Problem for ReportError {
    fn status(&self) -> StatusCode {
        match self {
            ReportError::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ReportError::DateInvalid { .. } => "date_invalid",
            ReportError::PeriodReversed => "period_reversed",
            ReportError::PeriodTooLong => "period_too_long",
            ReportError::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ReportError::DateInvalid { field } => Some(field),
            ReportError::PeriodReversed | ReportError::PeriodTooLong => Some("to"),
            ReportError::Db(_) => None,
        }
    }
}
