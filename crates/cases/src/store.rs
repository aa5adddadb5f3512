//! All of the cases module's SQL.

use crate::calendar::{BusinessCalendar, DayHours};
use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CaseRow {
    pub case_id: i64,
    pub case_number: String,
    pub customer_id: Option<i64>,
    pub account_id: Option<i64>,
    pub subject: String,
    pub category: String,
    pub priority: String,
    pub tier: i32,
    pub queue_id: i64,
    pub assignee_id: Option<i64>,
    pub status: String,
    pub opened_at: i64,
    pub opened_by: String,
    pub opened_in_contact_id: Option<i64>,
    pub first_response_at: Option<i64>,
    pub first_response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
    pub sla_paused_remaining: Option<i64>,
    pub sla_state: String,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub resolution_code: Option<String>,
    pub first_contact_resolution: bool,
    pub parent_case_id: Option<i64>,
    pub merged_into: Option<i64>,
}

macro_rules! select_cases {
    ($tail:literal) => {
        concat!(
            "select case_id, case_number, customer_id, account_id, subject, category, priority, tier, queue_id, ",
            "assignee_id, status, opened_at, opened_by, opened_in_contact_id, first_response_at, ",
            "first_response_due_at, resolution_due_at, sla_paused_remaining, sla_state, resolved_at, closed_at, ",
            "resolution_code, first_contact_resolution, parent_case_id, merged_into from support_case ",
            $tail
        )
    };
}

pub struct NewCaseRow<'a> {
    pub customer_id: Option<i64>,
    pub account_id: Option<i64>,
    pub subject: &'a str,
    pub category: &'a str,
    pub priority: &'a str,
    pub tier: i32,
    pub queue_id: i64,
    pub assignee_id: Option<i64>,
    pub opened_by: &'a str,
    pub opened_in_contact_id: Option<i64>,
    pub first_response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
}

pub async fn insert_case(tx: &mut Tx, c: &NewCaseRow<'_>, now: Timestamp) -> Result<i64> {
    let id = db::scalar!(
        tx,
        i64,
        "insert into support_case (case_number, customer_id, account_id, subject, category, priority, tier, queue_id,
                                   assignee_id, status, opened_at, opened_by, opened_in_contact_id,
                                   first_response_due_at, resolution_due_at, sla_state, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'new', $10, $11, $12, $13, $14, 'on_track', $10)
         returning case_id",
        format!("pending-{}", db::random_token(8)),
        c.customer_id,
        c.account_id,
        c.subject,
        c.category,
        c.priority,
        c.tier,
        c.queue_id,
        c.assignee_id,
        now.micros(),
        c.opened_by,
        c.opened_in_contact_id,
        c.first_response_due_at,
        c.resolution_due_at
    )?;
    db::execute!(tx, "update support_case set case_number = $1 where case_id = $2", crate::model::case_number(id), id)?;
    Ok(id)
}

pub async fn find_case(tx: &mut Tx, id: i64) -> Result<Option<CaseRow>> {
    db::fetch_optional!(tx, CaseRow, select_cases!("where case_id = $1"), id)
}

pub async fn find_case_by_number(tx: &mut Tx, number: &str) -> Result<Option<CaseRow>> {
    db::fetch_optional!(tx, CaseRow, select_cases!("where case_number = $1"), number)
}

pub async fn cases_of_customer(tx: &mut Tx, customer_id: i64, limit: i64) -> Result<Vec<CaseRow>> {
    db::fetch_all!(
        tx,
        CaseRow,
        select_cases!("where customer_id = $1 order by case_id desc limit $2"),
        customer_id,
        limit
    )
}

pub async fn cases_of_assignee(tx: &mut Tx, user_id: i64, limit: i64) -> Result<Vec<CaseRow>> {
    db::fetch_all!(
        tx,
        CaseRow,
        select_cases!(
            "where assignee_id = $1 and status not in ('resolved', 'closed')
             order by resolution_due_at is null, resolution_due_at, case_id limit $2"
        ),
        user_id,
        limit
    )
}

