//! The payments module's pure rules: tenders and channels, card data that must never be a card
//! number, the document numbers, and the state machines of drawers and refunds.

use crate::PaymentError;
use kernel::{Currency, Money};
use serde::{Deserialize, Serialize};

/// How the customer paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tender {
    Cash,
    Check,
    MoneyOrder,
    Card,
    Ach,
}

impl Tender {
    /// In the order of the cashier console's keys 1 to 5.
    pub const ALL: [Tender; 5] = [Tender::Cash, Tender::Check, Tender::MoneyOrder, Tender::Card, Tender::Ach];

    pub fn code(self) -> &'static str {
        match self {
            Tender::Cash => "cash",
            Tender::Check => "check",
            Tender::MoneyOrder => "money_order",
            Tender::Card => "card",
            Tender::Ach => "ach",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tender::Cash => "Cash",
            Tender::Check => "Check",
            Tender::MoneyOrder => "Money order",
            Tender::Card => "Card",
            Tender::Ach => "ACH",
        }
    }

    /// The console key (1 to 5) that picks this tender.
    pub fn key(self) -> usize {
        Tender::ALL.iter().position(|t| *t == self).map(|p| p + 1).unwrap_or(0)
    }

    pub fn parse(text: &str) -> Result<Tender, PaymentError> {
        let text = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Tender::ALL.into_iter().find(|t| t.code() == text).ok_or(PaymentError::TenderUnknown)
    }

    /// A cash-only account takes cash and money orders, never a check, card or bank debit.
    pub fn allowed_when_cash_only(self) -> bool {
        matches!(self, Tender::Cash | Tender::MoneyOrder)
    }

    /// Paper a drawer holds (and a cashier needs an open drawer to take at the counter).
    pub fn is_paper(self) -> bool {
        matches!(self, Tender::Cash | Tender::Check | Tender::MoneyOrder)
    }
}

/// Where the payment came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayChannel {
    Counter,
    Mail,
    Phone,
    Lockbox,
}

impl PayChannel {
    pub const ALL: [PayChannel; 4] = [PayChannel::Counter, PayChannel::Mail, PayChannel::Phone, PayChannel::Lockbox];

    pub fn code(self) -> &'static str {
        match self {
            PayChannel::Counter => "counter",
            PayChannel::Mail => "mail",
            PayChannel::Phone => "phone",
            PayChannel::Lockbox => "lockbox",
        }
    }

    pub fn parse(text: &str) -> Result<PayChannel, PaymentError> {
        let text = text.trim().to_ascii_lowercase();
        PayChannel::ALL.into_iter().find(|c| c.code() == text).ok_or(PaymentError::ChannelUnknown)
    }
}

/// True when `text` holds what could be a primary account number: 13 to 19 digits in a row
/// (spaces and dashes between them ignored). Such text is refused wherever card data may go,
/// whether or not the digits pass the Luhn check, because storing one by mistake is the harm.
pub fn looks_like_pan(text: &str) -> bool {
    let mut run = 0usize;
    for c in text.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 13 {
                return true;
            }
        } else if c != ' ' && c != '-' {
            run = 0;
        }
    }
    false
}

/// Optional short text (check number, brand, memo) without control characters or card numbers.
pub fn parse_short(text: Option<&str>, max: usize, field: &'static str) -> Result<Option<String>, PaymentError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if looks_like_pan(text) {
        return Err(PaymentError::CardNumberRefused { field });
    }
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(PaymentError::TextInvalid { field });
    }
    Ok(Some(text.to_string()))
}

/// What the tender carries: a check number, or a processor token with the last four digits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TenderDetail {
    pub check_number: Option<String>,
    pub processor_token: Option<String>,
    pub card_brand: Option<String>,
    pub last_four: Option<String>,
}

/// The tender's fields as sent, before parsing.
#[derive(Debug, Clone, Default)]
pub struct TenderInput<'a> {
    pub check_number: Option<&'a str>,
    pub processor_token: Option<&'a str>,
    pub card_brand: Option<&'a str>,
    pub last_four: Option<&'a str>,
}

impl TenderDetail {
    /// Checks that the tender has what it needs and nothing that looks like a card number.
    pub fn parse(tender: Tender, input: &TenderInput<'_>) -> Result<TenderDetail, PaymentError> {
        let check_number = parse_short(input.check_number, 20, "check_number")?;
        let processor_token = parse_short(input.processor_token, 120, "processor_token")?;
        let card_brand = parse_short(input.card_brand, 20, "card_brand")?;
        let last_four = match input.last_four.map(str::trim).filter(|t| !t.is_empty()) {
            Some(text) if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) => Some(text.to_string()),
            Some(text) if looks_like_pan(text) => return Err(PaymentError::CardNumberRefused { field: "last_four" }),
            Some(_) => return Err(PaymentError::LastFourInvalid),
            None => None,
        };
        match tender {
            Tender::Check if check_number.is_none() => return Err(PaymentError::CheckNumberMissing),
            Tender::Card | Tender::Ach if processor_token.is_none() => return Err(PaymentError::TokenMissing),
            Tender::Card | Tender::Ach if last_four.is_none() => return Err(PaymentError::LastFourInvalid),
            Tender::Card if card_brand.is_none() => return Err(PaymentError::CardBrandMissing),
            _ => {}
        }
        let detail = TenderDetail { check_number, processor_token, card_brand, last_four };
        Ok(match tender {
            Tender::Check => TenderDetail { check_number: detail.check_number, ..TenderDetail::default() },
            Tender::Card => TenderDetail { check_number: None, ..detail },
            Tender::Ach => TenderDetail { check_number: None, card_brand: None, ..detail },
            Tender::MoneyOrder => TenderDetail { check_number: detail.check_number, ..TenderDetail::default() },
            Tender::Cash => TenderDetail::default(),
        })
    }
}

