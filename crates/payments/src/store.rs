//! All of the payments module's SQL for payments, drawers, reversals, transfers and settings;
//! refunds, bank deposits and payment files have theirs in `store_more.rs`.

use crate::model::{payment_number, receipt_number};
use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

/// What a payment needs to know about the account it pays.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountFacts {
    pub account_id: i64,
    pub account_number: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub status: String,
    pub cash_only: bool,
    pub currency: String,
}

const SELECT_FACTS: &str = "select a.account_id, a.account_number, a.customer_id, c.display_name as customer_name, \
     a.status, a.cash_only, a.currency from account a join customer c on c.customer_id = a.customer_id";

pub async fn account_facts(tx: &mut Tx, account_id: i64) -> Result<Option<AccountFacts>> {
    let sql = format!("{SELECT_FACTS} where a.account_id = $1");
    db::fetch_optional!(tx, AccountFacts, sqlx::AssertSqlSafe(sql), account_id)
}

pub async fn account_facts_by_number(tx: &mut Tx, number: &str) -> Result<Option<AccountFacts>> {
    let sql = format!("{SELECT_FACTS} where a.account_number = $1");
    db::fetch_optional!(tx, AccountFacts, sqlx::AssertSqlSafe(sql), number)
}

/// A payment as stored, with its payment and receipt numbers.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PaymentRow {
    pub payment_id: i64,
    #[sqlx(skip)]
    pub payment_number: String,
    #[sqlx(skip)]
    pub receipt_number: String,
    pub account_id: i64,
    pub account_number: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub amount_minor: i64,
    pub currency: String,
    /// cash, check, money_order, card or ach
    pub tender: String,
    /// counter, mail, phone or lockbox
    pub channel: String,
    pub check_number: Option<String>,
    /// The processor's token for the card or bank account (never the number itself).
    pub processor_token: Option<String>,
    pub card_brand: Option<String>,
    pub last_four: Option<String>,
    pub memo: String,
    pub file_reference: Option<String>,
    pub drawer_id: Option<i64>,
    pub payment_file_id: Option<i64>,
    pub bank_deposit_id: Option<i64>,
    /// posted or reversed
    pub status: String,
    /// YYYY-MM-DD
    pub received_date: String,
    pub taken_by: String,
    /// Microseconds since the Unix epoch (UTC).
    pub created_at: i64,
}

impl PaymentRow {
    fn numbered(mut self) -> PaymentRow {
        self.payment_number = payment_number(self.payment_id);
        self.receipt_number = receipt_number(self.payment_id);
        self
    }
}

const SELECT_PAYMENTS: &str = "select p.payment_id, p.account_id, a.account_number, p.customer_id, \
     c.display_name as customer_name, p.amount_minor, p.currency, p.tender, p.channel, p.check_number, \
     p.processor_token, p.card_brand, p.last_four, p.memo, p.file_reference, p.drawer_id, p.payment_file_id, \
     p.bank_deposit_id, p.status, p.received_date, p.taken_by, p.created_at from payment p \
     join account a on a.account_id = p.account_id join customer c on c.customer_id = p.customer_id";

/// The columns of a new payment.
pub struct PaymentFields<'a> {
    pub account_id: i64,
    pub customer_id: i64,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub tender: &'a str,
    pub channel: &'a str,
    pub check_number: Option<&'a str>,
    pub processor_token: Option<&'a str>,
    pub card_brand: Option<&'a str>,
    pub last_four: Option<&'a str>,
    pub memo: &'a str,
    pub drawer_id: Option<i64>,
    pub received_date: &'a str,
    pub taken_by: &'a str,
    pub taken_by_user_id: Option<i64>,
}

/// Inserts the payment; answers its id. With `recheck` (the account was read before this
/// transaction) only if the account still takes it as this transaction sees it: not closed, in
/// the payment's currency, of the same customer, and not cash-only unless `cash_only_allowed`
/// (the tender is one a cash-only account may use). `None` when it does not, or when there is no
/// such account: nothing is written. One statement, so a payment whose account was read off the
/// writer costs the writer no second read.
pub async fn insert_payment(
    tx: &mut Tx,
    p: &PaymentFields<'_>,
    recheck: bool,
    cash_only_allowed: bool,
    now: Timestamp,
) -> Result<Option<i64>> {
    db::scalar_optional!(
        tx,
        i64,
        "insert into payment (account_id, customer_id, amount_minor, currency, tender, channel, check_number,
             processor_token, card_brand, last_four, memo, drawer_id, status, received_date, taken_by,
             taken_by_user_id, created_at)
         select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'posted', $13, $14, $15, $16
           from account a
          where a.account_id = $1
            and (not $17 or (a.customer_id = $2 and a.currency = $4 and a.status <> 'closed'
                             and (not a.cash_only or $18)))
         returning payment_id",
        p.account_id,
        p.customer_id,
        p.amount_minor,
        p.currency,
        p.tender,
        p.channel,
        p.check_number,
        p.processor_token,
        p.card_brand,
        p.last_four,
        p.memo,
        p.drawer_id,
        p.received_date,
        p.taken_by,
        p.taken_by_user_id,
        now.micros(),
        recheck,
        cash_only_allowed
    )
}

