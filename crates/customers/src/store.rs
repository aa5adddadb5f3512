//! All of the customers module's SQL (search has its own file, `search.rs`).

use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CustomerRow {
    pub customer_id: i64,
    pub customer_number: String,
    pub kind: String,
    pub display_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub business_name: Option<String>,
    pub contact_person: Option<String>,
    pub preferred_language: String,
    pub preferred_channel: String,
    pub do_not_call: bool,
    pub do_not_email: bool,
    pub do_not_mail: bool,
    pub merged_into: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! select_customers {
    ($tail:literal) => {
        concat!(
            "select customer_id, customer_number, kind, display_name, first_name, last_name, ",
            "business_name, contact_person, preferred_language, preferred_channel, do_not_call, ",
            "do_not_email, do_not_mail, merged_into, created_at, updated_at from customer ",
            $tail
        )
    };
}

pub struct CustomerFields<'a> {
    pub kind: &'a str,
    pub display_name: &'a str,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub business_name: Option<&'a str>,
    pub contact_person: Option<&'a str>,
    pub preferred_language: &'a str,
    pub preferred_channel: &'a str,
    pub do_not_call: bool,
    pub do_not_email: bool,
    pub do_not_mail: bool,
}

/// Inserts a customer and gives it its public number in the same transaction.
pub async fn insert_customer(tx: &mut Tx, c: &CustomerFields<'_>, now: Timestamp) -> Result<i64> {
    let id = db::scalar!(
        tx,
        i64,
        "insert into customer (customer_number, kind, display_name, first_name, last_name, business_name,
                               contact_person, preferred_language, preferred_channel, do_not_call,
                               do_not_email, do_not_mail, created_at, updated_at)
         values ($13, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
         returning customer_id",
        c.kind,
        c.display_name,
        c.first_name,
        c.last_name,
        c.business_name,
        c.contact_person,
        c.preferred_language,
        c.preferred_channel,
        c.do_not_call,
        c.do_not_email,
        c.do_not_mail,
        now.micros(),
        format!("pending-{}", db::random_token(8))
    )?;
    db::execute!(
        tx,
        "update customer set customer_number = $1 where customer_id = $2",
        crate::model::customer_number(id),
        id
    )?;
    Ok(id)
}

pub async fn update_customer(tx: &mut Tx, id: i64, c: &CustomerFields<'_>, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update customer set kind = $1, display_name = $2, first_name = $3, last_name = $4,
                business_name = $5, contact_person = $6, preferred_language = $7,
                preferred_channel = $8, do_not_call = $9, do_not_email = $10, do_not_mail = $11,
                updated_at = $12
         where customer_id = $13",
        c.kind,
        c.display_name,
        c.first_name,
        c.last_name,
        c.business_name,
        c.contact_person,
        c.preferred_language,
        c.preferred_channel,
        c.do_not_call,
        c.do_not_email,
        c.do_not_mail,
        now.micros(),
        id
    )?;
    Ok(())
}

pub async fn find_customer(tx: &mut Tx, id: i64) -> Result<Option<CustomerRow>> {
    db::fetch_optional!(tx, CustomerRow, select_customers!("where customer_id = $1"), id)
}

/// By number, including numbers of customers merged away.
pub async fn find_customer_by_number(tx: &mut Tx, number: &str) -> Result<Option<CustomerRow>> {
    let direct = db::fetch_optional!(tx, CustomerRow, select_customers!("where customer_number = $1"), number)?;
    if let Some(customer) = direct {
        return match customer.merged_into {
            Some(survivor) => find_customer(tx, survivor).await,
            None => Ok(Some(customer)),
        };
    }
    let survivor = db::scalar_optional!(
        tx,
        i64,
        "select customer_id from customer_former_number where customer_number = $1",
        number
    )?;
    match survivor {
        Some(id) => find_customer(tx, id).await,
        None => Ok(None),
    }
}