pub async fn cases_in_queue(tx: &mut Tx, queue_id: i64, after: i64, limit: i64) -> Result<Vec<CaseRow>> {
    db::fetch_all!(
        tx,
        CaseRow,
        select_cases!(
            "where queue_id = $1 and status not in ('resolved', 'closed') and case_id > $2 order by case_id limit $3"
        ),
        queue_id,
        after,
        limit
    )
}

/// The next unassigned live case of a queue: the most urgent, then the oldest.
pub async fn next_unassigned(tx: &mut Tx, queue_id: i64) -> Result<Option<CaseRow>> {
    db::fetch_optional!(
        tx,
        CaseRow,
        select_cases!(
            "where queue_id = $1 and assignee_id is null and status not in ('resolved', 'closed')
             order by case priority when 'urgent' then 0 when 'high' then 1 when 'normal' then 2 else 3 end,
                      opened_at, case_id
             limit 1"
        ),
        queue_id
    )
}

/// Live cases whose resolution clock runs, for the SLA scan.
pub async fn running_clocks(tx: &mut Tx, after: i64, limit: i64) -> Result<Vec<CaseRow>> {
    db::fetch_all!(
        tx,
        CaseRow,
        select_cases!(
            "where status in ('new', 'open', 'pending_internal') and sla_paused_remaining is null
               and sla_state <> 'breached' and case_id > $1 order by case_id limit $2"
        ),
        after,
        limit
    )
}

pub async fn set_assignment(
    tx: &mut Tx,
    id: i64,
    queue_id: i64,
    tier: i32,
    assignee: Option<i64>,
    now: Timestamp,
) -> Result<()> {
    db::execute!(
        tx,
        "update support_case set queue_id = $1, tier = $2, assignee_id = $3, updated_at = $4 where case_id = $5",
        queue_id,
        tier,
        assignee,
        now.micros(),
        id
    )?;
    Ok(())
}

pub async fn set_status(tx: &mut Tx, id: i64, status: &str, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update support_case set status = $1, updated_at = $2 where case_id = $3",
        status,
        now.micros(),
        id
    )?;
    Ok(())
}

pub async fn set_clock(tx: &mut Tx, id: i64, due: Option<i64>, paused_remaining: Option<i64>) -> Result<()> {
    db::execute!(
        tx,
        "update support_case set resolution_due_at = $1, sla_paused_remaining = $2 where case_id = $3",
        due,
        paused_remaining,
        id
    )?;
    Ok(())
}

/// Sets the SLA state only if the case still has the state and running clock the scan saw;
/// returns whether it did.
pub async fn set_sla_state(tx: &mut Tx, id: i64, seen: &str, state: &str, priority: &str) -> Result<bool> {
    let rows = db::execute!(
        tx,
        "update support_case set sla_state = $1, priority = $2
         where case_id = $3 and sla_state = $4 and sla_paused_remaining is null
           and status in ('new', 'open', 'pending_internal')",
        state,
        priority,
        id,
        seen
    )?;
    Ok(rows == 1)
}

pub async fn set_first_response(tx: &mut Tx, id: i64, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update support_case set first_response_at = coalesce(first_response_at, $1) where case_id = $2",
        now.micros(),
        id
    )?;
    Ok(())
}

pub async fn set_resolved(tx: &mut Tx, id: i64, code: Option<&str>, fcr: bool, at: Option<i64>) -> Result<()> {
    db::execute!(
        tx,
        "update support_case set resolution_code = $1, first_contact_resolution = $2, resolved_at = $3
         where case_id = $4",
        code,
        fcr,
        at,
        id
    )?;
    Ok(())
}

pub async fn set_closed(tx: &mut Tx, id: i64, now: Timestamp) -> Result<()> {
    db::execute!(tx, "update support_case set closed_at = $1 where case_id = $2", now.micros(), id)?;
    Ok(())
}