impl PaymentFields<'_> {
    /// The row as [`find_payment`] reads it back, for the payment just inserted with these
    /// fields: the caller answers without a second read.
    pub fn inserted_row(&self, payment_id: i64, facts: &AccountFacts, now: Timestamp) -> PaymentRow {
        let text = |v: Option<&str>| v.map(str::to_string);
        PaymentRow {
            payment_id,
            payment_number: String::new(),
            receipt_number: String::new(),
            account_id: self.account_id,
            account_number: facts.account_number.clone(),
            customer_id: self.customer_id,
            customer_name: facts.customer_name.clone(),
            amount_minor: self.amount_minor,
            currency: self.currency.to_string(),
            tender: self.tender.to_string(),
            channel: self.channel.to_string(),
            check_number: text(self.check_number),
            processor_token: text(self.processor_token),
            card_brand: text(self.card_brand),
            last_four: text(self.last_four),
            memo: self.memo.to_string(),
            file_reference: None,
            drawer_id: self.drawer_id,
            payment_file_id: None,
            bank_deposit_id: None,
            status: "posted".to_string(),
            received_date: self.received_date.to_string(),
            taken_by: self.taken_by.to_string(),
            created_at: now.micros(),
        }
        .numbered()
    }
}

pub async fn find_payment(tx: &mut Tx, payment_id: i64) -> Result<Option<PaymentRow>> {
    let sql = format!("{SELECT_PAYMENTS} where p.payment_id = $1");
    Ok(db::fetch_optional!(tx, PaymentRow, sqlx::AssertSqlSafe(sql), payment_id)?.map(PaymentRow::numbered))
}

/// An account's payments, newest first, older than `before_id`.
pub async fn account_payments(tx: &mut Tx, account_id: i64, before_id: i64, limit: i64) -> Result<Vec<PaymentRow>> {
    let sql =
        format!("{SELECT_PAYMENTS} where p.account_id = $1 and p.payment_id < $2 order by p.payment_id desc limit $3");
    let rows = db::fetch_all!(tx, PaymentRow, sqlx::AssertSqlSafe(sql), account_id, before_id, limit)?;
    Ok(rows.into_iter().map(PaymentRow::numbered).collect())
}

pub async fn drawer_payments(tx: &mut Tx, drawer_id: i64) -> Result<Vec<PaymentRow>> {
    let sql = format!("{SELECT_PAYMENTS} where p.drawer_id = $1 order by p.payment_id");
    let rows = db::fetch_all!(tx, PaymentRow, sqlx::AssertSqlSafe(sql), drawer_id)?;
    Ok(rows.into_iter().map(PaymentRow::numbered).collect())
}

pub async fn mark_payment_reversed(tx: &mut Tx, payment_id: i64) -> Result<u64> {
    db::execute!(tx, "update payment set status = 'reversed' where payment_id = $1 and status = 'posted'", payment_id)
}

/// A cash drawer.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DrawerRow {
    pub drawer_id: i64,
    pub cashier_user_id: i64,
    pub cashier_name: String,
    /// open, closed or signed_off
    pub status: String,
    pub currency: String,
    pub float_minor: i64,
    pub opened_at: i64,
    pub counted_cash_minor: Option<i64>,
    pub counted_check_minor: Option<i64>,
    pub expected_cash_minor: Option<i64>,
    pub expected_check_minor: Option<i64>,
    /// Counted minus expected: positive over, negative short.
    pub over_short_minor: Option<i64>,
    pub closed_at: Option<i64>,
    pub signed_off_by: Option<String>,
    pub signed_off_at: Option<i64>,
    pub bank_deposit_id: Option<i64>,
}

const SELECT_DRAWERS: &str = "select drawer_id, cashier_user_id, cashier_name, status, currency, float_minor, \
     opened_at, counted_cash_minor, counted_check_minor, expected_cash_minor, expected_check_minor, over_short_minor, \
     closed_at, signed_off_by, signed_off_at, bank_deposit_id from cash_drawer";

pub async fn insert_drawer(
    tx: &mut Tx,
    user_id: i64,
    name: &str,
    currency: &str,
    float_minor: i64,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into cash_drawer (cashier_user_id, cashier_name, status, currency, float_minor, opened_at)
         values ($1, $2, 'open', $3, $4, $5) returning drawer_id",
        user_id,
        name,
        currency,
        float_minor,
        now.micros()
    )
}

