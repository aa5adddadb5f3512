//! JSON handlers for the ledger: chart of accounts, entries, trial balance, aging, export and a
//! customer account's balance and lines. Thin: parse, call one operation, answer.

use crate::manage::{self, InputError, ManualLine};
use crate::model::{BusinessDate, LedgerKind};
use crate::ops::{self, Posted};
use crate::report_store::{self, AccountLineRow, AgingAccountRow, EntrySummary};
use crate::reports::{self, AccountBalance, AccountLine, AgingReport, TrialBalance};
use crate::store::{EntryRow, LedgerAccountRow, LineRow, OpenItemRow};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use kernel::{PageRequest, Permission, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use web::extract::{Json, Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(list_accounts, add_account, change_account, list_entries, get_entry, post_entry, reverse_entry,
        trial_balance, aging, aging_csv, export_csv, account_balance, account_lines),
    components(schemas(LedgerAccountRow, AccountBody, AccountChangeBody, EntrySummary, EntryPage, EntryDetail,
        EntryRow, LineRow, EntryBody, LineBody, ReverseBody, Posted, TrialBalance, reports::TrialRow,
        reports::TrialTotal, AgingReport, reports::AgingTotal, reports::BucketAmount, AgingAccountRow,
        AccountBalance, reports::CurrencyBalance, OpenItemRow, LinePage, AccountLine, AccountLineRow)),
    tags((name = "ledger", description = "Chart of accounts, journal entries, trial balance, aging")),
)]
pub struct LedgerApi;

pub fn routes() -> Routes {
    use Permission as P;
    let read = Access::Signed(P::LedgerRead);
    let manage = Access::Signed(P::LedgerManage);
    let billing = Access::Signed(P::BillingRead);
    Routes::new()
        .get("/api/v1/ledger/accounts", read, list_accounts)
        .post("/api/v1/ledger/accounts", manage, add_account)
        .post("/api/v1/ledger/accounts/{code}", manage, change_account)
        .get("/api/v1/ledger/entries", read, list_entries)
        .post("/api/v1/ledger/entries", manage, post_entry)
        .get("/api/v1/ledger/entries/{entry_id}", read, get_entry)
        .post("/api/v1/ledger/entries/{entry_id}/reverse", manage, reverse_entry)
        .get("/api/v1/ledger/trial-balance", read, trial_balance)
        .get("/api/v1/ledger/aging", read, aging)
        .get("/api/v1/ledger/aging.csv", read, aging_csv)
        .get("/api/v1/ledger/export.csv", read, export_csv)
        .get("/api/v1/accounts/{account_id}/balance", billing, account_balance)
        .get("/api/v1/accounts/{account_id}/ledger-lines", billing, account_lines)
}

/// Today as a business date (UTC), the default of every `as_of`.
pub fn today(now: Timestamp) -> BusinessDate {
    BusinessDate::of(now)
}

/// An optional date, defaulting to `default`.
pub fn date_or(text: Option<&str>, field: &'static str, default: BusinessDate) -> Result<BusinessDate, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Ok(BusinessDate::parse(t, field)?),
        None => Ok(default),
    }
}

/// Every ledger account, active or not, by code.
#[utoipa::path(get, path = "/api/v1/ledger/accounts", tag = "ledger",
    security(("bearer" = ["ledger.read"]), ("session" = ["ledger.read"])),
    responses((status = 200, body = Vec<LedgerAccountRow>)))]
async fn list_accounts(State(state): State<AppState>) -> Result<axum::Json<Vec<LedgerAccountRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(manage::chart(&mut tx).await?))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"code": "4060", "name": "Stormwater revenue", "kind": "revenue"}))]
#[schema(as = LedgerAccountBody)]
pub struct AccountBody {
    /// 2 to 10 digits.
    pub code: String,
    pub name: String,
    /// asset, liability, equity, revenue or expense
    pub kind: String,
}

/// Add a ledger account to the chart.
#[utoipa::path(post, path = "/api/v1/ledger/accounts", tag = "ledger", request_body = AccountBody,
    security(("bearer" = ["ledger.manage"]), ("session" = ["ledger.manage"])),
    responses((status = 201, body = LedgerAccountRow), (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument)))]
