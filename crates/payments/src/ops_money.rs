//! The operations that correct or pay money back: reversals of returned payments (with the NSF
//! fee and the cash-only rule), transfers of misapplied payments, refunds of overpayment with a
//! supervisor's approval, bank deposits, and the approvals a supervisor has waiting.

use crate::PaymentError;
use crate::model::{
    CASH_ONLY_AFTER_RETURNS, CASH_ONLY_WINDOW_DAYS, RefundAction, RefundStatus, ReversalReason, deposit_number,
    payment_number, refund_number, transfer_number,
};
use crate::ops::{live_account, record};
use crate::store::{self, DrawerRow, PaymentRow};
use crate::store_more::{self, BankDepositRow, RefundRow};
use db::Tx;
use kernel::{Actor, Currency, Money, Timestamp};
use ledger::{BusinessDate, EntryDraft, LedgerCode, LineDraft};
use serde::Serialize;
use serde_json::json;

/// The NSF fee when no setting says otherwise: 25.00.
pub const DEFAULT_NSF_FEE_MINOR: i64 = 2_500;

fn currency_of(code: &str) -> Result<Currency, PaymentError> {
    Ok(Currency::parse(code).map_err(|_| db::Error::Malformed("currency".into()))?)
}

/// What a reversal did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reversal {
    pub reversal_id: i64,
    pub payment: PaymentRow,
    pub reversal_entry_id: i64,
    pub fee_minor: i64,
    /// Whether this reversal made the account cash-only.
    pub account_now_cash_only: bool,
    pub balance_minor: i64,
}

/// Reverses a payment (the ledger reopens the bills it settled). A returned check or NSF adds
/// the NSF fee as a new open item, and a second such return within twelve months makes the
/// account cash-only. A system contact goes on the customer's timeline.
pub async fn reverse_payment(
    tx: &mut Tx,
    actor: &Actor,
    payment_id: i64,
    reason: ReversalReason,
    now: Timestamp,
) -> Result<Reversal, PaymentError> {
    let payment = store::find_payment(tx, payment_id).await?.ok_or(PaymentError::PaymentNotFound)?;
    if payment.status != "posted" {
        return Err(PaymentError::PaymentAlreadyReversed);
    }
    let currency = currency_of(&payment.currency)?;
    let number = payment_number(payment_id);
    let entry = ledger::ops::entry_by_source(tx, "payment", &number).await?.ok_or(PaymentError::PaymentNotFound)?;
    let today = BusinessDate::of(now);
    let reversed = ledger::ops::reverse(tx, actor, entry.entry_id, today, now).await.map_err(|e| match e {
        ledger::LedgerError::AlreadyReversed => PaymentError::PaymentAlreadyReversed,
        other => PaymentError::Ledger(other),
    })?;
    if store::mark_payment_reversed(tx, payment_id).await? != 1 {
        return Err(PaymentError::PaymentAlreadyReversed);
    }
    let fee_minor = match reason.charges_fee() {
        true => store::setting(tx, "nsf_fee_minor").await?.unwrap_or(DEFAULT_NSF_FEE_MINOR).max(0),
        false => 0,
    };
    if fee_minor > 0 {
        let fee = Money::new(fee_minor, currency);
        let draft = EntryDraft::new(today, "nsf_fee", format!("NSF-{number}"))
            .memo(format!("Returned payment fee for {number}"))
            .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(payment.account_id), fee))
            .line(LineDraft::credit(LedgerCode::FEES_REVENUE, None, fee));
        let posted = ledger::ops::post(tx, actor, &draft, now).await?;
        let source = format!("NSF-{number}");
        ledger::ops::charge(tx, payment.account_id, posted.entry_id, "nsf_fee", &source, today, fee, now).await?;
    }
    let by = actor.name();
    let reversal_id = store::insert_reversal(
        tx,
        payment_id,
        payment.account_id,
        reason.code(),
        fee_minor,
        reversed.entry_id,
        &by,
        now,
    )
    .await
    .map_err(|e| if e.is_unique_violation() { PaymentError::PaymentAlreadyReversed } else { PaymentError::Db(e) })?;
    let since = now.minus_seconds(CASH_ONLY_WINDOW_DAYS * 86_400);
    let returns = store::returns_since(tx, payment.account_id, since).await?;
    let facts = store::account_facts(tx, payment.account_id).await?.ok_or(PaymentError::AccountUnknown)?;
    let account_now_cash_only = reason.charges_fee() && returns >= CASH_ONLY_AFTER_RETURNS && !facts.cash_only;
    if account_now_cash_only {
        store::set_cash_only(tx, payment.account_id, now).await?;
        let detail = json!({ "cash_only": true, "returned_payments_in_12_months": returns });
        record(tx, actor, "account.cash_only_set", "account", payment.account_id, detail, now).await?;
    }
    let detail = json!({
        "payment_number": number, "reason": reason.code(), "fee_minor": fee_minor,
        "reversal_entry_id": reversed.entry_id,
    });
    record(tx, actor, "payment.reversed", "payment", payment_id, detail, now).await?;
    let summary = format!("Payment {number} reversed ({}); fee {}", reason.code(), Money::new(fee_minor, currency));
    contacts::ops::log_system_contact(
        tx,
        payment.customer_id,
        Some(payment.account_id),
        "payment_reversed",
        &summary,
        now,
    )
    .await?;
    crate::notices::payment_returned_notice(tx, actor, &payment, reason, Money::new(fee_minor, currency), now).await?;
    let balance = ledger::ops::receivable_balance(tx, payment.account_id, currency).await?;
    let payment = store::find_payment(tx, payment_id).await?.ok_or(PaymentError::PaymentNotFound)?;
    Ok(Reversal {
        reversal_id,
        payment,
        reversal_entry_id: reversed.entry_id,
        fee_minor,
        account_now_cash_only,
        balance_minor: balance.amount_minor,
    })
}