/// A positive amount in the account's currency, from decimal text (`"12.30"`).
pub fn parse_amount(text: &str, currency: Currency, field: &'static str) -> Result<Money, PaymentError> {
    let amount = Money::parse(text, currency).map_err(|_| PaymentError::AmountInvalid { field })?;
    if amount.amount_minor <= 0 {
        return Err(PaymentError::AmountMustBePositive { field });
    }
    Ok(amount)
}

/// A positive amount given in minor units.
pub fn positive_minor(amount_minor: i64, field: &'static str) -> Result<i64, PaymentError> {
    if amount_minor <= 0 {
        return Err(PaymentError::AmountMustBePositive { field });
    }
    Ok(amount_minor)
}

pub fn payment_number(payment_id: i64) -> String {
    format!("PAY-{payment_id:07}")
}

pub fn receipt_number(payment_id: i64) -> String {
    format!("RCT-{payment_id:07}")
}

pub fn drawer_number(drawer_id: i64) -> String {
    format!("DRW-{drawer_id:06}")
}

pub fn refund_number(refund_id: i64) -> String {
    format!("RFD-{refund_id:06}")
}

pub fn transfer_number(transfer_id: i64) -> String {
    format!("TRF-{transfer_id:06}")
}

pub fn deposit_number(deposit_id: i64) -> String {
    format!("DEP-{deposit_id:06}")
}

/// A cash drawer: open → closed (counted) → signed_off (a supervisor, not its cashier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DrawerStatus {
    Open,
    Closed,
    SignedOff,
}

impl DrawerStatus {
    pub const ALL: [DrawerStatus; 3] = [DrawerStatus::Open, DrawerStatus::Closed, DrawerStatus::SignedOff];

    pub fn code(self) -> &'static str {
        match self {
            DrawerStatus::Open => "open",
            DrawerStatus::Closed => "closed",
            DrawerStatus::SignedOff => "signed_off",
        }
    }

    pub fn parse(text: &str) -> Result<DrawerStatus, PaymentError> {
        DrawerStatus::ALL.into_iter().find(|s| s.code() == text).ok_or(PaymentError::StatusUnknown)
    }

    pub fn can_become(self, next: DrawerStatus) -> bool {
        matches!(
            (self, next),
            (DrawerStatus::Open, DrawerStatus::Closed) | (DrawerStatus::Closed, DrawerStatus::SignedOff)
        )
    }
}

/// A refund of overpayment: requested → approved or rejected → (approved) issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Requested,
    Approved,
    Rejected,
    Issued,
}

/// What can be done to a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundAction {
    Approve,
    Reject,
    Issue,
}

impl RefundStatus {
    pub const ALL: [RefundStatus; 4] =
        [RefundStatus::Requested, RefundStatus::Approved, RefundStatus::Rejected, RefundStatus::Issued];

    pub fn code(self) -> &'static str {
        match self {
            RefundStatus::Requested => "requested",
            RefundStatus::Approved => "approved",
            RefundStatus::Rejected => "rejected",
            RefundStatus::Issued => "issued",
        }
    }

    pub fn parse(text: &str) -> Result<RefundStatus, PaymentError> {
        RefundStatus::ALL.into_iter().find(|s| s.code() == text.trim()).ok_or(PaymentError::StatusUnknown)
    }

    /// The one transition function: where `action` takes a refund in this state, if anywhere.
    pub fn after(self, action: RefundAction) -> Result<RefundStatus, PaymentError> {
        match (self, action) {
            (RefundStatus::Requested, RefundAction::Approve) => Ok(RefundStatus::Approved),
            (RefundStatus::Requested, RefundAction::Reject) => Ok(RefundStatus::Rejected),
            (RefundStatus::Approved, RefundAction::Issue) => Ok(RefundStatus::Issued),
            _ => Err(PaymentError::RefundNotInThatState { status: self.code() }),
        }
    }
}

/// Why a payment is reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReversalReason {
    /// Returned by the bank for insufficient funds: a fee, and it counts toward cash-only.
    Nsf,
    /// Returned for another reason (account closed, stopped): a fee, and it counts too.
    ReturnedCheck,
    /// Posted in error: no fee.
    Error,
}

impl ReversalReason {
    pub const ALL: [ReversalReason; 3] = [ReversalReason::Nsf, ReversalReason::ReturnedCheck, ReversalReason::Error];

    pub fn code(self) -> &'static str {
        match self {
            ReversalReason::Nsf => "nsf",
            ReversalReason::ReturnedCheck => "returned_check",
            ReversalReason::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Result<ReversalReason, PaymentError> {
        ReversalReason::ALL.into_iter().find(|r| r.code() == text.trim()).ok_or(PaymentError::ReasonUnknown)
    }

    pub fn charges_fee(self) -> bool {
        !matches!(self, ReversalReason::Error)
    }
}

/// Two returned payments within this many days make an account cash-only.
pub const CASH_ONLY_WINDOW_DAYS: i64 = 365;
pub const CASH_ONLY_AFTER_RETURNS: i64 = 2;

/// What a drawer's close found: expected against counted, per tender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrawerCount {
    pub expected_cash_minor: i64,
    pub expected_check_minor: i64,
    pub counted_cash_minor: i64,
    pub counted_check_minor: i64,
}

impl DrawerCount {
    /// Positive when the drawer holds more than it should.
    pub fn over_short_minor(&self) -> i64 {
        (self.counted_cash_minor - self.expected_cash_minor) + (self.counted_check_minor - self.expected_check_minor)
    }
}
