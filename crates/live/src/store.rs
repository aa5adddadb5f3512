//! All of the live module's SQL: chat sessions and messages, phone calls, staff extensions and
//! the module's settings.

use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

/// A chat session as the console and the API show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SessionRow {
    pub chat_session_id: i64,
    /// waiting, active or ended
    pub status: String,
    pub visitor_name: String,
    pub visitor_email: String,
    pub visitor_account: String,
    pub customer_id: Option<i64>,
    pub agent_user_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub case_id: Option<i64>,
    /// Microseconds since the Unix epoch (UTC).
    pub created_at: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
}

macro_rules! select_sessions {
    ($tail:literal) => {
        concat!(
            "select chat_session_id, status, visitor_name, visitor_email, visitor_account, customer_id, ",
            "agent_user_id, contact_id, case_id, created_at, answered_at, ended_at from chat_session ",
            $tail
        )
    };
}

/// One line of a transcript.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MessageRow {
    pub chat_message_id: i64,
    pub chat_session_id: i64,
    /// visitor, agent or system
    pub sender: String,
    pub sender_user_id: Option<i64>,
    pub body: String,
    /// Microseconds since the Unix epoch (UTC).
    pub sent_at: i64,
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub visitor: &'a crate::model::Visitor,
    pub origin: &'a str,
    pub customer_id: Option<i64>,
}

pub async fn insert_session(tx: &mut Tx, s: &NewSession<'_>, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into chat_session (token_hash, status, visitor_name, visitor_email, visitor_account, origin,
                                   customer_id, created_at)
         values ($1, 'waiting', $2, $3, $4, $5, $6, $7) returning chat_session_id",
        s.token_hash,
        &s.visitor.name,
        &s.visitor.email,
        &s.visitor.account,
        s.origin,
        s.customer_id,
        now.micros()
    )
}

pub async fn find_session(tx: &mut Tx, id: i64) -> Result<Option<SessionRow>> {
    db::fetch_optional!(tx, SessionRow, select_sessions!("where chat_session_id = $1"), id)
}

pub async fn find_session_by_token(tx: &mut Tx, token_hash: &str) -> Result<Option<SessionRow>> {
    db::fetch_optional!(tx, SessionRow, select_sessions!("where token_hash = $1"), token_hash)
}

/// Sessions newest first, optionally of one status, before a cursor id.
pub async fn list_sessions(tx: &mut Tx, status: &str, before_id: i64, limit: i64) -> Result<Vec<SessionRow>> {
    db::fetch_all!(
        tx,
        SessionRow,
        select_sessions!(
            "where ($1 = '' or status = $1) and chat_session_id < $2 order by chat_session_id desc limit $3"
        ),
        status,
        before_id,
        limit
    )
}

/// The sessions one agent is working.
pub async fn active_sessions_of(tx: &mut Tx, agent_user_id: i64) -> Result<Vec<SessionRow>> {
    db::fetch_all!(
        tx,
        SessionRow,
        select_sessions!("where agent_user_id = $1 and status = 'active' order by chat_session_id"),
        agent_user_id
    )
}

pub async fn waiting_sessions(tx: &mut Tx) -> Result<Vec<SessionRow>> {
    db::fetch_all!(tx, SessionRow, select_sessions!("where status = 'waiting' order by chat_session_id"))
}

/// Gives a waiting session to an agent; 0 rows when it was no longer waiting.
pub async fn take_session(tx: &mut Tx, id: i64, agent_user_id: i64, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "update chat_session set status = 'active', agent_user_id = $2, answered_at = $3
         where chat_session_id = $1 and status = 'waiting'",
        id,
        agent_user_id,
        now.micros()
    )
}

pub struct SessionEnd {
    pub customer_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub case_id: Option<i64>,
}