/// What a transfer did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Transfer {
    pub transfer_id: i64,
    pub transfer_number: String,
    pub payment_id: i64,
    pub from_account_id: i64,
    pub to_account_id: i64,
    pub amount_minor: i64,
    pub entry_id: i64,
}

/// Moves (part of) a misapplied payment's credit to the right account: Dr receivable of the
/// wrong account / Cr receivable of the right one, then both are settled (the wrong account's
/// bills reopen, the right one's are paid).
pub async fn transfer_payment(
    tx: &mut Tx,
    actor: &Actor,
    payment_id: i64,
    to_account_id: i64,
    amount_minor: Option<i64>,
    memo: &str,
    now: Timestamp,
) -> Result<Transfer, PaymentError> {
    let payment = store::find_payment(tx, payment_id).await?.ok_or(PaymentError::PaymentNotFound)?;
    if payment.status != "posted" {
        return Err(PaymentError::PaymentAlreadyReversed);
    }
    if payment.account_id == to_account_id {
        return Err(PaymentError::TransferToSameAccount);
    }
    let (_, to_currency) = live_account(tx, to_account_id).await?;
    let currency = currency_of(&payment.currency)?;
    if to_currency != currency {
        return Err(PaymentError::CurrencyMismatch);
    }
    let left = payment.amount_minor - store::transferred_total(tx, payment_id).await?;
    let amount_minor = amount_minor.unwrap_or(left);
    if amount_minor <= 0 {
        return Err(PaymentError::AmountMustBePositive { field: "amount" });
    }
    if amount_minor > left {
        return Err(PaymentError::TransferExceedsPayment);
    }
    let by = actor.name();
    let transfer_id = store::insert_transfer(
        tx,
        payment_id,
        payment.account_id,
        to_account_id,
        amount_minor,
        currency.code(),
        memo,
        &by,
        now,
    )
    .await?;
    let number = transfer_number(transfer_id);
    let amount = Money::new(amount_minor, currency);
    let draft = EntryDraft::new(BusinessDate::of(now), "transfer", number.clone())
        .memo(format!("Transfer of {} to the right account", payment_number(payment_id)))
        .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(payment.account_id), amount))
        .line(LineDraft::credit(LedgerCode::RECEIVABLE, Some(to_account_id), amount));
    let posted = ledger::ops::post(tx, actor, &draft, now).await?;
    ledger::ops::settle(tx, payment.account_id, currency, posted.entry_id, now).await?;
    ledger::ops::settle(tx, to_account_id, currency, posted.entry_id, now).await?;
    let detail = json!({
        "transfer": number, "payment_id": payment_id, "from_account_id": payment.account_id,
        "to_account_id": to_account_id, "amount_minor": amount_minor, "entry_id": posted.entry_id,
    });
    record(tx, actor, "payment.transferred", "payment", payment_id, detail, now).await?;
    Ok(Transfer {
        transfer_id,
        transfer_number: number,
        payment_id,
        from_account_id: payment.account_id,
        to_account_id,
        amount_minor,
        entry_id: posted.entry_id,
    })
}

