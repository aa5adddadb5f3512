//! JSON handlers for fees, adjustments (and their approval), deposits and payment arrangements.
//! Thin: parse the body into domain types, call one op inside one transaction, answer. Every
//! POST that moves money or creates a record honours `Idempotency-Key`.

mod codes;
mod held;

use crate::ChargeError;
use crate::model::{AdjustmentStatus, Decision};
use crate::ops::{self, ArrangementView, NewAdjustment, NewFee};
use crate::store::{AdjustmentRow, ArrangementRow, DepositRow, FeeRow, InstalmentRow};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use db::Tx;
use http::{HeaderMap, StatusCode};
use kernel::{Actor, Permission, Timestamp};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use utoipa::{OpenApi, ToSchema};
use web::extract::{Json, Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

pub use codes::{FeeTypeBody, ReasonBody, SettingBody};
pub use held::{ArrangementBody, DepositBody};

#[derive(OpenApi)]
#[openapi(
    paths(
        charge_fee, account_fees, request_adjustment, list_adjustments, approve_adjustment, reject_adjustment,
        held::require_deposit, held::account_deposits, held::apply_deposit, held::refund_deposit,
        held::list_deposits, held::approve_deposit_refund, held::reject_deposit_refund, held::issue_deposit_refund,
        held::make_arrangement, held::get_arrangement, held::account_arrangements, held::cancel_arrangement,
        codes::list_fee_types, codes::save_fee_type,
        codes::list_reasons, codes::add_reason, codes::list_settings, codes::set_setting,
    ),
    components(schemas(FeeBody, FeeRow, AdjustmentBody, AdjustmentRow, DecisionBody, DepositBody, DepositRow,
        held::DepositRefundIssueBody,
        ArrangementBody, ArrangementView, ArrangementRow, InstalmentRow, FeeTypeBody, ReasonBody, SettingBody,
        crate::store::FeeTypeRow, crate::store::ReasonRow, crate::store::SettingRow)),
    tags((name = "charges", description = "Special fees, adjustments with approval, deposits, payment arrangements")),
)]
pub struct ChargesApi;

pub fn routes() -> Routes {
    use Permission as P;
    let read = Access::Signed(P::BillingRead);
    let manage = Access::Signed(P::BillingManage);
    let approve = Access::Signed(P::MoneyApprove);
    Routes::new()
        .post("/api/v1/fees", manage, charge_fee)
        .get("/api/v1/accounts/{account_id}/fees", read, account_fees)
        .post("/api/v1/adjustments", manage, request_adjustment)
        .get("/api/v1/adjustments", manage, list_adjustments)
        .post("/api/v1/adjustments/{adjustment_id}/approve", approve, approve_adjustment)
        .post("/api/v1/adjustments/{adjustment_id}/reject", approve, reject_adjustment)
        .merge(held::routes())
        .merge(codes::routes())
}

pub(crate) type OpFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ChargeError>> + Send + 'a>>;

/// Runs one write op with `Idempotency-Key` reserved and finished in its transaction: a retry
/// with the same key and body gets the first response and changes nothing.
pub(crate) async fn idempotent<B, T, F>(
    state: &AppState,
    user: CurrentUser,
    headers: HeaderMap,
    route: String,
    body: B,
    status: StatusCode,
    op: F,
) -> Result<Response, ApiError>
where
    B: Serialize + Send + Sync + 'static,
    T: Serialize + Send + Sync + 'static,
    F: for<'a> FnOnce(&'a mut Tx, Actor, Timestamp) -> OpFuture<'a, T> + Send + 'static,
{
    let now = state.clock.now();
    state
        .db
        .write_grouped(move |tx| {
            Box::pin(async move {
                let reservation = match idempotency::reserve(tx, &user, &headers, &route, &body, now).await? {
                    Reservation::Replay(replayed) => return Ok(replayed.into_response()),
                    fresh_or_none => fresh_or_none,
                };
                let value = op(tx, user.actor(), now).await?;
                idempotency::finish(tx, &user, &reservation, status, &value).await
            })
        })
        .await
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"account_id": 7, "fee_type": "field_visit_fee", "amount": "25.00",
    "memo": "Second visit: meter inaccessible"}))]
pub struct FeeBody {
    pub account_id: i64,
    /// A code from the fee schedule (GET /api/v1/fee-types).
    pub fee_type: String,
    /// Decimal text in the account's currency; absent, the fee type's default amount.
    pub amount: Option<String>,
    #[serde(default)]
    pub memo: String,
    /// YYYY-MM-DD; defaults to today.
    pub fee_date: Option<String>,
}

/// Charge a fee to an account. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post, path = "/api/v1/fees", tag = "charges", request_body = FeeBody,
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = FeeRow), (status = 422, body = web::ProblemDocument)),
)]
async fn charge_fee(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<FeeBody>,
) -> Result<Response, ApiError> {
    let new =
        NewFee::parse(body.account_id, &body.fee_type, body.amount.as_deref(), &body.memo, body.fee_date.as_deref())?;
    let route = "POST /api/v1/fees".to_string();
    idempotent(&state, user, headers, route, body, StatusCode::CREATED, move |tx, actor, now| {
        Box::pin(async move { ops::charge_fee(tx, &actor, new, now).await })
    })
    .await
}