async fn add_account(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<AccountBody>,
) -> Result<(StatusCode, axum::Json<LedgerAccountRow>), ApiError> {
    let code = manage::parse_code(&body.code)?;
    let name = manage::parse_name(&body.name, "name")?;
    let kind = LedgerKind::parse(&body.kind)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let row = manage::add_account(&mut tx, &user.actor(), &code, &name, kind, now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(row)))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"name": "Stormwater fees", "active": true}))]
pub struct AccountChangeBody {
    pub name: Option<String>,
    /// false deactivates (no new postings), true reactivates.
    pub active: Option<bool>,
}

/// Rename, deactivate or reactivate a ledger account.
#[utoipa::path(post, path = "/api/v1/ledger/accounts/{code}", tag = "ledger", request_body = AccountChangeBody,
    params(("code" = String, Path)),
    security(("bearer" = ["ledger.manage"]), ("session" = ["ledger.manage"])),
    responses((status = 200, body = LedgerAccountRow), (status = 422, body = web::ProblemDocument)))]
async fn change_account(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Json(body): Json<AccountChangeBody>,
) -> Result<axum::Json<LedgerAccountRow>, ApiError> {
    let name = body.name.as_deref().map(|n| manage::parse_name(n, "name")).transpose()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let row = manage::change_account(&mut tx, &user.actor(), code.trim(), name.as_deref(), body.active, now).await?;
    tx.commit().await?;
    Ok(axum::Json(row))
}

#[derive(Debug, Default, Deserialize)]
pub struct EntryQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub source_kind: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryPage {
    /// Newest first.
    pub items: Vec<EntrySummary>,
    pub next_cursor: Option<String>,
}

/// The journal a page at a time, newest first; optionally between dates and of one source kind.
pub async fn entry_page(state: &AppState, q: &EntryQuery) -> Result<EntryPage, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let from = date_or(q.from.as_deref(), "from", BusinessDate::parse("0001-01-01", "from")?)?;
    let to = date_or(q.to.as_deref(), "to", BusinessDate::parse("9999-12-31", "to")?)?;
    if to < from {
        return Err(InputError::RangeReversed { field: "to" }.into());
    }
    let kind = q.source_kind.as_deref().map(str::trim).filter(|k| !k.is_empty());
    let before = page.after.map(|c| c.after_key).unwrap_or(i64::MAX);
    let mut tx = state.db.read().await?;
    let rows =
        report_store::entries(&mut tx, before, &from.to_string(), &to.to_string(), kind, page.fetch_limit()).await?;
    let rows = kernel::Page::from_rows(rows, &page, |r| r.entry_id);
    Ok(EntryPage { items: rows.items, next_cursor: rows.next_cursor })
}

/// Journal entries, newest first.
#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "ledger",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query),
        ("source_kind" = Option<String>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    security(("bearer" = ["ledger.read"]), ("session" = ["ledger.read"])),
    responses((status = 200, body = EntryPage), (status = 422, body = web::ProblemDocument)))]
async fn list_entries(
    State(state): State<AppState>,
    Query(q): Query<EntryQuery>,
) -> Result<axum::Json<EntryPage>, ApiError> {
    Ok(axum::Json(entry_page(&state, &q).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryDetail {
    pub entry: EntryRow,
    pub lines: Vec<LineRow>,
    /// The entry that reverses this one, if any.
    pub reversed_by: Option<i64>,
}

/// One entry with its lines.
#[utoipa::path(get, path = "/api/v1/ledger/entries/{entry_id}", tag = "ledger", params(("entry_id" = i64, Path)),
    security(("bearer" = ["ledger.read"]), ("session" = ["ledger.read"])),
    responses((status = 200, body = EntryDetail), (status = 404, body = web::ProblemDocument)))]
async fn get_entry(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<EntryDetail>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(entry_detail(&mut tx, id).await?))
}

