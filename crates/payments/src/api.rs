//! JSON handlers for payments and cash drawers. Thin: parse the body into domain types, call one
//! op inside one transaction (with the Idempotency-Key reserved in it), answer.

use crate::PaymentError;
use crate::model::{DrawerStatus, PayChannel, Tender, TenderDetail, TenderInput, parse_amount, parse_short};
use crate::ops::{self, NewPayment, Read, TakenPayment};
use crate::store::{DrawerRow, PaymentRow};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use kernel::{Currency, Permission};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use web::extract::{Json, Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(
        take_payment,
        get_payment,
        account_payments,
        open_drawer,
        close_drawer,
        sign_off_drawer,
        list_drawers,
        crate::api_more::request_refund,
        crate::api_more::list_refunds,
        crate::api_more::approve_refund,
        crate::api_more::reject_refund,
        crate::api_more::issue_refund,
        crate::api_more::reverse_payment,
        crate::api_more::transfer_payment,
        crate::api_more::make_deposit,
        crate::api_more::get_deposit,
        crate::api_more::import_file,
    ),
    components(schemas(PaymentBody, PaymentRow, TakenPayment, DrawerBody, DrawerCloseBody, DrawerRow, Tender,
        PayChannel, crate::api_more::RefundBody, crate::api_more::DecisionBody, crate::api_more::IssueBody,
        crate::store_more::RefundRow, crate::api_more::ReversalBody, crate::ops_money::Reversal,
        crate::api_more::TransferBody, crate::ops_money::Transfer, crate::api_more::DepositBody,
        crate::ops_money::Deposit, crate::ops_money::TenderTotal, crate::store_more::BankDepositRow,
        crate::api_more::PaymentFileBody, crate::import::Imported, crate::file::LineError)),
    tags((name = "payments", description = "Payments, receipts, cash drawers, deposits, payment files, reversals, \
        transfers and refunds")),
)]
pub struct PaymentsApi;

pub fn routes() -> Routes {
    use Permission as P;
    let take = Access::Signed(P::PaymentsTake);
    let manage = Access::Signed(P::PaymentsManage);
    Routes::new()
        .post("/api/v1/payments", take, take_payment)
        .get("/api/v1/payments/{payment_id}", Access::Signed(P::BillingRead), get_payment)
        .get("/api/v1/accounts/{account_id}/payments", Access::Signed(P::BillingRead), account_payments)
        .post("/api/v1/drawers", manage, open_drawer)
        .get("/api/v1/drawers", manage, list_drawers)
        .post("/api/v1/drawers/{drawer_id}/close", manage, close_drawer)
        .post("/api/v1/drawers/{drawer_id}/sign-off", Access::Signed(P::MoneyApprove), sign_off_drawer)
}

/// A payment to take.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({
    "account_id": 7, "amount": "42.50", "tender": "card", "channel": "phone",
    "processor_token": "tok_1PqRsTuV", "card_brand": "visa", "last_four": "4242"
}))]
pub struct PaymentBody {
    pub account_id: i64,
    /// Decimal text in the account's currency, e.g. "42.50".
    pub amount: String,
    /// cash, check, money_order, card or ach
    pub tender: String,
    /// counter, mail, phone or lockbox; defaults to counter.
    pub channel: Option<String>,
    /// Checks (required) and money orders.
    pub check_number: Option<String>,
    /// Card and ACH: the payment processor's token. Never a card or bank account number.
    pub processor_token: Option<String>,
    pub card_brand: Option<String>,
    /// Card and ACH: the last four digits.
    pub last_four: Option<String>,
    #[serde(default)]
    pub memo: String,
    /// Log a "payment taken" contact on the customer's timeline (default true).
    pub log_contact: Option<bool>,
}

