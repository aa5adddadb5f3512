//! All of the contacts module's SQL: contacts, the timeline, reason codes and dispositions.

use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

/// One contact as the timeline and the API show it, with the labels of its codes.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ContactRow {
    pub contact_id: i64,
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub case_id: Option<i64>,
    pub order_id: Option<i64>,
    pub payment_id: Option<i64>,
    /// phone, email, chat, letter, in_person, portal or system
    pub channel: String,
    /// inbound or outbound
    pub direction: String,
    pub reason_code: String,
    pub reason_label: Option<String>,
    pub sub_reason_code: Option<String>,
    pub sub_reason_label: Option<String>,
    /// None for system contacts.
    pub disposition_code: Option<String>,
    pub disposition_label: Option<String>,
    pub summary: String,
    /// Microseconds since the Unix epoch (UTC).
    pub started_at: i64,
    /// Microseconds since the Unix epoch (UTC).
    pub ended_at: i64,
    pub duration_seconds: i64,
    /// The staff user who handled it; None for system contacts.
    pub agent_user_id: Option<i64>,
    pub agent_name: String,
    pub created_at: i64,
}

macro_rules! select_contacts {
    ($tail:literal) => {
        concat!(
            "select c.contact_id, c.customer_id, c.account_id, c.case_id, c.order_id, c.payment_id, ",
            "c.channel, c.direction, c.reason_code, r.label as reason_label, c.sub_reason_code, ",
            "s.label as sub_reason_label, c.disposition_code, d.label as disposition_label, c.summary, ",
            "c.started_at, c.ended_at, (c.ended_at - c.started_at) / 1000000 as duration_seconds, ",
            "c.agent_user_id, c.agent_name, c.created_at ",
            "from contact c ",
            "left join reason_code r on r.code = c.reason_code ",
            "left join reason_code s on s.code = c.sub_reason_code ",
            "left join disposition d on d.code = c.disposition_code ",
            $tail
        )
    };
}

/// The facts one contact insert needs.
pub struct ContactFields<'a> {
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub case_id: Option<i64>,
    pub order_id: Option<i64>,
    pub payment_id: Option<i64>,
    pub channel: &'a str,
    pub direction: &'a str,
    pub reason_code: &'a str,
    pub sub_reason_code: Option<&'a str>,
    pub disposition_code: Option<&'a str>,
    pub summary: &'a str,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub agent_user_id: Option<i64>,
    /// Recorded when the user id names no staff user (the system, a job).
    pub fallback_agent_name: &'a str,
}

/// What one look-up learns before a contact is written: whether the customer is live, and the
/// labels of the account and codes named (None where a code is unknown or inactive).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContactChecks {
    /// `live`, `merged`, or None when there is no such customer.
    pub customer_state: Option<String>,
    pub account_number: Option<String>,
    pub reason_label: Option<String>,
    pub sub_reason_label: Option<String>,
    pub disposition_label: Option<String>,
}

/// Checks the customer, account and codes of a contact in one indexed statement.
pub async fn check_contact(
    tx: &mut Tx,
    customer_id: i64,
    account_id: Option<i64>,
    reason_code: &str,
    sub_reason_code: Option<&str>,
    disposition_code: Option<&str>,
) -> Result<ContactChecks> {
    db::fetch_one!(
        tx,
        ContactChecks,
        "select
            (select case when merged_into is null then 'live' else 'merged' end
               from customer where customer_id = $1) as customer_state,
            (select account_number from account where account_id = $2 and customer_id = $1) as account_number,
            (select label from reason_code where code = $3 and parent_code is null and active) as reason_label,
            (select label from reason_code where code = $4 and parent_code = $3 and active) as sub_reason_label,
            (select label from disposition where code = $5 and active) as disposition_label",
        customer_id,
        account_id,
        reason_code,
        sub_reason_code,
        disposition_code
    )
}