pub async fn set_parent(tx: &mut Tx, id: i64, parent: Option<i64>) -> Result<()> {
    db::execute!(tx, "update support_case set parent_case_id = $1 where case_id = $2", parent, id)?;
    Ok(())
}

pub async fn set_merged_into(tx: &mut Tx, id: i64, into: i64, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update support_case set merged_into = $1, status = 'closed', closed_at = $2, updated_at = $2
         where case_id = $3",
        into,
        now.micros(),
        id
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EntryRow {
    pub entry_id: i64,
    pub case_id: i64,
    pub kind: String,
    pub body: String,
    pub author: String,
    pub created_at: i64,
}

pub async fn insert_entry(
    tx: &mut Tx,
    case_id: i64,
    kind: &str,
    body: &str,
    author: &str,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into case_entry (case_id, kind, body, author, created_at) values ($1, $2, $3, $4, $5)
         returning entry_id",
        case_id,
        kind,
        body,
        author,
        now.micros()
    )
}

pub async fn entries_of(tx: &mut Tx, case_id: i64) -> Result<Vec<EntryRow>> {
    db::fetch_all!(
        tx,
        EntryRow,
        "select entry_id, case_id, kind, body, author, created_at from case_entry where case_id = $1
         order by entry_id limit 1000",
        case_id
    )
}

pub async fn move_entries(tx: &mut Tx, from: i64, to: i64) -> Result<()> {
    db::execute!(tx, "update case_entry set case_id = $1 where case_id = $2", to, from)?;
    Ok(())
}

pub async fn insert_link(tx: &mut Tx, a: i64, b: i64, kind: &str, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "insert into case_link (case_id, other_case_id, kind, created_at) values ($1, $2, $3, $4)
         on conflict do nothing",
        a,
        b,
        kind,
        now.micros()
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LinkRow {
    pub other_case_id: i64,
    pub case_number: String,
    pub subject: String,
    pub kind: String,
}

pub async fn links_of(tx: &mut Tx, case_id: i64) -> Result<Vec<LinkRow>> {
    db::fetch_all!(
        tx,
        LinkRow,
        "select l.other_case_id, c.case_number, c.subject, l.kind from case_link l
           join support_case c on c.case_id = l.other_case_id where l.case_id = $1
         union
         select c.case_id, c.case_number, c.subject, 'child' from support_case c where c.parent_case_id = $1
         order by 1",
        case_id
    )
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CallbackRow {
    pub callback_id: i64,
    pub case_id: i64,
    pub assignee_id: i64,
    pub due_at: i64,
    pub note: String,
    pub done_at: Option<i64>,
}

pub async fn insert_callback(
    tx: &mut Tx,
    case_id: i64,
    assignee: i64,
    due: Timestamp,
    note: &str,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into callback (case_id, assignee_id, due_at, note, created_at) values ($1, $2, $3, $4, $5)
         returning callback_id",
        case_id,
        assignee,
        due.micros(),
        note,
        now.micros()
    )
}

pub async fn complete_callback(tx: &mut Tx, callback_id: i64, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "update callback set done_at = $1 where callback_id = $2 and done_at is null",
        now.micros(),
        callback_id
    )
}

pub async fn find_callback(tx: &mut Tx, callback_id: i64) -> Result<Option<CallbackRow>> {
    db::fetch_optional!(
        tx,
        CallbackRow,
        "select callback_id, case_id, assignee_id, due_at, note, done_at from callback where callback_id = $1",
        callback_id
    )
}

/// Open callbacks of a user due by `until`, soonest first.
pub async fn callbacks_due(tx: &mut Tx, user_id: i64, until: Timestamp) -> Result<Vec<CallbackRow>> {
    db::fetch_all!(
        tx,
        CallbackRow,
        "select callback_id, case_id, assignee_id, due_at, note, done_at from callback
         where assignee_id = $1 and done_at is null and due_at <= $2 order by due_at limit 100",
        user_id,
        until.micros()
    )
}