pub async fn list_customers(tx: &mut Tx, after: i64, limit: i64) -> Result<Vec<CustomerRow>> {
    db::fetch_all!(
        tx,
        CustomerRow,
        select_customers!("where customer_id > $1 and merged_into is null order by customer_id limit $2"),
        after,
        limit
    )
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PhoneRow {
    pub phone_id: i64,
    pub label: String,
    pub e164: String,
    pub is_primary: bool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EmailRow {
    pub email_id: i64,
    pub label: String,
    pub address: String,
    pub is_primary: bool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AddressRow {
    pub address_id: i64,
    pub label: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
}

impl AddressRow {
    pub fn one_line(&self) -> String {
        let mut parts = vec![self.line1.clone()];
        parts.extend(self.line2.clone());
        parts.push(self.city.clone());
        parts.extend(self.region.clone());
        parts.push(self.postal_code.clone());
        parts.join(", ")
    }
}

pub async fn insert_phone(tx: &mut Tx, customer_id: i64, label: &str, e164: &str, primary: bool) -> Result<()> {
    db::execute!(
        tx,
        "insert into customer_phone (customer_id, label, e164, is_primary) values ($1, $2, $3, $4)",
        customer_id,
        label,
        e164,
        primary
    )?;
    Ok(())
}

pub async fn insert_email(tx: &mut Tx, customer_id: i64, label: &str, address: &str, primary: bool) -> Result<()> {
    db::execute!(
        tx,
        "insert into customer_email (customer_id, label, address, is_primary) values ($1, $2, $3, $4)",
        customer_id,
        label,
        address,
        primary
    )?;
    Ok(())
}

pub async fn insert_address(
    tx: &mut Tx,
    customer_id: i64,
    label: &str,
    a: &crate::model::PostalAddress,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into customer_address (customer_id, label, line1, line2, city, region, postal_code, country)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning address_id",
        customer_id,
        label,
        &a.line1,
        &a.line2,
        &a.city,
        &a.region,
        &a.postal_code,
        &a.country
    )
}

pub async fn phones_of(tx: &mut Tx, customer_id: i64) -> Result<Vec<PhoneRow>> {
    db::fetch_all!(
        tx,
        PhoneRow,
        "select phone_id, label, e164, is_primary from customer_phone where customer_id = $1
         order by is_primary desc, phone_id",
        customer_id
    )
}

pub async fn emails_of(tx: &mut Tx, customer_id: i64) -> Result<Vec<EmailRow>> {
    db::fetch_all!(
        tx,
        EmailRow,
        "select email_id, label, address, is_primary from customer_email where customer_id = $1
         order by is_primary desc, email_id",
        customer_id
    )
}

pub async fn addresses_of(tx: &mut Tx, customer_id: i64) -> Result<Vec<AddressRow>> {
    db::fetch_all!(
        tx,
        AddressRow,
        "select address_id, label, line1, line2, city, region, postal_code, country from customer_address
         where customer_id = $1 order by address_id",
        customer_id
    )
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AccountRow {
    pub account_id: i64,
    pub account_number: String,
    pub customer_id: i64,
    pub status: String,
    pub bill_cycle: i32,
    pub collection_class: String,
    pub credit_rating: String,
    pub cash_only: bool,
    pub paperless: bool,
    pub currency: String,
    pub mailing_address_id: Option<i64>,
    pub opened_at: i64,
}

macro_rules! select_accounts {
    ($tail:literal) => {
        concat!(
            "select account_id, account_number, customer_id, status, bill_cycle, collection_class, ",
            "credit_rating, cash_only, paperless, currency, mailing_address_id, opened_at from account ",
            $tail
        )
    };
}

pub struct AccountFields<'a> {
    pub customer_id: i64,
    pub status: &'a str,
    pub bill_cycle: i32,
    pub collection_class: &'a str,
    pub credit_rating: &'a str,
    pub cash_only: bool,
    pub paperless: bool,
    pub currency: &'a str,
    pub mailing_address_id: Option<i64>,
}

pub async fn insert_account(tx: &mut Tx, a: &AccountFields<'_>, now: Timestamp) -> Result<i64> {
    let id = db::scalar!(
        tx,
        i64,
        "insert into account (account_number, customer_id, status, bill_cycle, collection_class, credit_rating,
                              cash_only, paperless, currency, mailing_address_id, opened_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) returning account_id",
        format!("pending-{}", db::random_token(8)),
        a.customer_id,
        a.status,
        a.bill_cycle,
        a.collection_class,
        a.credit_rating,
        a.cash_only,
        a.paperless,
        a.currency,
        a.mailing_address_id,
        now.micros()
    )?;
    let number = crate::model::AccountNumber::for_key(id);
    db::execute!(tx, "update account set account_number = $1 where account_id = $2", number.as_str(), id)?;
    Ok(id)
}

pub async fn find_account(tx: &mut Tx, id: i64) -> Result<Option<AccountRow>> {
    db::fetch_optional!(tx, AccountRow, select_accounts!("where account_id = $1"), id)
}

pub async fn find_account_by_number(tx: &mut Tx, number: &str) -> Result<Option<AccountRow>> {
    db::fetch_optional!(tx, AccountRow, select_accounts!("where account_number = $1"), number)
}

pub async fn accounts_of(tx: &mut Tx, customer_id: i64) -> Result<Vec<AccountRow>> {
    db::fetch_all!(tx, AccountRow, select_accounts!("where customer_id = $1 order by account_id"), customer_id)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PremiseRow {
    pub premise_id: i64,
    pub premise_type: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
}

pub async fn insert_premise(tx: &mut Tx, kind: &str, a: &crate::model::PostalAddress, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into premise (premise_type, line1, line2, city, region, postal_code, country, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning premise_id",
        kind,
        &a.line1,
        &a.line2,
        &a.city,
        &a.region,
        &a.postal_code,
        &a.country,
        now.micros()
    )
}

pub async fn find_premise(tx: &mut Tx, id: i64) -> Result<Option<PremiseRow>> {
    db::fetch_optional!(
        tx,
        PremiseRow,
        "select premise_id, premise_type, line1, line2, city, region, postal_code, country from premise
         where premise_id = $1",
        id
    )
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MeterRow {
    pub meter_id: i64,
    pub meter_number: String,
    pub premise_id: i64,
    pub service_type: String,
    pub installed_on: String,
    pub removed_on: Option<String>,
}

pub async fn insert_meter(
    tx: &mut Tx,
    premise_id: i64,
    number: &str,
    service: &str,
    installed_on: &str,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into meter (meter_number, premise_id, service_type, installed_on) values ($1, $2, $3, $4)
         returning meter_id",
        number,
        premise_id,
        service,
        installed_on
    )
}

pub async fn meter_number_taken(tx: &mut Tx, number: &str) -> Result<bool> {
    let found = db::scalar_optional!(tx, i64, "select meter_id from meter where meter_number = $1", number)?;
    Ok(found.is_some())
}

pub async fn meters_of(tx: &mut Tx, premise_id: i64) -> Result<Vec<MeterRow>> {
    db::fetch_all!(
        tx,
        MeterRow,
        "select meter_id, meter_number, premise_id, service_type, installed_on, removed_on from meter
         where premise_id = $1 order by meter_id",
        premise_id
    )
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AgreementRow {
    pub agreement_id: i64,
    pub account_id: i64,
    pub premise_id: i64,
    pub service_type: String,
    pub rate_code: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub status: String,
}

macro_rules! select_agreements {
    ($tail:literal) => {
        concat!(
            "select a.agreement_id, a.account_id, a.premise_id, a.service_type, a.rate_code, a.start_date, ",
            "a.end_date, a.status from service_agreement a ",
            $tail
        )
    };
}

impl AgreementRow {
    pub fn status_label(&self) -> String {
        self.status.replace('_', " ")
    }

    /// The moves the state machine allows from here, as (status code, button label).
    pub fn next_statuses(&self) -> Vec<(&'static str, &'static str)> {
        use crate::model::AgreementStatus as S;
        let Some(current) = S::parse(&self.status) else { return Vec::new() };
        let label = |s: S| match s {
            S::Active => {
                if current == S::PendingStop {
                    "Keep service"
                } else {
                    "Start service"
                }
            }
            S::PendingStop => "Request stop",
            S::Stopped => "Stop service",
            S::Cancelled => "Cancel",
            S::PendingStart => "Pending start",
        };
        S::ALL.into_iter().filter(|s| current.can_become(*s)).map(|s| (s.code(), label(s))).collect()
    }
}

pub struct AgreementFields<'a> {
    pub account_id: i64,
    pub premise_id: i64,
    pub service_type: &'a str,
    pub rate_code: &'a str,
    pub start_date: &'a str,
    pub end_date: Option<&'a str>,
}

pub async fn insert_agreement(tx: &mut Tx, a: &AgreementFields<'_>, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into service_agreement (account_id, premise_id, service_type, rate_code, start_date, end_date,
                                        status, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, 'pending_start', $7, $7) returning agreement_id",
        a.account_id,
        a.premise_id,
        a.service_type,
        a.rate_code,
        a.start_date,
        a.end_date,
        now.micros()
    )
}

