//! All of the mailbox module's SQL: the raw store of inbound messages, their processing outcome,
//! the settings row, and the look-ups threading makes into customers, cases and outbound email.

use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

/// One inbound message as lists and the API show it (without its raw bytes).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct InboundRow {
    pub inbound_message_id: i64,
    /// `api` or `imap:<mailbox>`.
    pub source: String,
    /// IMAP `<uidvalidity>:<uid>`; null for the API.
    pub source_uid: Option<String>,
    pub size_bytes: i64,
    /// Microseconds since the Unix epoch (UTC).
    pub received_at: i64,
    /// received, processed, held, duplicate or failed
    pub status: String,
    /// Why processing failed (status failed).
    pub error: Option<String>,
    pub attempts: i32,
    pub message_id: Option<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub subject: Option<String>,
    /// Why it looks automatic (comma-separated): auto_submitted, precedence_bulk, list_id,
    /// autoreply_header, null_return_path, daemon_sender, own_references_loop, sender_burst.
    pub auto_flags: String,
    pub acknowledged: bool,
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
    pub customer_id: Option<i64>,
    pub contact_id: Option<i64>,
    /// message_id, references, subject, new_case, follow_up or null.
    pub threaded_by: Option<String>,
    pub processed_at: Option<i64>,
}

macro_rules! select_inbound {
    ($tail:literal) => {
        concat!(
            "select m.inbound_message_id, m.source, m.source_uid, m.size_bytes, m.received_at, m.status, m.error, ",
            "m.attempts, m.message_id, m.from_address, m.from_name, m.subject, m.auto_flags, m.acknowledged, ",
            "m.case_id, c.case_number, m.customer_id, m.contact_id, m.threaded_by, m.processed_at ",
            "from inbound_message m left join support_case c on c.case_id = m.case_id ",
            $tail
        )
    };
}

/// Stores the raw bytes; None when this source already delivered this uid (a repeated fetch).
pub async fn insert_raw(
    tx: &mut Tx,
    source: crate::ops::Source<'_>,
    raw: &[u8],
    now: Timestamp,
) -> Result<Option<i64>> {
    db::scalar_optional!(
        tx,
        i64,
        "insert into inbound_message (source, source_uid, raw, size_bytes, received_at, status, queue_id)
         values ($1, $2, $3, $4, $5, 'received', $6)
         on conflict do nothing returning inbound_message_id",
        source.name,
        source.uid,
        raw,
        i64::try_from(raw.len()).unwrap_or(i64::MAX),
        now.micros(),
        source.queue_id
    )
}

/// Whether this source already delivered this uid.
pub async fn has_source_uid(tx: &mut Tx, source: &str, source_uid: &str) -> Result<bool> {
    let found = db::scalar_optional!(
        tx,
        i64,
        "select inbound_message_id from inbound_message where source = $1 and source_uid = $2",
        source,
        source_uid
    )?;
    Ok(found.is_some())
}

pub async fn find(tx: &mut Tx, id: i64) -> Result<Option<InboundRow>> {
    db::fetch_optional!(tx, InboundRow, select_inbound!("where m.inbound_message_id = $1"), id)
}

/// The raw bytes, status and mailbox queue of one message.
pub async fn raw_of(tx: &mut Tx, id: i64) -> Result<Option<(Vec<u8>, String, Option<i64>)>> {
    db::fetch_optional!(
        tx,
        (Vec<u8>, String, Option<i64>),
        "select raw, status, queue_id from inbound_message where inbound_message_id = $1",
        id
    )
}

pub async fn sanitised_html(tx: &mut Tx, id: i64) -> Result<Option<Option<String>>> {
    db::scalar_optional!(
        tx,
        Option<String>,
        "select html_sanitised from inbound_message where inbound_message_id = $1",
        id
    )
}

/// Messages newest first with ids below `before_id`, optionally of one status.
pub async fn list(tx: &mut Tx, status: Option<&str>, before_id: i64, limit: i64) -> Result<Vec<InboundRow>> {
    db::fetch_all!(
        tx,
        InboundRow,
        select_inbound!(
            "where ($1 is null or m.status = $1) and m.inbound_message_id < $2
             order by m.inbound_message_id desc limit $3"
        ),
        status,
        before_id,
        limit
    )
}

/// The ids of messages waiting to be processed (received, or failed and retried by a person).
pub async fn unprocessed(tx: &mut Tx, limit: i64) -> Result<Vec<i64>> {
    db::fetch_all!(
        tx,
        (i64,),
        "select inbound_message_id from inbound_message where status = 'received'
         order by inbound_message_id limit $1",
        limit
    )
    .map(|rows| rows.into_iter().map(|(id,)| id).collect())
}

/// The mailbox settings row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettingsRow {
    pub queue_id: Option<i64>,
    pub sender_limit: i32,
    pub sender_window_minutes: i32,
    pub own_references_limit: i32,
    pub own_domain: String,
}

pub async fn settings(tx: &mut Tx) -> Result<SettingsRow> {
    db::fetch_one!(
        tx,
        SettingsRow,
        "select queue_id, sender_limit, sender_window_minutes, own_references_limit, own_domain
         from mailbox_setting where setting_id = 1"
    )
}