pub async fn entry_detail(tx: &mut db::Tx, id: i64) -> Result<EntryDetail, ApiError> {
    let (entry, lines) = ops::entry(tx, id).await?;
    let reversed_by = crate::store::reversal_of(tx, id).await?;
    Ok(EntryDetail { entry, lines, reversed_by })
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"ledger_code": "1100", "account_id": 7, "currency": "USD", "credit": "25.00"}))]
pub struct LineBody {
    pub ledger_code: String,
    /// The customer account, on receivable and deposit lines.
    pub account_id: Option<i64>,
    pub currency: String,
    /// A positive decimal amount; give this or credit.
    pub debit: Option<String>,
    pub credit: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"entry_date": "2026-11-30", "memo": "Goodwill credit approved by J. Park",
    "lines": [{"ledger_code": "4950", "currency": "USD", "debit": "25.00"},
              {"ledger_code": "1100", "account_id": 7, "currency": "USD", "credit": "25.00"}]}))]
pub struct EntryBody {
    /// YYYY-MM-DD; defaults to today.
    pub entry_date: Option<String>,
    pub memo: String,
    pub lines: Vec<LineBody>,
}

/// Post a manual balanced entry (numbered JE-000001, …). Send an `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/api/v1/ledger/entries", tag = "ledger", request_body = EntryBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = ["ledger.manage"]), ("session" = ["ledger.manage"])),
    responses((status = 201, body = Posted), (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument)))]
async fn post_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<EntryBody>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let entry_date = date_or(body.entry_date.as_deref(), "entry_date", today(now))?;
    let memo = manage::parse_name(&body.memo, "memo")?;
    let typed: Vec<ManualLine> = body
        .lines
        .iter()
        .map(|l| ManualLine {
            ledger_code: l.ledger_code.clone(),
            account_id: l.account_id,
            currency: l.currency.clone(),
            debit: l.debit.clone(),
            credit: l.credit.clone(),
        })
        .collect();
    let lines = manage::parse_lines(&typed)?;
    state
        .db
        .write_grouped(move |tx| {
            Box::pin(async move {
                let route = "POST /api/v1/ledger/entries";
                let reservation = match idempotency::reserve(tx, &user, &headers, route, &body, now).await? {
                    Reservation::Replay(replayed) => return Ok(replayed.into_response()),
                    fresh_or_none => fresh_or_none,
                };
                let posted = manage::post_manual(tx, &user.actor(), entry_date, &memo, lines, now).await?;
                idempotency::finish(tx, &user, &reservation, StatusCode::CREATED, &posted).await
            })
        })
        .await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"entry_date": "2026-11-30"}))]
pub struct ReverseBody {
    /// YYYY-MM-DD the reversal books on; defaults to today.
    pub entry_date: Option<String>,
}

/// Reverse an entry: posts the opposite entry and reopens what it had settled. Once only.
#[utoipa::path(post, path = "/api/v1/ledger/entries/{entry_id}/reverse", tag = "ledger", request_body = ReverseBody,
    params(("entry_id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = ["ledger.manage"]), ("session" = ["ledger.manage"])),
    responses((status = 201, body = Posted), (status = 404, body = web::ProblemDocument),
        (status = 409, body = web::ProblemDocument)))]
