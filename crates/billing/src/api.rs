//! JSON handlers for billing: rate schedules, meter reads, bills (and their PDFs) and bill runs.
//! Thin: parse the body into domain types, call one op inside one transaction, answer.

use crate::BillingError;
use crate::bills_store::{BillLineRow, BillRow};
use crate::ops::{self, BillWithLines, ImportOutcome, NewRateVersion, NewRead};
use crate::store::{RateRow, ReadRow, RunRow};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use kernel::Permission;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use web::extract::{Json, Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(list_rates, add_rate, record_read, import_reads, list_bills, get_bill, bill_pdf, account_bills, list_runs,
        start_run, get_run),
    components(schemas(RateRow, RateBody, ReadRow, ReadBody, ImportBody, ImportOutcome, BillRow, BillLineRow,
        BillWithLines, RunRow, RunBody)),
    tags((name = "billing", description = "Rate schedules, meter reads, bill runs and bills")),
)]
pub struct BillingApi;

pub fn routes() -> Routes {
    use Permission as P;
    let read = Access::Signed(P::BillingRead);
    let manage = Access::Signed(P::BillingManage);
    Routes::new()
        .get("/api/v1/rate-schedules", read, list_rates)
        .post("/api/v1/rate-schedules", manage, add_rate)
        .post("/api/v1/meter-reads", manage, record_read)
        .post("/api/v1/meter-reads/import", manage, import_reads)
        .get("/api/v1/bills", read, list_bills)
        .get("/api/v1/bills/{bill_id}", read, get_bill)
        .get("/api/v1/bills/{bill_id}/pdf", read, bill_pdf)
        .get("/api/v1/accounts/{account_id}/bills", read, account_bills)
        .get("/api/v1/bill-runs", read, list_runs)
        .post("/api/v1/bill-runs", manage, start_run)
        .get("/api/v1/bill-runs/{bill_run_id}", read, get_run)
}

/// Every version of every rate schedule.
#[utoipa::path(get, path = "/api/v1/rate-schedules", tag = "billing",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    responses((status = 200, body = Vec<RateRow>)))]
async fn list_rates(State(state): State<AppState>) -> Result<axum::Json<Vec<RateRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::rate_versions(&mut tx).await?))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"rate_code": "E-RES-1", "service_type": "electric", "effective_from": "2027-01-01",
    "currency": "USD", "unit": "kWh", "fixed_charge": "13.00", "minimum_charge": "15.00",
    "tiers": "500:0.1150;*:0.1420", "tax_percent": "6.25"}))]
pub struct RateBody {
    pub rate_code: String,
    /// electric, water, gas, ...
    pub service_type: String,
    /// YYYY-MM-DD
    pub effective_from: String,
    pub currency: String,
    /// kWh, m3, therm, ...
    pub unit: String,
    /// Per period, e.g. "12.50".
    pub fixed_charge: String,
    #[serde(default)]
    pub minimum_charge: String,
    /// Blocks: "500:0.1123;*:0.1389".
    pub tiers: String,
    /// Percent, e.g. "6.25".
    #[serde(default)]
    pub tax_percent: String,
}

impl RateBody {
    fn new_version(&self) -> NewRateVersion {
        let or_zero = |s: &str| if s.trim().is_empty() { "0".to_string() } else { s.to_string() };
        NewRateVersion {
            rate_code: self.rate_code.clone(),
            service_type: self.service_type.clone(),
            effective_from: self.effective_from.clone(),
            currency: self.currency.clone(),
            unit: self.unit.clone(),
            fixed_charge: self.fixed_charge.clone(),
            minimum_charge: or_zero(&self.minimum_charge),
            tiers: self.tiers.clone(),
            tax_percent: or_zero(&self.tax_percent),
        }
    }
}

/// Add a version of a rate schedule (a new rate code, or a new effective date of one).
#[utoipa::path(post, path = "/api/v1/rate-schedules", tag = "billing", request_body = RateBody,
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = RateRow), (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument)))]
async fn add_rate(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<RateBody>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let version = ops::parse_rate_version(&body.new_version())?;
    let mut tx = state.db.begin().await?;
    let route = "POST /api/v1/rate-schedules";
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, route, &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let row = ops::add_rate_version(&mut tx, &user.actor(), &version, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &row).await?;
    tx.commit().await?;
    Ok(response)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"meter_number": "M00000042", "read_date": "2026-11-30", "reading": 18250}))]
pub struct ReadBody {
    pub meter_number: String,
    /// YYYY-MM-DD
    pub read_date: String,
    pub reading: i64,
    /// actual (default), rollover or replacement: a reading below the previous one needs one of
    /// the last two.
    pub kind: Option<String>,
}