/// The live customer who has this email address (the oldest, when several share it).
pub async fn customer_by_email(tx: &mut Tx, address: &str) -> Result<Option<i64>> {
    db::scalar_optional!(
        tx,
        i64,
        "select c.customer_id from customer_email e join customer c on c.customer_id = e.customer_id
         where e.address = $1 and c.merged_into is null order by c.customer_id limit 1",
        address
    )
}

/// Whether the customer asked not to be emailed.
pub async fn customer_refuses_email(tx: &mut Tx, customer_id: i64) -> Result<bool> {
    let flag = db::scalar_optional!(
        tx,
        i64,
        "select cast(case when do_not_email then 1 else 0 end as bigint) from customer where customer_id = $1",
        customer_id
    )?;
    Ok(flag.unwrap_or(0) != 0)
}

/// The case an earlier inbound message with this Message-ID went to.
pub async fn case_of_inbound_id(tx: &mut Tx, message_id: &str) -> Result<Option<i64>> {
    db::scalar_optional!(
        tx,
        i64,
        "select case_id from inbound_message where message_id = $1 and case_id is not null
         order by inbound_message_id desc limit 1",
        message_id
    )
}

/// The case an email we sent (correspondence's outbound queue) with this Message-ID was about.
pub async fn case_of_outbound_id(tx: &mut Tx, message_id: &str) -> Result<Option<i64>> {
    db::scalar_optional!(
        tx,
        i64,
        "select case_id from outbound_email where message_id = $1 and case_id is not null",
        message_id
    )
}

/// The active queue with this name (a mailbox's `queue` key).
pub async fn active_queue_by_name(tx: &mut Tx, name: &str) -> Result<Option<i64>> {
    db::scalar_optional!(tx, i64, "select queue_id from queue where name = $1 and active", name)
}

pub async fn case_by_number(tx: &mut Tx, case_number: &str) -> Result<Option<i64>> {
    db::scalar_optional!(tx, i64, "select case_id from support_case where case_number = $1", case_number)
}

/// What threading needs of a case: its customer, status and the case it was merged into.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseBrief {
    pub case_id: i64,
    pub case_number: String,
    pub customer_id: Option<i64>,
    pub status: String,
    pub merged_into: Option<i64>,
}

pub async fn case_brief(tx: &mut Tx, case_id: i64) -> Result<Option<CaseBrief>> {
    db::fetch_optional!(
        tx,
        CaseBrief,
        "select case_id, case_number, customer_id, status, merged_into from support_case where case_id = $1",
        case_id
    )
}

/// Messages from this sender received since `since`, other than `except_id`.
pub async fn count_recent_from(tx: &mut Tx, address: &str, since: Timestamp, except_id: i64) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "select count(*) from inbound_message
         where from_address = $1 and received_at >= $2 and inbound_message_id <> $3",
        address,
        since.micros(),
        except_id
    )
}

/// An earlier message with the same Message-ID that was already threaded or held.
pub async fn earlier_with_message_id(
    tx: &mut Tx,
    message_id: &str,
    except_id: i64,
) -> Result<Option<(i64, Option<i64>)>> {
    db::fetch_optional!(
        tx,
        (i64, Option<i64>),
        "select inbound_message_id, case_id from inbound_message
         where message_id = $1 and inbound_message_id <> $2 and status in ('processed', 'held')
         order by inbound_message_id limit 1",
        message_id,
        except_id
    )
}

/// What processing learned, written back onto the message row.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub status: &'static str,
    pub message_id: Option<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub subject: Option<String>,
    pub auto_flags: String,
    pub case_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub threaded_by: Option<&'static str>,
    pub html_sanitised: Option<String>,
    /// An acknowledgement was queued for the case this message opened.
    pub acknowledged: bool,
}

pub async fn record_outcome(tx: &mut Tx, id: i64, o: &Outcome, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update inbound_message set status = $2, error = null, attempts = attempts + 1, message_id = $3,
                from_address = $4, from_name = $5, subject = $6, auto_flags = $7, case_id = $8, customer_id = $9,
                contact_id = $10, threaded_by = $11, html_sanitised = $12, processed_at = $13,
                acknowledged = $14
         where inbound_message_id = $1",
        id,
        o.status,
        o.message_id.as_deref(),
        o.from_address.as_deref(),
        o.from_name.as_deref(),
        o.subject.as_deref(),
        &o.auto_flags,
        o.case_id,
        o.customer_id,
        o.contact_id,
        o.threaded_by,
        o.html_sanitised.as_deref(),
        now.micros(),
        o.acknowledged
    )?;
    Ok(())
}

/// Marks a message failed with its error; what headers could be read are kept for the list.
pub async fn record_failure(tx: &mut Tx, id: i64, error: &str, headers: &Outcome, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update inbound_message set status = 'failed', error = $2, attempts = attempts + 1,
                message_id = coalesce($3, message_id), from_address = coalesce($4, from_address),
                subject = coalesce($5, subject), processed_at = $6
         where inbound_message_id = $1",
        id,
        error,
        headers.message_id.as_deref(),
        headers.from_address.as_deref(),
        headers.subject.as_deref(),
        now.micros()
    )?;
    Ok(())
}
