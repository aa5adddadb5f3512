//! The pure rules of charges: codes and amounts parsed from input, the adjustment, deposit and
//! arrangement state machines (each an enum with one transition function), the late-fee
//! computation, and the splitting of arrears into instalments that sum exactly to the arrears.

use crate::ChargeError;
use kernel::{Currency, Money};
use ledger::BusinessDate;
use serde::{Deserialize, Serialize};

/// A code from an admin-editable list (fee types, adjustment reasons): 2 to 40 lower-case
/// letters, digits or underscores, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    pub fn parse(text: &str, field: &'static str) -> Result<Code, ChargeError> {
        let text = text.trim();
        let first_is_letter = text.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        let allowed = text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !(2..=40).contains(&text.len()) || !first_is_letter || !allowed {
            return Err(ChargeError::CodeInvalid { field });
        }
        Ok(Code(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A label of a code: 1 to 80 characters without control characters.
pub fn parse_label(text: &str) -> Result<String, ChargeError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 80 || text.chars().any(char::is_control) {
        return Err(ChargeError::LabelInvalid);
    }
    Ok(text.to_string())
}

/// A memo or note: at most 500 characters, no control characters other than line breaks.
pub fn parse_note(text: &str, field: &'static str) -> Result<String, ChargeError> {
    let text = text.trim();
    let bad_control = text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t');
    if text.chars().count() > 500 || bad_control {
        return Err(ChargeError::TextInvalid { field });
    }
    Ok(text.to_string())
}

/// How a refund was paid out: a check number or a card processor's refund reference, 1 to 60
/// characters. A run of 13 or more digits looks like a card number, which is never stored.
pub fn parse_reference(text: &str, field: &'static str) -> Result<String, ChargeError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ChargeError::IssueReferenceMissing);
    }
    let longest_digit_run = text.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    if text.chars().count() > 60 || text.chars().any(char::is_control) || longest_digit_run >= 13 {
        return Err(ChargeError::TextInvalid { field });
    }
    Ok(text.to_string())
}

/// A positive amount in the account's currency, from decimal text such as `25.00`.
pub fn parse_amount(text: &str, currency: Currency, field: &'static str) -> Result<Money, ChargeError> {
    let money = Money::parse(text, currency).map_err(|_| ChargeError::AmountInvalid { field })?;
    if money.amount_minor <= 0 {
        return Err(ChargeError::AmountInvalid { field });
    }
    Ok(money)
}

/// A positive id given in a body.
pub fn parse_id(id: i64, field: &'static str) -> Result<i64, ChargeError> {
    if id <= 0 {
        return Err(ChargeError::IdInvalid { field });
    }
    Ok(id)
}

pub fn parse_date(text: &str, field: &'static str) -> Result<BusinessDate, ChargeError> {
    BusinessDate::parse(text, field).map_err(|_| ChargeError::DateInvalid { field })
}

/// Which way an adjustment moves the balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Lowers what the customer owes: Dr adjustments 4950 / Cr receivable.
    Credit,
    /// Raises what the customer owes: Dr receivable / Cr adjustments 4950, with an open item.
    Debit,
}

impl Direction {
    pub fn code(self) -> &'static str {
        match self {
            Direction::Credit => "credit",
            Direction::Debit => "debit",
        }
    }

    pub fn parse(text: &str) -> Result<Direction, ChargeError> {
        match text.trim() {
            "credit" => Ok(Direction::Credit),
            "debit" => Ok(Direction::Debit),
            _ => Err(ChargeError::DirectionUnknown),
        }
    }
}

/// Where an adjustment stands. Below the approval limit it is `Posted` at once; above it, it
/// is `PendingApproval` and posts nothing until a different supervisor approves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentStatus {
    PendingApproval,
    Posted,
    Approved,
    Rejected,
}

/// What a supervisor decides on a pending adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl AdjustmentStatus {
    pub const ALL: [AdjustmentStatus; 4] = [
        AdjustmentStatus::PendingApproval,
        AdjustmentStatus::Posted,
        AdjustmentStatus::Approved,
        AdjustmentStatus::Rejected,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AdjustmentStatus::PendingApproval => "pending_approval",
            AdjustmentStatus::Posted => "posted",
            AdjustmentStatus::Approved => "approved",
            AdjustmentStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Result<AdjustmentStatus, ChargeError> {
        AdjustmentStatus::ALL.into_iter().find(|s| s.code() == text.trim()).ok_or(ChargeError::StatusUnknown)
    }

    /// The state a new adjustment starts in: an amount above the limit waits for approval.
    pub fn initial(amount_minor: i64, approval_limit_minor: i64) -> AdjustmentStatus {
        if amount_minor > approval_limit_minor { AdjustmentStatus::PendingApproval } else { AdjustmentStatus::Posted }
    }

    /// The one transition function: only a pending adjustment can be decided.
    pub fn decide(self, decision: Decision) -> Result<AdjustmentStatus, ChargeError> {
        match (self, decision) {
            (AdjustmentStatus::PendingApproval, Decision::Approve) => Ok(AdjustmentStatus::Approved),
            (AdjustmentStatus::PendingApproval, Decision::Reject) => Ok(AdjustmentStatus::Rejected),
            _ => Err(ChargeError::AdjustmentNotPending),
        }
    }

    /// Whether an adjustment in this state has posted its entry.
    pub fn has_posted(self) -> bool {
        matches!(self, AdjustmentStatus::Posted | AdjustmentStatus::Approved)
    }
}