/// The credit an account holds that no requested refund has spoken for yet.
async fn free_credit(tx: &mut Tx, account_id: i64, currency: Currency) -> Result<i64, PaymentError> {
    let balance = ledger::ops::receivable_balance(tx, account_id, currency).await?.amount_minor;
    let credit = balance.saturating_neg().max(0);
    Ok(credit - store_more::pending_refund_total(tx, account_id).await?)
}

/// An agent asks to refund (part of) an account's credit balance.
pub async fn request_refund(
    tx: &mut Tx,
    actor: &Actor,
    account_id: i64,
    amount: Money,
    reason: &str,
    now: Timestamp,
) -> Result<RefundRow, PaymentError> {
    let user_id = actor.user_id().ok_or(PaymentError::RefundRequiresDifferentApprover)?.get();
    let (_, currency) = live_account(tx, account_id).await?;
    if amount.currency != currency {
        return Err(PaymentError::CurrencyMismatch);
    }
    if amount.amount_minor <= 0 {
        return Err(PaymentError::AmountMustBePositive { field: "amount" });
    }
    if amount.amount_minor > free_credit(tx, account_id, currency).await? {
        return Err(PaymentError::RefundExceedsCredit);
    }
    let by = actor.name();
    let refund_id =
        store_more::insert_refund(tx, account_id, amount.amount_minor, currency.code(), reason, &by, user_id, now)
            .await?;
    let detail =
        json!({ "refund": refund_number(refund_id), "account_id": account_id, "amount_minor": amount.amount_minor });
    record(tx, actor, "refund.requested", "refund", refund_id, detail, now).await?;
    get_refund(tx, refund_id).await
}

pub async fn get_refund(tx: &mut Tx, refund_id: i64) -> Result<RefundRow, PaymentError> {
    store_more::find_refund(tx, refund_id).await?.ok_or(PaymentError::RefundNotFound)
}

pub async fn refunds(tx: &mut Tx, status: Option<RefundStatus>, limit: i64) -> Result<Vec<RefundRow>, PaymentError> {
    Ok(store_more::refunds(tx, status.map(RefundStatus::code), limit.clamp(1, 500)).await?)
}

