//! JSON handlers for refunds, reversals, transfers, bank deposits and payment files. Thin, like
//! `api.rs`: parse, one op in one transaction with the Idempotency-Key reserved in it, answer.

use crate::PaymentError;
use crate::import::Imported;
use crate::model::{RefundAction, RefundStatus, ReversalReason, parse_amount, parse_short};
use crate::ops_money::{self, Deposit, Reversal, Transfer};
use crate::store_more::RefundRow;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use db::Tx;
use http::{HeaderMap, StatusCode, header};
use kernel::{Currency, Permission, Timestamp};
use serde::{Deserialize, Serialize};
use std::future::Future;
use utoipa::ToSchema;
use web::extract::{Json, Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    let manage = Access::Signed(P::PaymentsManage);
    let approve = Access::Signed(P::MoneyApprove);
    Routes::new()
        .post("/api/v1/refunds", Access::Signed(P::PaymentsTake), request_refund)
        .get("/api/v1/refunds", Access::Signed(P::BillingRead), list_refunds)
        .post("/api/v1/refunds/{refund_id}/approve", approve, approve_refund)
        .post("/api/v1/refunds/{refund_id}/reject", approve, reject_refund)
        .post("/api/v1/refunds/{refund_id}/issue", manage, issue_refund)
        .post("/api/v1/reversals", manage, reverse_payment)
        .post("/api/v1/payments/{payment_id}/transfer", manage, transfer_payment)
        .post("/api/v1/bank-deposits", manage, make_deposit)
        .get("/api/v1/bank-deposits/{bank_deposit_id}", Access::Signed(P::LedgerRead), get_deposit)
        .post("/api/v1/payment-files", manage, import_file)
}

/// Runs `op` in the write transaction `tx` with the Idempotency-Key reserved first (most
/// callers open a plain one; the payment file import a bulk one).
#[allow(clippy::too_many_arguments)]
async fn idempotent<B, T, F>(
    state: &AppState,
    mut tx: Tx,
    user: &CurrentUser,
    headers: &HeaderMap,
    route: &str,
    body: &B,
    status: StatusCode,
    op: F,
) -> Result<Response, ApiError>
where
    B: Serialize,
    T: Serialize,
    F: for<'a> FnOnce(
        &'a mut Tx,
        Timestamp,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<T, ApiError>> + Send + 'a>>,
{
    let now = state.clock.now();
    let reservation = match idempotency::reserve(&mut tx, user, headers, route, body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let value = op(&mut tx, now).await?;
    let response = idempotency::finish(&mut tx, user, &reservation, status, &value).await?;
    tx.commit().await?;
    Ok(response)
}

/// A JSON body that may be left out altogether.
fn optional_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<Option<T>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|e| ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "body_invalid", "body", e.to_string()))
}

/// Asking to refund an account's credit balance.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"account_id": 7, "amount": "18.40", "reason": "Overpaid the final bill"}))]
pub struct RefundBody {
    pub account_id: i64,
    /// Decimal text; at most the account's credit.
    pub amount: String,
    #[serde(default)]
    pub reason: String,
}

/// Request a refund of overpayment (a supervisor other than you approves it).
#[utoipa::path(
    post, path = "/api/v1/refunds", tag = "payments", request_body = RefundBody,
    security(("bearer" = ["payments.take"]), ("session" = ["payments.take"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = RefundRow), (status = 422, body = web::ProblemDocument)),
)]
pub(crate) async fn request_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<RefundBody>,
) -> Result<Response, ApiError> {
    let actor = user.actor();
    let b = body.clone();
    idempotent(
        &state,
        state.db.begin().await?,
        &user,
        &headers,
        "POST /api/v1/refunds",
        &body,
        StatusCode::CREATED,
        move |tx, now| {
            Box::pin(async move {
                let (_, currency) = crate::ops::live_account(tx, b.account_id).await?;
                let amount = parse_amount(&b.amount, currency, "amount")?;
                let reason = parse_short(Some(&b.reason), 500, "reason")?.unwrap_or_default();
                Ok(ops_money::request_refund(tx, &actor, b.account_id, amount, &reason, now).await?)
            })
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct RefundQuery {
    pub status: Option<String>,
    pub limit: Option<i64>,
}

/// Refunds, newest first; `status=requested` lists those waiting for approval.
#[utoipa::path(
    get, path = "/api/v1/refunds", tag = "payments",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(("status" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Vec<RefundRow>)),
)]
pub(crate) async fn list_refunds(
    State(state): State<AppState>,
    Query(q): Query<RefundQuery>,
) -> Result<axum::Json<Vec<RefundRow>>, ApiError> {
    let status = q.status.as_deref().map(RefundStatus::parse).transpose()?;
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops_money::refunds(&mut tx, status, q.limit.unwrap_or(100)).await?))
}

/// A supervisor's decision note.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"note": "Checked the final bill; credit is real"}))]
pub struct DecisionBody {
    #[serde(default)]
    pub note: String,
}