pub async fn callbacks_of(tx: &mut Tx, case_id: i64) -> Result<Vec<CallbackRow>> {
    db::fetch_all!(
        tx,
        CallbackRow,
        "select callback_id, case_id, assignee_id, due_at, note, done_at from callback where case_id = $1
         order by due_at",
        case_id
    )
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AttachmentRow {
    pub attachment_id: i64,
    pub case_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

pub struct NewAttachment<'a> {
    pub case_id: i64,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub sha256: &'a str,
    pub content: &'a [u8],
    pub uploaded_by: &'a str,
}

pub async fn insert_attachment(tx: &mut Tx, a: &NewAttachment<'_>, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into case_attachment (case_id, file_name, content_type, size_bytes, sha256, content, uploaded_by,
                                      uploaded_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning attachment_id",
        a.case_id,
        a.file_name,
        a.content_type,
        a.content.len() as i64,
        a.sha256,
        a.content,
        a.uploaded_by,
        now.micros()
    )
}

pub async fn attachments_of(tx: &mut Tx, case_id: i64) -> Result<Vec<AttachmentRow>> {
    db::fetch_all!(
        tx,
        AttachmentRow,
        "select attachment_id, case_id, file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at
         from case_attachment where case_id = $1 order by attachment_id",
        case_id
    )
}

pub async fn attachment_content(
    tx: &mut Tx,
    case_id: i64,
    attachment_id: i64,
) -> Result<Option<(String, String, Vec<u8>)>> {
    db::fetch_optional!(
        tx,
        (String, String, Vec<u8>),
        "select file_name, content_type, content from case_attachment where case_id = $1 and attachment_id = $2",
        case_id,
        attachment_id
    )
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct QueueRow {
    pub queue_id: i64,
    pub name: String,
    pub tier: i32,
    pub description: String,
    pub active: bool,
}

pub async fn queues(tx: &mut Tx) -> Result<Vec<QueueRow>> {
    db::fetch_all!(tx, QueueRow, "select queue_id, name, tier, description, active from queue order by tier, queue_id")
}

pub async fn find_queue(tx: &mut Tx, id: i64) -> Result<Option<QueueRow>> {
    db::fetch_optional!(
        tx,
        QueueRow,
        "select queue_id, name, tier, description, active from queue where queue_id = $1",
        id
    )
}

pub async fn insert_queue(tx: &mut Tx, name: &str, tier: i32, description: &str, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into queue (name, tier, description, active, created_at) values ($1, $2, $3, true, $4)
         returning queue_id",
        name,
        tier,
        description,
        now.micros()
    )
}

pub async fn queue_name_taken(tx: &mut Tx, name: &str) -> Result<bool> {
    Ok(db::scalar_optional!(tx, i64, "select queue_id from queue where lower(name) = lower($1)", name)?.is_some())
}

/// The first active queue of a tier: where escalations land.
pub async fn first_queue_of_tier(tx: &mut Tx, tier: i32) -> Result<Option<QueueRow>> {
    db::fetch_optional!(
        tx,
        QueueRow,
        "select queue_id, name, tier, description, active from queue where tier = $1 and active = true
         order by queue_id limit 1",
        tier
    )
}

pub async fn add_member(tx: &mut Tx, queue_id: i64, user_id: i64) -> Result<()> {
    db::execute!(
        tx,
        "insert into queue_member (queue_id, user_id) values ($1, $2) on conflict do nothing",
        queue_id,
        user_id
    )?;
    Ok(())
}

pub async fn members_of(tx: &mut Tx, queue_id: i64) -> Result<Vec<(i64, String)>> {
    db::fetch_all!(
        tx,
        (i64, String),
        "select u.user_id, u.display_name from queue_member m join staff_user u on u.user_id = m.user_id
         where m.queue_id = $1 order by u.display_name",
        queue_id
    )
}

