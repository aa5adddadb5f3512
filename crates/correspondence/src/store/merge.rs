//! The merge-data loader's read-only SQL: the customer, account, balance, latest bill, case and
//! agent facts that fill a template's fields.

use db::{Result, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerFacts {
    pub customer_id: i64,
    pub customer_number: String,
    pub display_name: String,
    pub preferred_language: String,
    pub preferred_channel: String,
    pub do_not_email: bool,
    pub merged_into: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AddressFacts {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountFacts {
    pub account_id: i64,
    pub account_number: String,
    pub currency: String,
    pub mailing_address_id: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BillFacts {
    pub bill_number: String,
    pub total_minor: i64,
    pub currency: String,
    pub due_date: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseFacts {
    pub case_id: i64,
    pub case_number: String,
    pub subject: String,
    pub customer_id: Option<i64>,
    pub account_id: Option<i64>,
}

pub async fn customer(tx: &mut Tx, customer_id: i64) -> Result<Option<CustomerFacts>> {
    db::fetch_optional!(
        tx,
        CustomerFacts,
        "select customer_id, customer_number, display_name, preferred_language, preferred_channel,
                do_not_email, merged_into
         from customer where customer_id = $1",
        customer_id
    )
}

pub async fn primary_email(tx: &mut Tx, customer_id: i64) -> Result<Option<String>> {
    db::scalar_optional!(
        tx,
        String,
        "select address from customer_email where customer_id = $1 order by is_primary desc, email_id limit 1",
        customer_id
    )
}

/// The account's mailing address if it names one, else the customer's first address.
pub async fn postal_address(tx: &mut Tx, customer_id: i64, address_id: Option<i64>) -> Result<Option<AddressFacts>> {
    db::fetch_optional!(
        tx,
        AddressFacts,
        "select line1, line2, city, region, postal_code, country from customer_address
         where customer_id = $1 order by case when address_id = $2 then 0 else 1 end, address_id limit 1",
        customer_id,
        address_id
    )
}

pub async fn account(tx: &mut Tx, customer_id: i64, account_id: i64) -> Result<Option<AccountFacts>> {
    db::fetch_optional!(
        tx,
        AccountFacts,
        "select account_id, account_number, currency, mailing_address_id from account
         where account_id = $1 and customer_id = $2",
        account_id,
        customer_id
    )
}

/// The customer's first account, for templates that name an account when the caller did not.
pub async fn first_account(tx: &mut Tx, customer_id: i64) -> Result<Option<AccountFacts>> {
    db::fetch_optional!(
        tx,
        AccountFacts,
        "select account_id, account_number, currency, mailing_address_id from account
         where customer_id = $1 order by account_id limit 1",
        customer_id
    )
}

/// The account's receivable balance: its subledger on ledger account 1100.
pub async fn balance_minor(tx: &mut Tx, account_id: i64, currency: &str) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "select cast(coalesce(sum(s.balance_minor), 0) as bigint) from subledger_balance s
         join ledger_account l on l.ledger_account_id = s.ledger_account_id
         where s.account_id = $1 and l.code = '1100' and s.currency = $2",
        account_id,
        currency
    )
}

pub async fn latest_bill(tx: &mut Tx, account_id: i64) -> Result<Option<BillFacts>> {
    db::fetch_optional!(
        tx,
        BillFacts,
        "select bill_number, total_minor, currency, due_date from bill where account_id = $1
         order by bill_date desc, bill_id desc limit 1",
        account_id
    )
}

pub async fn case(tx: &mut Tx, case_id: i64) -> Result<Option<CaseFacts>> {
    db::fetch_optional!(
        tx,
        CaseFacts,
        "select case_id, case_number, subject, customer_id, account_id from support_case where case_id = $1",
        case_id
    )
}

pub async fn agent_name(tx: &mut Tx, user_id: i64) -> Result<Option<String>> {
    db::scalar_optional!(tx, String, "select display_name from staff_user where user_id = $1", user_id)
}

/// The body of a case reply entry.
pub async fn case_entry_body(tx: &mut Tx, case_id: i64, entry_id: i64) -> Result<Option<String>> {
    db::scalar_optional!(
        tx,
        String,
        "select body from case_entry where case_id = $1 and entry_id = $2",
        case_id,
        entry_id
    )
}

/// Message-IDs of a case's thread, oldest first: the customer's (inbound) and ours (outbound).
pub async fn case_thread(tx: &mut Tx, case_id: i64) -> Result<(Vec<String>, Vec<String>)> {
    let inbound = db::fetch_all!(
        tx,
        (String,),
        "select message_id from inbound_message where case_id = $1 and message_id is not null
         order by received_at, inbound_message_id",
        case_id
    )?;
    let outbound = db::fetch_all!(
        tx,
        (String,),
        "select message_id from outbound_email where case_id = $1 order by email_id",
        case_id
    )?;
    Ok((inbound.into_iter().map(|r| r.0).collect(), outbound.into_iter().map(|r| r.0).collect()))
}

/// The id behind a customer, account or case number as people type them on the preview form.
pub async fn id_by_number(tx: &mut Tx, what: NumberOf, number: &str) -> Result<Option<i64>> {
    match what {
        NumberOf::Customer => {
            db::scalar_optional!(tx, i64, "select customer_id from customer where customer_number = $1", number)
        }
        NumberOf::Account => {
            db::scalar_optional!(tx, i64, "select account_id from account where account_number = $1", number)
        }
        NumberOf::Case => {
            db::scalar_optional!(tx, i64, "select case_id from support_case where case_number = $1", number)
        }
    }
}

/// Which kind of number [`id_by_number`] looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberOf {
    Customer,
    Account,
    Case,
}