impl PaymentBody {
    /// Parses every field; the account's currency comes from the caller.
    pub fn parse(&self, currency: Currency) -> Result<NewPayment, PaymentError> {
        if self.account_id <= 0 {
            return Err(PaymentError::IdInvalid { field: "account_id" });
        }
        let tender = Tender::parse(&self.tender)?;
        let input = TenderInput {
            check_number: self.check_number.as_deref(),
            processor_token: self.processor_token.as_deref(),
            card_brand: self.card_brand.as_deref(),
            last_four: self.last_four.as_deref(),
        };
        Ok(NewPayment {
            account_id: self.account_id,
            amount: parse_amount(&self.amount, currency, "amount")?,
            tender,
            channel: PayChannel::parse(self.channel.as_deref().unwrap_or("counter"))?,
            detail: TenderDetail::parse(tender, &input)?,
            memo: parse_short(Some(&self.memo), 200, "memo")?.unwrap_or_default(),
            log_contact: self.log_contact.unwrap_or(true),
        })
    }
}

/// Take a payment. Send an `Idempotency-Key` to retry safely: the same key never pays twice.
#[utoipa::path(
    post,
    path = "/api/v1/payments",
    tag = "payments",
    request_body = PaymentBody,
    security(("bearer" = ["payments.take"]), ("session" = ["payments.take"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = TakenPayment),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn take_payment(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<PaymentBody>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    if body.account_id <= 0 {
        return Err(PaymentError::IdInvalid { field: "account_id" }.into());
    }
    // The account is read on a reader, off the single writer's path; the write checks it again
    // in the statement that inserts the payment (`Read::BeforeThisTransaction`). An account the
    // reader cannot find open is read again on the writer, after the Idempotency-Key, so a
    // retry is still answered as before.
    let read_before = {
        let mut tx = state.db.read().await?;
        let found = ops::live_account(&mut tx, body.account_id).await.ok();
        tx.rollback().await?;
        found
    };
    state
        .db
        .write_grouped(move |tx| {
            Box::pin(async move {
                let route = "POST /api/v1/payments";
                let reservation = match idempotency::reserve(tx, &user, &headers, route, &body, now).await? {
                    Reservation::Replay(replayed) => return Ok(replayed.into_response()),
                    fresh_or_none => fresh_or_none,
                };
                let (account, currency, read) = match read_before {
                    Some((account, currency)) => (account, currency, Read::BeforeThisTransaction),
                    None => {
                        let (account, currency) = ops::live_account(tx, body.account_id).await?;
                        (account, currency, Read::InThisTransaction)
                    }
                };
                let new = body.parse(currency)?;
                let taken = ops::take_payment_for(tx, &user.actor(), account, currency, new, read, now).await?;
                idempotency::finish(tx, &user, &reservation, StatusCode::CREATED, &taken).await
            })
        })
        .await
}

/// One payment, with its payment and receipt numbers.
#[utoipa::path(
    get,
    path = "/api/v1/payments/{payment_id}",
    tag = "payments",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(("payment_id" = i64, Path)),
    responses((status = 200, body = PaymentRow), (status = 404, body = web::ProblemDocument)),
)]
async fn get_payment(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<PaymentRow>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::get_payment(&mut tx, id).await?))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub limit: Option<i64>,
    /// Payments older than this id.
    pub before: Option<i64>,
    pub status: Option<String>,
}

/// An account's payments, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/payments",
    tag = "payments",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(
        ("account_id" = i64, Path),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50"),
        ("before" = Option<i64>, Query, description = "only payments with a smaller id (the next page)"),
    ),
    responses((status = 200, body = Vec<PaymentRow>), (status = 404, body = web::ProblemDocument)),
)]
async fn account_payments(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<PaymentRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::payments_for_account(&mut tx, id, q.before, q.limit.unwrap_or(50)).await?))
}

/// Opening a drawer.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"float": "150.00", "currency": "USD"}))]
pub struct DrawerBody {
    /// The counted starting cash, e.g. "150.00".
    pub float: String,
    /// ISO 4217; defaults to USD.
    pub currency: Option<String>,
}