/// Where a deposit stands: required → billed → held → applied | refunded; a refund above the
/// approval limit passes through `refund_pending` until a different supervisor decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DepositStatus {
    Required,
    Billed,
    Held,
    RefundPending,
    Applied,
    /// Refunded to refunds payable; waits to be paid out.
    Refunded,
    /// The refund was paid out (check or card refund), clearing refunds payable.
    RefundIssued,
}

/// What happens to a deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepositEvent {
    Bill,
    /// The customer's payments settled the billed deposit's open item.
    Paid,
    Apply,
    /// A refund at or below the approval limit: posts at once.
    Refund,
    /// A refund above the approval limit: waits for a supervisor.
    RequestRefund,
    ApproveRefund,
    RejectRefund,
    /// A refunded deposit paid out by check or card refund.
    IssueRefund,
}

impl DepositEvent {
    pub const ALL: [DepositEvent; 8] = [
        DepositEvent::Bill,
        DepositEvent::Paid,
        DepositEvent::Apply,
        DepositEvent::Refund,
        DepositEvent::RequestRefund,
        DepositEvent::ApproveRefund,
        DepositEvent::RejectRefund,
        DepositEvent::IssueRefund,
    ];

    /// How a refund of `amount_minor` starts: above the limit it waits for approval.
    pub fn refund(amount_minor: i64, approval_limit_minor: i64) -> DepositEvent {
        if amount_minor > approval_limit_minor { DepositEvent::RequestRefund } else { DepositEvent::Refund }
    }
}

impl DepositStatus {
    pub const ALL: [DepositStatus; 7] = [
        DepositStatus::Required,
        DepositStatus::Billed,
        DepositStatus::Held,
        DepositStatus::RefundPending,
        DepositStatus::Applied,
        DepositStatus::Refunded,
        DepositStatus::RefundIssued,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DepositStatus::Required => "required",
            DepositStatus::Billed => "billed",
            DepositStatus::Held => "held",
            DepositStatus::RefundPending => "refund_pending",
            DepositStatus::Applied => "applied",
            DepositStatus::Refunded => "refunded",
            DepositStatus::RefundIssued => "refund_issued",
        }
    }

    pub fn parse(text: &str) -> Result<DepositStatus, ChargeError> {
        DepositStatus::ALL.into_iter().find(|s| s.code() == text).ok_or(ChargeError::StatusUnknown)
    }

    pub fn next(self, event: DepositEvent) -> Result<DepositStatus, ChargeError> {
        use DepositEvent as E;
        use DepositStatus as S;
        match (self, event) {
            (S::Required, E::Bill) => Ok(S::Billed),
            (S::Billed, E::Paid) => Ok(S::Held),
            (S::Held, E::Apply) => Ok(S::Applied),
            (S::Held, E::Refund) => Ok(S::Refunded),
            (S::Held, E::RequestRefund) => Ok(S::RefundPending),
            (S::RefundPending, E::ApproveRefund) => Ok(S::Refunded),
            (S::RefundPending, E::RejectRefund) => Ok(S::Held),
            (S::Refunded, E::IssueRefund) => Ok(S::RefundIssued),
            (_, E::IssueRefund) => Err(ChargeError::DepositRefundNotToIssue),
            (_, E::ApproveRefund | E::RejectRefund) => Err(ChargeError::DepositRefundNotPending),
            (S::Billed, E::Apply | E::Refund | E::RequestRefund) => Err(ChargeError::DepositNotHeld),
            _ => Err(ChargeError::DepositStateDoesNotAllowThis),
        }
    }
}

/// How often instalments fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Weekly,
    Monthly,
}

impl Frequency {
    pub fn code(self) -> &'static str {
        match self {
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
        }
    }

    pub fn parse(text: &str) -> Result<Frequency, ChargeError> {
        match text.trim() {
            "weekly" => Ok(Frequency::Weekly),
            "monthly" => Ok(Frequency::Monthly),
            _ => Err(ChargeError::FrequencyUnknown),
        }
    }

    /// The due date of instalment `index` (0-based): weekly adds 7 days each; monthly keeps the
    /// day of the month, clamped to the month's last day (31 Jan → 28 Feb → 31 Mar).
    pub fn due_date(self, first: BusinessDate, index: u32) -> BusinessDate {
        match self {
            Frequency::Weekly => first.plus_days(7 * i64::from(index)),
            Frequency::Monthly => add_months(first, index),
        }
    }
}

