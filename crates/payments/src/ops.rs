//! The payment and drawer operations, called alike by HTTP handlers, the CLI and tests. Each
//! runs inside the caller's transaction, posts its one balanced journal entry through the ledger
//! and appends its audit record there, so a payment is all written or not at all.

use crate::PaymentError;
use crate::model::{DrawerCount, DrawerStatus, PayChannel, Tender, TenderDetail, drawer_number, payment_number};
use crate::store::{self, AccountFacts, DrawerClose, DrawerRow, PaymentFields, PaymentRow};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Currency, Money, Timestamp};
use ledger::{BusinessDate, EntryDraft, LedgerCode, LineDraft};
use serde_json::json;

pub(crate) async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: i64,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<(), PaymentError> {
    audit::append(tx, actor, AuditEvent { action, entity, entity_id: id.to_string(), detail }, now).await?;
    Ok(())
}

/// A payment to take, fully parsed.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub account_id: i64,
    pub amount: Money,
    pub tender: Tender,
    pub channel: PayChannel,
    pub detail: TenderDetail,
    pub memo: String,
    /// Whether to log a "payment taken" system contact on the customer's timeline.
    pub log_contact: bool,
}

/// What taking a payment did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TakenPayment {
    pub payment: PaymentRow,
    pub entry_id: i64,
    /// The account's receivable balance after the payment (negative is a credit).
    pub balance_minor: i64,
    /// The open items the payment settled: (item source reference, amount).
    pub settled: Vec<ledger::ops::Allocation>,
}

pub(crate) async fn live_account(tx: &mut Tx, account_id: i64) -> Result<(AccountFacts, Currency), PaymentError> {
    let account = store::account_facts(tx, account_id).await?.ok_or(PaymentError::AccountUnknown)?;
    if matches!(account.status.as_str(), "closed") {
        return Err(PaymentError::AccountNotActive);
    }
    let currency = Currency::parse(&account.currency).map_err(|_| db::Error::Malformed("currency".into()))?;
    Ok((account, currency))
}

/// Takes one payment: checks the account (cash-only refuses checks, cards and bank debits), the
/// drawer (counter cash and checks need the cashier's open drawer), writes the payment, posts
/// Dr undeposited funds / Cr the account's receivable, settles open items oldest-due first,
/// audits, and logs a system contact when asked.
pub async fn take_payment(
    tx: &mut Tx,
    actor: &Actor,
    new: NewPayment,
    now: Timestamp,
) -> Result<TakenPayment, PaymentError> {
    let (account, currency) = live_account(tx, new.account_id).await?;
    take_payment_for(tx, actor, account, currency, new, Read::InThisTransaction, now).await
}

/// [`take_payment`] for an account the caller has already read with [`live_account`], in this
/// transaction or (the API, off the single writer's path) on a reader before it, so it is not
/// read twice. Read before, the payment is written only if the account still takes it as the
/// writer sees it (checked in the statement that inserts it); if not, the account is read again
/// here and the payment taken or refused on what that read finds.
pub(crate) async fn take_payment_for(
    tx: &mut Tx,
    actor: &Actor,
    account: AccountFacts,
    currency: Currency,
    new: NewPayment,
    read: Read,
    now: Timestamp,
) -> Result<TakenPayment, PaymentError> {
    if let Some(taken) = take_checked(tx, actor, &account, currency, &new, read, now).await? {
        return Ok(taken);
    }
    let (account, currency) = live_account(tx, new.account_id).await?;
    let again = take_checked(tx, actor, &account, currency, &new, Read::InThisTransaction, now).await?;
    again.ok_or(PaymentError::AccountUnknown)
}

/// Where the account facts a payment is checked against were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    InThisTransaction,
    BeforeThisTransaction,
}

