//! HTML handlers: sign-in and sign-out, the profile screen (password, second factor, tokens),
//! and the admin screens for users, roles and the audit trail.

use crate::model::{Password, UserView};
use crate::ops::{self, Grant, Granted, SignIn};
use crate::{StaffError, api, store};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use db::audit::{self, AuditFilter};
use http::{HeaderMap, StatusCode, header};
use kernel::ids::{TokenId, UserId};
use kernel::{PageRequest, Permission, Role, Timestamp};
use serde::Deserialize;
use std::net::SocketAddr;
use web::auth::{MaybeUser, clear_cookie, cookie, set_cookie};
use web::extract::{HtmxPartial, Path, Query};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes, Via};

pub fn routes() -> Routes {
    use Permission as P;
    Routes::new()
        .get("/signin", Access::Public, signin_page)
        .post("/signin", Access::Public, signin_submit)
        .post("/signout", Access::Signed(P::Profile), signout)
        .get("/profile", Access::Signed(P::Profile), profile_page)
        .post("/profile/password", Access::Signed(P::Profile), profile_password)
        .post("/profile/totp", Access::Signed(P::Profile), profile_totp_begin)
        .post("/profile/totp/confirm", Access::Signed(P::Profile), profile_totp_confirm)
        .post("/profile/totp/disable", Access::Signed(P::Profile), profile_totp_disable)
        .post("/profile/tokens", Access::Signed(P::Profile), profile_token_create)
        .post("/profile/tokens/{token_id}/revoke", Access::Signed(P::Profile), profile_token_revoke)
        .get("/admin/users", Access::Signed(P::UsersRead), users_page)
        .post("/admin/users", Access::Signed(P::UsersManage), users_create)
        .get("/admin/users/{user_id}", Access::Signed(P::UsersRead), user_page)
        .post("/admin/users/{user_id}", Access::Signed(P::UsersManage), user_update)
        .post("/admin/users/{user_id}/reset-password", Access::Signed(P::UsersManage), user_reset_password)
        .get("/admin/roles", Access::Signed(P::UsersRead), roles_page)
        .get("/admin/audit", Access::Signed(P::AuditRead), audit_page)
}

#[derive(Template)]
#[template(path = "staff/signin.html")]
struct SigninPage {
    chrome: Chrome,
    csrf: String,
    next: String,
    username: String,
    ask_code: bool,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct SigninQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    signed_out: Option<String>,
}

/// Only same-site paths are followed after sign-in, never another host.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_string()
    } else {
        "/".to_string()
    }
}

async fn signin_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Query(q): Query<SigninQuery>,
) -> Result<Response, PageError> {
    if user.is_some() {
        return Ok(Redirect::to(&safe_next(&q.next)).into_response());
    }
    let existing = cookie(&headers, web::CSRF_COOKIE).filter(|c| c.len() >= 32);
    let csrf = existing.clone().unwrap_or_else(|| db::random_token(24));
    let page = SigninPage {
        chrome: Chrome::new("Sign in", None, "/signin", false),
        csrf: csrf.clone(),
        next: safe_next(&q.next),
        username: String::new(),
        ask_code: false,
        error: None,
        notice: q.signed_out.map(|_| "You have signed out.".to_string()),
    };
    let mut response = render(&page)?.into_response();
    if existing.is_none() {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, set_cookie(web::CSRF_COOKIE, &csrf, state.settings.secure_cookies));
    }
    let _ = &state;
    Ok(response)
}

#[derive(Deserialize, Default)]
struct SigninForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