pub async fn find_drawer(tx: &mut Tx, drawer_id: i64) -> Result<Option<DrawerRow>> {
    let sql = format!("{SELECT_DRAWERS} where drawer_id = $1");
    db::fetch_optional!(tx, DrawerRow, sqlx::AssertSqlSafe(sql), drawer_id)
}

pub async fn open_drawer_of(tx: &mut Tx, user_id: i64) -> Result<Option<DrawerRow>> {
    let sql = format!("{SELECT_DRAWERS} where cashier_user_id = $1 and status = 'open'");
    db::fetch_optional!(tx, DrawerRow, sqlx::AssertSqlSafe(sql), user_id)
}

pub async fn drawers(tx: &mut Tx, status: Option<&str>, limit: i64) -> Result<Vec<DrawerRow>> {
    let sql = format!("{SELECT_DRAWERS} where ($1 is null or status = $1) order by drawer_id desc limit $2");
    db::fetch_all!(tx, DrawerRow, sqlx::AssertSqlSafe(sql), status, limit)
}

/// A drawer's posted payments by tender: (tender, total).
pub async fn drawer_totals(tx: &mut Tx, drawer_id: i64) -> Result<Vec<(String, i64)>> {
    db::fetch_all!(
        tx,
        (String, i64),
        "select tender, cast(sum(amount_minor) as bigint) from payment
         where drawer_id = $1 and status = 'posted' group by tender",
        drawer_id
    )
}

/// What a close writes.
pub struct DrawerClose {
    pub counted_cash_minor: i64,
    pub counted_check_minor: i64,
    pub expected_cash_minor: i64,
    pub expected_check_minor: i64,
    pub over_short_minor: i64,
}

pub async fn close_drawer(tx: &mut Tx, drawer_id: i64, c: &DrawerClose, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "update cash_drawer set status = 'closed', counted_cash_minor = $1, counted_check_minor = $2,
             expected_cash_minor = $3, expected_check_minor = $4, over_short_minor = $5, closed_at = $6
         where drawer_id = $7 and status = 'open'",
        c.counted_cash_minor,
        c.counted_check_minor,
        c.expected_cash_minor,
        c.expected_check_minor,
        c.over_short_minor,
        now.micros(),
        drawer_id
    )
}

pub async fn sign_off_drawer(tx: &mut Tx, drawer_id: i64, by: &str, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "update cash_drawer set status = 'signed_off', signed_off_by = $1, signed_off_at = $2
         where drawer_id = $3 and status = 'closed'",
        by,
        now.micros(),
        drawer_id
    )
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_reversal(
    tx: &mut Tx,
    payment_id: i64,
    account_id: i64,
    reason: &str,
    fee_minor: i64,
    entry_id: i64,
    by: &str,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into payment_reversal (payment_id, account_id, reason, fee_minor, reversal_entry_id, reversed_by,
             reversed_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning reversal_id",
        payment_id,
        account_id,
        reason,
        fee_minor,
        entry_id,
        by,
        now.micros()
    )
}

/// Returned payments (NSF and returned checks) of an account since `since`.
pub async fn returns_since(tx: &mut Tx, account_id: i64, since: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "select count(*) from payment_reversal where account_id = $1 and reason in ('nsf', 'returned_check')
         and reversed_at >= $2",
        account_id,
        since.micros()
    )
}

/// The one write this module makes to the customers' tables: a returned-payment history makes
/// the account cash-only (see DESIGN.md).
pub async fn set_cash_only(tx: &mut Tx, account_id: i64, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "update account set cash_only = $1, updated_at = $2 where account_id = $3",
        true,
        now.micros(),
        account_id
    )
}

pub async fn transferred_total(tx: &mut Tx, payment_id: i64) -> Result<i64> {
    Ok(db::scalar!(
        tx,
        Option<i64>,
        "select cast(sum(amount_minor) as bigint) from payment_transfer where payment_id = $1",
        payment_id
    )?
    .unwrap_or(0))
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_transfer(
    tx: &mut Tx,
    payment_id: i64,
    from_account_id: i64,
    to_account_id: i64,
    amount_minor: i64,
    currency: &str,
    memo: &str,
    by: &str,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into payment_transfer (payment_id, from_account_id, to_account_id, amount_minor, currency, memo,
             transferred_by, transferred_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning transfer_id",
        payment_id,
        from_account_id,
        to_account_id,
        amount_minor,
        currency,
        memo,
        by,
        now.micros()
    )
}

pub async fn setting(tx: &mut Tx, name: &str) -> Result<Option<i64>> {
    db::scalar_optional!(tx, i64, "select value_int from payment_setting where name = $1", name)
}
