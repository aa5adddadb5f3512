//! The inquiries report on screen, with its chart drawn as SVG on the server (no chart library,
//! nothing fetched).

use crate::api::PeriodQuery;
use crate::ops::{self, InquiriesReport, Period};
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use kernel::Permission;
use web::extract::{HtmxPartial, Query};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

pub fn routes() -> Routes {
    Routes::new().get("/reports/inquiries", Access::Signed(Permission::ReportsRead), inquiries_page)
}

pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub spike: bool,
    pub label: String,
}

pub struct Chart {
    pub width: i64,
    pub height: i64,
    pub bars: Vec<Bar>,
}

const CHART_WIDTH: i64 = 800;
const CHART_HEIGHT: i64 = 160;

/// Bars for the daily totals, scaled to the tallest day.
pub fn chart(report: &InquiriesReport) -> Chart {
    let n = report.daily_totals.len().max(1) as i64;
    let max = report.daily_totals.iter().map(|(_, c)| *c).max().unwrap_or(0).max(1);
    let slot = CHART_WIDTH / n;
    let bars = report
        .daily_totals
        .iter()
        .enumerate()
        .map(|(i, (date, count))| {
            let h = count * (CHART_HEIGHT - 10) / max;
            Bar {
                x: i as i64 * slot + 1,
                y: CHART_HEIGHT - h,
                w: (slot - 2).max(1),
                h,
                spike: report.spikes.iter().any(|s| &s.date == date),
                label: format!("{date}: {count}"),
            }
        })
        .collect();
    Chart { width: CHART_WIDTH, height: CHART_HEIGHT, bars }
}

#[derive(Template)]
#[template(path = "reports/inquiries.html")]
struct InquiriesPage {
    chrome: Chrome,
    chart: Chart,
    report: InquiriesReport,
}

async fn inquiries_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<PeriodQuery>,
) -> Result<Html<String>, PageError> {
    let period = Period::parse(q.from.as_deref(), q.to.as_deref(), state.clock.now())?;
    let mut tx = state.db.read().await?;
    let report = ops::inquiries(&mut tx, period).await?;
    tx.rollback().await?;
    let page = InquiriesPage {
        chrome: Chrome::new("Inquiries report", Some(&user), "/reports/inquiries", partial),
        chart: chart(&report),
        report,
    };
    render(&page)
}