/// Inserts a contact; yields its id and the agent name recorded (the user's display name).
pub async fn insert_contact(tx: &mut Tx, c: &ContactFields<'_>, now: Timestamp) -> Result<(i64, String)> {
    db::fetch_one!(
        tx,
        (i64, String),
        "insert into contact (customer_id, account_id, case_id, order_id, payment_id, channel, direction,
                              reason_code, sub_reason_code, disposition_code, summary, started_at, ended_at,
                              agent_user_id, agent_name, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                 coalesce((select display_name from staff_user where user_id = $14), $15), $16)
         returning contact_id, agent_name",
        c.customer_id,
        c.account_id,
        c.case_id,
        c.order_id,
        c.payment_id,
        c.channel,
        c.direction,
        c.reason_code,
        c.sub_reason_code,
        c.disposition_code,
        c.summary,
        c.started_at.micros(),
        c.ended_at.micros(),
        c.agent_user_id,
        c.fallback_agent_name,
        now.micros()
    )
}

pub async fn find_contact(tx: &mut Tx, contact_id: i64) -> Result<Option<ContactRow>> {
    db::fetch_optional!(tx, ContactRow, select_contacts!("where c.contact_id = $1"), contact_id)
}

/// One customer's contacts with ids below `before_id`, newest first.
pub async fn timeline(tx: &mut Tx, customer_id: i64, before_id: i64, limit: i64) -> Result<Vec<ContactRow>> {
    db::fetch_all!(
        tx,
        ContactRow,
        select_contacts!("where c.customer_id = $1 and c.contact_id < $2 order by c.contact_id desc limit $3"),
        customer_id,
        before_id,
        limit
    )
}

pub async fn customer_exists(tx: &mut Tx, customer_id: i64) -> Result<bool> {
    let found = db::scalar_optional!(tx, i64, "select customer_id from customer where customer_id = $1", customer_id)?;
    Ok(found.is_some())
}

/// An admin-defined reason or sub-reason.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReasonCodeRow {
    pub code: String,
    pub label: String,
    /// The reason this is a sub-reason of; None for a reason.
    pub parent_code: Option<String>,
    pub active: bool,
}

/// An admin-defined way a contact ended.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DispositionRow {
    pub code: String,
    pub label: String,
    pub active: bool,
}

/// Every reason code, each reason followed by its sub-reasons.
pub async fn reason_codes(tx: &mut Tx) -> Result<Vec<ReasonCodeRow>> {
    db::fetch_all!(
        tx,
        ReasonCodeRow,
        "select code, label, parent_code, active from reason_code
         order by coalesce(parent_code, code), parent_code is not null, label"
    )
}

pub async fn find_reason_code(tx: &mut Tx, code: &str) -> Result<Option<ReasonCodeRow>> {
    db::fetch_optional!(
        tx,
        ReasonCodeRow,
        "select code, label, parent_code, active from reason_code where code = $1",
        code
    )
}

pub async fn insert_reason_code(
    tx: &mut Tx,
    code: &str,
    label: &str,
    parent_code: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    db::execute!(
        tx,
        "insert into reason_code (code, label, parent_code, active, created_at) values ($1, $2, $3, $4, $5)",
        code,
        label,
        parent_code,
        true,
        now.micros()
    )?;
    Ok(())
}

/// Turns a reason code on or off; yields the rows changed.
pub async fn set_reason_active(tx: &mut Tx, code: &str, active: bool) -> Result<u64> {
    db::execute!(tx, "update reason_code set active = $1 where code = $2", active, code)
}

pub async fn dispositions(tx: &mut Tx) -> Result<Vec<DispositionRow>> {
    db::fetch_all!(tx, DispositionRow, "select code, label, active from disposition order by label")
}

pub async fn insert_disposition(tx: &mut Tx, code: &str, label: &str, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "insert into disposition (code, label, active, created_at) values ($1, $2, $3, $4)",
        code,
        label,
        true,
        now.micros()
    )?;
    Ok(())
}

/// Turns a disposition on or off; yields the rows changed.
pub async fn set_disposition_active(tx: &mut Tx, code: &str, active: bool) -> Result<u64> {
    db::execute!(tx, "update disposition set active = $1 where code = $2", active, code)
}