/// Record a meter read.
#[utoipa::path(post, path = "/api/v1/meter-reads", tag = "billing", request_body = ReadBody,
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ReadRow), (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument)))]
async fn record_read(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<ReadBody>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let new = NewRead {
        meter_number: body.meter_number.clone(),
        read_date: body.read_date.clone(),
        reading: body.reading.to_string(),
        kind: body.kind.clone().unwrap_or_default(),
    };
    let mut tx = state.db.begin().await?;
    let route = "POST /api/v1/meter-reads";
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, route, &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let row = ops::record_read(&mut tx, &user.actor(), &new, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &row).await?;
    tx.commit().await?;
    Ok(response)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"csv": "meter_number,read_date,reading\nM00000042,2026-11-30,18250\n"}))]
pub struct ImportBody {
    /// CSV text: meter number, read date, reading[, kind]; a header line is allowed.
    pub csv: String,
}

/// Import meter reads from CSV: all or nothing; a bad file answers 422 listing every bad line.
#[utoipa::path(post, path = "/api/v1/meter-reads/import", tag = "billing", request_body = ImportBody,
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    responses((status = 201, body = ImportOutcome), (status = 422, body = web::ProblemDocument)))]
async fn import_reads(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<ImportBody>,
) -> Result<Response, ApiError> {
    let mut tx = state.db.begin().await?;
    match ops::import_reads(&mut tx, &user.actor(), &body.csv, state.clock.now()).await {
        Ok(outcome) => {
            tx.commit().await?;
            Ok((StatusCode::CREATED, axum::Json(outcome)).into_response())
        }
        Err(BillingError::ImportRejected { errors }) => {
            tx.rollback().await?;
            let body = serde_json::json!({
                "type": "about:blank", "title": "the file has errors; nothing was imported", "status": 422,
                "code": "import_rejected", "field": "csv", "errors": errors,
            });
            Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub limit: Option<i64>,
    /// Bills with ids below this one (paging backwards).
    pub before_id: Option<i64>,
}

/// The newest bills.
#[utoipa::path(get, path = "/api/v1/bills", tag = "billing",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(("limit" = Option<i64>, Query), ("before_id" = Option<i64>, Query)),
    responses((status = 200, body = Vec<BillRow>)))]
async fn list_bills(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<BillRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::list_bills(&mut tx, q.before_id, q.limit.unwrap_or(50)).await?))
}

/// One bill with its lines.
#[utoipa::path(get, path = "/api/v1/bills/{bill_id}", tag = "billing",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(("bill_id" = i64, Path)),
    responses((status = 200, body = BillWithLines), (status = 404, body = web::ProblemDocument)))]
async fn get_bill(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<BillWithLines>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::get_bill(&mut tx, id).await?))
}

/// One bill as a PDF.
#[utoipa::path(get, path = "/api/v1/bills/{bill_id}/pdf", tag = "billing",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(("bill_id" = i64, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = web::ProblemDocument)))]
async fn bill_pdf(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let mut tx = state.db.read().await?;
    let (number, bytes) = ops::bill_pdf(&mut tx, id).await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{number}.pdf\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok((headers, bytes).into_response())
}

/// An account's bills, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/bills", tag = "billing",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(("account_id" = i64, Path), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Vec<BillRow>), (status = 404, body = web::ProblemDocument)))]
async fn account_bills(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<BillRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::account_history(&mut tx, id, q.limit.unwrap_or(50)).await?))
}

/// The newest bill runs with their progress.
#[utoipa::path(get, path = "/api/v1/bill-runs", tag = "billing",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    responses((status = 200, body = Vec<RunRow>)))]
async fn list_runs(State(state): State<AppState>) -> Result<axum::Json<Vec<RunRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::list_runs(&mut tx, 50).await?))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"cycle": 5, "period": "2026-11"}))]
pub struct RunBody {
    /// 1 to 28
    pub cycle: i64,
    /// YYYY-MM
    pub period: String,
}

/// Start (or resume) the bill run of a cycle and period in the background; poll its progress.
#[utoipa::path(post, path = "/api/v1/bill-runs", tag = "billing", request_body = RunBody,
    security(("bearer" = ["billing.manage"]), ("session" = ["billing.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = RunRow), (status = 422, body = web::ProblemDocument)))]
async fn start_run(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<RunBody>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let period = ops::parse_period(body.cycle, &body.period)?;
    let mut tx = state.db.begin().await?;
    let route = "POST /api/v1/bill-runs";
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, route, &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let run = crate::run::request_run(&mut tx, &user.actor(), period, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::ACCEPTED, &run).await?;
    tx.commit().await?;
    Ok(response)
}

/// One bill run's progress.
#[utoipa::path(get, path = "/api/v1/bill-runs/{bill_run_id}", tag = "billing",
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    params(("bill_run_id" = i64, Path)),
    responses((status = 200, body = RunRow), (status = 404, body = web::ProblemDocument)))]
async fn get_run(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<RunRow>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::get_run(&mut tx, id).await?))
}
