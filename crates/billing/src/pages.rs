//! HTML handlers: rate schedules (`/admin/rates`), meter reads with CSV import
//! (`/billing/meter-reads`), bill runs with live progress (`/billing/runs`, htmx polling every
//! second while a run works) and the bill page (`/bills/{bill_id}`).

use crate::BillingError;
use crate::bills_store::{BillLineRow, BillRow};
use crate::ops::{self, NewRateVersion, NewRead};
use crate::run::format_money;
use crate::store::{RateRow, ReadRow, RunRow};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kernel::{Currency, Permission};
use serde::Deserialize;
use web::extract::{HtmxPartial, Path};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    let manage = Access::Signed(P::BillingManage);
    Routes::new()
        .get("/admin/rates", manage, rates_page)
        .post("/admin/rates", manage, add_rate)
        .get("/billing/meter-reads", manage, reads_page)
        .post("/billing/meter-reads", manage, add_read)
        .post("/billing/meter-reads/import", manage, import_reads)
        .get("/billing/runs", manage, runs_page)
        .post("/billing/runs", manage, start_run)
        .get("/billing/runs/{bill_run_id}/progress", manage, run_progress)
        .get("/bills/{bill_id}", Access::Signed(P::BillingRead), bill_page)
}

fn money(amount_minor: i64, currency: &str) -> String {
    Currency::parse(currency).map(|c| format_money(amount_minor, c)).unwrap_or_else(|_| amount_minor.to_string())
}

/// Answers a refused form with its page and the field's message; server errors propagate.
fn refused(e: BillingError) -> Result<(http::StatusCode, String), PageError> {
    let status = web::Problem::status(&e);
    if status.is_server_error() {
        return Err(e.into());
    }
    Ok((status, web::field_message(&e)))
}

#[derive(Template)]
#[template(path = "billing/rates.html")]
struct RatesPage {
    chrome: Chrome,
    rates: Vec<RateRow>,
    error: Option<String>,
}

async fn rates_view(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    error: Option<String>,
) -> Result<RatesPage, PageError> {
    let mut tx = state.db.read().await?;
    let rates = ops::rate_versions(&mut tx).await?;
    tx.rollback().await?;
    Ok(RatesPage { chrome: Chrome::new("Rate schedules", Some(user), "/admin/rates", partial), rates, error })
}

async fn rates_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    render(&rates_view(&state, &user, partial, None).await?)
}

#[derive(Deserialize, Default)]
struct RateForm {
    #[serde(default)]
    rate_code: String,
    #[serde(default)]
    service_type: String,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    fixed_charge: String,
    #[serde(default)]
    minimum_charge: String,
    #[serde(default)]
    tiers: String,
    #[serde(default)]
    tax_percent: String,
}

async fn add_rate(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<RateForm>,
) -> Result<Response, PageError> {
    let or_zero = |s: String| if s.trim().is_empty() { "0".to_string() } else { s };
    let new = NewRateVersion {
        rate_code: f.rate_code,
        service_type: f.service_type,
        effective_from: f.effective_from,
        currency: f.currency,
        unit: f.unit,
        fixed_charge: f.fixed_charge,
        minimum_charge: or_zero(f.minimum_charge),
        tiers: f.tiers,
        tax_percent: or_zero(f.tax_percent),
    };
    let mut tx = state.db.begin().await?;
    let outcome = match ops::parse_rate_version(&new) {
        Ok(version) => ops::add_rate_version(&mut tx, &user.actor(), &version, state.clock.now()).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to("/admin/rates").into_response())
        }
        Err(e) => {
            tx.rollback().await?;
            let (status, message) = refused(e)?;
            Ok((status, render(&rates_view(&state, &user, false, Some(message)).await?)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "billing/reads.html")]
struct ReadsPage {
    chrome: Chrome,
    reads: Vec<(ReadRow, String)>,
    error: Option<String>,
    notice: Option<String>,
}

async fn reads_view(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    error: Option<String>,
    notice: Option<String>,
) -> Result<ReadsPage, PageError> {
    let mut tx = state.db.read().await?;
    let reads = ops::recent_reads(&mut tx, 50).await?;
    tx.rollback().await?;
    Ok(ReadsPage {
        chrome: Chrome::new("Meter reads", Some(user), "/billing/meter-reads", partial),
        reads,
        error,
        notice,
    })
}

async fn reads_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    render(&reads_view(&state, &user, partial, None, None).await?)
}