pub async fn find_agreement(tx: &mut Tx, id: i64) -> Result<Option<AgreementRow>> {
    db::fetch_optional!(tx, AgreementRow, select_agreements!("where a.agreement_id = $1"), id)
}

pub async fn agreements_of_customer(tx: &mut Tx, customer_id: i64) -> Result<Vec<AgreementRow>> {
    db::fetch_all!(
        tx,
        AgreementRow,
        select_agreements!(
            "join account c on c.account_id = a.account_id where c.customer_id = $1 order by a.agreement_id"
        ),
        customer_id
    )
}

pub async fn set_agreement_status(
    tx: &mut Tx,
    id: i64,
    status: &str,
    end_date: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    db::execute!(
        tx,
        "update service_agreement set status = $1, end_date = coalesce($2, end_date), updated_at = $3
         where agreement_id = $4",
        status,
        end_date,
        now.micros(),
        id
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AlertRow {
    pub alert_id: i64,
    pub customer_id: i64,
    pub kind: String,
    pub message: String,
    pub created_at: i64,
    pub created_by: String,
}

impl AlertRow {
    pub fn kind_label(&self) -> String {
        self.kind.replace('_', " ")
    }
}

pub async fn insert_alert(
    tx: &mut Tx,
    customer_id: i64,
    kind: &str,
    message: &str,
    by: &str,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into customer_alert (customer_id, kind, message, created_at, created_by)
         values ($1, $2, $3, $4, $5) returning alert_id",
        customer_id,
        kind,
        message,
        now.micros(),
        by
    )
}

pub async fn active_alerts(tx: &mut Tx, customer_id: i64) -> Result<Vec<AlertRow>> {
    db::fetch_all!(
        tx,
        AlertRow,
        "select alert_id, customer_id, kind, message, created_at, created_by from customer_alert
         where customer_id = $1 and cleared_at is null order by alert_id",
        customer_id
    )
}

pub async fn clear_alert(tx: &mut Tx, customer_id: i64, alert_id: i64, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "update customer_alert set cleared_at = $1
         where alert_id = $2 and customer_id = $3 and cleared_at is null",
        now.micros(),
        alert_id,
        customer_id
    )
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct NoteRow {
    pub note_id: i64,
    pub body: String,
    pub author: String,
    pub created_at: i64,
}

pub async fn insert_note(tx: &mut Tx, customer_id: i64, body: &str, author: &str, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into customer_note (customer_id, body, author, created_at) values ($1, $2, $3, $4)
         returning note_id",
        customer_id,
        body,
        author,
        now.micros()
    )
}

