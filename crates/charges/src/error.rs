//! What can go wrong with fees, adjustments, deposits and arrangements, each variant a sentence
//! with a stable code and the input field at fault.

use contacts::ContactError;
use http::StatusCode;
use ledger::LedgerError;
use web::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    #[error("must be a positive amount such as 25.00 in the account's currency")]
    AmountInvalid { field: &'static str },
    #[error("must be a positive id")]
    IdInvalid { field: &'static str },
    #[error("must be a date such as 2026-11-30")]
    DateInvalid { field: &'static str },
    #[error("must be at most 500 characters without control characters")]
    TextInvalid { field: &'static str },
    #[error("must be 2 to 40 lower-case letters, digits or underscores, starting with a letter")]
    CodeInvalid { field: &'static str },
    #[error("must be 1 to 80 characters without control characters")]
    LabelInvalid,
    #[error("that code is already defined")]
    CodeTaken,
    #[error("no such customer account")]
    AccountUnknown,
    #[error("no such customer account")]
    AccountNotFound,
    #[error("is not an active fee type")]
    FeeTypeUnknown,
    #[error("is not an active adjustment reason")]
    ReasonUnknown,
    #[error("must be credit or debit")]
    DirectionUnknown,
    #[error("is not a known status")]
    StatusUnknown,
    #[error("no such adjustment")]
    AdjustmentNotFound,
    #[error("this adjustment is not pending approval")]
    AdjustmentNotPending,
    #[error("an adjustment must be approved by a supervisor other than the one who requested it")]
    AdjustmentRequiresDifferentApprover,
    #[error("no deposit is required for this account's credit rating; give an amount")]
    DepositNotRequired,
    #[error("no such deposit")]
    DepositNotFound,
    #[error("the deposit has not been paid yet, so it is not held")]
    DepositNotHeld,
    #[error("the deposit's state does not allow this")]
    DepositStateDoesNotAllowThis,
    #[error("this deposit has no refund waiting for approval")]
    DepositRefundNotPending,
    #[error("a deposit refund must be approved by a supervisor other than the one who requested it")]
    DepositRefundRequiresDifferentApprover,
    #[error("this deposit has no refund waiting to be paid out")]
    DepositRefundNotToIssue,
    #[error("give the check number or the card refund reference the refund was paid with")]
    IssueReferenceMissing,
    #[error("no such payment arrangement")]
    ArrangementNotFound,
    #[error("this payment arrangement is no longer active")]
    ArrangementNotActive,
    #[error("the account already has an active payment arrangement")]
    ArrangementAlreadyActive,
    #[error("the account owes nothing to arrange")]
    NoArrears,
    #[error("must be 1 to 24, with each instalment at least one minor unit")]
    InstalmentCountInvalid,
    #[error("must be weekly or monthly")]
    FrequencyUnknown,
    #[error("no such setting")]
    SettingUnknown,
    #[error("must be zero or more")]
    SettingValueInvalid,
    #[error("must be 1 (the notice is sent) or 0 (it is not)")]
    NoticeSwitchInvalid,
    #[error("the customer's notice could not be sent: {0}")]
    Notice(#[from] correspondence::CorrespondenceError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Contact(#[from] ContactError),
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl Problem for ChargeError {
    fn status(&self) -> StatusCode {
        use ChargeError as E;
        match self {
            E::Ledger(e) => e.status(),
            E::Contact(e) => e.status(),
            E::Notice(e) => e.status(),
            E::AccountNotFound
            | E::AdjustmentNotFound
            | E::DepositNotFound
            | E::ArrangementNotFound
            | E::SettingUnknown => StatusCode::NOT_FOUND,
            E::AdjustmentRequiresDifferentApprover | E::DepositRefundRequiresDifferentApprover => StatusCode::FORBIDDEN,
            E::AdjustmentNotPending
            | E::DepositRefundNotPending
            | E::DepositRefundNotToIssue
            | E::DepositNotHeld
            | E::DepositStateDoesNotAllowThis
            | E::ArrangementNotActive
            | E::ArrangementAlreadyActive
            | E::CodeTaken => StatusCode::CONFLICT,
            E::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        use ChargeError as E;
        match self {
            E::AmountInvalid { .. } => "amount_invalid",
            E::IdInvalid { .. } => "id_invalid",
            E::DateInvalid { .. } => "date_invalid",
            E::TextInvalid { .. } => "text_invalid",
            E::CodeInvalid { .. } => "code_invalid",
            E::LabelInvalid => "label_invalid",
            E::CodeTaken => "code_taken",
            E::AccountUnknown => "account_unknown",
            E::AccountNotFound => "account_not_found",
            E::FeeTypeUnknown => "fee_type_unknown",
            E::ReasonUnknown => "reason_unknown",
            E::DirectionUnknown => "direction_unknown",
            E::StatusUnknown => "status_unknown",
            E::AdjustmentNotFound => "adjustment_not_found",
            E::AdjustmentNotPending => "adjustment_not_pending",
            E::AdjustmentRequiresDifferentApprover => "adjustment_requires_different_approver",
            E::DepositNotRequired => "deposit_not_required",
            E::DepositNotFound => "deposit_not_found",
            E::DepositNotHeld => "deposit_not_held",
            E::DepositStateDoesNotAllowThis => "deposit_state_does_not_allow_this",
            E::DepositRefundNotPending => "deposit_refund_not_pending",
            E::DepositRefundRequiresDifferentApprover => "deposit_refund_requires_different_approver",
            E::DepositRefundNotToIssue => "deposit_refund_not_to_issue",
            E::IssueReferenceMissing => "issue_reference_missing",
            E::ArrangementNotFound => "arrangement_not_found",
            E::ArrangementNotActive => "arrangement_not_active",
            E::ArrangementAlreadyActive => "arrangement_already_active",
            E::NoArrears => "no_arrears_to_arrange",
            E::InstalmentCountInvalid => "instalment_count_invalid",
            E::FrequencyUnknown => "frequency_unknown",
            E::SettingUnknown => "setting_unknown",
            E::SettingValueInvalid => "setting_value_invalid",
            E::NoticeSwitchInvalid => "notice_switch_invalid",
            E::Ledger(e) => e.code(),
            E::Contact(e) => e.code(),
            E::Notice(e) => e.code(),
            E::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use ChargeError as E;
        match self {
            E::AmountInvalid { field }
            | E::IdInvalid { field }
            | E::DateInvalid { field }
            | E::TextInvalid { field }
            | E::CodeInvalid { field } => Some(field),
            E::LabelInvalid => Some("label"),
            E::CodeTaken => Some("code"),
            E::AccountUnknown | E::NoArrears | E::ArrangementAlreadyActive => Some("account_id"),
            E::FeeTypeUnknown => Some("fee_type"),
            E::ReasonUnknown => Some("reason_code"),
            E::DirectionUnknown => Some("direction"),
            E::StatusUnknown => Some("status"),
            E::DepositNotRequired => Some("amount"),
            E::IssueReferenceMissing => Some("reference"),
            E::InstalmentCountInvalid => Some("instalment_count"),
            E::FrequencyUnknown => Some("frequency"),
            E::SettingValueInvalid | E::NoticeSwitchInvalid => Some("value"),
            E::Ledger(e) => e.field(),
            E::Notice(e) => e.field(),
            E::Contact(e) => e.field(),
            _ => None,
        }
    }
}
