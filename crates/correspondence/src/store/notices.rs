//! The SQL of customer notices: the switch of each notice, and the one row per event that
//! keeps a notice to at most one per event.

use db::{Result, Tx};
use serde::Serialize;
use utoipa::ToSchema;

/// A notice another module sends, and whether it is switched on.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct NoticeRow {
    /// Also the key of its template.
    pub notice_key: String,
    pub label: String,
    /// The module whose event sends it.
    pub module: String,
    pub enabled: bool,
    pub updated_at: i64,
}

/// What became of one event's notice.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct NoticeEventRow {
    pub notice_event_id: i64,
    pub notice_key: String,
    pub event_key: String,
    pub customer_id: i64,
    /// sent or unreachable
    pub outcome: String,
    /// email or letter, when sent
    pub channel: Option<String>,
    pub email_id: Option<i64>,
    pub letter_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub created_at: i64,
}

pub async fn notices(tx: &mut Tx) -> Result<Vec<NoticeRow>> {
    db::fetch_all!(
        tx,
        NoticeRow,
        "select notice_key, label, module, enabled, updated_at from notice order by notice_key"
    )
}

pub async fn notice(tx: &mut Tx, key: &str) -> Result<Option<NoticeRow>> {
    db::fetch_optional!(
        tx,
        NoticeRow,
        "select notice_key, label, module, enabled, updated_at from notice where notice_key = $1",
        key
    )
}

pub async fn set_enabled(tx: &mut Tx, key: &str, enabled: bool, now: i64) -> Result<u64> {
    db::execute!(tx, "update notice set enabled = $1, updated_at = $2 where notice_key = $3", enabled, now, key)
}

/// Claims the event for its notice; None when it was claimed before (the notice went out, or
/// was found undeliverable, already).
pub async fn claim_event(tx: &mut Tx, key: &str, event_key: &str, customer_id: i64, now: i64) -> Result<Option<i64>> {
    db::scalar_optional!(
        tx,
        i64,
        "insert into notice_event (notice_key, event_key, customer_id, outcome, created_at)
         values ($1, $2, $3, 'unreachable', $4)
         on conflict (notice_key, event_key) do nothing
         returning notice_event_id",
        key,
        event_key,
        customer_id,
        now
    )
}

/// Records what was sent for a claimed event.
pub async fn record_sent(
    tx: &mut Tx,
    notice_event_id: i64,
    channel: &str,
    email_id: Option<i64>,
    letter_id: Option<i64>,
    contact_id: i64,
) -> Result<u64> {
    db::execute!(
        tx,
        "update notice_event set outcome = 'sent', channel = $1, email_id = $2, letter_id = $3, contact_id = $4
         where notice_event_id = $5",
        channel,
        email_id,
        letter_id,
        contact_id,
        notice_event_id
    )
}

/// What became of one event's notice, if it was claimed.
pub async fn event(tx: &mut Tx, key: &str, event_key: &str) -> Result<Option<NoticeEventRow>> {
    db::fetch_optional!(
        tx,
        NoticeEventRow,
        "select notice_event_id, notice_key, event_key, customer_id, outcome, channel, email_id, letter_id,
                contact_id, created_at
         from notice_event where notice_key = $1 and event_key = $2",
        key,
        event_key
    )
}
