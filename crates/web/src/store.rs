//! The web layer's SQL: sessions, API-token look-ups and idempotency records. Sessions and
//! tokens are stored by SHA-256 only; the secret itself exists only in the client's hands.

use db::{Db, Result, Tx};
use kernel::Timestamp;
use kernel::ids::UserId;

/// A live session with its user, as the guard needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub session_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub disabled: bool,
}

pub async fn find_session(tx: &mut Tx, session_hash: &str) -> Result<Option<SessionRow>> {
    db::fetch_optional!(
        tx,
        SessionRow,
        "select s.session_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at,
                s.expires_at, u.username, u.display_name, u.role, u.disabled
         from session s join staff_user u on u.user_id = s.user_id
         where s.session_hash = $1",
        session_hash
    )
}

pub struct NewSession<'a> {
    pub session_hash: &'a str,
    pub user_id: UserId,
    pub csrf_token: &'a str,
    pub now: Timestamp,
    pub expires_at: Timestamp,
    pub client_ip: &'a str,
    pub user_agent: &'a str,
}

pub async fn insert_session(tx: &mut Tx, s: NewSession<'_>) -> Result<()> {
    db::execute!(
        tx,
        "insert into session (session_hash, user_id, csrf_token, created_at, last_seen_at,
                              expires_at, client_ip, user_agent)
         values ($1, $2, $3, $4, $4, $5, $6, $7)",
        s.session_hash,
        s.user_id.get(),
        s.csrf_token,
        s.now.micros(),
        s.expires_at.micros(),
        s.client_ip,
        s.user_agent
    )?;
    Ok(())
}

pub async fn touch_session(tx: &mut Tx, session_hash: &str, now: Timestamp) -> Result<()> {
    db::execute!(tx, "update session set last_seen_at = $1 where session_hash = $2", now.micros(), session_hash)?;
    Ok(())
}

pub async fn delete_session(tx: &mut Tx, session_hash: &str) -> Result<u64> {
    db::execute!(tx, "delete from session where session_hash = $1", session_hash)
}

pub async fn delete_user_sessions(tx: &mut Tx, user_id: UserId) -> Result<u64> {
    db::execute!(tx, "delete from session where user_id = $1", user_id.get())
}

/// Removes sessions past their absolute expiry or idle for longer than `idle_seconds`.
pub async fn purge_sessions(tx: &mut Tx, now: Timestamp, idle_seconds: i64) -> Result<u64> {
    db::execute!(
        tx,
        "delete from session where expires_at <= $1 or last_seen_at <= $2",
        now.micros(),
        now.minus_seconds(idle_seconds).micros()
    )
}

/// A token with its user, as the guard needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub token_id: i64,
    pub user_id: i64,
    pub last_used_at: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub disabled: bool,
}

const FIND_TOKEN: &str = "select t.token_id, t.user_id, t.last_used_at, u.username, u.display_name, u.role,
        u.disabled
 from api_token t join staff_user u on u.user_id = t.user_id
 where t.token_hash = $1 and t.revoked_at is null";

pub async fn find_token(tx: &mut Tx, token_hash: &str) -> Result<Option<TokenRow>> {
    db::fetch_optional!(tx, TokenRow, FIND_TOKEN, token_hash)
}

/// [`find_token`] as one statement on a reader, outside any transaction: the bearer guard
/// runs it on every API call, and a begin and a rollback around it would triple its trips.
pub async fn find_token_now(db: &Db, token_hash: &str) -> Result<Option<TokenRow>> {
    match db {
        Db::Sqlite { reader, .. } => {
            sqlx::query_as::<_, TokenRow>(FIND_TOKEN).bind(token_hash).fetch_optional(reader).await
        }
        Db::Pg(pool) => sqlx::query_as::<_, TokenRow>(FIND_TOKEN).bind(token_hash).fetch_optional(pool).await,
    }
    .map_err(db::Error::from)
}

pub async fn touch_token(tx: &mut Tx, token_id: i64, now: Timestamp) -> Result<()> {
    db::execute!(tx, "update api_token set last_used_at = $1 where token_id = $2", now.micros(), token_id)?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdempotencyRow {
    pub request_hash: String,
    pub response_status: i32,
    pub response_body: String,
}

/// Reserves (user, key) inside the caller's transaction; false when another request holds it.
/// On PostgreSQL a concurrent duplicate waits here until the first commits or rolls back.
pub async fn reserve_idempotency_key(
    tx: &mut Tx,
    user_id: UserId,
    key: &str,
    request_hash: &str,
    now: Timestamp,
) -> Result<bool> {
    let reserved = db::scalar_optional!(
        tx,
        i64,
        "insert into idempotency (user_id, idem_key, request_hash, response_status, response_body,
                                  created_at)
         values ($1, $2, $3, 0, '', $4)
         on conflict do nothing returning user_id",
        user_id.get(),
        key,
        request_hash,
        now.micros()
    )?;
    Ok(reserved.is_some())
}

pub async fn find_idempotency(tx: &mut Tx, user_id: UserId, key: &str) -> Result<Option<IdempotencyRow>> {
    db::fetch_optional!(
        tx,
        IdempotencyRow,
        "select request_hash, response_status, response_body from idempotency
         where user_id = $1 and idem_key = $2",
        user_id.get(),
        key
    )
}

pub async fn store_idempotent_response(tx: &mut Tx, user_id: UserId, key: &str, status: u16, body: &str) -> Result<()> {
    db::execute!(
        tx,
        "update idempotency set response_status = $1, response_body = $2
         where user_id = $3 and idem_key = $4",
        i32::from(status),
        body,
        user_id.get(),
        key
    )?;
    Ok(())
}
