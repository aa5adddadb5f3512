//! JSON handlers for inbound email: the raw RFC 822 endpoint a mail server pipes messages to,
//! the list of received messages with their outcome, the raw and sanitised views, and retry.

use crate::MailboxError;
use crate::model::InboundStatus;
use crate::ops::{self, Source};
use crate::store::InboundRow;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use kernel::{PageRequest, Permission};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use web::extract::{Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(receive_email, list_inbound, get_inbound, raw_inbound, retry_inbound),
    components(schemas(InboundRow, InboundPage)),
    tags((name = "inbound email", description = "Raw email received, threaded into cases")),
)]
pub struct MailboxApi;

pub fn routes() -> Routes {
    use Permission as P;
    let read = Access::Signed(P::CasesWork);
    Routes::new()
        .post("/api/v1/inbound/email", Access::Signed(P::MailIngest), receive_email)
        .get("/api/v1/inbound/email", read, list_inbound)
        .get("/api/v1/inbound/email/{inbound_message_id}", read, get_inbound)
        .get("/api/v1/inbound/email/{inbound_message_id}/raw", read, raw_inbound)
        .post("/api/v1/inbound/email/{inbound_message_id}/retry", Access::Signed(P::CasesManage), retry_inbound)
}

fn check_content_type(headers: &HeaderMap) -> Result<(), MailboxError> {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "message/rfc822" | "text/plain" | "application/octet-stream" => Ok(()),
        _ => Err(MailboxError::ContentTypeRefused),
    }
}

/// Receive one raw RFC 822 message (as a mail server pipes it). The message is stored before
/// anything else; the answer says what became of it (`processed`, `held` for automatic mail
/// with no case, `duplicate`, or `failed` with the error — the message is kept either way).
#[utoipa::path(
    post,
    path = "/api/v1/inbound/email",
    tag = "inbound email",
    request_body(content = String, content_type = "message/rfc822",
        example = json!(concat!(
            "From: Maria Lopez <maria@example.com>\r\nTo: help@utility.example\r\nSubject: High bill\r\n",
            "Message-ID: <a1@example.com>\r\n\r\nMy bill doubled this month.\r\n"
        ))),
    security(("bearer" = ["mail.ingest"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = InboundRow),
        (status = 415, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn receive_email(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_content_type(&headers)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(MailboxError::MessageEmpty.into());
    }
    let now = state.clock.now();
    // Many piped messages arrive at once: they share commits (db::Db::write_grouped).
    state
        .db
        .write_grouped(move |tx| {
            Box::pin(async move {
                let route = "POST /api/v1/inbound/email";
                let fingerprint = db::sha256_hex_bytes(&body);
                let reservation = match idempotency::reserve(tx, &user, &headers, route, &fingerprint, now).await? {
                    Reservation::Replay(replayed) => return Ok(replayed.into_response()),
                    fresh_or_none => fresh_or_none,
                };
                let row = ops::receive(tx, Source::API, &body, now).await?.ok_or(MailboxError::MessageNotFound)?;
                idempotency::finish(tx, &user, &reservation, StatusCode::CREATED, &row).await
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboundPage {
    /// Newest first.
    pub items: Vec<InboundRow>,
    /// Pass back as `cursor` for older messages; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Inbound messages, newest first; `status=failed` lists those waiting for a retry.
#[utoipa::path(
    get,
    path = "/api/v1/inbound/email",
    tag = "inbound email",
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(
        ("status" = Option<String>, Query, description = "received, processed, held, duplicate or failed"),
        ("limit" = Option<u32>, Query, description = "1 to 200, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, body = InboundPage), (status = 422, body = web::ProblemDocument)),
)]
async fn list_inbound(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<InboundPage>, ApiError> {
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => Some(InboundStatus::parse(code).ok_or(MailboxError::StatusUnknown)?),
        None => None,
    };
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut tx = state.db.read().await?;
    let rows = ops::list(&mut tx, status, &page).await?;
    Ok(axum::Json(InboundPage { items: rows.items, next_cursor: rows.next_cursor }))
}

/// One inbound message and what became of it.
#[utoipa::path(
    get,
    path = "/api/v1/inbound/email/{inbound_message_id}",
    tag = "inbound email",
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("inbound_message_id" = i64, Path)),
    responses((status = 200, body = InboundRow), (status = 404, body = web::ProblemDocument)),
)]
async fn get_inbound(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<InboundRow>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::get(&mut tx, id).await?))
}

/// The message exactly as received, as a download (never rendered by the browser).
#[utoipa::path(
    get,
    path = "/api/v1/inbound/email/{inbound_message_id}/raw",
    tag = "inbound email",
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("inbound_message_id" = i64, Path)),
    responses(
        (status = 200, content_type = "message/rfc822", body = String),
        (status = 404, body = web::ProblemDocument),
    ),
)]
async fn raw_inbound(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let mut tx = state.db.read().await?;
    let raw = ops::raw(&mut tx, id).await?;
    let mut response = raw.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("message/rfc822"));
    let disposition = format!("attachment; filename=\"inbound-{id}.eml\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Process a failed message again (after the cause was fixed, e.g. a queue re-activated).
#[utoipa::path(
    post,
    path = "/api/v1/inbound/email/{inbound_message_id}/retry",
    tag = "inbound email",
    security(("bearer" = ["cases.manage"]), ("session" = ["cases.manage"])),
    params(("inbound_message_id" = i64, Path)),
    responses(
        (status = 200, body = InboundRow),
        (status = 404, body = web::ProblemDocument),
        (status = 409, body = web::ProblemDocument),
    ),
)]
async fn retry_inbound(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<axum::Json<InboundRow>, ApiError> {
    let mut tx = state.db.begin().await?;
    let row = ops::retry(&mut tx, &user.actor(), id, state.clock.now()).await?;
    tx.commit().await?;
    Ok(axum::Json(row))
}