#[derive(Deserialize, Default)]
struct ReadForm {
    #[serde(default)]
    meter_number: String,
    #[serde(default)]
    read_date: String,
    #[serde(default)]
    reading: String,
    #[serde(default)]
    kind: String,
}

async fn add_read(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<ReadForm>,
) -> Result<Response, PageError> {
    let new = NewRead { meter_number: f.meter_number, read_date: f.read_date, reading: f.reading, kind: f.kind };
    let mut tx = state.db.begin().await?;
    match ops::record_read(&mut tx, &user.actor(), &new, state.clock.now()).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to("/billing/meter-reads").into_response())
        }
        Err(e) => {
            tx.rollback().await?;
            let (status, message) = refused(e)?;
            Ok((status, render(&reads_view(&state, &user, false, Some(message), None).await?)?).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
struct ImportForm {
    #[serde(default)]
    csv: String,
}

async fn import_reads(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<ImportForm>,
) -> Result<Response, PageError> {
    let mut tx = state.db.begin().await?;
    match ops::import_reads(&mut tx, &user.actor(), &f.csv, state.clock.now()).await {
        Ok(outcome) => {
            tx.commit().await?;
            let notice = Some(format!("Imported {} meter reads.", outcome.imported));
            Ok(render(&reads_view(&state, &user, false, None, notice).await?)?.into_response())
        }
        Err(BillingError::ImportRejected { errors }) => {
            tx.rollback().await?;
            let message = format!("Nothing was imported. {}", errors.join("; "));
            let page = reads_view(&state, &user, false, Some(message), None).await?;
            Ok((http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// A run as the page shows it.
struct RunView {
    run: RunRow,
    total: String,
    percent: i64,
}

impl RunView {
    fn of(run: RunRow) -> RunView {
        let percent = if run.accounts_total > 0 { run.accounts_done * 100 / run.accounts_total } else { 100 };
        RunView { total: money(run.total_minor, "USD"), percent: percent.clamp(0, 100), run }
    }
}

#[derive(Template)]
#[template(path = "billing/runs.html")]
struct RunsPage {
    chrome: Chrome,
    runs: Vec<RunView>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "billing/run_progress.html")]
struct RunProgress {
    view: RunView,
}

async fn runs_view(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    error: Option<String>,
) -> Result<RunsPage, PageError> {
    let mut tx = state.db.read().await?;
    let runs = ops::list_runs(&mut tx, 30).await?;
    tx.rollback().await?;
    let runs = runs.into_iter().map(RunView::of).collect();
    Ok(RunsPage { chrome: Chrome::new("Bill runs", Some(user), "/billing/runs", partial), runs, error })
}

async fn runs_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    render(&runs_view(&state, &user, partial, None).await?)
}

#[derive(Deserialize, Default)]
struct RunForm {
    #[serde(default)]
    cycle: String,
    #[serde(default)]
    period: String,
}

async fn start_run(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<RunForm>,
) -> Result<Response, PageError> {
    let cycle = f.cycle.trim().parse::<i64>().unwrap_or(0);
    let period = match ops::parse_period(cycle, &f.period) {
        Ok(period) => period,
        Err(e) => {
            let (status, message) = refused(e)?;
            return Ok((status, render(&runs_view(&state, &user, false, Some(message)).await?)?).into_response());
        }
    };
    let mut tx = state.db.begin().await?;
    crate::run::request_run(&mut tx, &user.actor(), period, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Redirect::to("/billing/runs").into_response())
}

/// The progress fragment: polls itself every second while the run works.
async fn run_progress(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let run = ops::get_run(&mut tx, id).await?;
    tx.rollback().await?;
    render(&RunProgress { view: RunView::of(run) })
}

#[derive(Template)]
#[template(path = "billing/bill.html")]
struct BillPage {
    chrome: Chrome,
    bill: BillRow,
    lines: Vec<(BillLineRow, String)>,
    subtotal: String,
    tax: String,
    total: String,
}

async fn bill_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let found = ops::get_bill(&mut tx, id).await?;
    tx.rollback().await?;
    let bill = found.bill;
    let currency = bill.currency.clone();
    let lines = found.lines.into_iter().map(|l| {
        let amount = money(l.amount_minor, &currency);
        (l, amount)
    });
    render(&BillPage {
        chrome: Chrome::new(&format!("Bill {}", bill.bill_number), Some(&user), "/bills", partial),
        lines: lines.collect(),
        subtotal: money(bill.subtotal_minor, &currency),
        tax: money(bill.tax_minor, &currency),
        total: money(bill.total_minor, &currency),
        bill,
    })
}