pub async fn end_session(tx: &mut Tx, id: i64, end: &SessionEnd, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "update chat_session set status = 'ended', ended_at = $2, customer_id = coalesce($3, customer_id),
                contact_id = $4, case_id = $5
         where chat_session_id = $1 and status <> 'ended'",
        id,
        now.micros(),
        end.customer_id,
        end.contact_id,
        end.case_id
    )
}

pub async fn insert_message(
    tx: &mut Tx,
    session_id: i64,
    sender: &str,
    sender_user_id: Option<i64>,
    body: &str,
    at: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into chat_message (chat_session_id, sender, sender_user_id, body, sent_at)
         values ($1, $2, $3, $4, $5) returning chat_message_id",
        session_id,
        sender,
        sender_user_id,
        body,
        at.micros()
    )
}

/// A chat message to store as one row of a batch.
pub struct NewMessage<'a> {
    pub session_id: i64,
    pub sender: &'a str,
    pub sender_user_id: Option<i64>,
    pub body: &'a str,
    pub at: Timestamp,
}

/// Stores a batch of messages in one statement on PostgreSQL; yields their ids in the batch's
/// order (ids are drawn in the order `unnest` yields the rows, so ascending ids follow it).
pub async fn insert_messages_pg(tx: &mut Tx, rows: &[NewMessage<'_>]) -> Result<Vec<i64>> {
    let Tx::Pg(t) = tx else {
        return Err(db::Error::Malformed("insert_messages_pg needs a PostgreSQL transaction".into()));
    };
    let sessions: Vec<i64> = rows.iter().map(|r| r.session_id).collect();
    let senders: Vec<&str> = rows.iter().map(|r| r.sender).collect();
    let users: Vec<Option<i64>> = rows.iter().map(|r| r.sender_user_id).collect();
    let bodies: Vec<&str> = rows.iter().map(|r| r.body).collect();
    let times: Vec<i64> = rows.iter().map(|r| r.at.micros()).collect();
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "insert into chat_message (chat_session_id, sender, sender_user_id, body, sent_at)
         select * from unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[])
         returning chat_message_id",
    )
    .bind(sessions)
    .bind(senders)
    .bind(users)
    .bind(bodies)
    .bind(times)
    .fetch_all(&mut **t)
    .await
    .map_err(db::Error::from)?;
    ids.sort_unstable();
    Ok(ids)
}

pub async fn messages(tx: &mut Tx, session_id: i64) -> Result<Vec<MessageRow>> {
    db::fetch_all!(
        tx,
        MessageRow,
        "select chat_message_id, chat_session_id, sender, sender_user_id, body, sent_at from chat_message
         where chat_session_id = $1 order by chat_message_id",
        session_id
    )
}

/// The live (never merged) customer with this email address, the oldest when several share it.
pub async fn customer_by_email(tx: &mut Tx, email: &str) -> Result<Option<i64>> {
    db::scalar_optional!(
        tx,
        i64,
        "select c.customer_id from customer_email e join customer c on c.customer_id = e.customer_id
         where e.address = $1 and c.merged_into is null order by c.customer_id limit 1",
        email
    )
}

/// A live customer's id and name by a phone number in E.164 form.
pub async fn customer_by_phone(tx: &mut Tx, e164: &str) -> Result<Option<(i64, String)>> {
    db::fetch_optional!(
        tx,
        (i64, String),
        "select c.customer_id, c.display_name from customer_phone p join customer c on c.customer_id = p.customer_id
         where p.e164 = $1 and c.merged_into is null order by p.is_primary desc, c.customer_id limit 1",
        e164
    )
}

pub async fn customer_is_live(tx: &mut Tx, customer_id: i64) -> Result<bool> {
    let found = db::scalar_optional!(
        tx,
        i64,
        "select customer_id from customer where customer_id = $1 and merged_into is null",
        customer_id
    )?;
    Ok(found.is_some())
}

/// A staff user as the actor of contacts logged on their behalf.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
}