/// Live cases per queue: (queue id, unassigned, assigned, breached).
pub async fn queue_counts(tx: &mut Tx) -> Result<Vec<(i64, i64, i64, i64)>> {
    db::fetch_all!(
        tx,
        (i64, i64, i64, i64),
        "select q.queue_id,
                cast(coalesce(sum(case when c.case_id is not null and c.assignee_id is null then 1 else 0 end), 0)
                     as bigint),
                cast(coalesce(sum(case when c.assignee_id is not null then 1 else 0 end), 0) as bigint),
                cast(coalesce(sum(case when c.sla_state = 'breached' then 1 else 0 end), 0) as bigint)
           from queue q
           left join support_case c on c.queue_id = q.queue_id and c.status not in ('resolved', 'closed')
          group by q.queue_id order by q.queue_id"
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyRow {
    pub priority: String,
    pub first_response_minutes: i32,
    pub resolution_minutes: i32,
    pub calendar_id: i64,
}

pub async fn policy(tx: &mut Tx, priority: &str) -> Result<Option<PolicyRow>> {
    db::fetch_optional!(
        tx,
        PolicyRow,
        "select priority, first_response_minutes, resolution_minutes, calendar_id from sla_policy where priority = $1",
        priority
    )
}

pub async fn policies(tx: &mut Tx) -> Result<Vec<PolicyRow>> {
    db::fetch_all!(
        tx,
        PolicyRow,
        "select priority, first_response_minutes, resolution_minutes, calendar_id from sla_policy
         order by resolution_minutes"
    )
}

pub async fn set_policy(tx: &mut Tx, priority: &str, first_minutes: i32, resolution_minutes: i32) -> Result<()> {
    db::execute!(
        tx,
        "update sla_policy set first_response_minutes = $1, resolution_minutes = $2 where priority = $3",
        first_minutes,
        resolution_minutes,
        priority
    )?;
    Ok(())
}

/// Loads a calendar with its holidays.
pub async fn calendar(tx: &mut Tx, calendar_id: i64) -> Result<BusinessCalendar> {
    let row = db::fetch_optional!(
        tx,
        (i32, String, String),
        "select utc_offset_minutes, week, time_zone from business_calendar where calendar_id = $1",
        calendar_id
    )?;
    let Some((offset, week_json, zone_name)) = row else {
        return Ok(BusinessCalendar::always());
    };
    let days: Vec<Option<[u32; 2]>> =
        serde_json::from_str(&week_json).map_err(|e| db::Error::Malformed(e.to_string()))?;
    let mut week = [None; 7];
    for (slot, day) in week.iter_mut().zip(days) {
        *slot = day.map(|[open_minute, close_minute]| DayHours { open_minute, close_minute });
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let holidays: BTreeSet<time::Date> =
        db::fetch_all!(tx, (String,), "select holiday_date from holiday where calendar_id = $1", calendar_id)?
            .into_iter()
            .filter_map(|(d,)| time::Date::parse(&d, &format).ok())
            .collect();
    let time_zone = (!zone_name.is_empty()).then(|| jiff::tz::TimeZone::get(&zone_name).ok()).flatten();
    Ok(BusinessCalendar { utc_offset_minutes: offset, time_zone, week, holidays })
}

pub async fn set_calendar(tx: &mut Tx, calendar_id: i64, offset: i32, zone: &str, week_json: &str) -> Result<()> {
    db::execute!(
        tx,
        "update business_calendar set utc_offset_minutes = $1, week = $2, time_zone = $3 where calendar_id = $4",
        offset,
        week_json,
        zone,
        calendar_id
    )?;
    Ok(())
}

pub async fn add_holiday(tx: &mut Tx, calendar_id: i64, date: &str, name: &str) -> Result<()> {
    db::execute!(
        tx,
        "insert into holiday (calendar_id, holiday_date, name) values ($1, $2, $3) on conflict do nothing",
        calendar_id,
        date,
        name
    )?;
    Ok(())
}

pub async fn holidays(tx: &mut Tx, calendar_id: i64) -> Result<Vec<(String, String)>> {
    db::fetch_all!(
        tx,
        (String, String),
        "select holiday_date, name from holiday where calendar_id = $1 order by holiday_date",
        calendar_id
    )
}

pub async fn reopen_days(tx: &mut Tx) -> Result<i64> {
    Ok(i64::from(
        db::scalar_optional!(tx, i32, "select reopen_days from case_setting where setting_id = 1")?.unwrap_or(7),
    ))
}

pub async fn set_reopen_days(tx: &mut Tx, days: i32) -> Result<()> {
    db::execute!(tx, "update case_setting set reopen_days = $1 where setting_id = 1", days)?;
    Ok(())
}

pub async fn user_exists(tx: &mut Tx, user_id: i64) -> Result<bool> {
    Ok(db::scalar_optional!(
        tx,
        i64,
        "select user_id from staff_user where user_id = $1 and disabled = false",
        user_id
    )?
    .is_some())
}

/// Rebuilds the search text of a case (number, subject and every thread entry).
pub async fn reindex(tx: &mut Tx, case_id: i64) -> Result<()> {
    let Some(case) = find_case(tx, case_id).await? else { return Ok(()) };
    let mut parts = vec![case.case_number.clone(), case.subject.clone()];
    parts.extend(entries_of(tx, case_id).await?.into_iter().filter(|e| e.kind != "event").map(|e| e.body));
    let doc: String = parts.join(" | ").to_lowercase().chars().take(20_000).collect();
    match tx.backend() {
        db::Backend::Sqlite => {
            db::execute!(tx, "delete from case_search where rowid = $1", case_id)?;
            db::execute!(tx, "insert into case_search (rowid, doc) values ($1, $2)", case_id, &doc)?;
        }
        db::Backend::Postgres => {
            db::execute!(tx, "delete from case_search where case_id = $1", case_id)?;
            db::execute!(tx, "insert into case_search (case_id, doc) values ($1, $2)", case_id, &doc)?;
        }
    }
    Ok(())
}

/// Cases whose number, subject or thread contains every term.
pub async fn search(tx: &mut Tx, terms: &[String], limit: i64) -> Result<Vec<CaseRow>> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<(i64,)> = match tx {
        Tx::Sqlite(_) => {
            let expression =
                terms.iter().map(|t| format!("\"{}\"", t.replace('"', ""))).collect::<Vec<_>>().join(" AND ");
            db::fetch_all!(
                tx,
                (i64,),
                "select rowid from case_search where case_search match $1 order by rowid desc limit $2",
                expression,
                limit
            )?
        }
        Tx::Pg(t) => {
            let patterns: Vec<String> = terms
                .iter()
                .map(|t| format!("%{}%", t.chars().filter(|c| !matches!(c, '%' | '_' | '\\')).collect::<String>()))
                .collect();
            sqlx::query_as::<_, (i64,)>(
                "select case_id from case_search where doc like all($1) order by case_id desc limit $2",
            )
            .bind(patterns)
            .bind(limit)
            .fetch_all(&mut **t)
            .await
            .map_err(db::Error::from)?
        }
    };
    let mut found = Vec::with_capacity(ids.len());
    for (id,) in ids {
        found.extend(find_case(tx, id).await?);
    }
    Ok(found)
}

impl CaseRow {
    pub fn status_label(&self) -> &'static str {
        crate::model::CaseStatus::parse(&self.status).map(|s| s.label()).unwrap_or("Unknown")
    }
}

impl EntryRow {
    pub fn when(&self) -> String {
        Timestamp(self.created_at).to_display()
    }

    pub fn kind_label(&self) -> &'static str {
        match self.kind.as_str() {
            "note" => "internal note",
            "reply_out" => "reply to customer",
            "reply_in" => "customer reply",
            _ => "event",
        }
    }
}