fn add_months(first: BusinessDate, months: u32) -> BusinessDate {
    let date = first.date();
    let month_index = i64::from(u8::from(date.month())) - 1 + i64::from(months);
    let year = i32::try_from(i64::from(date.year()) + month_index.div_euclid(12)).unwrap_or(date.year());
    let month_number = u8::try_from(month_index.rem_euclid(12) + 1).unwrap_or(1);
    let month = time::Month::try_from(month_number).unwrap_or(time::Month::January);
    let day = date.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day).map(BusinessDate::from_date).unwrap_or(first)
}

/// Where a payment arrangement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArrangementStatus {
    Active,
    /// Kept: every instalment paid.
    Completed,
    /// An instalment fell due and was not paid.
    Broken,
    Cancelled,
}

impl ArrangementStatus {
    pub fn code(self) -> &'static str {
        match self {
            ArrangementStatus::Active => "active",
            ArrangementStatus::Completed => "completed",
            ArrangementStatus::Broken => "broken",
            ArrangementStatus::Cancelled => "cancelled",
        }
    }

    /// Only an active arrangement moves, to any of the other three.
    pub fn can_become(self, next: ArrangementStatus) -> bool {
        self == ArrangementStatus::Active && next != ArrangementStatus::Active
    }
}

/// Where one instalment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstalmentStatus {
    Due,
    Paid,
    Missed,
}

impl InstalmentStatus {
    pub fn code(self) -> &'static str {
        match self {
            InstalmentStatus::Due => "due",
            InstalmentStatus::Paid => "paid",
            InstalmentStatus::Missed => "missed",
        }
    }
}

/// The most instalments one arrangement may have.
pub const MAX_INSTALMENTS: u32 = 24;

/// Splits `total_minor` into `count` instalments of equal whole minor units, the remainder on
/// the last, so they sum exactly to the total.
pub fn split_instalments(total_minor: i64, count: u32) -> Result<Vec<i64>, ChargeError> {
    if !(1..=MAX_INSTALMENTS).contains(&count) {
        return Err(ChargeError::InstalmentCountInvalid);
    }
    let n = i64::from(count);
    let base = total_minor / n;
    if total_minor <= 0 || base == 0 {
        return Err(ChargeError::InstalmentCountInvalid);
    }
    let mut parts = vec![base; usize::try_from(count - 1).unwrap_or(0)];
    parts.push(total_minor - base * (n - 1));
    Ok(parts)
}

/// One instalment as the review sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instalment {
    pub due_date: BusinessDate,
    pub amount_minor: i64,
}

/// Judges an arrangement on `as_of` from the credits received since it started: instalments
/// are paid in order from the cumulative credits; one not covered whose due date has passed is
/// missed and breaks the arrangement; all covered completes it.
pub fn review(
    instalments: &[Instalment],
    credited_minor: i64,
    as_of: BusinessDate,
) -> (Vec<InstalmentStatus>, ArrangementStatus) {
    let mut cumulative: i64 = 0;
    let mut statuses = Vec::with_capacity(instalments.len());
    let mut broken = false;
    for instalment in instalments {
        cumulative = cumulative.saturating_add(instalment.amount_minor);
        let status = if credited_minor >= cumulative {
            InstalmentStatus::Paid
        } else if instalment.due_date < as_of {
            broken = true;
            InstalmentStatus::Missed
        } else {
            InstalmentStatus::Due
        };
        statuses.push(status);
    }
    let overall = if broken {
        ArrangementStatus::Broken
    } else if statuses.iter().all(|s| *s == InstalmentStatus::Paid) {
        ArrangementStatus::Completed
    } else {
        ArrangementStatus::Active
    };
    (statuses, overall)
}

/// The late-fee policy: a percentage of the overdue amount (in basis points, 150 = 1.5 %),
/// rounded half up to the minor unit, never less than the minimum; set the percentage to 0 for
/// a flat fee of the minimum. Charged once per open item more than the grace period past due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LateFeePolicy {
    pub percent_basis_points: i64,
    pub minimum_minor: i64,
    pub grace_period_days: i64,
}

impl LateFeePolicy {
    pub fn fee_minor(&self, overdue_minor: i64) -> i64 {
        let scaled = i128::from(overdue_minor.max(0)) * i128::from(self.percent_basis_points.max(0));
        let rounded = (scaled + 5_000) / 10_000;
        i64::try_from(rounded).unwrap_or(i64::MAX).max(self.minimum_minor)
    }

    /// Whether an item due on `due_date` is late on `as_of`: more than the grace period past due.
    pub fn is_late(&self, due_date: BusinessDate, as_of: BusinessDate) -> bool {
        due_date.days_until(as_of) > self.grace_period_days
    }

    /// The last due date that is late on `as_of`.
    pub fn latest_late_due_date(&self, as_of: BusinessDate) -> BusinessDate {
        as_of.plus_days(-(self.grace_period_days + 1))
    }
}

/// The human number of a charges document, the journal's source reference.
pub fn document_ref(prefix: &str, id: i64) -> String {
    format!("{prefix}-{id:07}")
}
