//! JSON and CSV for the inquiries report.

use crate::ops::{self, InquiriesReport, Period};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use kernel::Permission;
use serde::Deserialize;
use utoipa::OpenApi;
use web::extract::Query;
use web::{Access, ApiError, AppState, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(inquiries, inquiries_csv),
    components(schemas(
        InquiriesReport, ops::ReasonTotal, ops::WeekCount, crate::model::DayCount, crate::model::RisingWord
    )),
    tags((name = "reports", description = "Repetitive and unusual inquiries"))
)]
pub struct ReportsApi;

pub fn routes() -> Routes {
    let read = Access::Signed(Permission::ReportsRead);
    Routes::new().get("/api/v1/reports/inquiries", read, inquiries).get(
        "/api/v1/reports/inquiries.csv",
        read,
        inquiries_csv,
    )
}

#[derive(Debug, Deserialize, Default)]
pub struct PeriodQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Contacts per reason per day and week, spikes (a day far above its trailing week), and the
/// words rising fastest in summaries (last 7 days against the 28 before). Dates are UTC.
#[utoipa::path(
    get,
    path = "/api/v1/reports/inquiries",
    tag = "reports",
    security(("bearer" = ["reports.read"]), ("session" = ["reports.read"])),
    params(("from" = Option<String>, Query, description = "YYYY-MM-DD; default 27 days before to"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD; default today")),
    responses((status = 200, body = InquiriesReport), (status = 422, body = web::ProblemDocument))
)]
async fn inquiries(
    State(state): State<AppState>,
    Query(q): Query<PeriodQuery>,
) -> Result<axum::Json<InquiriesReport>, ApiError> {
    let period = Period::parse(q.from.as_deref(), q.to.as_deref(), state.clock.now())?;
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::inquiries(&mut tx, period).await?))
}

/// The same report as CSV.
#[utoipa::path(
    get,
    path = "/api/v1/reports/inquiries.csv",
    tag = "reports",
    security(("bearer" = ["reports.read"]), ("session" = ["reports.read"])),
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, description = "text/csv"), (status = 422, body = web::ProblemDocument))
)]
async fn inquiries_csv(State(state): State<AppState>, Query(q): Query<PeriodQuery>) -> Result<Response, ApiError> {
    let period = Period::parse(q.from.as_deref(), q.to.as_deref(), state.clock.now())?;
    let mut tx = state.db.read().await?;
    let report = ops::inquiries(&mut tx, period).await?;
    let mut response = ops::csv(&report).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let disposition = format!("attachment; filename=\"inquiries-{}-{}.csv\"", report.from, report.to);
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(response)
}