/// A supervisor who did not request it approves or rejects a refund. Approval posts Dr the
/// account's receivable / Cr refunds payable, taking the credit off the account so it cannot
/// also settle a new bill; the credit must still be there.
pub async fn decide_refund(
    tx: &mut Tx,
    actor: &Actor,
    refund_id: i64,
    action: RefundAction,
    note: &str,
    now: Timestamp,
) -> Result<RefundRow, PaymentError> {
    let refund = get_refund(tx, refund_id).await?;
    let from = RefundStatus::parse(&refund.status)?;
    let to = from.after(action)?;
    let user_id = actor.user_id().ok_or(PaymentError::RefundRequiresDifferentApprover)?.get();
    if user_id == refund.requested_by_user_id {
        return Err(PaymentError::RefundRequiresDifferentApprover);
    }
    if store_more::decide_refund(tx, refund_id, from.code(), to.code(), &actor.name(), user_id, note, now).await? != 1 {
        return Err(PaymentError::RefundNotInThatState { status: from.code() });
    }
    let currency = currency_of(&refund.currency)?;
    let mut entry_id = None;
    if to == RefundStatus::Approved {
        let balance = ledger::ops::receivable_balance(tx, refund.account_id, currency).await?.amount_minor;
        if refund.amount_minor > balance.saturating_neg() {
            return Err(PaymentError::RefundExceedsCredit);
        }
        let amount = Money::new(refund.amount_minor, currency);
        let draft = EntryDraft::new(BusinessDate::of(now), "refund", refund_number(refund_id))
            .memo("Refund of overpayment approved")
            .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(refund.account_id), amount))
            .line(LineDraft::credit(LedgerCode::REFUNDS_PAYABLE, None, amount));
        let posted = ledger::ops::post(tx, actor, &draft, now).await?;
        ledger::ops::settle(tx, refund.account_id, currency, posted.entry_id, now).await?;
        entry_id = Some(posted.entry_id);
    }
    let detail = json!({ "refund": refund_number(refund_id), "status": to.code(), "note": note, "entry_id": entry_id });
    record(tx, actor, &format!("refund.{}", to.code()), "refund", refund_id, detail, now).await?;
    get_refund(tx, refund_id).await
}

/// Pays an approved refund out: Dr refunds payable / Cr cash, with the check number or the card
/// refund reference.
pub async fn issue_refund(
    tx: &mut Tx,
    actor: &Actor,
    refund_id: i64,
    reference: &str,
    now: Timestamp,
) -> Result<RefundRow, PaymentError> {
    let refund = get_refund(tx, refund_id).await?;
    RefundStatus::parse(&refund.status)?.after(RefundAction::Issue)?;
    let reference =
        crate::model::parse_short(Some(reference), 60, "reference")?.ok_or(PaymentError::IssueReferenceMissing)?;
    if store_more::issue_refund(tx, refund_id, &reference, &actor.name(), now).await? != 1 {
        return Err(PaymentError::RefundNotInThatState { status: "approved" });
    }
    let currency = currency_of(&refund.currency)?;
    let amount = Money::new(refund.amount_minor, currency);
    let number = refund_number(refund_id);
    let draft = EntryDraft::new(BusinessDate::of(now), "refund", format!("{number}/issued"))
        .memo(format!("Refund paid: {reference}"))
        .line(LineDraft::debit(LedgerCode::REFUNDS_PAYABLE, None, amount))
        .line(LineDraft::credit(LedgerCode::CASH, None, amount));
    let posted = ledger::ops::post(tx, actor, &draft, now).await?;
    let detail = json!({ "refund": number, "reference": reference, "entry_id": posted.entry_id });
    record(tx, actor, "refund.issued", "refund", refund_id, detail, now).await?;
    get_refund(tx, refund_id).await
}

/// What waits for a supervisor: refunds requested and drawers closed but not signed off.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingApprovals {
    pub refunds: Vec<RefundRow>,
    pub drawers: Vec<DrawerRow>,
}

pub async fn pending_approvals(tx: &mut Tx) -> Result<PendingApprovals, PaymentError> {
    Ok(PendingApprovals {
        refunds: store_more::refunds(tx, Some("requested"), 200).await?,
        drawers: store::drawers(tx, Some("closed"), 200).await?,
    })
}

