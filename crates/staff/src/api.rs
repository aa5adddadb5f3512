//! JSON handlers for staff, tokens and the caller's own profile. Thin: parse, call one op,
//! answer.

use crate::StaffError;
use crate::model::{self, NewUser, Password, UserView};
use crate::ops::{self, Grant, Granted, SignIn, UserChange};
use crate::store::{self, TokenRow};
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use kernel::ids::{TokenId, UserId};
use kernel::{PageRequest, Permission, Role};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::{OpenApi, ToSchema};
use web::extract::{Json, Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(
        create_token,
        list_tokens,
        revoke_token,
        me,
        change_password,
        begin_totp,
        confirm_totp,
        disable_totp,
        list_users,
        create_user,
        get_user,
        update_user,
        reset_password,
        list_roles,
    ),
    components(
        schemas(
            MeView,
            TokenRequest,
            TokenIssued,
            TokenRow,
            UserView,
            UserPage,
            NewUserBody,
            UserPatch,
            PasswordBody,
            ChangePasswordBody,
            TotpEnrolment,
            TotpCodeBody,
            RoleView,
            Role,
            Permission,
            web::ProblemDocument,
            web::FieldError,
        ),
    ),
    tags(
        (name = "auth", description = "API tokens and the caller's own account"),
        (name = "users", description = "Staff users and roles"),
    ),
)]
pub struct StaffApi;

pub fn routes() -> Routes {
    use Permission as P;
    Routes::new()
        .post("/api/v1/auth/token", Access::PublicApi, create_token)
        .get("/api/v1/auth/tokens", Access::Signed(P::Profile), list_tokens)
        .delete("/api/v1/auth/tokens/{token_id}", Access::Signed(P::Profile), revoke_token)
        .get("/api/v1/me", Access::Signed(P::Profile), me)
        .post("/api/v1/me/password", Access::Signed(P::Profile), change_password)
        .post("/api/v1/me/totp", Access::Signed(P::Profile), begin_totp)
        .post("/api/v1/me/totp/confirm", Access::Signed(P::Profile), confirm_totp)
        .post("/api/v1/me/totp/disable", Access::Signed(P::Profile), disable_totp)
        .get("/api/v1/users", Access::Signed(P::UsersRead), list_users)
        .post("/api/v1/users", Access::Signed(P::UsersManage), create_user)
        .get("/api/v1/users/{user_id}", Access::Signed(P::UsersRead), get_user)
        .patch("/api/v1/users/{user_id}", Access::Signed(P::UsersManage), update_user)
        .post("/api/v1/users/{user_id}/reset-password", Access::Signed(P::UsersManage), reset_password)
        .get("/api/v1/roles", Access::Signed(P::UsersRead), list_roles)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"username": "jdoe", "password": "correct horse battery", "token_name": "billing export"}))]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
    /// Required when the user has a second factor.
    pub totp_code: Option<String>,
    /// A label to recognise the token by; defaults to "API".
    pub token_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenIssued {
    /// Send as `Authorization: Bearer <token>`. Shown once; only its hash is stored.
    pub token: String,
    pub token_id: i64,
    pub user: UserView,
}

/// Exchange a username and password (and TOTP code) for a bearer token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token",
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 201, body = TokenIssued),
        (status = 401, body = web::ProblemDocument, description = "wrong credentials or code required"),
        (status = 423, body = web::ProblemDocument, description = "account locked"),
        (status = 429, body = web::ProblemDocument),
    ),
)]
async fn create_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<TokenRequest>,
) -> Result<Response, ApiError> {
    let client_ip = peer.ip().to_string();
    if !state.allow_signin_attempt(&client_ip) {
        return Err(StaffError::TooManyAttempts.into());
    }
    let attempt = SignIn {
        username: &body.username,
        password: &body.password,
        totp_code: body.totp_code.as_deref(),
        client_ip: &client_ip,
    };
    let name = body.token_name.as_deref().unwrap_or("API");
    let granted = ops::sign_in(&state.db, &state.settings, attempt, Grant::Token { name }, state.clock.now()).await?;
    let Granted::Token { token, token_id, user } = granted else {
        return Err(ApiError::internal("sign-in granted a session where a token was asked for"));
    };
    Ok((StatusCode::CREATED, axum::Json(TokenIssued { token, token_id: token_id.get(), user })).into_response())
}

/// The caller's API tokens (never the token text).
#[utoipa::path(
    get,
    path = "/api/v1/auth/tokens",
    tag = "auth",
    security(("bearer" = ["profile"]), ("session" = ["profile"])),
    responses((status = 200, body = Vec<TokenRow>)),
)]
async fn list_tokens(State(state): State<AppState>, user: CurrentUser) -> Result<axum::Json<Vec<TokenRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::list_tokens(&mut tx, user.user_id).await?))
}

