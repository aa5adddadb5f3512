//! JSON handlers for deposits and payment arrangements.

use super::{DecisionBody, StatusQuery, idempotent, optional_note};
use crate::model::{Decision, DepositStatus};
use crate::ops::{self, ArrangementView, NewArrangement, NewDeposit};
use crate::store::{ArrangementRow, DepositRow};
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use kernel::Permission;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::extract::{Json, Path, Query};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    let read = Access::Signed(P::BillingRead);
    let manage = Access::Signed(P::BillingManage);
    let approve = Access::Signed(P::MoneyApprove);
    Routes::new()
        .post("/api/v1/deposits", manage, require_deposit)
        .get("/api/v1/accounts/{account_id}/deposits", read, account_deposits)
        .post("/api/v1/deposits/{deposit_id}/apply", manage, apply_deposit)
        .post("/api/v1/deposits/{deposit_id}/refund", manage, refund_deposit)
        .get("/api/v1/deposits", manage, list_deposits)
        .post("/api/v1/deposits/{deposit_id}/refund/approve", approve, approve_deposit_refund)
        .post("/api/v1/deposits/{deposit_id}/refund/reject", approve, reject_deposit_refund)
        .post("/api/v1/deposits/{deposit_id}/refund/issue", Access::Signed(P::PaymentsManage), issue_deposit_refund)
        .post("/api/v1/arrangements", manage, make_arrangement)
        .get("/api/v1/arrangements/{arrangement_id}", read, get_arrangement)
        .get("/api/v1/accounts/{account_id}/arrangements", read, account_arrangements)
        .post("/api/v1/arrangements/{arrangement_id}/cancel", manage, cancel_arrangement)
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"account_id": 7, "due_date": "2026-12-14"}))]
#[schema(as = CustomerDepositBody)]
pub struct DepositBody {
    pub account_id: i64,
    /// Decimal text in the account's currency; absent, the amount the credit rating requires.
    pub amount: Option<String>,
    /// YYYY-MM-DD; defaults to today.
    pub due_date: Option<String>,
}

/// Require a deposit of an account and bill it (an open item the customer's payment settles).
#[utoipa::path(
    post, path = "/api/v1/deposits", tag = "charges", request_body = DepositBody,
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = DepositRow), (status = 422, body = web::ProblemDocument)),
)]
pub async fn require_deposit(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<DepositBody>,
) -> Result<Response, ApiError> {
    let new = NewDeposit::parse(body.account_id, body.amount.as_deref(), body.due_date.as_deref())?;
    let route = "POST /api/v1/deposits".to_string();
    idempotent(&state, user, headers, route, body, StatusCode::CREATED, move |tx, actor, now| {
        Box::pin(async move { ops::require_deposit(tx, &actor, new, now).await })
    })
    .await
}

/// An account's deposits, newest first.
#[utoipa::path(
    get, path = "/api/v1/accounts/{account_id}/deposits", tag = "charges",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(("account_id" = i64, Path)),
    responses((status = 200, body = Vec<DepositRow>), (status = 404, body = web::ProblemDocument)),
)]
pub async fn account_deposits(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<axum::Json<Vec<DepositRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::deposits_of(&mut tx, id).await?))
}

/// Apply a held deposit to the account's balance.
#[utoipa::path(
    post, path = "/api/v1/deposits/{deposit_id}/apply", tag = "charges",
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("deposit_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = DepositRow), (status = 409, body = web::ProblemDocument)),
)]
pub async fn apply_deposit(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let route = format!("POST /api/v1/deposits/{id}/apply");
    idempotent(&state, user, headers, route, id, StatusCode::OK, move |tx, actor, now| {
        Box::pin(async move { ops::apply_deposit(tx, &actor, id, now).await })
    })
    .await
}

/// Refund a held deposit (to refunds payable). At or below the approval limit it posts at once
/// (status `refunded`); above it, it waits for a different supervisor (status `refund_pending`).
/// The body, `{"note": "..."}`, is optional.
#[utoipa::path(
    post, path = "/api/v1/deposits/{deposit_id}/refund", tag = "charges", request_body = DecisionBody,
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("deposit_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = DepositRow), (status = 409, body = web::ProblemDocument)),
)]
pub async fn refund_deposit(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body = optional_note(&body)?;
    let route = format!("POST /api/v1/deposits/{id}/refund");
    let note = body.note.clone();
    idempotent(&state, user, headers, route, body, StatusCode::OK, move |tx, actor, now| {
        Box::pin(async move { ops::refund_deposit(tx, &actor, id, &note, now).await })
    })
    .await
}

/// Deposits in one status (default `refund_pending`: the refunds waiting for approval), oldest
/// first, at most 200.
#[utoipa::path(
    get, path = "/api/v1/deposits", tag = "charges",
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("status" = Option<String>, Query,
        description = "refund_pending (default), required, billed, held, applied, refunded, refund_issued")),
    responses((status = 200, body = Vec<DepositRow>), (status = 422, body = web::ProblemDocument)),
)]
pub async fn list_deposits(
    State(state): State<AppState>,
    Query(q): Query<StatusQuery>,
) -> Result<axum::Json<Vec<DepositRow>>, ApiError> {
    let status = DepositStatus::parse(q.status.as_deref().unwrap_or("refund_pending"))?;
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::deposits_by_status(&mut tx, status).await?))
}