/// A deposit with its totals by tender.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Deposit {
    pub deposit: BankDepositRow,
    pub deposit_number: String,
    pub tenders: Vec<TenderTotal>,
    pub over_short_minor: i64,
    /// Payments counted into one of the deposit's drawers but reversed before the deposit: in
    /// the drawer's bag, not in the deposit; the clerk takes them out and returns them. The bag
    /// holds the deposit's drawer money plus these.
    pub pulled: Vec<TenderTotal>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TenderTotal {
    pub tender: String,
    pub count: i64,
    pub total_minor: i64,
}

/// Groups closed drawers and payments taken without a drawer (mail, phone, lockbox) that are not
/// yet deposited into one bank deposit: Dr cash / Cr undeposited funds for what goes to the bank
/// (payments plus each drawer's over/short). Each payment is deposited at most once.
pub async fn make_deposit(
    tx: &mut Tx,
    actor: &Actor,
    currency: Currency,
    now: Timestamp,
) -> Result<Deposit, PaymentError> {
    let drawers = store_more::undeposited_drawers(tx, currency.code()).await?;
    let tenders = store_more::deposit_tender_totals(tx, currency.code()).await?;
    let over_short: i64 = drawers.iter().map(|(_, o)| *o).sum();
    let payments_total: i64 = tenders.iter().map(|(_, _, t)| *t).sum();
    let payment_count: i64 = tenders.iter().map(|(_, c, _)| *c).sum();
    let total = payments_total + over_short;
    if total <= 0 && payment_count == 0 && drawers.is_empty() {
        return Err(PaymentError::NothingToDeposit);
    }
    let date = BusinessDate::of(now);
    let by = actor.name();
    let drawer_count = i64::try_from(drawers.len()).unwrap_or(i64::MAX);
    let deposit_id = store_more::insert_deposit(
        tx,
        &date.to_string(),
        total,
        currency.code(),
        payment_count,
        drawer_count,
        &by,
        now,
    )
    .await?;
    let (marked, _) = store_more::mark_deposited(tx, deposit_id, currency.code()).await?;
    if i64::try_from(marked).unwrap_or(-1) != payment_count {
        // Something changed between the totals and the marking: refuse rather than misstate.
        return Err(PaymentError::NothingToDeposit);
    }
    let number = deposit_number(deposit_id);
    if total > 0 {
        let amount = Money::new(total, currency);
        let draft = EntryDraft::new(date, "bank_deposit", number.clone())
            .memo("Bank deposit")
            .line(LineDraft::debit(LedgerCode::CASH, None, amount))
            .line(LineDraft::credit(LedgerCode::UNDEPOSITED_FUNDS, None, amount));
        ledger::ops::post(tx, actor, &draft, now).await?;
    }
    let detail = json!({ "deposit": number, "total_minor": total, "payments": payment_count, "drawers": drawer_count });
    record(tx, actor, "bank_deposit.made", "bank_deposit", deposit_id, detail, now).await?;
    get_deposit(tx, deposit_id).await
}

pub async fn get_deposit(tx: &mut Tx, deposit_id: i64) -> Result<Deposit, PaymentError> {
    let deposit = store_more::find_deposit(tx, deposit_id).await?.ok_or(PaymentError::DepositNotFound)?;
    let tenders = store_more::deposit_lines(tx, deposit_id)
        .await?
        .into_iter()
        .map(|(tender, count, total_minor)| TenderTotal { tender, count, total_minor })
        .collect::<Vec<_>>();
    let payments: i64 = tenders.iter().map(|t| t.total_minor).sum();
    let pulled = store_more::deposit_pulled_items(tx, deposit_id)
        .await?
        .into_iter()
        .map(|(tender, count, total_minor)| TenderTotal { tender, count, total_minor })
        .collect();
    Ok(Deposit {
        deposit_number: deposit_number(deposit_id),
        over_short_minor: deposit.total_minor - payments,
        deposit,
        tenders,
        pulled,
    })
}

pub async fn deposits(tx: &mut Tx, limit: i64) -> Result<Vec<BankDepositRow>, PaymentError> {
    Ok(store_more::deposits(tx, limit.clamp(1, 200)).await?)
}