async fn reverse_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<ReverseBody>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let entry_date = date_or(body.entry_date.as_deref(), "entry_date", today(now))?;
    state
        .db
        .write_grouped(move |tx| {
            Box::pin(async move {
                let route = "POST /api/v1/ledger/entries/{entry_id}/reverse";
                let reservation = match idempotency::reserve(tx, &user, &headers, route, &(id, &body), now).await? {
                    Reservation::Replay(replayed) => return Ok(replayed.into_response()),
                    fresh_or_none => fresh_or_none,
                };
                let posted = manage::reverse(tx, &user.actor(), id, entry_date, now).await?;
                idempotency::finish(tx, &user, &reservation, StatusCode::CREATED, &posted).await
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
pub struct AsOfQuery {
    pub as_of: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The trial balance as of the end of a day (default today).
#[utoipa::path(get, path = "/api/v1/ledger/trial-balance", tag = "ledger", params(("as_of" = Option<String>, Query)),
    security(("bearer" = ["ledger.read"]), ("session" = ["ledger.read"])),
    responses((status = 200, body = TrialBalance), (status = 422, body = web::ProblemDocument)))]
async fn trial_balance(
    State(state): State<AppState>,
    Query(q): Query<AsOfQuery>,
) -> Result<axum::Json<TrialBalance>, ApiError> {
    let as_of = date_or(q.as_of.as_deref(), "as_of", today(state.clock.now()))?;
    let mut tx = state.db.read().await?;
    Ok(axum::Json(reports::trial_balance(&mut tx, as_of).await?))
}

pub async fn aging_report(state: &AppState, q: &AsOfQuery) -> Result<AgingReport, ApiError> {
    let as_of = date_or(q.as_of.as_deref(), "as_of", today(state.clock.now()))?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut tx = state.db.read().await?;
    Ok(reports::aging(&mut tx, as_of, &page).await?)
}

/// Aging of open items by days past due: totals per currency and bucket, accounts largest first.
#[utoipa::path(get, path = "/api/v1/ledger/aging", tag = "ledger",
    params(("as_of" = Option<String>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    security(("bearer" = ["ledger.read"]), ("session" = ["ledger.read"])),
    responses((status = 200, body = AgingReport), (status = 422, body = web::ProblemDocument)))]
async fn aging(State(state): State<AppState>, Query(q): Query<AsOfQuery>) -> Result<axum::Json<AgingReport>, ApiError> {
    Ok(axum::Json(aging_report(&state, &q).await?))
}

pub fn csv_response(body: String, filename: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let disposition = format!("attachment; filename=\"{filename}\"");
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    response
}

/// The aging page's accounts as CSV (one page: `limit` up to 200).
#[utoipa::path(get, path = "/api/v1/ledger/aging.csv", tag = "ledger",
    params(("as_of" = Option<String>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    security(("bearer" = ["ledger.read"]), ("session" = ["ledger.read"])),
    responses((status = 200, description = "text/csv"), (status = 422, body = web::ProblemDocument)))]
async fn aging_csv(State(state): State<AppState>, Query(q): Query<AsOfQuery>) -> Result<Response, ApiError> {
    let report = aging_report(&state, &q).await?;
    Ok(csv_response(reports::aging_csv(&report), &format!("aging-{}.csv", report.as_of)))
}

#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The general-ledger export: one row per day, ledger account and currency with that day's
/// debits and credits (a daily summary journal), for importing into the general ledger.
#[utoipa::path(get, path = "/api/v1/ledger/export.csv", tag = "ledger",
    params(("from" = String, Query), ("to" = String, Query)),
    security(("bearer" = ["ledger.read"]), ("session" = ["ledger.read"])),
    responses((status = 200, description = "text/csv"), (status = 422, body = web::ProblemDocument)))]
async fn export_csv(State(state): State<AppState>, Query(q): Query<RangeQuery>) -> Result<Response, ApiError> {
    let today = today(state.clock.now());
    let from = date_or(q.from.as_deref(), "from", today)?;
    let to = date_or(q.to.as_deref(), "to", today)?;
    if to < from {
        return Err(InputError::RangeReversed { field: "to" }.into());
    }
    let mut tx = state.db.read().await?;
    let csv = reports::export_csv(&mut tx, from, to).await?;
    Ok(csv_response(csv, &format!("general-ledger-{from}-{to}.csv")))
}

/// A customer account's receivable balance, deposit held and open items, per currency.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/balance", tag = "ledger", params(("account_id" = i64, Path)),
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    responses((status = 200, body = AccountBalance), (status = 404, body = web::ProblemDocument)))]
async fn account_balance(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<axum::Json<AccountBalance>, ApiError> {
    let mut tx = state.db.read().await?;
    match reports::account_balance(&mut tx, id).await {
        Err(crate::LedgerError::AccountUnknown { .. }) => Err(InputError::AccountNotFound.into()),
        other => Ok(axum::Json(other?)),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinePage {
    /// Newest first, each with the balance of its ledger account after it.
    pub items: Vec<AccountLine>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A customer account's ledger lines, newest first, with running balances.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/ledger-lines", tag = "ledger",
    params(("account_id" = i64, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    security(("bearer" = ["billing.read"]), ("session" = ["billing.read"])),
    responses((status = 200, body = LinePage), (status = 404, body = web::ProblemDocument)))]
async fn account_lines(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<LinePage>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut tx = state.db.read().await?;
    match reports::account_lines(&mut tx, id, &page).await {
        Err(crate::LedgerError::AccountUnknown { .. }) => Err(InputError::AccountNotFound.into()),
        other => {
            let page = other?;
            Ok(axum::Json(LinePage { items: page.items, next_cursor: page.next_cursor }))
        }
    }
}
