//! The staff operations. HTTP handlers, the CLI and tests all call these; each writes its audit
//! record in the same transaction as its change.

use crate::StaffError;
use crate::model::{self, NewUser, Password, PasswordHash, UserView};
use crate::store::{self, InsertUser, TokenRow, UserRow};
use db::audit::{self, AuditEvent};
use db::{Db, Tx};
use kernel::ids::{TokenId, UserId};
use kernel::{Actor, Role, Timestamp};
use serde_json::json;
use web::WebSettings;
use web::auth::StartedSession;

pub const TOKEN_PREFIX: &str = "cdk_";

async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    user_id: UserId,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<(), StaffError> {
    let event = AuditEvent { action, entity: "staff_user", entity_id: user_id.to_string(), detail };
    audit::append(tx, actor, event, now).await?;
    Ok(())
}

pub async fn create_user(
    tx: &mut Tx,
    actor: &Actor,
    new: NewUser,
    hash: &PasswordHash,
    now: Timestamp,
) -> Result<UserView, StaffError> {
    let insert = InsertUser {
        username: new.username.as_str(),
        display_name: &new.display_name,
        email: new.email.as_deref(),
        role: new.role,
        password_hash: hash,
        now,
    };
    let user_id = match store::insert(tx, insert).await {
        Ok(id) => id,
        Err(e) if e.is_unique_violation() => return Err(StaffError::UsernameTaken),
        Err(e) => return Err(e.into()),
    };
    let detail =
        json!({ "username": new.username.as_str(), "role": new.role.code(), "display_name": new.display_name });
    record(tx, actor, "user.created", user_id, detail, now).await?;
    load(tx, user_id, now).await
}

pub async fn load(tx: &mut Tx, user_id: UserId, now: Timestamp) -> Result<UserView, StaffError> {
    store::find(tx, user_id).await?.map(|u| u.view(now)).ok_or(StaffError::UserNotFound)
}

pub async fn find_by_username(tx: &mut Tx, username: &str) -> Result<UserRow, StaffError> {
    let username = model::Username::parse(username)?;
    store::find_by_username(tx, username.as_str()).await?.ok_or(StaffError::UserNotFound)
}

/// Changes to a user an admin may make; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

pub async fn update_user(
    tx: &mut Tx,
    actor: &Actor,
    user_id: UserId,
    change: UserChange,
    now: Timestamp,
) -> Result<UserView, StaffError> {
    let before = store::find(tx, user_id).await?.ok_or(StaffError::UserNotFound)?;
    let is_self = actor.user_id() == Some(user_id);
    let demotes_self = change.role.is_some_and(|r| r != before.role() && !r.permits(kernel::Permission::UsersManage));
    if is_self && (change.disabled == Some(true) || demotes_self) {
        return Err(StaffError::CannotLockOutSelf);
    }
    let display_name = change.display_name.unwrap_or_else(|| before.display_name.clone());
    let email = change.email.unwrap_or_else(|| before.email.clone());
    let role = change.role.unwrap_or_else(|| before.role());
    store::update_profile(tx, user_id, &display_name, email.as_deref(), role, now).await?;
    if let Some(disabled) = change.disabled.filter(|d| *d != before.disabled) {
        store::set_disabled(tx, user_id, disabled, now).await?;
        if disabled {
            web::store::delete_user_sessions(tx, user_id).await?;
        }
        let action = if disabled { "user.disabled" } else { "user.enabled" };
        record(tx, actor, action, user_id, json!({}), now).await?;
    }
    let old = json!({ "display_name": before.display_name, "email": before.email, "role": before.role });
    let new = json!({ "display_name": display_name, "email": email, "role": role.code() });
    if old != new {
        record(tx, actor, "user.updated", user_id, json!({ "before": old, "after": new }), now).await?;
    }
    if role != before.role() {
        web::store::delete_user_sessions(tx, user_id).await?;
    }
    load(tx, user_id, now).await
}