/// Whether the account, as `account` describes it, takes the payment.
fn check_payable(account: &AccountFacts, currency: Currency, new: &NewPayment) -> Result<(), PaymentError> {
    if account.account_id != new.account_id {
        return Err(PaymentError::AccountUnknown);
    }
    if new.amount.currency != currency {
        return Err(PaymentError::CurrencyMismatch);
    }
    if account.cash_only && !new.tender.allowed_when_cash_only() {
        return Err(PaymentError::AccountIsCashOnly);
    }
    Ok(())
}

/// Checks the payment against the account, then writes, posts, settles, audits and logs it.
/// `None` only when the account was read before this transaction and, as read or as the writer
/// sees it, does not take the payment (nothing written): the caller reads it again.
async fn take_checked(
    tx: &mut Tx,
    actor: &Actor,
    account: &AccountFacts,
    currency: Currency,
    new: &NewPayment,
    read: Read,
    now: Timestamp,
) -> Result<Option<TakenPayment>, PaymentError> {
    if let Err(refusal) = check_payable(account, currency, new) {
        // A refusal is only ever made on what the writer sees: facts read before may be stale.
        return match read {
            Read::InThisTransaction => Err(refusal),
            Read::BeforeThisTransaction => Ok(None),
        };
    }
    let drawer_id = match (new.channel, new.tender.is_paper(), actor.user_id()) {
        (PayChannel::Counter, true, Some(user_id)) => {
            Some(store::open_drawer_of(tx, user_id.get()).await?.ok_or(PaymentError::DrawerRequired)?.drawer_id)
        }
        (PayChannel::Counter, true, None) => return Err(PaymentError::DrawerRequired),
        _ => None,
    };
    let today = BusinessDate::of(now).to_string();
    let taken_by = actor.name();
    let fields = PaymentFields {
        account_id: account.account_id,
        customer_id: account.customer_id,
        amount_minor: new.amount.amount_minor,
        currency: currency.code(),
        tender: new.tender.code(),
        channel: new.channel.code(),
        check_number: new.detail.check_number.as_deref(),
        processor_token: new.detail.processor_token.as_deref(),
        card_brand: new.detail.card_brand.as_deref(),
        last_four: new.detail.last_four.as_deref(),
        memo: &new.memo,
        drawer_id,
        received_date: &today,
        taken_by: &taken_by,
        taken_by_user_id: actor.user_id().map(|u| u.get()),
    };
    let recheck = read == Read::BeforeThisTransaction;
    let allowed = new.tender.allowed_when_cash_only();
    let payment_id = match store::insert_payment(tx, &fields, recheck, allowed, now).await? {
        Some(id) => id,
        None if recheck => return Ok(None),
        None => return Err(PaymentError::AccountUnknown),
    };
    let number = payment_number(payment_id);
    let draft = EntryDraft::new(BusinessDate::of(now), "payment", number.clone())
        .memo(format!("{} payment {}", new.tender.label(), account.account_number))
        .line(LineDraft::debit(LedgerCode::UNDEPOSITED_FUNDS, None, new.amount))
        .line(LineDraft::credit(LedgerCode::RECEIVABLE, Some(account.account_id), new.amount));
    let posted = ledger::ops::post(tx, actor, &draft, now).await?;
    let (balance, settled) =
        ledger::ops::settle_with_balance(tx, account.account_id, currency, posted.entry_id, now).await?;
    let detail = json!({
        "payment_number": number,
        "account_id": account.account_id,
        "amount_minor": new.amount.amount_minor,
        "currency": currency.code(),
        "tender": new.tender.code(),
        "channel": new.channel.code(),
        "drawer_id": drawer_id,
        "entry_id": posted.entry_id,
    });
    record(tx, actor, "payment.taken", "payment", payment_id, detail, now).await?;
    if new.log_contact {
        let summary = format!("Payment {number} of {} by {} ({})", new.amount, new.tender.label(), new.channel.code());
        contacts::ops::log_system_contact(
            tx,
            account.customer_id,
            Some(account.account_id),
            "payment_taken",
            &summary,
            now,
        )
        .await?;
    }
    let payment = fields.inserted_row(payment_id, account, now);
    Ok(Some(TakenPayment { payment, entry_id: posted.entry_id, balance_minor: balance.amount_minor, settled }))
}