/// Revoke a token: your own, or anyone's if you manage users.
#[utoipa::path(
    delete,
    path = "/api/v1/auth/tokens/{token_id}",
    tag = "auth",
    security(("bearer" = ["profile"]), ("session" = ["profile"])),
    params(("token_id" = i64, Path)),
    responses((status = 204), (status = 404, body = web::ProblemDocument)),
)]
async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(token_id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.db.begin().await?;
    let may_manage = user.role.permits(Permission::UsersManage);
    ops::revoke_token(&mut tx, &user.actor(), may_manage, TokenId(token_id), state.clock.now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who am I: the signed-in user, their role and permissions.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "auth",
    security(("bearer" = ["profile"]), ("session" = ["profile"])),
    responses((status = 200, body = MeView), (status = 401, body = web::ProblemDocument)),
)]
async fn me(State(state): State<AppState>, user: CurrentUser) -> Result<axum::Json<MeView>, ApiError> {
    let mut tx = state.db.read().await?;
    let view = ops::load(&mut tx, user.user_id, state.clock.now()).await?;
    Ok(axum::Json(MeView { permissions: user.role.permissions(), user: view }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub user: UserView,
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ChangePasswordBody {
    pub current_password: String,
    pub new_password: String,
}

/// Change your own password.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    tag = "auth",
    request_body = ChangePasswordBody,
    security(("bearer" = ["profile"]), ("session" = ["profile"])),
    responses((status = 204), (status = 422, body = web::ProblemDocument)),
)]
async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<ChangePasswordBody>,
) -> Result<StatusCode, ApiError> {
    let new = Password::parse(&body.new_password).map_err(|e| field_renamed(e, "new_password"))?;
    ops::change_password(&state.db, &user.actor(), user.user_id, &body.current_password, new, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn field_renamed(error: StaffError, field: &str) -> ApiError {
    let mut api: ApiError = error.into();
    for f in &mut api.errors {
        f.field = field.to_string();
    }
    api.detail = format!("{field}: {}", api.errors.first().map(|f| f.message.as_str()).unwrap_or_default());
    api
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32 secret to type into an authenticator app.
    pub secret: String,
    pub otpauth_uri: String,
}

/// Start enrolling a TOTP second factor; confirm with a code to turn it on.
#[utoipa::path(
    post,
    path = "/api/v1/me/totp",
    tag = "auth",
    security(("bearer" = ["profile"]), ("session" = ["profile"])),
    responses((status = 200, body = TotpEnrolment)),
)]
async fn begin_totp(State(state): State<AppState>, user: CurrentUser) -> Result<axum::Json<TotpEnrolment>, ApiError> {
    let mut tx = state.db.begin().await?;
    let (secret, otpauth_uri) = ops::begin_totp(&mut tx, &user.actor(), user.user_id, state.clock.now()).await?;
    tx.commit().await?;
    Ok(axum::Json(TotpEnrolment { secret, otpauth_uri }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct TotpCodeBody {
    pub code: String,
}

/// Confirm TOTP enrolment with the app's current code.
#[utoipa::path(
    post,
    path = "/api/v1/me/totp/confirm",
    tag = "auth",
    request_body = TotpCodeBody,
    security(("bearer" = ["profile"]), ("session" = ["profile"])),
    responses((status = 204), (status = 422, body = web::ProblemDocument)),
)]
async fn confirm_totp(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<TotpCodeBody>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.db.begin().await?;
    ops::confirm_totp(&mut tx, &user.actor(), user.user_id, &body.code, state.clock.now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PasswordBody {
    pub password: String,
}

/// Turn the second factor off (needs your password).
#[utoipa::path(
    post,
    path = "/api/v1/me/totp/disable",
    tag = "auth",
    request_body = PasswordBody,
    security(("bearer" = ["profile"]), ("session" = ["profile"])),
    responses((status = 204), (status = 422, body = web::ProblemDocument)),
)]
async fn disable_totp(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    ops::disable_totp(&state.db, &user.actor(), user.user_id, &body.password, state.clock.now()).await.map_err(
        |e| match e {
            StaffError::CurrentPasswordWrong => field_renamed(e, "password"),
            other => other.into(),
        },
    )?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub next_cursor: Option<String>,
}

/// Staff users, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    security(("bearer" = ["users.read"]), ("session" = ["users.read"])),
    params(
        ("limit" = Option<u32>, Query, description = "1 to 200, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, body = UserPage)),
)]
async fn list_users(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<UserPage>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut tx = state.db.read().await?;
    let rows = store::list(&mut tx, &page).await?;
    let now = state.clock.now();
    let page = kernel::Page::from_rows(rows, &page, |r| r.user_id);
    Ok(axum::Json(UserPage { items: page.items.iter().map(|r| r.view(now)).collect(), next_cursor: page.next_cursor }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(
    example = json!({
        "username": "mgarcia",
        "display_name": "Maria Garcia",
        "email": "mgarcia@example.org",
        "role": "agent1",
        "password": "a long first password"
    }),
)]
pub struct NewUserBody {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    pub password: String,
}

/// Parses every field, so the answer names the first one at fault.
pub fn parse_new_user(body: &NewUserBody) -> Result<(NewUser, Password), StaffError> {
    let new = NewUser {
        username: model::Username::parse(&body.username)?,
        display_name: model::parse_display_name(&body.display_name)?,
        email: model::parse_email(body.email.as_deref().unwrap_or_default())?,
        role: model::parse_role(&body.role)?,
    };
    Ok((new, Password::parse(&body.password)?))
}

/// Add a staff user. Send an `Idempotency-Key` to make retries safe.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = NewUserBody,
    security(("bearer" = ["users.manage"]), ("session" = ["users.manage"])),
    params(
        (
            "Idempotency-Key" = Option<String>,
            Header,
            description = "same key and body: the stored response; same key, other body: 422",
        ),
    ),
    responses(
        (status = 201, body = UserView),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<NewUserBody>,
) -> Result<Response, ApiError> {
    let (new, password) = parse_new_user(&body)?;
    let hash = password.hash().await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let reservation = idempotency::reserve(&mut tx, &user, &headers, "POST /api/v1/users", &body, now).await?;
    let reservation = match reservation {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let created = ops::create_user(&mut tx, &user.actor(), new, &hash, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &created).await?;
    tx.commit().await?;
    Ok(response)
}

/// One staff user.
#[utoipa::path(
    get,
    path = "/api/v1/users/{user_id}",
    tag = "users",
    security(("bearer" = ["users.read"]), ("session" = ["users.read"])),
    params(("user_id" = i64, Path)),
    responses((status = 200, body = UserView), (status = 404, body = web::ProblemDocument)),
)]
async fn get_user(State(state): State<AppState>, Path(user_id): Path<i64>) -> Result<axum::Json<UserView>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::load(&mut tx, UserId(user_id), state.clock.now()).await?))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct UserPatch {
    pub display_name: Option<String>,
    /// An empty string removes the email.
    pub email: Option<String>,
    pub role: Option<String>,
    pub disabled: Option<bool>,
}

