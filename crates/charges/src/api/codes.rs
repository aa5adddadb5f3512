//! JSON handlers for the admin-editable lists: the fee schedule, adjustment reasons and the
//! charges settings (approval limit, late-fee policy, deposit per credit rating).

use crate::model::Code;
use crate::ops;
use crate::store::{FeeTypeRow, ReasonRow, SettingRow};
use axum::extract::State;
use http::StatusCode;
use kernel::Permission;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::extract::{Json, Path};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    let read = Access::Signed(P::BillingRead);
    let admin = Access::Signed(P::LedgerManage);
    Routes::new()
        .get("/api/v1/fee-types", read, list_fee_types)
        .post("/api/v1/fee-types", admin, save_fee_type)
        .get("/api/v1/adjustment-reasons", read, list_reasons)
        .post("/api/v1/adjustment-reasons", admin, add_reason)
        .get("/api/v1/charge-settings", read, list_settings)
        .post("/api/v1/charge-settings/{setting_key}", admin, set_setting)
}

/// The fee schedule, active or not.
#[utoipa::path(
    get, path = "/api/v1/fee-types", tag = "charges",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    responses((status = 200, body = Vec<FeeTypeRow>)),
)]
pub async fn list_fee_types(State(state): State<AppState>) -> Result<axum::Json<Vec<FeeTypeRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::fee_types(&mut tx).await?))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"code": "meter_test_fee", "label": "Meter test fee", "default_amount_minor": 4000,
    "active": true}))]
pub struct FeeTypeBody {
    /// 2 to 40 lower-case letters, digits or underscores.
    pub code: String,
    pub label: String,
    /// In the minor unit of the account's currency (cents).
    pub default_amount_minor: i64,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Add a fee type or change one (label, default amount, active).
#[utoipa::path(
    post, path = "/api/v1/fee-types", tag = "charges", request_body = FeeTypeBody,
    security(("bearer" = ["ledger.manage"]), ("session" = ["ledger.manage"])),
    responses((status = 200, body = FeeTypeRow), (status = 422, body = web::ProblemDocument)),
)]
pub async fn save_fee_type(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<FeeTypeBody>,
) -> Result<axum::Json<FeeTypeRow>, ApiError> {
    let code = Code::parse(&body.code, "code")?;
    let mut tx = state.db.begin().await?;
    let row = ops::save_fee_type(
        &mut tx,
        &user.actor(),
        &code,
        &body.label,
        body.default_amount_minor,
        body.active,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(row))
}

/// Every adjustment reason, active or not.
#[utoipa::path(
    get, path = "/api/v1/adjustment-reasons", tag = "charges",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    responses((status = 200, body = Vec<ReasonRow>)),
)]
pub async fn list_reasons(State(state): State<AppState>) -> Result<axum::Json<Vec<ReasonRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::reasons(&mut tx).await?))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"code": "tariff_change", "label": "Tariff change"}))]
pub struct ReasonBody {
    pub code: String,
    pub label: String,
}

/// Add an adjustment reason.
#[utoipa::path(
    post, path = "/api/v1/adjustment-reasons", tag = "charges", request_body = ReasonBody,
    security(("bearer" = ["ledger.manage"]), ("session" = ["ledger.manage"])),
    responses(
        (status = 201, body = ReasonRow),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
pub async fn add_reason(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<ReasonBody>,
) -> Result<(StatusCode, axum::Json<ReasonRow>), ApiError> {
    let code = Code::parse(&body.code, "code")?;
    let mut tx = state.db.begin().await?;
    let row = ops::add_reason(&mut tx, &user.actor(), &code, &body.label, state.clock.now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(row)))
}

/// The charges settings: `adjustment_approval_limit_minor`, `late_fee_percent_basis_points`,
/// `late_fee_minimum_minor`, `late_fee_grace_period_days`, `deposit_minor.<credit rating>`, and
/// the customer notices' switches `notice.<key>` (1 sent, 0 not): `late_fee_assessed`,
/// `payment_returned`, `arrangement_broken`, `deposit_billed`.
#[utoipa::path(
    get, path = "/api/v1/charge-settings", tag = "charges",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    responses((status = 200, body = Vec<SettingRow>)),
)]
pub async fn list_settings(State(state): State<AppState>) -> Result<axum::Json<Vec<SettingRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::settings(&mut tx).await?))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"value": 25000}))]
pub struct SettingBody {
    /// Zero or more; amounts in minor units; 1 or 0 for a `notice.<key>` switch.
    pub value: i64,
}

/// Change one setting.
#[utoipa::path(
    post, path = "/api/v1/charge-settings/{setting_key}", tag = "charges", request_body = SettingBody,
    security(("bearer" = ["ledger.manage"]), ("session" = ["ledger.manage"])),
    params(("setting_key" = String, Path)),
    responses(
        (status = 200, body = SettingRow),
        (status = 404, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
pub async fn set_setting(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(key): Path<String>,
    Json(body): Json<SettingBody>,
) -> Result<axum::Json<SettingRow>, ApiError> {
    let mut tx = state.db.begin().await?;
    let row = ops::set_setting(&mut tx, &user.actor(), &key, body.value, state.clock.now()).await?;
    tx.commit().await?;
    Ok(axum::Json(row))
}