pub async fn notes_of(tx: &mut Tx, customer_id: i64, limit: i64) -> Result<Vec<NoteRow>> {
    db::fetch_all!(
        tx,
        NoteRow,
        "select note_id, body, author, created_at from customer_note where customer_id = $1
         order by note_id desc limit $2",
        customer_id,
        limit
    )
}

/// Other live customers sharing a phone, an email, or the same name at the same postal code.
pub async fn duplicates_of(tx: &mut Tx, customer_id: i64) -> Result<Vec<(i64, String)>> {
    db::fetch_all!(
        tx,
        (i64, String),
        "select distinct c.customer_id, 'phone' from customer_phone p
           join customer_phone o on o.e164 = p.e164 and o.customer_id <> p.customer_id
           join customer c on c.customer_id = o.customer_id and c.merged_into is null
          where p.customer_id = $1
         union
         select distinct c.customer_id, 'email' from customer_email e
           join customer_email o on o.address = e.address and o.customer_id <> e.customer_id
           join customer c on c.customer_id = o.customer_id and c.merged_into is null
          where e.customer_id = $1
         union
         select distinct c.customer_id, 'name_and_address' from customer me
           join customer_address ma on ma.customer_id = me.customer_id
           join customer c on lower(c.display_name) = lower(me.display_name) and c.customer_id <> me.customer_id
                           and c.merged_into is null
           join customer_address ca on ca.customer_id = c.customer_id and ca.postal_code = ma.postal_code
                                    and lower(ca.line1) = lower(ma.line1)
          where me.customer_id = $1
         order by 1",
        customer_id
    )
}

