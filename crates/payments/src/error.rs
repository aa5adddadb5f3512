//! What can go wrong with payments, drawers, deposits, files, reversals, transfers and refunds,
//! each variant a sentence with a stable code and the input field at fault.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("must be one of cash, check, money_order, card, ach")]
    TenderUnknown,
    #[error("must be one of counter, mail, phone, lockbox")]
    ChannelUnknown,
    #[error("must be an amount such as 12.30")]
    AmountInvalid { field: &'static str },
    #[error("must be more than zero")]
    AmountMustBePositive { field: &'static str },
    #[error("looks like a card or account number; send the processor's token and the last four digits only")]
    CardNumberRefused { field: &'static str },
    #[error("must be at most the allowed length, without control characters")]
    TextInvalid { field: &'static str },
    #[error("must be the last four digits")]
    LastFourInvalid,
    #[error("a check payment needs the check number")]
    CheckNumberMissing,
    #[error("a card or ACH payment needs the processor's token")]
    TokenMissing,
    #[error("a card payment needs the card brand")]
    CardBrandMissing,
    #[error("no such account")]
    AccountUnknown,
    #[error("this account is closed to payments")]
    AccountNotActive,
    #[error("this account is cash-only: take cash or a money order")]
    AccountIsCashOnly,
    #[error("open a cash drawer before taking cash or checks at the counter")]
    DrawerRequired,
    #[error("the payment's currency must be the account's")]
    CurrencyMismatch,
    #[error("no such payment")]
    PaymentNotFound,
    #[error("this payment has been reversed")]
    PaymentAlreadyReversed,
    #[error("more than is left of the payment to transfer")]
    TransferExceedsPayment,
    #[error("a payment is transferred to another account")]
    TransferToSameAccount,
    #[error("no such cash drawer")]
    DrawerNotFound,
    #[error("you already have an open cash drawer")]
    DrawerAlreadyOpen,
    #[error("the drawer is not in a state that allows this")]
    DrawerNotInThatState,
    #[error("only the drawer's cashier (or a supervisor) may close it")]
    DrawerNotYours,
    #[error("a drawer is signed off by a supervisor other than its cashier")]
    SignOffRequiresDifferentUser,
    #[error("must be a status this module knows")]
    StatusUnknown,
    #[error("must be nsf, returned_check or error")]
    ReasonUnknown,
    #[error("no such refund")]
    RefundNotFound,
    #[error("the refund is {status}, which does not allow this")]
    RefundNotInThatState { status: &'static str },
    #[error("a refund is approved or rejected by a supervisor other than the one who requested it")]
    RefundRequiresDifferentApprover,
    #[error("a refund returns a credit balance, and never more than the credit")]
    RefundExceedsCredit,
    #[error("give the check number or the card refund reference")]
    IssueReferenceMissing,
    #[error("there is nothing undeposited to take to the bank")]
    NothingToDeposit,
    #[error("no such bank deposit")]
    DepositNotFound,
    #[error("this payment file, or a reference in it, was imported before")]
    PaymentFileDuplicate,
    #[error("the payment file has {count} bad lines; nothing was posted")]
    PaymentFileInvalid { count: usize, errors: Vec<crate::file::LineError> },
    #[error("the payment file is empty")]
    PaymentFileEmpty,
    #[error("a payment file holds at most 2,000,000 lines")]
    PaymentFileTooLarge,
    #[error("must be a positive id")]
    IdInvalid { field: &'static str },
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    #[error(transparent)]
    Contact(#[from] contacts::ContactError),
    #[error("the customer's notice could not be sent: {0}")]
    Notice(#[from] correspondence::CorrespondenceError),
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl web::Problem for PaymentError {
    fn status(&self) -> StatusCode {
        use PaymentError as E;
        match self {
            E::PaymentNotFound | E::DrawerNotFound | E::RefundNotFound | E::DepositNotFound => StatusCode::NOT_FOUND,
            E::RefundRequiresDifferentApprover | E::SignOffRequiresDifferentUser | E::DrawerNotYours => {
                StatusCode::FORBIDDEN
            }
            E::PaymentAlreadyReversed
            | E::DrawerAlreadyOpen
            | E::DrawerNotInThatState
            | E::RefundNotInThatState { .. }
            | E::PaymentFileDuplicate
            | E::NothingToDeposit => StatusCode::CONFLICT,
            E::Ledger(e) => web::Problem::status(e),
            E::Contact(e) => web::Problem::status(e),
            E::Notice(e) => web::Problem::status(e),
            E::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        use PaymentError as E;
        match self {
            E::TenderUnknown => "tender_unknown",
            E::ChannelUnknown => "channel_unknown",
            E::AmountInvalid { .. } => "amount_invalid",
            E::AmountMustBePositive { .. } => "amount_must_be_positive",
            E::CardNumberRefused { .. } => "card_number_refused",
            E::TextInvalid { .. } => "text_invalid",
            E::LastFourInvalid => "last_four_invalid",
            E::CheckNumberMissing => "check_number_missing",
            E::TokenMissing => "processor_token_missing",
            E::CardBrandMissing => "card_brand_missing",
            E::AccountUnknown => "account_unknown",
            E::AccountNotActive => "account_not_active",
            E::AccountIsCashOnly => "account_is_cash_only",
            E::DrawerRequired => "drawer_required",
            E::CurrencyMismatch => "currency_mismatch",
            E::PaymentNotFound => "payment_not_found",
            E::PaymentAlreadyReversed => "payment_already_reversed",
            E::TransferExceedsPayment => "transfer_exceeds_payment",
            E::TransferToSameAccount => "transfer_to_same_account",
            E::DrawerNotFound => "drawer_not_found",
            E::DrawerAlreadyOpen => "drawer_already_open",
            E::DrawerNotInThatState => "drawer_not_in_that_state",
            E::DrawerNotYours => "drawer_not_yours",
            E::SignOffRequiresDifferentUser => "sign_off_requires_different_user",
            E::StatusUnknown => "status_unknown",
            E::ReasonUnknown => "reason_unknown",
            E::RefundNotFound => "refund_not_found",
            E::RefundNotInThatState { .. } => "refund_not_in_that_state",
            E::RefundRequiresDifferentApprover => "refund_requires_different_approver",
            E::RefundExceedsCredit => "refund_exceeds_credit",
            E::IssueReferenceMissing => "issue_reference_missing",
            E::NothingToDeposit => "nothing_to_deposit",
            E::DepositNotFound => "bank_deposit_not_found",
            E::PaymentFileDuplicate => "payment_file_duplicate",
            E::PaymentFileInvalid { .. } => "payment_file_invalid",
            E::PaymentFileEmpty => "payment_file_empty",
            E::PaymentFileTooLarge => "payment_file_too_large",
            E::IdInvalid { .. } => "id_invalid",
            E::Ledger(e) => web::Problem::code(e),
            E::Contact(e) => web::Problem::code(e),
            E::Notice(e) => web::Problem::code(e),
            E::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use PaymentError as E;
        match self {
            E::AmountInvalid { field }
            | E::AmountMustBePositive { field }
            | E::CardNumberRefused { field }
            | E::TextInvalid { field }
            | E::IdInvalid { field } => Some(field),
            E::TenderUnknown | E::AccountIsCashOnly => Some("tender"),
            E::ChannelUnknown => Some("channel"),
            E::LastFourInvalid => Some("last_four"),
            E::CheckNumberMissing => Some("check_number"),
            E::TokenMissing => Some("processor_token"),
            E::CardBrandMissing => Some("card_brand"),
            E::AccountUnknown | E::AccountNotActive => Some("account_id"),
            E::CurrencyMismatch => Some("currency"),
            E::TransferExceedsPayment | E::RefundExceedsCredit => Some("amount"),
            E::TransferToSameAccount => Some("to_account_id"),
            E::ReasonUnknown => Some("reason"),
            E::IssueReferenceMissing => Some("reference"),
            E::StatusUnknown => Some("status"),
            E::Ledger(e) => web::Problem::field(e),
            E::Contact(e) => web::Problem::field(e),
            E::Notice(e) => web::Problem::field(e),
            _ => None,
        }
    }
}

/// The API answer for a refused payment file lists every bad line, not only the first.
pub fn to_api_error(error: PaymentError) -> web::ApiError {
    match error {
        PaymentError::PaymentFileInvalid { count, errors } => {
            let mut api = web::ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "payment_file_invalid",
                format!("the payment file has {count} bad lines; nothing was posted"),
            );
            api.errors = errors
                .into_iter()
                .map(|e| web::FieldError {
                    field: format!("line {}: {}", e.line, e.field),
                    code: e.code.to_string(),
                    message: e.message,
                })
                .collect();
            api
        }
        other => web::ApiError::from(other),
    }
}