fn currency(code: Option<&str>) -> Result<Currency, PaymentError> {
    Currency::parse(code.unwrap_or("USD")).map_err(|_| PaymentError::CurrencyMismatch)
}

fn amount_or_zero(text: &str, currency: Currency, field: &'static str) -> Result<kernel::Money, PaymentError> {
    match text.trim() {
        "" => Ok(kernel::Money::zero(currency)),
        text => kernel::Money::parse(text, currency)
            .ok()
            .filter(|m| m.amount_minor >= 0)
            .ok_or(PaymentError::AmountInvalid { field }),
    }
}

/// Open my cash drawer with a counted float.
#[utoipa::path(
    post,
    path = "/api/v1/drawers",
    tag = "payments",
    request_body = DrawerBody,
    security(("bearer" = ["payments.manage"]), ("session" = ["payments.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = DrawerRow), (status = 409, body = web::ProblemDocument)),
)]
async fn open_drawer(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<DrawerBody>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let currency = currency(body.currency.as_deref())?;
    let float = amount_or_zero(&body.float, currency, "float")?;
    let mut tx = state.db.begin().await?;
    let route = "POST /api/v1/drawers";
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, route, &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let drawer = ops::open_drawer(&mut tx, &user.actor(), float, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &drawer).await?;
    tx.commit().await?;
    Ok(response)
}

/// Closing a drawer: what was counted.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"counted_cash": "412.35", "counted_checks": "96.00"}))]
pub struct DrawerCloseBody {
    /// All the cash in the drawer, float included.
    pub counted_cash: String,
    /// Checks and money orders.
    #[serde(default)]
    pub counted_checks: String,
}

/// Close a drawer with the counted amounts; any over/short is posted to the ledger.
#[utoipa::path(
    post,
    path = "/api/v1/drawers/{drawer_id}/close",
    tag = "payments",
    request_body = DrawerCloseBody,
    security(("bearer" = ["payments.manage"]), ("session" = ["payments.manage"])),
    params(("drawer_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = DrawerRow), (status = 409, body = web::ProblemDocument)),
)]
async fn close_drawer(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<DrawerCloseBody>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let route = format!("POST /api/v1/drawers/{id}/close");
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, &route, &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let drawer = ops::get_drawer(&mut tx, id).await?;
    let currency = currency(Some(&drawer.currency))?;
    let cash = amount_or_zero(&body.counted_cash, currency, "counted_cash")?;
    let checks = amount_or_zero(&body.counted_checks, currency, "counted_checks")?;
    let closed = ops::close_drawer(&mut tx, &user.actor(), id, cash, checks, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::OK, &closed).await?;
    tx.commit().await?;
    Ok(response)
}

/// A supervisor (not the drawer's cashier) signs off a closed drawer.
#[utoipa::path(
    post,
    path = "/api/v1/drawers/{drawer_id}/sign-off",
    tag = "payments",
    security(("bearer" = ["money.approve"]), ("session" = ["money.approve"])),
    params(("drawer_id" = i64, Path)),
    responses((status = 200, body = DrawerRow), (status = 403, body = web::ProblemDocument)),
)]
async fn sign_off_drawer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<axum::Json<DrawerRow>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let drawer = ops::sign_off_drawer(&mut tx, &user.actor(), id, now).await?;
    tx.commit().await?;
    Ok(axum::Json(drawer))
}

/// Cash drawers, newest first; `status` filters (open, closed, signed_off).
#[utoipa::path(
    get,
    path = "/api/v1/drawers",
    tag = "payments",
    security(("bearer" = ["payments.manage"]), ("session" = ["payments.manage"])),
    params(("status" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Vec<DrawerRow>)),
)]
async fn list_drawers(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<DrawerRow>>, ApiError> {
    let status = q.status.as_deref().map(DrawerStatus::parse).transpose()?;
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::drawers(&mut tx, status, q.limit.unwrap_or(100)).await?))
}