pub fn parse_patch(body: &UserPatch) -> Result<UserChange, StaffError> {
    Ok(UserChange {
        display_name: body.display_name.as_deref().map(model::parse_display_name).transpose()?,
        email: body.email.as_deref().map(model::parse_email).transpose()?,
        role: body.role.as_deref().map(model::parse_role).transpose()?,
        disabled: body.disabled,
    })
}

/// Change a user's name, email, role, or disable them (which ends their sessions).
#[utoipa::path(
    patch,
    path = "/api/v1/users/{user_id}",
    tag = "users",
    request_body = UserPatch,
    security(("bearer" = ["users.manage"]), ("session" = ["users.manage"])),
    params(("user_id" = i64, Path)),
    responses(
        (status = 200, body = UserView),
        (status = 404, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn update_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(user_id): Path<i64>,
    Json(body): Json<UserPatch>,
) -> Result<axum::Json<UserView>, ApiError> {
    let change = parse_patch(&body)?;
    let mut tx = state.db.begin().await?;
    let view = ops::update_user(&mut tx, &user.actor(), UserId(user_id), change, state.clock.now()).await?;
    tx.commit().await?;
    Ok(axum::Json(view))
}

/// Set a new password for a user; unlocks the account and ends its sessions.
#[utoipa::path(
    post,
    path = "/api/v1/users/{user_id}/reset-password",
    tag = "users",
    request_body = PasswordBody,
    security(("bearer" = ["users.manage"]), ("session" = ["users.manage"])),
    params(("user_id" = i64, Path)),
    responses(
        (status = 204),
        (status = 404, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(user_id): Path<i64>,
    Json(body): Json<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    let hash = Password::parse(&body.password)?.hash().await?;
    let mut tx = state.db.begin().await?;
    ops::reset_password(&mut tx, &user.actor(), UserId(user_id), &hash, state.clock.now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    pub role: Role,
    pub label: String,
    pub permissions: Vec<Permission>,
}

/// Every role and the permissions it grants.
#[utoipa::path(
    get,
    path = "/api/v1/roles",
    tag = "users",
    security(("bearer" = ["users.read"]), ("session" = ["users.read"])),
    responses((status = 200, body = Vec<RoleView>)),
)]
async fn list_roles() -> axum::Json<Vec<RoleView>> {
    axum::Json(
        Role::ALL
            .into_iter()
            .map(|role| RoleView { role, label: role.label().to_string(), permissions: role.permissions() })
            .collect(),
    )
}