pub async fn staff_by_extension(tx: &mut Tx, extension: &str) -> Result<Option<StaffRow>> {
    db::fetch_optional!(
        tx,
        StaffRow,
        "select u.user_id, u.username, u.display_name, u.role from staff_extension x
           join staff_user u on u.user_id = x.user_id
         where x.extension = $1 and not u.disabled",
        extension
    )
}

pub async fn staff_by_id(tx: &mut Tx, user_id: i64) -> Result<Option<StaffRow>> {
    db::fetch_optional!(
        tx,
        StaffRow,
        "select user_id, username, display_name, role from staff_user where user_id = $1",
        user_id
    )
}

/// Staff users with their extension (empty when none), for the settings page.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ExtensionRow {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub extension: String,
}

pub async fn extensions(tx: &mut Tx) -> Result<Vec<ExtensionRow>> {
    db::fetch_all!(
        tx,
        ExtensionRow,
        "select u.user_id, u.username, u.display_name, coalesce(x.extension, '') as extension
         from staff_user u left join staff_extension x on x.user_id = u.user_id
         where not u.disabled order by u.username"
    )
}

pub async fn clear_extension(tx: &mut Tx, user_id: i64) -> Result<u64> {
    db::execute!(tx, "delete from staff_extension where user_id = $1", user_id)
}

pub async fn insert_extension(tx: &mut Tx, user_id: i64, extension: &str, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "insert into staff_extension (user_id, extension, updated_at) values ($1, $2, $3)",
        user_id,
        extension,
        now.micros()
    )
}

/// A phone call as the phone system reported it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CallRow {
    pub phone_call_id: i64,
    pub external_call_id: String,
    /// ringing, answered, transferred or ended
    pub state: String,
    pub caller_number: String,
    pub caller_e164: String,
    pub called_number: String,
    pub extension: String,
    pub agent_user_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub recording_url: String,
    pub ringing_at: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
}

pub async fn find_call(tx: &mut Tx, external_call_id: &str) -> Result<Option<CallRow>> {
    db::fetch_optional!(
        tx,
        CallRow,
        "select phone_call_id, external_call_id, state, caller_number, caller_e164, called_number, extension,
                agent_user_id, customer_id, contact_id, recording_url, ringing_at, answered_at, ended_at
         from phone_call where external_call_id = $1",
        external_call_id
    )
}

pub async fn insert_call(tx: &mut Tx, c: &CallRow, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into phone_call (external_call_id, state, caller_number, caller_e164, called_number, extension,
                                 agent_user_id, customer_id, contact_id, recording_url, ringing_at, answered_at,
                                 ended_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) returning phone_call_id",
        &c.external_call_id,
        &c.state,
        &c.caller_number,
        &c.caller_e164,
        &c.called_number,
        &c.extension,
        c.agent_user_id,
        c.customer_id,
        c.contact_id,
        &c.recording_url,
        c.ringing_at,
        c.answered_at,
        c.ended_at,
        now.micros()
    )
}

pub async fn update_call(tx: &mut Tx, c: &CallRow, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "update phone_call set state = $2, extension = $3, agent_user_id = $4, contact_id = $5, recording_url = $6,
                answered_at = $7, ended_at = $8, updated_at = $9
         where phone_call_id = $1",
        c.phone_call_id,
        &c.state,
        &c.extension,
        c.agent_user_id,
        c.contact_id,
        &c.recording_url,
        c.answered_at,
        c.ended_at,
        now.micros()
    )
}

pub async fn setting(tx: &mut Tx, name: &str) -> Result<Option<String>> {
    db::scalar_optional!(tx, String, "select value from live_setting where name = $1", name)
}

pub async fn put_setting(tx: &mut Tx, name: &str, value: &str, now: Timestamp) -> Result<()> {
    db::execute!(tx, "delete from live_setting where name = $1", name)?;
    db::execute!(
        tx,
        "insert into live_setting (name, value, updated_at) values ($1, $2, $3)",
        name,
        value,
        now.micros()
    )?;
    Ok(())
}