/// An admin (or the CLI) sets a new password: unlocks the account and ends its sessions.
pub async fn reset_password(
    tx: &mut Tx,
    actor: &Actor,
    user_id: UserId,
    hash: &PasswordHash,
    now: Timestamp,
) -> Result<(), StaffError> {
    store::find(tx, user_id).await?.ok_or(StaffError::UserNotFound)?;
    store::set_password(tx, user_id, hash, now).await?;
    web::store::delete_user_sessions(tx, user_id).await?;
    record(tx, actor, "user.password_reset", user_id, json!({}), now).await
}

/// A user changes their own password, proving they know the current one.
pub async fn change_password(
    db: &Db,
    actor: &Actor,
    user_id: UserId,
    current: &str,
    new: Password,
    now: Timestamp,
) -> Result<(), StaffError> {
    let mut tx = db.read().await?;
    let user = store::find(&mut tx, user_id).await?.ok_or(StaffError::UserNotFound)?;
    tx.rollback().await?;
    if !PasswordHash(user.password_hash.clone()).verify(current).await {
        return Err(StaffError::CurrentPasswordWrong);
    }
    let hash = new.hash().await?;
    let mut tx = db.begin().await?;
    store::set_password(&mut tx, user_id, &hash, now).await?;
    record(&mut tx, actor, "user.password_changed", user_id, json!({}), now).await?;
    tx.commit().await?;
    Ok(())
}

/// What a successful sign-in grants.
pub enum Grant<'a> {
    /// A browser session for the web UI.
    Session { client_ip: &'a str, user_agent: &'a str },
    /// An API token with a name to recognise it by.
    Token { name: &'a str },
}

pub enum Granted {
    Session(StartedSession, UserView),
    Token { token: String, token_id: TokenId, user: UserView },
}

pub struct SignIn<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub totp_code: Option<&'a str>,
    pub client_ip: &'a str,
}

/// Signs a user in. Refuses before hashing when the client is over its attempt budget or the
/// account is locked; counts every failure, locking the account at the configured threshold;
/// writes an audit record for success and failure alike.
pub async fn sign_in(
    db: &Db,
    settings: &WebSettings,
    attempt: SignIn<'_>,
    grant: Grant<'_>,
    now: Timestamp,
) -> Result<Granted, StaffError> {
    let username = model::Username::parse(attempt.username).map(|u| u.as_str().to_string()).unwrap_or_default();
    let mut tx = db.read().await?;
    let user = store::find_by_username(&mut tx, &username).await?;
    tx.rollback().await?;
    let Some(user) = user else {
        model::dummy_hash().await.verify(attempt.password).await;
        audit_failure(db, None, &username, "unknown_user", attempt.client_ip, now).await?;
        return Err(StaffError::InvalidCredentials);
    };
    if let Some(until) = user.locked_until.filter(|t| *t > now.micros()) {
        audit_failure(db, Some(&user), &username, "locked", attempt.client_ip, now).await?;
        return Err(StaffError::AccountLocked { until: Timestamp(until).to_display() });
    }
    let password_ok = PasswordHash(user.password_hash.clone()).verify(attempt.password).await;
    if !password_ok || user.disabled {
        let reason = if user.disabled { "disabled" } else { "wrong_password" };
        return Err(count_failure(db, settings, &user, reason, attempt.client_ip, now).await?);
    }
    let mut totp_step = None;
    if user.totp_enabled {
        let secret = user.totp_secret.clone().unwrap_or_default();
        let Some(code) = attempt.totp_code.filter(|c| !c.trim().is_empty()) else {
            return Err(StaffError::TotpCodeRequired);
        };
        match model::totp_accept(&secret, code, now, user.totp_last_step) {
            Some(step) => totp_step = Some(step),
            None => {
                let error = count_failure(db, settings, &user, "wrong_totp_code", attempt.client_ip, now).await?;
                return Err(match error {
                    StaffError::InvalidCredentials => StaffError::TotpCodeInvalid,
                    other => other,
                });
            }
        }
    }
    let mut tx = db.begin().await?;
    store::record_success(&mut tx, user.id(), totp_step).await?;
    let actor = Actor::User { user_id: user.id(), username: user.username.clone(), role: user.role() };
    let granted = match grant {
        Grant::Session { client_ip, user_agent } => {
            let session = web::auth::start_session(&mut tx, settings, user.id(), now, client_ip, user_agent).await?;
            record(&mut tx, &actor, "signin.succeeded", user.id(), json!({ "ip": client_ip, "via": "session" }), now)
                .await?;
            Granted::Session(session, user.view(now))
        }
        Grant::Token { name } => {
            let (token, token_id) = insert_token(&mut tx, user.id(), name, now).await?;
            record(
                &mut tx,
                &actor,
                "signin.succeeded",
                user.id(),
                json!({ "ip": attempt.client_ip, "via": "token", "token_id": token_id.get() }),
                now,
            )
            .await?;
            Granted::Token { token, token_id, user: user.view(now) }
        }
    };
    tx.commit().await?;
    Ok(granted)
}

