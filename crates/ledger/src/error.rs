//! What can go wrong with the ledger, each variant a sentence with a stable code and the input
//! field at fault.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("a journal entry needs at least two lines")]
    EntryNeedsTwoLines,
    #[error("the lines of an entry must sum to zero in each currency")]
    EntryUnbalanced,
    #[error("a journal line's amount must not be zero")]
    LineAmountZero,
    #[error("amount is too large")]
    AmountOverflow,
    #[error("no such ledger account")]
    LedgerAccountUnknown { field: &'static str },
    #[error("that ledger account is inactive")]
    LedgerAccountInactive { field: &'static str },
    #[error("no such customer account")]
    AccountUnknown { field: &'static str },
    #[error("must be a date such as 2026-11-30")]
    DateInvalid { field: &'static str },
    #[error("must be 1 to 200 characters without control characters")]
    TextInvalid { field: &'static str },
    #[error("this source document has already been posted")]
    AlreadyPosted,
    #[error("no such journal entry")]
    EntryNotFound,
    #[error("this entry has already been reversed")]
    AlreadyReversed,
    #[error("a reversing entry cannot itself be reversed; post a new entry")]
    CannotReverseAReversal,
    #[error("an open item's amount must be positive")]
    OpenItemAmountNotPositive,
    #[error("must be 2 to 10 digits")]
    CodeInvalid,
    #[error("that code is already in the chart of accounts")]
    CodeTaken,
    #[error("must be asset, liability, equity, revenue or expense")]
    KindUnknown,
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl LedgerError {
    /// Maps a storage error from an insert of an entry: a second posting of the same source
    /// document is refused by the unique key, not posted twice.
    pub fn from_insert(error: db::Error) -> LedgerError {
        if error.is_unique_violation() { LedgerError::AlreadyPosted } else { LedgerError::Db(error) }
    }
}

impl web::Problem for LedgerError {
    fn status(&self) -> StatusCode {
        use LedgerError as E;
        match self {
            E::EntryNotFound => StatusCode::NOT_FOUND,
            E::AlreadyPosted | E::AlreadyReversed | E::CodeTaken => StatusCode::CONFLICT,
            E::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        use LedgerError as E;
        match self {
            E::EntryNeedsTwoLines => "entry_needs_two_lines",
            E::EntryUnbalanced => "entry_unbalanced",
            E::LineAmountZero => "line_amount_zero",
            E::AmountOverflow => "amount_overflow",
            E::LedgerAccountUnknown { .. } => "ledger_account_unknown",
            E::LedgerAccountInactive { .. } => "ledger_account_inactive",
            E::AccountUnknown { .. } => "account_unknown",
            E::DateInvalid { .. } => "date_invalid",
            E::TextInvalid { .. } => "text_invalid",
            E::AlreadyPosted => "already_posted",
            E::EntryNotFound => "entry_not_found",
            E::AlreadyReversed => "entry_already_reversed",
            E::CannotReverseAReversal => "cannot_reverse_a_reversal",
            E::OpenItemAmountNotPositive => "open_item_amount_not_positive",
            E::CodeInvalid => "code_invalid",
            E::CodeTaken => "code_taken",
            E::KindUnknown => "kind_unknown",
            E::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use LedgerError as E;
        match self {
            E::LedgerAccountUnknown { field }
            | E::LedgerAccountInactive { field }
            | E::AccountUnknown { field }
            | E::DateInvalid { field }
            | E::TextInvalid { field } => Some(field),
            E::EntryNeedsTwoLines | E::EntryUnbalanced | E::LineAmountZero | E::AmountOverflow => Some("lines"),
            E::CodeInvalid | E::CodeTaken => Some("code"),
            E::KindUnknown => Some("kind"),
            _ => None,
        }
    }
}