/// Hands an active session to another agent (`Some`) or puts it back in the queue (`None`);
/// 0 rows when it was not active.
pub async fn reassign_session(tx: &mut Tx, id: i64, agent_user_id: Option<i64>) -> Result<u64> {
    db::execute!(
        tx,
        "update chat_session set agent_user_id = $2, status = case when $2 is null then 'waiting' else 'active' end
         where chat_session_id = $1 and status = 'active'",
        id,
        agent_user_id
    )
}

/// Staff users who may answer chats (by role), for the console's transfer list.
pub async fn active_staff(tx: &mut Tx) -> Result<Vec<StaffRow>> {
    db::fetch_all!(
        tx,
        StaffRow,
        "select user_id, username, display_name, role from staff_user where not disabled order by display_name"
    )
}

/// A transcript as the visitor sees it: internal notes between agents left out.
pub async fn visitor_messages(tx: &mut Tx, session_id: i64) -> Result<Vec<MessageRow>> {
    db::fetch_all!(
        tx,
        MessageRow,
        "select chat_message_id, chat_session_id, sender, sender_user_id, body, sent_at from chat_message
         where chat_session_id = $1 and sender <> 'note' order by chat_message_id",
        session_id
    )
}

/// A chat message written by any node, with what another node needs to deliver it: the
/// session's state now and the names to show.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RelayedRow {
    pub chat_message_id: i64,
    pub chat_session_id: i64,
    pub sender: String,
    pub body: String,
    pub sent_at: i64,
    pub sender_name: String,
    pub status: String,
    pub agent_user_id: Option<i64>,
    pub agent_name: String,
}

/// The newest chat message id (0 when none); where a node starts relaying.
pub async fn last_message_id(tx: &mut Tx) -> Result<i64> {
    db::scalar!(tx, i64, "select cast(coalesce(max(chat_message_id), 0) as bigint) from chat_message")
}

