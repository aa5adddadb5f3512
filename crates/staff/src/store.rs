//! All of the staff module's SQL.

use crate::model::{PasswordHash, UserView};
use db::{Result, Tx};
use kernel::ids::{TokenId, UserId};
use kernel::{PageRequest, Role, Timestamp};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub failed_signins: i32,
    pub locked_until: Option<i64>,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
    pub created_at: i64,
}

impl UserRow {
    pub fn id(&self) -> UserId {
        UserId(self.user_id)
    }

    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Agent1)
    }

    pub fn view(&self, now: Timestamp) -> UserView {
        UserView {
            user_id: self.user_id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            role: self.role(),
            disabled: self.disabled,
            locked: self.locked_until.is_some_and(|t| t > now.micros()),
            totp_enabled: self.totp_enabled,
            created_at: Timestamp(self.created_at).to_rfc3339(),
        }
    }
}

macro_rules! select_users {
    ($tail:literal) => {
        concat!(
            "select user_id, username, display_name, email, role, password_hash, disabled, ",
            "failed_signins, locked_until, totp_secret, totp_enabled, totp_last_step, created_at ",
            "from staff_user ",
            $tail
        )
    };
}

pub async fn find_by_username(tx: &mut Tx, username: &str) -> Result<Option<UserRow>> {
    db::fetch_optional!(tx, UserRow, select_users!("where username = $1"), username)
}

pub async fn find(tx: &mut Tx, user_id: UserId) -> Result<Option<UserRow>> {
    db::fetch_optional!(tx, UserRow, select_users!("where user_id = $1"), user_id.get())
}

pub async fn list(tx: &mut Tx, page: &PageRequest) -> Result<Vec<UserRow>> {
    db::fetch_all!(
        tx,
        UserRow,
        select_users!("where user_id > $1 order by user_id limit $2"),
        page.after_key(),
        page.fetch_limit()
    )
}

/// Users whose username or display name contains `text`; the search box uses this.
pub async fn search(tx: &mut Tx, text: &str, limit: i64) -> Result<Vec<UserRow>> {
    let pattern = format!("%{}%", text.to_lowercase().replace(['%', '_'], ""));
    db::fetch_all!(
        tx,
        UserRow,
        select_users!("where lower(username) like $1 or lower(display_name) like $1 order by username limit $2"),
        pattern,
        limit
    )
}

pub async fn count(tx: &mut Tx) -> Result<i64> {
    db::scalar!(tx, i64, "select count(*) from staff_user")
}

pub struct InsertUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub role: Role,
    pub password_hash: &'a PasswordHash,
    pub now: Timestamp,
}

pub async fn insert(tx: &mut Tx, u: InsertUser<'_>) -> Result<UserId> {
    let id = db::scalar!(
        tx,
        i64,
        "insert into staff_user (username, display_name, email, role, password_hash, disabled,
                                 failed_signins, totp_enabled, password_changed_at, created_at,
                                 updated_at)
         values ($1, $2, $3, $4, $5, false, 0, false, $6, $6, $6)
         returning user_id",
        u.username,
        u.display_name,
        u.email,
        u.role.code(),
        &u.password_hash.0,
        u.now.micros()
    )?;
    Ok(UserId(id))
}

pub async fn update_profile(
    tx: &mut Tx,
    user_id: UserId,
    display_name: &str,
    email: Option<&str>,
    role: Role,
    now: Timestamp,
) -> Result<()> {
    db::execute!(
        tx,
        "update staff_user set display_name = $1, email = $2, role = $3, updated_at = $4
         where user_id = $5",
        display_name,
        email,
        role.code(),
        now.micros(),
        user_id.get()
    )?;
    Ok(())
}

pub async fn set_disabled(tx: &mut Tx, user_id: UserId, disabled: bool, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update staff_user set disabled = $1, updated_at = $2 where user_id = $3",
        disabled,
        now.micros(),
        user_id.get()
    )?;
    Ok(())
}

pub async fn set_password(tx: &mut Tx, user_id: UserId, hash: &PasswordHash, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update staff_user set password_hash = $1, password_changed_at = $2, updated_at = $2,
                failed_signins = 0, locked_until = null
         where user_id = $3",
        &hash.0,
        now.micros(),
        user_id.get()
    )?;
    Ok(())
}

/// Counts a failed sign-in; locks the account until `lock_until` once `threshold` is reached.
/// Returns the new count.
pub async fn record_failure(tx: &mut Tx, user_id: UserId, threshold: i32, lock_until: Timestamp) -> Result<i32> {
    db::scalar!(
        tx,
        i32,
        "update staff_user set failed_signins = failed_signins + 1,
                locked_until = case when failed_signins + 1 >= $1 then $2 else locked_until end
         where user_id = $3 returning failed_signins",
        threshold,
        lock_until.micros(),
        user_id.get()
    )
}

pub async fn record_success(tx: &mut Tx, user_id: UserId, totp_step: Option<i64>) -> Result<()> {
    db::execute!(
        tx,
        "update staff_user set failed_signins = 0, locked_until = null,
                totp_last_step = coalesce($1, totp_last_step)
         where user_id = $2",
        totp_step,
        user_id.get()
    )?;
    Ok(())
}

pub async fn set_totp(
    tx: &mut Tx,
    user_id: UserId,
    secret: Option<&str>,
    enabled: bool,
    last_step: Option<i64>,
    now: Timestamp,
) -> Result<()> {
    db::execute!(
        tx,
        "update staff_user set totp_secret = $1, totp_enabled = $2, totp_last_step = $3,
                updated_at = $4
         where user_id = $5",
        secret,
        enabled,
        last_step,
        now.micros(),
        user_id.get()
    )?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TokenRow {
    pub token_id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn insert_token(
    tx: &mut Tx,
    user_id: UserId,
    name: &str,
    token_hash: &str,
    now: Timestamp,
) -> Result<TokenId> {
    let id = db::scalar!(
        tx,
        i64,
        "insert into api_token (user_id, name, token_hash, created_at)
         values ($1, $2, $3, $4) returning token_id",
        user_id.get(),
        name,
        token_hash,
        now.micros()
    )?;
    Ok(TokenId(id))
}

pub async fn find_token(tx: &mut Tx, token_id: TokenId) -> Result<Option<TokenRow>> {
    db::fetch_optional!(
        tx,
        TokenRow,
        "select token_id, user_id, name, created_at, last_used_at, revoked_at
         from api_token where token_id = $1",
        token_id.get()
    )
}

pub async fn list_tokens(tx: &mut Tx, user_id: UserId) -> Result<Vec<TokenRow>> {
    db::fetch_all!(
        tx,
        TokenRow,
        "select token_id, user_id, name, created_at, last_used_at, revoked_at
         from api_token where user_id = $1 order by token_id desc limit 200",
        user_id.get()
    )
}

pub async fn revoke_token(tx: &mut Tx, token_id: TokenId, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "update api_token set revoked_at = $1 where token_id = $2 and revoked_at is null",
        now.micros(),
        token_id.get()
    )
}