/// Moves everything of `from` to `to`, marks `from` merged and keeps its number findable.
pub async fn merge(tx: &mut Tx, from: &CustomerRow, to: i64, now: Timestamp) -> Result<()> {
    let id = from.customer_id;
    db::execute!(tx, "update account set customer_id = $1 where customer_id = $2", to, id)?;
    db::execute!(tx, "update customer_phone set customer_id = $1, is_primary = false where customer_id = $2", to, id)?;
    db::execute!(tx, "update customer_email set customer_id = $1, is_primary = false where customer_id = $2", to, id)?;
    db::execute!(tx, "update customer_address set customer_id = $1 where customer_id = $2", to, id)?;
    db::execute!(tx, "update customer_alert set customer_id = $1 where customer_id = $2", to, id)?;
    db::execute!(tx, "update customer_note set customer_id = $1 where customer_id = $2", to, id)?;
    // The contacts and cases modules hang their rows off the customer; a merge carries them over
    // so the survivor's timeline is complete.
    db::execute!(tx, "update contact set customer_id = $1 where customer_id = $2", to, id)?;
    db::execute!(tx, "update support_case set customer_id = $1 where customer_id = $2", to, id)?;
    db::execute!(tx, "update customer_former_number set customer_id = $1 where customer_id = $2", to, id)?;
    db::execute!(
        tx,
        "insert into customer_former_number (customer_number, customer_id, merged_at) values ($1, $2, $3)",
        &from.customer_number,
        to,
        now.micros()
    )?;
    db::execute!(
        tx,
        "update customer set merged_into = $1, updated_at = $2 where customer_id = $3",
        to,
        now.micros(),
        id
    )?;
    Ok(())
}

pub async fn former_numbers_of(tx: &mut Tx, customer_id: i64) -> Result<Vec<String>> {
    db::fetch_all!(
        tx,
        (String,),
        "select customer_number from customer_former_number where customer_id = $1 order by customer_number",
        customer_id
    )
    .map(|rows| rows.into_iter().map(|(n,)| n).collect())
}

/// Premises and meters reached through the customer's service agreements, for the search text.
pub async fn premise_text_of(tx: &mut Tx, customer_id: i64) -> Result<Vec<String>> {
    let rows = db::fetch_all!(
        tx,
        (String, String, String, Option<String>),
        "select distinct p.line1, p.city, p.postal_code, m.meter_number
           from service_agreement a
           join account c on c.account_id = a.account_id
           join premise p on p.premise_id = a.premise_id
           left join meter m on m.premise_id = p.premise_id
          where c.customer_id = $1",
        customer_id
    )?;
    Ok(rows
        .into_iter()
        .flat_map(|(line1, city, postal, meter)| [Some(format!("{line1}, {city} {postal}")), meter])
        .flatten()
        .collect())
}