async fn decide(
    state: AppState,
    user: CurrentUser,
    headers: HeaderMap,
    id: i64,
    body: Option<DecisionBody>,
    action: RefundAction,
) -> Result<Response, ApiError> {
    let body = body.unwrap_or_default();
    let note = parse_short(Some(&body.note), 500, "note")?.unwrap_or_default();
    let actor = user.actor();
    let verb = if action == RefundAction::Approve { "approve" } else { "reject" };
    let route = format!("POST /api/v1/refunds/{id}/{verb}");
    idempotent(&state, state.db.begin().await?, &user, &headers, &route, &body, StatusCode::OK, move |tx, now| {
        Box::pin(async move { Ok(ops_money::decide_refund(tx, &actor, id, action, &note, now).await?) })
    })
    .await
}

/// Approve a refund (supervisor; never the one who requested it). Posts Dr receivable / Cr refunds payable.
#[utoipa::path(
    post, path = "/api/v1/refunds/{refund_id}/approve", tag = "payments", request_body = DecisionBody,
    security(("bearer" = ["money.approve"]), ("session" = ["money.approve"])),
    params(("refund_id" = i64, Path)),
    responses((status = 200, body = RefundRow), (status = 403, body = web::ProblemDocument)),
)]
pub(crate) async fn approve_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    decide(state, user, headers, id, optional_json(&body)?, RefundAction::Approve).await
}

/// Reject a refund (supervisor; never the one who requested it).
#[utoipa::path(
    post, path = "/api/v1/refunds/{refund_id}/reject", tag = "payments", request_body = DecisionBody,
    security(("bearer" = ["money.approve"]), ("session" = ["money.approve"])),
    params(("refund_id" = i64, Path)),
    responses((status = 200, body = RefundRow), (status = 403, body = web::ProblemDocument)),
)]
pub(crate) async fn reject_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    decide(state, user, headers, id, optional_json(&body)?, RefundAction::Reject).await
}

/// Paying an approved refund out.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"reference": "CHK-100482"}))]
pub struct IssueBody {
    /// The refund check's number or the card refund's reference.
    pub reference: String,
}

/// Issue an approved refund. Posts Dr refunds payable / Cr cash.
#[utoipa::path(
    post, path = "/api/v1/refunds/{refund_id}/issue", tag = "payments", request_body = IssueBody,
    security(("bearer" = ["payments.manage"]), ("session" = ["payments.manage"])),
    params(("refund_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = RefundRow), (status = 409, body = web::ProblemDocument)),
)]
pub(crate) async fn issue_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<IssueBody>,
) -> Result<Response, ApiError> {
    let actor = user.actor();
    let reference = body.reference.clone();
    let route = format!("POST /api/v1/refunds/{id}/issue");
    idempotent(&state, state.db.begin().await?, &user, &headers, &route, &body, StatusCode::OK, move |tx, now| {
        Box::pin(async move { Ok(ops_money::issue_refund(tx, &actor, id, &reference, now).await?) })
    })
    .await
}

/// Reversing a returned or mistaken payment.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"payment_id": 42, "reason": "nsf"}))]
pub struct ReversalBody {
    pub payment_id: i64,
    /// nsf, returned_check (both charge the NSF fee and count toward cash-only) or error.
    pub reason: String,
}