pub async fn get_payment(tx: &mut Tx, payment_id: i64) -> Result<PaymentRow, PaymentError> {
    store::find_payment(tx, payment_id).await?.ok_or(PaymentError::PaymentNotFound)
}

/// An account's payments, newest first (the account financial view shows these).
pub async fn payments_for_account(
    tx: &mut Tx,
    account_id: i64,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<PaymentRow>, PaymentError> {
    store::account_facts(tx, account_id).await?.ok_or(PaymentError::AccountUnknown)?;
    Ok(store::account_payments(tx, account_id, before_id.unwrap_or(i64::MAX), limit.clamp(1, 200)).await?)
}

/// Opens a drawer for the acting cashier with a counted float.
pub async fn open_drawer(tx: &mut Tx, actor: &Actor, float: Money, now: Timestamp) -> Result<DrawerRow, PaymentError> {
    let user_id = actor.user_id().ok_or(PaymentError::DrawerNotYours)?.get();
    if float.amount_minor < 0 {
        return Err(PaymentError::AmountMustBePositive { field: "float" });
    }
    if store::open_drawer_of(tx, user_id).await?.is_some() {
        return Err(PaymentError::DrawerAlreadyOpen);
    }
    let name = actor.name();
    let drawer_id = store::insert_drawer(tx, user_id, &name, float.currency.code(), float.amount_minor, now)
        .await
        .map_err(|e| if e.is_unique_violation() { PaymentError::DrawerAlreadyOpen } else { PaymentError::Db(e) })?;
    let detail = json!({ "drawer": drawer_number(drawer_id), "float_minor": float.amount_minor });
    record(tx, actor, "drawer.opened", "cash_drawer", drawer_id, detail, now).await?;
    store::find_drawer(tx, drawer_id).await?.ok_or(PaymentError::DrawerNotFound)
}

pub async fn get_drawer(tx: &mut Tx, drawer_id: i64) -> Result<DrawerRow, PaymentError> {
    store::find_drawer(tx, drawer_id).await?.ok_or(PaymentError::DrawerNotFound)
}

/// What the drawer should hold: the float plus cash taken; checks and money orders together.
pub async fn expected_in_drawer(tx: &mut Tx, drawer: &DrawerRow) -> Result<(i64, i64), PaymentError> {
    let mut cash = drawer.float_minor;
    let mut paper = 0;
    for (tender, total) in store::drawer_totals(tx, drawer.drawer_id).await? {
        match tender.as_str() {
            "cash" => cash += total,
            "check" | "money_order" => paper += total,
            _ => {}
        }
    }
    Ok((cash, paper))
}

/// Closes a drawer with what was counted and posts any over/short: a shortage is Dr cash over
/// and short / Cr undeposited funds, an overage the opposite, so undeposited funds hold what is
/// really going to the bank.
pub async fn close_drawer(
    tx: &mut Tx,
    actor: &Actor,
    drawer_id: i64,
    counted_cash: Money,
    counted_checks: Money,
    now: Timestamp,
) -> Result<DrawerRow, PaymentError> {
    let drawer = get_drawer(tx, drawer_id).await?;
    let status = DrawerStatus::parse(&drawer.status)?;
    if !status.can_become(DrawerStatus::Closed) {
        return Err(PaymentError::DrawerNotInThatState);
    }
    let is_cashier = actor.user_id().map(|u| u.get()) == Some(drawer.cashier_user_id);
    let is_supervisor = matches!(actor, Actor::User { role: kernel::Role::Supervisor, .. });
    if !is_cashier && !is_supervisor {
        return Err(PaymentError::DrawerNotYours);
    }
    if counted_cash.amount_minor < 0 || counted_checks.amount_minor < 0 {
        return Err(PaymentError::AmountMustBePositive { field: "counted_cash" });
    }
    let (expected_cash, expected_paper) = expected_in_drawer(tx, &drawer).await?;
    let count = DrawerCount {
        expected_cash_minor: expected_cash,
        expected_check_minor: expected_paper,
        counted_cash_minor: counted_cash.amount_minor,
        counted_check_minor: counted_checks.amount_minor,
    };
    let over_short = count.over_short_minor();
    let close = DrawerClose {
        counted_cash_minor: count.counted_cash_minor,
        counted_check_minor: count.counted_check_minor,
        expected_cash_minor: count.expected_cash_minor,
        expected_check_minor: count.expected_check_minor,
        over_short_minor: over_short,
    };
    if store::close_drawer(tx, drawer_id, &close, now).await? != 1 {
        return Err(PaymentError::DrawerNotInThatState);
    }
    let mut entry_id = None;
    if over_short != 0 {
        let currency = Currency::parse(&drawer.currency).map_err(|_| db::Error::Malformed("currency".into()))?;
        let amount = Money::new(over_short.abs(), currency);
        let (debit, credit) = match over_short < 0 {
            true => (LedgerCode::CASH_OVER_SHORT, LedgerCode::UNDEPOSITED_FUNDS),
            false => (LedgerCode::UNDEPOSITED_FUNDS, LedgerCode::CASH_OVER_SHORT),
        };
        let draft = EntryDraft::new(BusinessDate::of(now), "drawer", drawer_number(drawer_id))
            .memo(if over_short < 0 { "Drawer short" } else { "Drawer over" })
            .line(LineDraft::debit(debit, None, amount))
            .line(LineDraft::credit(credit, None, amount));
        entry_id = Some(ledger::ops::post(tx, actor, &draft, now).await?.entry_id);
    }
    let detail = json!({
        "drawer": drawer_number(drawer_id),
        "expected_cash_minor": expected_cash,
        "expected_check_minor": expected_paper,
        "counted_cash_minor": count.counted_cash_minor,
        "counted_check_minor": count.counted_check_minor,
        "over_short_minor": over_short,
        "entry_id": entry_id,
    });
    record(tx, actor, "drawer.closed", "cash_drawer", drawer_id, detail, now).await?;
    get_drawer(tx, drawer_id).await
}

/// A supervisor signs off a closed drawer; never the drawer's own cashier.
pub async fn sign_off_drawer(
    tx: &mut Tx,
    actor: &Actor,
    drawer_id: i64,
    now: Timestamp,
) -> Result<DrawerRow, PaymentError> {
    let drawer = get_drawer(tx, drawer_id).await?;
    if !DrawerStatus::parse(&drawer.status)?.can_become(DrawerStatus::SignedOff) {
        return Err(PaymentError::DrawerNotInThatState);
    }
    if actor.user_id().map(|u| u.get()) == Some(drawer.cashier_user_id) {
        return Err(PaymentError::SignOffRequiresDifferentUser);
    }
    if store::sign_off_drawer(tx, drawer_id, &actor.name(), now).await? != 1 {
        return Err(PaymentError::DrawerNotInThatState);
    }
    let detail = json!({ "drawer": drawer_number(drawer_id), "over_short_minor": drawer.over_short_minor });
    record(tx, actor, "drawer.signed_off", "cash_drawer", drawer_id, detail, now).await?;
    get_drawer(tx, drawer_id).await
}

pub async fn drawers(tx: &mut Tx, status: Option<DrawerStatus>, limit: i64) -> Result<Vec<DrawerRow>, PaymentError> {
    Ok(store::drawers(tx, status.map(DrawerStatus::code), limit.clamp(1, 500)).await?)
}

pub async fn my_open_drawer(tx: &mut Tx, actor: &Actor) -> Result<Option<DrawerRow>, PaymentError> {
    match actor.user_id() {
        Some(user_id) => Ok(store::open_drawer_of(tx, user_id.get()).await?),
        None => Ok(None),
    }
}