async fn signin_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SigninForm>,
) -> Result<Response, PageError> {
    let client_ip = peer.ip().to_string();
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let outcome = if state.allow_signin_attempt(&client_ip) {
        let attempt = SignIn {
            username: &form.username,
            password: &form.password,
            totp_code: Some(form.code.as_str()),
            client_ip: &client_ip,
        };
        let grant = Grant::Session { client_ip: &client_ip, user_agent: &user_agent };
        ops::sign_in(&state.db, &state.settings, attempt, grant, state.clock.now()).await
    } else {
        Err(StaffError::TooManyAttempts)
    };
    match outcome {
        Ok(Granted::Session(session, _user)) => {
            if let Some(old) = cookie(&headers, web::SESSION_COOKIE) {
                let mut tx = state.db.begin().await?;
                web::store::delete_session(&mut tx, &db::sha256_hex(&old)).await?;
                tx.commit().await?;
            }
            let mut response = Redirect::to(&safe_next(&form.next)).into_response();
            response.headers_mut().insert(header::SET_COOKIE, session.set_cookie);
            Ok(response)
        }
        Ok(Granted::Token { .. }) => {
            Err(PageError(web::ApiError::internal("sign-in granted a token where a session was asked for")))
        }
        Err(error) => {
            let status = web::Problem::status(&error);
            if status.is_server_error() {
                return Err(error.into());
            }
            let ask_code = matches!(error, StaffError::TotpCodeRequired | StaffError::TotpCodeInvalid);
            let page = SigninPage {
                chrome: Chrome::new("Sign in", None, "/signin", false),
                csrf: form.csrf,
                next: safe_next(&form.next),
                username: form.username,
                ask_code,
                error: Some(error.to_string()),
                notice: None,
            };
            Ok((status, render(&page)?).into_response())
        }
    }
}

async fn signout(State(state): State<AppState>, user: CurrentUser) -> Result<Response, PageError> {
    if let Via::Session { session_hash, .. } = &user.via {
        ops::sign_out(&state.db, &user.actor(), session_hash, state.clock.now()).await?;
    }
    let mut response = Redirect::to("/signin?signed_out=1").into_response();
    response.headers_mut().insert(header::SET_COOKIE, clear_cookie(web::SESSION_COOKIE));
    Ok(response)
}

struct TokenLine {
    token_id: i64,
    name: String,
    created: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "staff/profile.html")]
struct ProfilePage {
    chrome: Chrome,
    user: UserView,
    role_label: &'static str,
    permissions: Vec<&'static str>,
    tokens: Vec<TokenLine>,
    enrolment: Option<(String, String)>,
    new_token: Option<String>,
    password_error: Option<String>,
    totp_error: Option<String>,
    token_error: Option<String>,
}

#[derive(Default)]
struct ProfileExtras {
    flash: Option<String>,
    enrolment: Option<(String, String)>,
    new_token: Option<String>,
    password_error: Option<String>,
    totp_error: Option<String>,
    token_error: Option<String>,
}

async fn render_profile(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    extras: ProfileExtras,
    status: StatusCode,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let mut tx = state.db.read().await?;
    let view = ops::load(&mut tx, user.user_id, now).await?;
    let tokens = ops::list_tokens(&mut tx, user.user_id).await?;
    let row = store::find(&mut tx, user.user_id).await?;
    tx.rollback().await?;
    let enrolment = extras.enrolment.or_else(|| {
        let row = row?;
        let secret = row.totp_secret.filter(|_| !row.totp_enabled)?;
        Some((secret.clone(), crate::model::otpauth_uri(&secret, &row.username)))
    });
    let mut chrome = Chrome::new("Profile", Some(user), "/profile", partial);
    chrome.flash = extras.flash;
    let page = ProfilePage {
        chrome,
        role_label: user.role.label(),
        permissions: user.role.permissions().into_iter().map(Permission::code).collect(),
        tokens: tokens
            .into_iter()
            .map(|t| TokenLine {
                token_id: t.token_id,
                name: t.name,
                created: Timestamp(t.created_at).to_display(),
                last_used: t.last_used_at.map(|t| Timestamp(t).to_display()).unwrap_or_else(|| "never".into()),
                revoked: t.revoked_at.is_some(),
            })
            .collect(),
        user: view,
        enrolment,
        new_token: extras.new_token,
        password_error: extras.password_error,
        totp_error: extras.totp_error,
        token_error: extras.token_error,
    };
    Ok((status, render(&page)?).into_response())
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    #[serde(default)]
    done: String,
}