async fn decide_refund(
    state: AppState,
    user: CurrentUser,
    headers: HeaderMap,
    id: i64,
    body: DecisionBody,
    decision: Decision,
) -> Result<Response, ApiError> {
    let verb = if decision == Decision::Approve { "approve" } else { "reject" };
    let route = format!("POST /api/v1/deposits/{id}/refund/{verb}");
    let note = body.note.clone();
    idempotent(&state, user, headers, route, body, StatusCode::OK, move |tx, actor, now| {
        Box::pin(async move { ops::decide_deposit_refund(tx, &actor, id, decision, &note, now).await })
    })
    .await
}

/// Approve a deposit refund waiting for approval (a supervisor other than the requester); posts
/// it once. The body is optional.
#[utoipa::path(
    post, path = "/api/v1/deposits/{deposit_id}/refund/approve", tag = "charges", request_body = DecisionBody,
    security(("bearer" = ["money.approve"]), ("session" = ["money.approve"])),
    params(("deposit_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = DepositRow),
        (status = 403, body = web::ProblemDocument, description = "deposit_refund_requires_different_approver"),
        (status = 409, body = web::ProblemDocument, description = "deposit_refund_not_pending"),
    ),
)]
pub async fn approve_deposit_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    decide_refund(state, user, headers, id, optional_note(&body)?, Decision::Approve).await
}

/// Reject a deposit refund waiting for approval, saying why; the deposit is held again.
#[utoipa::path(
    post, path = "/api/v1/deposits/{deposit_id}/refund/reject", tag = "charges", request_body = DecisionBody,
    security(("bearer" = ["money.approve"]), ("session" = ["money.approve"])),
    params(("deposit_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = DepositRow),
        (status = 409, body = web::ProblemDocument, description = "deposit_refund_not_pending"),
        (status = 422, body = web::ProblemDocument),
    ),
)]
pub async fn reject_deposit_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<DecisionBody>,
) -> Result<Response, ApiError> {
    decide_refund(state, user, headers, id, body, Decision::Reject).await
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"account_id": 7, "instalment_count": 3, "frequency": "monthly",
    "first_due_date": "2026-12-15"}))]
pub struct ArrangementBody {
    pub account_id: i64,
    /// 1 to 24.
    pub instalment_count: i64,
    /// weekly or monthly
    pub frequency: String,
    /// YYYY-MM-DD
    pub first_due_date: String,
}

/// Split the account's arrears into instalments. No money moves.
#[utoipa::path(
    post, path = "/api/v1/arrangements", tag = "charges", request_body = ArrangementBody,
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = ArrangementView),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
pub async fn make_arrangement(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<ArrangementBody>,
) -> Result<Response, ApiError> {
    let new = NewArrangement::parse(body.account_id, body.instalment_count, &body.frequency, &body.first_due_date)?;
    let route = "POST /api/v1/arrangements".to_string();
    idempotent(&state, user, headers, route, body, StatusCode::CREATED, move |tx, actor, now| {
        Box::pin(async move { ops::make_arrangement(tx, &actor, new, now).await })
    })
    .await
}

/// One arrangement with its instalments.
#[utoipa::path(
    get, path = "/api/v1/arrangements/{arrangement_id}", tag = "charges",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(("arrangement_id" = i64, Path)),
    responses((status = 200, body = ArrangementView), (status = 404, body = web::ProblemDocument)),
)]
pub async fn get_arrangement(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<axum::Json<ArrangementView>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::get_arrangement(&mut tx, id).await?))
}

/// An account's arrangements, newest first.
#[utoipa::path(
    get, path = "/api/v1/accounts/{account_id}/arrangements", tag = "charges",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(("account_id" = i64, Path)),
    responses((status = 200, body = Vec<ArrangementRow>), (status = 404, body = web::ProblemDocument)),
)]
pub async fn account_arrangements(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<axum::Json<Vec<ArrangementRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::arrangements_of(&mut tx, id).await?))
}

/// Cancel an active arrangement.
#[utoipa::path(
    post, path = "/api/v1/arrangements/{arrangement_id}/cancel", tag = "charges",
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("arrangement_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = ArrangementView), (status = 409, body = web::ProblemDocument)),
)]
pub async fn cancel_arrangement(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let route = format!("POST /api/v1/arrangements/{id}/cancel");
    idempotent(&state, user, headers, route, id, StatusCode::OK, move |tx, actor, now| {
        Box::pin(async move { ops::cancel_arrangement(tx, &actor, id, now).await })
    })
    .await
}

/// Paying a refunded deposit out.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"reference": "CHK-100517"}))]
pub struct DepositRefundIssueBody {
    /// The refund check's number or the card refund's reference (1 to 60 characters; never a
    /// card number).
    pub reference: String,
}

/// Pay a refunded deposit out by check or card refund: posts Dr refunds payable / Cr cash once;
/// the deposit becomes `refund_issued`.
#[utoipa::path(
    post, path = "/api/v1/deposits/{deposit_id}/refund/issue", tag = "charges", request_body = DepositRefundIssueBody,
    security(("bearer" = ["payments.manage"]), ("session" = ["payments.manage"])),
    params(("deposit_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = DepositRow),
        (status = 409, body = web::ProblemDocument, description = "deposit_refund_not_to_issue"),
        (status = 422, body = web::ProblemDocument, description = "issue_reference_missing or text_invalid"),
    ),
)]
pub async fn issue_deposit_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<DepositRefundIssueBody>,
) -> Result<Response, ApiError> {
    let route = format!("POST /api/v1/deposits/{id}/refund/issue");
    let reference = body.reference.clone();
    idempotent(&state, user, headers, route, body, StatusCode::OK, move |tx, actor, now| {
        Box::pin(async move { ops::issue_deposit_refund(tx, &actor, id, &reference, now).await })
    })
    .await
}