/// Chat messages after `after_id`, oldest first. Ids are committed in order (one writer on
/// SQLite; an advisory lock around the writers on PostgreSQL), so an id cursor misses none.
pub async fn messages_after(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<RelayedRow>> {
    db::fetch_all!(
        tx,
        RelayedRow,
        "select m.chat_message_id, m.chat_session_id, m.sender, m.body, m.sent_at,
                case when m.sender = 'visitor' then s.visitor_name else coalesce(u.display_name, '') end
                  as sender_name,
                s.status, s.agent_user_id, coalesce(a.display_name, '') as agent_name
         from chat_message m
           join chat_session s on s.chat_session_id = m.chat_session_id
           left join staff_user u on u.user_id = m.sender_user_id
           left join staff_user a on a.user_id = s.agent_user_id
         where m.chat_message_id > $1 order by m.chat_message_id limit $2",
        after_id,
        limit
    )
}

/// How many sessions wait and the newest of them: a node compares this with its own queue to
/// notice chats started, taken or ended on other nodes.
pub async fn waiting_summary(tx: &mut Tx) -> Result<(i64, i64)> {
    db::fetch_one!(
        tx,
        (i64, i64),
        "select cast(count(*) as bigint), cast(coalesce(max(chat_session_id), 0) as bigint)
         from chat_session where status = 'waiting'"
    )
}

/// Serialises the chat message writers of all nodes on PostgreSQL until the transaction ends,
/// so message ids become visible in the order they were given.
pub async fn lock_message_writers(tx: &mut Tx) -> Result<()> {
    if let db::Tx::Pg(_) = tx {
        db::execute!(tx, "select pg_advisory_xact_lock(cast(740014 as bigint))")?;
    }
    Ok(())
}

/// Wakes the other nodes on PostgreSQL when the transaction commits.
pub async fn notify_nodes(tx: &mut Tx, channel: &str, node: &str) -> Result<()> {
    if let db::Tx::Pg(_) = tx {
        db::execute!(tx, "select pg_notify($1, $2)", channel, node)?;
    }
    Ok(())
}

/// The schema this PostgreSQL connection works in, to name the notification channel (several
/// databases in schemas of one server must not wake each other).
pub async fn current_schema(tx: &mut Tx) -> Result<String> {
    db::scalar!(tx, String, "select cast(current_schema() as text)")
}

pub async fn staff_is_enabled(tx: &mut Tx, user_id: i64) -> Result<bool> {
    let found =
        db::scalar_optional!(tx, i64, "select user_id from staff_user where user_id = $1 and not disabled", user_id)?;
    Ok(found.is_some())
}

/// Registers a node whose chat hub has just started.
pub async fn register_node(tx: &mut Tx, node: &str, now: Timestamp) -> Result<()> {
    db::execute!(tx, "insert into live_node (node, started_at, seen_at) values ($1, $2, $2)", node, now.micros())?;
    Ok(())
}

/// Refreshes a running node's row (and registers it again if someone removed it); rows of nodes
/// stopped long ago and old signals go at the same time.
pub async fn refresh_node(tx: &mut Tx, node: &str, now: Timestamp, forget_before: Timestamp) -> Result<()> {
    let updated = db::execute!(tx, "update live_node set seen_at = $2 where node = $1", node, now.micros())?;
    if updated == 0 {
        register_node(tx, node, now).await?;
    }
    db::execute!(tx, "delete from live_node where seen_at < $1", forget_before.micros())?;
    db::execute!(tx, "delete from live_signal where created_at < $1", forget_before.micros())?;
    Ok(())
}

/// Removes a stopping node's row, so the others stop relaying for it at once.
pub async fn remove_node(tx: &mut Tx, node: &str) -> Result<()> {
    db::execute!(tx, "delete from live_node where node = $1", node)?;
    Ok(())
}

/// How many other nodes refreshed their row since `alive_after`.
pub async fn other_nodes(tx: &mut Tx, node: &str, alive_after: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "select cast(count(*) as bigint) from live_node where node <> $1 and seen_at >= $2",
        node,
        alive_after.micros()
    )
}

/// A signal for other nodes: what is shown live but is no transcript line.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignalRow {
    pub live_signal_id: i64,
    pub node: String,
    /// typing, visitor_back or call_pop
    pub kind: String,
    pub chat_session_id: Option<i64>,
    pub sender: String,
    pub user_id: Option<i64>,
    pub payload: String,
}

/// The newest signal id (0 when none); where a node starts following the signals.
pub async fn last_signal_id(tx: &mut Tx) -> Result<i64> {
    db::scalar!(tx, i64, "select cast(coalesce(max(live_signal_id), 0) as bigint) from live_signal")
}

pub async fn insert_signal(tx: &mut Tx, s: &SignalRow, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into live_signal (node, kind, chat_session_id, sender, user_id, payload, created_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning live_signal_id",
        &s.node,
        &s.kind,
        s.chat_session_id,
        &s.sender,
        s.user_id,
        &s.payload,
        now.micros()
    )
}

/// Signals after `after_id`, oldest first (committed in id order, as chat messages are).
pub async fn signals_after(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<SignalRow>> {
    db::fetch_all!(
        tx,
        SignalRow,
        "select live_signal_id, node, kind, chat_session_id, sender, user_id, payload from live_signal
         where live_signal_id > $1 order by live_signal_id limit $2",
        after_id,
        limit
    )
}

/// Serialises the signal writers of all nodes on PostgreSQL until the transaction ends, so a
/// signal cursor misses none.
pub async fn lock_signal_writers(tx: &mut Tx) -> Result<()> {
    if let db::Tx::Pg(_) = tx {
        db::execute!(tx, "select pg_advisory_xact_lock(cast(740015 as bigint))")?;
    }
    Ok(())
}