/// An account's fees, newest first.
#[utoipa::path(
    get, path = "/api/v1/accounts/{account_id}/fees", tag = "charges",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(("account_id" = i64, Path)),
    responses((status = 200, body = Vec<FeeRow>), (status = 404, body = web::ProblemDocument)),
)]
async fn account_fees(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<Vec<FeeRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::fees_of(&mut tx, id).await?))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"account_id": 7, "direction": "credit", "amount": "42.10",
    "reason_code": "meter_misread", "note": "Read 4512 keyed as 5412"}))]
pub struct AdjustmentBody {
    pub account_id: i64,
    /// credit (lowers what is owed) or debit (raises it)
    pub direction: String,
    /// Decimal text in the account's currency.
    pub amount: String,
    /// A code from GET /api/v1/adjustment-reasons.
    pub reason_code: String,
    #[serde(default)]
    pub note: String,
}

/// Request an adjustment: at or below the approval limit it posts at once (status `posted`);
/// above it, it waits for a different supervisor (status `pending_approval`).
#[utoipa::path(
    post, path = "/api/v1/adjustments", tag = "charges", request_body = AdjustmentBody,
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = AdjustmentRow), (status = 422, body = web::ProblemDocument)),
)]
async fn request_adjustment(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<AdjustmentBody>,
) -> Result<Response, ApiError> {
    let new = NewAdjustment::parse(body.account_id, &body.direction, &body.amount, &body.reason_code, &body.note)?;
    let route = "POST /api/v1/adjustments".to_string();
    idempotent(&state, user, headers, route, body, StatusCode::CREATED, move |tx, actor, now| {
        Box::pin(async move { ops::request_adjustment(tx, &actor, new, now).await })
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct StatusQuery {
    pub status: Option<String>,
}

/// Adjustments in one status (default `pending_approval`), oldest first.
#[utoipa::path(
    get, path = "/api/v1/adjustments", tag = "charges",
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("status" = Option<String>, Query, description = "pending_approval (default), posted, approved, rejected")),
    responses((status = 200, body = Vec<AdjustmentRow>), (status = 422, body = web::ProblemDocument)),
)]
async fn list_adjustments(
    State(state): State<AppState>,
    Query(q): Query<StatusQuery>,
) -> Result<axum::Json<Vec<AdjustmentRow>>, ApiError> {
    let status = AdjustmentStatus::parse(q.status.as_deref().unwrap_or("pending_approval"))?;
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::adjustments_by_status(&mut tx, status).await?))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"note": "Checked the read history; the misread is clear."}))]
#[schema(as = ChargeDecisionBody)]
pub struct DecisionBody {
    /// Why; required to reject.
    #[serde(default)]
    pub note: String,
}

async fn decide(
    state: AppState,
    user: CurrentUser,
    headers: HeaderMap,
    id: i64,
    body: DecisionBody,
    decision: Decision,
) -> Result<Response, ApiError> {
    let verb = if decision == Decision::Approve { "approve" } else { "reject" };
    let route = format!("POST /api/v1/adjustments/{id}/{verb}");
    let note = body.note.clone();
    idempotent(&state, user, headers, route, body, StatusCode::OK, move |tx, actor, now| {
        Box::pin(async move { ops::decide_adjustment(tx, &actor, id, decision, &note, now).await })
    })
    .await
}

/// Approve a pending adjustment (a supervisor other than the requester); posts it once.
#[utoipa::path(
    post, path = "/api/v1/adjustments/{adjustment_id}/approve", tag = "charges", request_body = DecisionBody,
    security(("bearer" = ["money.approve"]), ("session" = ["money.approve"])),
    params(("adjustment_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = AdjustmentRow),
        (status = 403, body = web::ProblemDocument, description = "adjustment_requires_different_approver"),
        (status = 409, body = web::ProblemDocument, description = "adjustment_not_pending"),
    ),
)]
async fn approve_adjustment(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    decide(state, user, headers, id, optional_note(&body)?, Decision::Approve).await
}

/// A body whose note is optional, so an empty body is allowed too.
pub(crate) fn optional_note(body: &[u8]) -> Result<DecisionBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DecisionBody::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "note", e.to_string()))
}

/// Reject a pending adjustment, saying why; nothing posts.
#[utoipa::path(
    post, path = "/api/v1/adjustments/{adjustment_id}/reject", tag = "charges", request_body = DecisionBody,
    security(("bearer" = ["money.approve"]), ("session" = ["money.approve"])),
    params(("adjustment_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = AdjustmentRow),
        (status = 409, body = web::ProblemDocument, description = "adjustment_not_pending"),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn reject_adjustment(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(state, user, headers, id, body, Decision::Reject).await
}
