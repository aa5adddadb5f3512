//! HTML handlers for the print room and the outbox: `/letters` (the letters waiting to be
//! printed, the "print batch" button that makes one PDF of them and marks them printed, and
//! past batches to download again) and `/outbox` (outbound emails by state, with the error of
//! the last try and a retry button for a failed or uncertain one).

use crate::model::EmailStatus;
use crate::ops;
use crate::store::EmailRow;
use crate::store::letters::{LetterRow, PrintBatchRow};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kernel::{Permission, Timestamp};
use serde::Deserialize;
use web::extract::{HtmxPartial, Path, Query};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

/// Rows on one page of either list.
const PAGE_ROWS: i64 = 50;

pub fn routes() -> Routes {
    let manage = Access::Signed(Permission::CorrespondenceManage);
    Routes::new()
        .get("/letters", manage, letters_page)
        .post("/letters/print-batch", manage, print_batch)
        .get("/letters/batches/{print_batch_id}/pdf", manage, batch_pdf)
        .get("/outbox", manage, outbox_page)
        .post("/outbox/{email_id}/retry", manage, retry)
}

impl LetterRow {
    pub fn queued(&self) -> String {
        Timestamp(self.created_at).to_display()
    }
}

impl PrintBatchRow {
    pub fn made(&self) -> String {
        Timestamp(self.created_at).to_display()
    }
}

impl EmailRow {
    pub fn created(&self) -> String {
        Timestamp(self.created_at).to_display()
    }

    pub fn next_try(&self) -> String {
        Timestamp(self.next_attempt_at).to_display()
    }

    pub fn can_retry(&self) -> bool {
        matches!(EmailStatus::parse(&self.status), Ok(EmailStatus::Failed | EmailStatus::Uncertain))
    }

    /// The extra headers as `Name: value` lines for the outbox (empty when none or unreadable).
    pub fn header_lines(&self) -> Vec<String> {
        let stored = self.extra_headers.as_deref().unwrap_or("[]");
        let headers: Vec<crate::model::ExtraHeader> = serde_json::from_str(stored).unwrap_or_default();
        headers.iter().map(|h| format!("{}: {}", h.name.as_str(), h.value)).collect()
    }
}

#[derive(Template)]
#[template(path = "correspondence/letters.html")]
struct LettersPage {
    chrome: Chrome,
    queued: Vec<LetterRow>,
    batches: Vec<PrintBatchRow>,
    made: Option<i64>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct LettersQuery {
    /// The batch just made, to offer its download.
    batch: Option<i64>,
}

async fn letters_view(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    made: Option<i64>,
    error: Option<String>,
) -> Result<LettersPage, PageError> {
    let mut tx = state.db.read().await?;
    let queued = ops::list_letters(&mut tx, "queued", None, 200).await?;
    let batches = ops::print_batches(&mut tx, 30).await?;
    tx.rollback().await?;
    let made = made.filter(|id| batches.iter().any(|b| b.print_batch_id == *id));
    Ok(LettersPage {
        chrome: Chrome::new("Print queue", Some(user), "/letters", partial),
        queued,
        batches,
        made,
        error,
    })
}

async fn letters_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<LettersQuery>,
) -> Result<Html<String>, PageError> {
    render(&letters_view(&state, &user, partial, q.batch, None).await?)
}

#[derive(Debug, Default, Deserialize)]
struct BatchForm {
    /// Blank: every letter waiting; else letters queued by the end of that day.
    #[serde(default)]
    date: String,
}

/// Makes the batch, then shows the queue again with the batch's PDF offered for download.
async fn print_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<BatchForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let through = match f.date.trim() {
        "" => Ok(now),
        date => ops::end_of_day(date),
    };
    let mut tx = state.db.begin().await?;
    let made = match through {
        Ok(through) => ops::print_batch(&mut tx, &user.actor(), through, now).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(batch) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/letters?batch={}", batch.print_batch_id)).into_response())
        }
        Err(e) => {
            tx.rollback().await?;
            let (status, message) = web::form_message(e)?;
            Ok((status, render(&letters_view(&state, &user, false, None, Some(message)).await?)?).into_response())
        }
    }
}

async fn batch_pdf(State(state): State<AppState>, Path(batch_id): Path<i64>) -> Result<Response, PageError> {
    let mut tx = state.db.read().await?;
    let bytes = ops::batch_pdf(&mut tx, batch_id).await?;
    tx.rollback().await?;
    Ok(crate::api::pdf_response(bytes, &format!("print-batch-{batch_id}.pdf")))
}

#[derive(Template)]
#[template(path = "correspondence/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    filters: Vec<&'static str>,
    status: String,
    rows: Vec<EmailRow>,
    older: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
struct OutboxQuery {
    status: Option<String>,
    before: Option<i64>,
}

async fn outbox_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<OutboxQuery>,
) -> Result<Html<String>, PageError> {
    let status = q.status.as_deref().filter(|s| !s.trim().is_empty()).map(EmailStatus::parse).transpose()?;
    let mut tx = state.db.read().await?;
    let rows = ops::list_emails(&mut tx, status, q.before, PAGE_ROWS).await?;
    tx.rollback().await?;
    let full = i64::try_from(rows.len()).is_ok_and(|n| n == PAGE_ROWS);
    render(&OutboxPage {
        chrome: Chrome::new("Outbox", Some(&user), "/outbox", partial),
        filters: vec!["", "failed", "uncertain", "queued", "sending", "sent"],
        status: status.map(EmailStatus::code).unwrap_or_default().to_string(),
        older: rows.last().filter(|_| full).map(|r| r.email_id),
        rows,
    })
}

#[derive(Debug, Default, Deserialize)]
struct RetryForm {
    /// The filter to return to.
    #[serde(default)]
    status: String,
}

async fn retry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(email_id): Path<i64>,
    Form(f): Form<RetryForm>,
) -> Result<Redirect, PageError> {
    let mut tx = state.db.begin().await?;
    ops::retry_email(&mut tx, &user.actor(), email_id, state.clock.now()).await?;
    tx.commit().await?;
    let back = EmailStatus::parse(&f.status).map(|s| format!("/outbox?status={}", s.code()));
    Ok(Redirect::to(&back.unwrap_or_else(|_| "/outbox".to_string())))
}