fn done_message(done: &str) -> Option<String> {
    Some(
        match done {
            "password" => "Your password was changed.",
            "totp-on" => "Second factor turned on. Sign-in will ask for a code.",
            "totp-off" => "Second factor turned off.",
            "revoked" => "Token revoked.",
            "created" => "User added.",
            "updated" => "Changes saved.",
            "reset" => "Password set; the account is unlocked and its sessions ended.",
            _ => return None,
        }
        .to_string(),
    )
}

async fn profile_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let extras = ProfileExtras { flash: done_message(&q.done), ..Default::default() };
    render_profile(&state, &user, partial, extras, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
}

async fn profile_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let outcome = match Password::parse(&form.new_password) {
        Ok(new) => {
            ops::change_password(&state.db, &user.actor(), user.user_id, &form.current_password, new, state.clock.now())
                .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/profile?done=password").into_response()),
        Err(e) => {
            let extras = ProfileExtras { password_error: Some(web::form_message(e)?.1), ..Default::default() };
            render_profile(&state, &user, false, extras, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn profile_totp_begin(State(state): State<AppState>, user: CurrentUser) -> Result<Response, PageError> {
    let mut tx = state.db.begin().await?;
    let enrolment = ops::begin_totp(&mut tx, &user.actor(), user.user_id, state.clock.now()).await?;
    tx.commit().await?;
    let extras = ProfileExtras { enrolment: Some(enrolment), ..Default::default() };
    render_profile(&state, &user, false, extras, StatusCode::OK).await
}

async fn profile_totp_confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let mut tx = state.db.begin().await?;
    match ops::confirm_totp(&mut tx, &user.actor(), user.user_id, &form.code, state.clock.now()).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to("/profile?done=totp-on").into_response())
        }
        Err(e) => {
            tx.rollback().await?;
            let extras = ProfileExtras { totp_error: Some(web::form_message(e)?.1), ..Default::default() };
            render_profile(&state, &user, false, extras, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn profile_totp_disable(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    match ops::disable_totp(&state.db, &user.actor(), user.user_id, &form.password, state.clock.now()).await {
        Ok(()) => Ok(Redirect::to("/profile?done=totp-off").into_response()),
        Err(e) => {
            let extras = ProfileExtras { totp_error: Some(web::form_message(e)?.1), ..Default::default() };
            render_profile(&state, &user, false, extras, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn profile_token_create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let mut tx = state.db.begin().await?;
    let extras = match ops::issue_token(&mut tx, &user.actor(), user.user_id, &form.name, state.clock.now()).await {
        Ok((token, _)) => {
            tx.commit().await?;
            ProfileExtras { new_token: Some(token), ..Default::default() }
        }
        Err(e) => ProfileExtras { token_error: Some(web::form_message(e)?.1), ..Default::default() },
    };
    render_profile(&state, &user, false, extras, StatusCode::OK).await
}

async fn profile_token_revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(token_id): Path<i64>,
) -> Result<Response, PageError> {
    let mut tx = state.db.begin().await?;
    let may_manage = user.role.permits(Permission::UsersManage);
    ops::revoke_token(&mut tx, &user.actor(), may_manage, TokenId(token_id), state.clock.now()).await?;
    tx.commit().await?;
    Ok(Redirect::to("/profile?done=revoked").into_response())
}

struct UserLine {
    user_id: i64,
    username: String,
    display_name: String,
    role_label: &'static str,
    disabled: bool,
    locked: bool,
    totp_enabled: bool,
}

#[derive(Default, Deserialize, serde::Serialize)]
struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "staff/users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserLine>,
    next_cursor: Option<String>,
    can_manage: bool,
    roles: Vec<(&'static str, &'static str)>,
    form: NewUserForm,
    error: Option<String>,
}

fn role_options() -> Vec<(&'static str, &'static str)> {
    Role::ALL.into_iter().map(|r| (r.code(), r.label())).collect()
}

#[derive(Deserialize, Default)]
struct CursorQuery {
    cursor: Option<String>,
}

async fn render_users(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    cursor: Option<&str>,
    form: NewUserForm,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let page = PageRequest::parse(Some(100), cursor)?;
    let mut tx = state.db.read().await?;
    let rows = store::list(&mut tx, &page).await?;
    tx.rollback().await?;
    let now = state.clock.now();
    let page = kernel::Page::from_rows(rows, &page, |r| r.user_id);
    let users = page
        .items
        .iter()
        .map(|r| {
            let v = r.view(now);
            UserLine {
                user_id: v.user_id,
                username: v.username,
                display_name: v.display_name,
                role_label: v.role.label(),
                disabled: v.disabled,
                locked: v.locked,
                totp_enabled: v.totp_enabled,
            }
        })
        .collect();
    let form = NewUserForm { password: String::new(), ..form };
    let view = UsersPage {
        chrome: Chrome::new("Users", Some(user), "/admin/users", partial),
        users,
        next_cursor: page.next_cursor,
        can_manage: user.role.permits(Permission::UsersManage),
        roles: role_options(),
        form,
        error,
    };
    Ok((status, render(&view)?).into_response())
}

async fn users_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<CursorQuery>,
) -> Result<Response, PageError> {
    let form = NewUserForm { role: Role::Agent1.code().to_string(), ..Default::default() };
    render_users(&state, &user, partial, q.cursor.as_deref(), form, None, StatusCode::OK).await
}

async fn users_create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<NewUserForm>,
) -> Result<Response, PageError> {
    let body = api::NewUserBody {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        email: Some(form.email.clone()),
        role: form.role.clone(),
        password: form.password.clone(),
    };
    let outcome = match api::parse_new_user(&body) {
        Ok((new, password)) => match password.hash().await {
            Ok(hash) => {
                let mut tx = state.db.begin().await?;
                match ops::create_user(&mut tx, &user.actor(), new, &hash, state.clock.now()).await {
                    Ok(created) => {
                        tx.commit().await?;
                        Ok(created)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok(created) => Ok(Redirect::to(&format!("/admin/users/{}?done=created", created.user_id)).into_response()),
        Err(e) => {
            let status = web::Problem::status(&e);
            let message = web::form_message(e)?.1;
            render_users(&state, &user, false, None, form, Some(message), status).await
        }
    }
}

#[derive(Template)]
#[template(path = "staff/user.html")]
struct UserPage {
    chrome: Chrome,
    user: UserView,
    role_label: &'static str,
    role_code: &'static str,
    roles: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    error: Option<String>,
}

async fn render_user(
    state: &AppState,
    viewer: &CurrentUser,
    user_id: UserId,
    partial: bool,
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut tx = state.db.read().await?;
    let view = ops::load(&mut tx, user_id, state.clock.now()).await?;
    tx.rollback().await?;
    let mut chrome = Chrome::new(&view.display_name, Some(viewer), "/admin/users", partial);
    chrome.flash = flash;
    let page = UserPage {
        chrome,
        role_label: view.role.label(),
        role_code: view.role.code(),
        user: view,
        roles: role_options(),
        can_manage: viewer.role.permits(Permission::UsersManage),
        error,
    };
    Ok((status, render(&page)?).into_response())
}

async fn user_page(
    State(state): State<AppState>,
    viewer: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(user_id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    render_user(&state, &viewer, UserId(user_id), partial, done_message(&q.done), None, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
struct UserEditForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    disabled: Option<String>,
}

async fn user_update(
    State(state): State<AppState>,
    viewer: CurrentUser,
    Path(user_id): Path<i64>,
    Form(form): Form<UserEditForm>,
) -> Result<Response, PageError> {
    let patch = api::UserPatch {
        display_name: Some(form.display_name),
        email: Some(form.email),
        role: Some(form.role),
        disabled: Some(form.disabled.is_some()),
    };
    let mut tx = state.db.begin().await?;
    let outcome = match api::parse_patch(&patch) {
        Ok(change) => ops::update_user(&mut tx, &viewer.actor(), UserId(user_id), change, state.clock.now()).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/admin/users/{user_id}?done=updated")).into_response())
        }
        Err(e) => {
            tx.rollback().await?;
            let status = web::Problem::status(&e);
            let message = web::form_message(e)?.1;
            render_user(&state, &viewer, UserId(user_id), false, None, Some(message), status).await
        }
    }
}

async fn user_reset_password(
    State(state): State<AppState>,
    viewer: CurrentUser,
    Path(user_id): Path<i64>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let hash = match Password::parse(&form.password) {
        Ok(p) => p.hash().await,
        Err(e) => Err(e),
    };
    let hash = match hash {
        Ok(hash) => hash,
        Err(e) => {
            let status = web::Problem::status(&e);
            let message = web::form_message(e)?.1;
            return render_user(&state, &viewer, UserId(user_id), false, None, Some(message), status).await;
        }
    };
    let mut tx = state.db.begin().await?;
    ops::reset_password(&mut tx, &viewer.actor(), UserId(user_id), &hash, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/users/{user_id}?done=reset")).into_response())
}

#[derive(Template)]
#[template(path = "staff/roles.html")]
struct RolesPage {
    chrome: Chrome,
    roles: Vec<&'static str>,
    rows: Vec<(&'static str, &'static str, Vec<bool>)>,
}

async fn roles_page(user: CurrentUser, HtmxPartial(partial): HtmxPartial) -> Result<Html<String>, PageError> {
    let page = RolesPage {
        chrome: Chrome::new("Roles", Some(&user), "/admin/roles", partial),
        roles: Role::ALL.iter().map(|r| r.label()).collect(),
        rows: Permission::ALL
            .into_iter()
            .map(|p| (p.code(), p.describe(), Role::ALL.iter().map(|r| r.permits(p)).collect()))
            .collect(),
    };
    render(&page)
}

struct AuditLine {
    seq: i64,
    when: String,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "staff/audit.html")]
struct AuditPage {
    chrome: Chrome,
    records: Vec<AuditLine>,
    next_cursor: Option<String>,
    entity: String,
    entity_id: String,
    actor: String,
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    cursor: Option<String>,
    #[serde(default)]
    entity: String,
    #[serde(default)]
    entity_id: String,
    #[serde(default)]
    actor: String,
}

async fn audit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, PageError> {
    let page = PageRequest::parse(Some(100), q.cursor.as_deref())?;
    let filter = AuditFilter {
        entity: Some(q.entity.trim().to_string()),
        entity_id: Some(q.entity_id.trim().to_string()),
        actor_name: Some(q.actor.trim().to_string()),
    };
    let mut tx = state.db.read().await?;
    let records = audit::list(&mut tx, &filter, &page).await?;
    tx.rollback().await?;
    let view = AuditPage {
        chrome: Chrome::new("Audit trail", Some(&user), "/admin/audit", partial),
        records: records
            .items
            .into_iter()
            .map(|r| AuditLine {
                seq: r.seq,
                when: Timestamp(r.at).to_display(),
                actor: r.actor_name,
                action: r.action,
                entity: r.entity,
                entity_id: r.entity_id,
                detail: r.detail,
            })
            .collect(),
        next_cursor: records.next_cursor,
        entity: q.entity,
        entity_id: q.entity_id,
        actor: q.actor,
    };
    render(&view)
}
