//! HTML handlers: the mailbox page (every message received and what became of it), one
//! message with its sanitised original, and the retry button for a failed one.

use crate::model::InboundStatus;
use crate::ops;
use crate::store::InboundRow;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};
use kernel::{PageRequest, Permission, Timestamp};
use serde::Deserialize;
use web::extract::{HtmxPartial, Path, Query};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    Routes::new()
        .get("/mailbox", Access::Signed(P::CasesWork), list_page)
        .get("/mailbox/{inbound_message_id}", Access::Signed(P::CasesWork), show_page)
        .post("/mailbox/{inbound_message_id}/retry", Access::Signed(P::CasesManage), retry)
}

impl InboundRow {
    pub fn received(&self) -> String {
        Timestamp(self.received_at).to_display()
    }
}

#[derive(Template)]
#[template(path = "mailbox/list.html")]
struct ListPage {
    chrome: Chrome,
    filters: Vec<&'static str>,
    status: String,
    rows: Vec<InboundRow>,
    next_cursor: Option<String>,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    cursor: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let status = q.status.as_deref().and_then(InboundStatus::parse);
    let page = PageRequest::parse(Some(50), q.cursor.as_deref()).map_err(|e| PageError(e.into()))?;
    let mut tx = state.db.read().await?;
    let rows = ops::list(&mut tx, status, &page).await.map_err(|e| PageError(e.into()))?;
    tx.rollback().await?;
    render(&ListPage {
        chrome: Chrome::new("Mailbox", Some(&user), "/mailbox", partial),
        filters: vec!["", "failed", "held", "processed", "duplicate", "received"],
        status: status.map(InboundStatus::code).unwrap_or_default().to_string(),
        rows: rows.items,
        next_cursor: rows.next_cursor,
    })
}

#[derive(Template)]
#[template(path = "mailbox/show.html")]
struct ShowPage {
    chrome: Chrome,
    m: InboundRow,
    html: Option<String>,
    can_retry: bool,
}

async fn show_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let m = ops::get(&mut tx, id).await.map_err(|e| PageError(e.into()))?;
    let html = ops::sanitised_html(&mut tx, id).await.map_err(|e| PageError(e.into()))?;
    tx.rollback().await?;
    let retryable = InboundStatus::parse(&m.status).is_some_and(InboundStatus::can_process);
    render(&ShowPage {
        chrome: Chrome::new("Inbound message", Some(&user), "/mailbox", partial),
        can_retry: retryable && user.role.permits(Permission::CasesManage),
        m,
        html,
    })
}

async fn retry(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Redirect, PageError> {
    let mut tx = state.db.begin().await?;
    ops::retry(&mut tx, &user.actor(), id, state.clock.now()).await.map_err(|e| PageError(e.into()))?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/mailbox/{id}")))
}