/// Reverse a payment: the bills it paid reopen; NSF and returned checks add the fee.
#[utoipa::path(
    post, path = "/api/v1/reversals", tag = "payments", request_body = ReversalBody,
    security(("bearer" = ["payments.manage"]), ("session" = ["payments.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Reversal), (status = 409, body = web::ProblemDocument)),
)]
pub(crate) async fn reverse_payment(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<ReversalBody>,
) -> Result<Response, ApiError> {
    let reason = ReversalReason::parse(&body.reason)?;
    let actor = user.actor();
    let payment_id = body.payment_id;
    idempotent(
        &state,
        state.db.begin().await?,
        &user,
        &headers,
        "POST /api/v1/reversals",
        &body,
        StatusCode::CREATED,
        move |tx, now| {
            Box::pin(async move { Ok(ops_money::reverse_payment(tx, &actor, payment_id, reason, now).await?) })
        },
    )
    .await
}

/// Moving a misapplied payment to the right account.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"to_account_id": 8, "amount": "42.50", "memo": "Paid on the neighbour's account"}))]
#[schema(as = PaymentTransferBody)]
pub struct TransferBody {
    pub to_account_id: i64,
    /// Decimal text; defaults to all that is left of the payment.
    pub amount: Option<String>,
    #[serde(default)]
    pub memo: String,
}

/// Transfer (part of) a payment to another account: Dr receivable A / Cr receivable B.
#[utoipa::path(
    post, path = "/api/v1/payments/{payment_id}/transfer", tag = "payments", request_body = TransferBody,
    security(("bearer" = ["payments.manage"]), ("session" = ["payments.manage"])),
    params(("payment_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Transfer), (status = 422, body = web::ProblemDocument)),
)]
pub(crate) async fn transfer_payment(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<TransferBody>,
) -> Result<Response, ApiError> {
    let actor = user.actor();
    let b = body.clone();
    let route = format!("POST /api/v1/payments/{id}/transfer");
    idempotent(&state, state.db.begin().await?, &user, &headers, &route, &body, StatusCode::CREATED, move |tx, now| {
        Box::pin(async move {
            let payment = crate::ops::get_payment(tx, id).await?;
            let currency = Currency::parse(&payment.currency).map_err(|_| PaymentError::CurrencyMismatch)?;
            let amount = match b.amount.as_deref() {
                Some(text) => Some(parse_amount(text, currency, "amount")?.amount_minor),
                None => None,
            };
            let memo = parse_short(Some(&b.memo), 200, "memo")?.unwrap_or_default();
            Ok(ops_money::transfer_payment(tx, &actor, id, b.to_account_id, amount, &memo, now).await?)
        })
    })
    .await
}

/// Making a bank deposit.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"currency": "USD"}))]
pub struct DepositBody {
    /// ISO 4217; defaults to USD.
    pub currency: Option<String>,
}

/// Group closed drawers and undeposited mail, phone and lockbox payments into a bank deposit.
#[utoipa::path(
    post, path = "/api/v1/bank-deposits", tag = "payments", request_body = DepositBody,
    security(("bearer" = ["payments.manage"]), ("session" = ["payments.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Deposit), (status = 409, body = web::ProblemDocument)),
)]
pub(crate) async fn make_deposit(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body: DepositBody = optional_json(&body)?.unwrap_or_default();
    let currency =
        Currency::parse(body.currency.as_deref().unwrap_or("USD")).map_err(|_| PaymentError::CurrencyMismatch)?;
    let actor = user.actor();
    idempotent(
        &state,
        state.db.begin().await?,
        &user,
        &headers,
        "POST /api/v1/bank-deposits",
        &body,
        StatusCode::CREATED,
        move |tx, now| Box::pin(async move { Ok(ops_money::make_deposit(tx, &actor, currency, now).await?) }),
    )
    .await
}

/// One bank deposit with its totals by tender.
#[utoipa::path(
    get, path = "/api/v1/bank-deposits/{bank_deposit_id}", tag = "payments",
    security(("bearer" = ["ledger.read"]), ("session" = ["ledger.read"])),
    params(("bank_deposit_id" = i64, Path)),
    responses((status = 200, body = Deposit), (status = 404, body = web::ProblemDocument)),
)]
pub(crate) async fn get_deposit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<axum::Json<Deposit>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops_money::get_deposit(&mut tx, id).await?))
}

/// A payment file sent as JSON.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"file_name": "lockbox-2026-11-30.csv",
    "text": "account_number,amount,reference,date\n1000000018,42.50,LBX-000001,2026-11-30\n"}))]
pub struct PaymentFileBody {
    #[serde(default)]
    pub file_name: String,
    /// The CSV: account_number,amount,reference,date (a header line, a BOM and `;` are accepted).
    pub text: String,
    /// ISO 4217; defaults to USD.
    pub currency: Option<String>,
}

/// Import a lockbox payment file (CSV body, or JSON with the text). Any bad line refuses the
/// whole file, listing every error; a file or reference imported before is refused. A repeat
/// with the same `Idempotency-Key` answers the first import again.
#[utoipa::path(
    post, path = "/api/v1/payment-files", tag = "payments", request_body = PaymentFileBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = ["payments.manage"]), ("session" = ["payments.manage"])),
    responses(
        (status = 201, body = Imported),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
pub(crate) async fn import_file(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let file = match is_json {
        true => serde_json::from_slice::<PaymentFileBody>(&body)
            .map_err(|e| ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "body_invalid", "text", e.to_string()))?,
        false => PaymentFileBody {
            file_name: "upload.csv".into(),
            text: String::from_utf8(body.to_vec()).map_err(|_| {
                ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "encoding_invalid", "text", "must be UTF-8 text")
            })?,
            currency: None,
        },
    };
    let currency =
        Currency::parse(file.currency.as_deref().unwrap_or("USD")).map_err(|_| PaymentError::CurrencyMismatch)?;
    // The key is matched to the request by the file's name, currency and fingerprint, not a copy
    // of a text that may run to tens of megabytes.
    let request = serde_json::json!({
        "file_name": file.file_name, "currency": file.currency, "sha256": db::sha256_hex(&file.text),
    });
    let actor = user.actor();
    let tx = state.db.begin_bulk().await?;
    idempotent(&state, tx, &user, &headers, "POST /api/v1/payment-files", &request, StatusCode::CREATED, {
        move |tx, now| {
            Box::pin(async move {
                crate::import::import_file(tx, &actor, &file.file_name, &file.text, currency, now)
                    .await
                    .map_err(crate::to_api_error)
            })
        }
    })
    .await
}