async fn count_failure(
    db: &Db,
    settings: &WebSettings,
    user: &UserRow,
    reason: &str,
    client_ip: &str,
    now: Timestamp,
) -> Result<StaffError, StaffError> {
    let lock_until = now.plus_seconds(settings.lockout_seconds);
    let mut tx = db.begin().await?;
    let failures = store::record_failure(&mut tx, user.id(), settings.lockout_threshold, lock_until).await?;
    let locked = failures >= settings.lockout_threshold;
    let detail =
        json!({ "username": user.username, "reason": reason, "ip": client_ip, "failures": failures, "locked": locked });
    audit::append(
        &mut tx,
        &Actor::system("signin"),
        AuditEvent { action: "signin.failed", entity: "staff_user", entity_id: user.user_id.to_string(), detail },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(if locked && failures == settings.lockout_threshold {
        StaffError::AccountLocked { until: lock_until.to_display() }
    } else {
        StaffError::InvalidCredentials
    })
}

async fn audit_failure(
    db: &Db,
    user: Option<&UserRow>,
    username: &str,
    reason: &str,
    client_ip: &str,
    now: Timestamp,
) -> Result<(), StaffError> {
    let mut tx = db.begin().await?;
    let entity_id = user.map(|u| u.user_id.to_string()).unwrap_or_default();
    let detail = json!({ "username": username, "reason": reason, "ip": client_ip });
    audit::append(
        &mut tx,
        &Actor::system("signin"),
        AuditEvent { action: "signin.failed", entity: "staff_user", entity_id, detail },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a browser session.
pub async fn sign_out(db: &Db, actor: &Actor, session_hash: &str, now: Timestamp) -> Result<(), StaffError> {
    let mut tx = db.begin().await?;
    web::store::delete_session(&mut tx, session_hash).await?;
    if let Some(user_id) = actor.user_id() {
        record(&mut tx, actor, "signout", user_id, json!({}), now).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub fn parse_token_name(name: &str) -> Result<String, StaffError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(StaffError::TokenNameInvalid);
    }
    Ok(name.to_string())
}

async fn insert_token(
    tx: &mut Tx,
    user_id: UserId,
    name: &str,
    now: Timestamp,
) -> Result<(String, TokenId), StaffError> {
    let name = parse_token_name(name)?;
    let token = format!("{TOKEN_PREFIX}{}", db::random_token(32));
    let token_id = store::insert_token(tx, user_id, &name, &db::sha256_hex(&token), now).await?;
    Ok((token, token_id))
}

/// Issues a token for `user_id` (the CLI, or a user for themself). The token text is returned
/// once and never stored.
pub async fn issue_token(
    tx: &mut Tx,
    actor: &Actor,
    user_id: UserId,
    name: &str,
    now: Timestamp,
) -> Result<(String, TokenId), StaffError> {
    let user = store::find(tx, user_id).await?.ok_or(StaffError::UserNotFound)?;
    let (token, token_id) = insert_token(tx, user.id(), name, now).await?;
    record(tx, actor, "token.issued", user.id(), json!({ "token_id": token_id.get(), "name": name }), now).await?;
    Ok((token, token_id))
}

/// Revokes a token: the owner may revoke their own; a user manager may revoke anyone's.
pub async fn revoke_token(
    tx: &mut Tx,
    actor: &Actor,
    may_manage_users: bool,
    token_id: TokenId,
    now: Timestamp,
) -> Result<(), StaffError> {
    let token = store::find_token(tx, token_id).await?.ok_or(StaffError::TokenNotFound)?;
    if actor.user_id() != Some(UserId(token.user_id)) && !may_manage_users {
        return Err(StaffError::TokenNotFound);
    }
    store::revoke_token(tx, token_id, now).await?;
    record(tx, actor, "token.revoked", UserId(token.user_id), json!({ "token_id": token_id.get() }), now).await
}

pub async fn list_tokens(tx: &mut Tx, user_id: UserId) -> Result<Vec<TokenRow>, StaffError> {
    Ok(store::list_tokens(tx, user_id).await?)
}

/// Starts TOTP enrolment: a new secret, not yet required at sign-in.
pub async fn begin_totp(
    tx: &mut Tx,
    actor: &Actor,
    user_id: UserId,
    now: Timestamp,
) -> Result<(String, String), StaffError> {
    let user = store::find(tx, user_id).await?.ok_or(StaffError::UserNotFound)?;
    let secret = model::new_totp_secret();
    store::set_totp(tx, user_id, Some(&secret), false, None, now).await?;
    record(tx, actor, "totp.enrolment_started", user_id, json!({}), now).await?;
    let uri = model::otpauth_uri(&secret, &user.username);
    Ok((secret, uri))
}

/// Finishes enrolment with a code from the app; from now on sign-in asks for a code.
pub async fn confirm_totp(
    tx: &mut Tx,
    actor: &Actor,
    user_id: UserId,
    code: &str,
    now: Timestamp,
) -> Result<(), StaffError> {
    let user = store::find(tx, user_id).await?.ok_or(StaffError::UserNotFound)?;
    let secret = user.totp_secret.clone().filter(|_| !user.totp_enabled).ok_or(StaffError::TotpNotEnrolling)?;
    let step = model::totp_accept(&secret, code, now, user.totp_last_step).ok_or(StaffError::TotpCodeInvalid)?;
    store::set_totp(tx, user_id, Some(&secret), true, Some(step), now).await?;
    record(tx, actor, "totp.enabled", user_id, json!({}), now).await
}

/// Turns the second factor off (the user proves their password; an admin reset does too).
pub async fn disable_totp(
    db: &Db,
    actor: &Actor,
    user_id: UserId,
    password: &str,
    now: Timestamp,
) -> Result<(), StaffError> {
    let mut tx = db.read().await?;
    let user = store::find(&mut tx, user_id).await?.ok_or(StaffError::UserNotFound)?;
    tx.rollback().await?;
    if !PasswordHash(user.password_hash).verify(password).await {
        return Err(StaffError::CurrentPasswordWrong);
    }
    let mut tx = db.begin().await?;
    store::set_totp(&mut tx, user_id, None, false, None, now).await?;
    record(&mut tx, actor, "totp.disabled", user_id, json!({}), now).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes expired and idle sessions; run by the `sessions.purge` job.
pub async fn purge_sessions(db: &Db, settings: &WebSettings, now: Timestamp) -> Result<u64, StaffError> {
    let mut tx = db.begin().await?;
    let removed = web::store::purge_sessions(&mut tx, now, settings.session_idle_seconds).await?;
    tx.commit().await?;
    Ok(removed)
}
