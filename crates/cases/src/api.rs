//! JSON handlers for cases, queues and callbacks. Actions are sub-resources
//! (`POST /cases/{id}/escalate`, `/transfer`, `/callbacks`, `/replies`, `/notes`, ...).

use crate::CaseError;
use crate::model::{self, CaseStatus, Priority};
use crate::ops::{self, CaseView, NewCase};
use crate::store::{self, AttachmentRow, CallbackRow, CaseRow, EntryRow, QueueRow};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use kernel::{Permission, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use web::extract::{Json, Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(
        list_cases,
        create_case,
        get_case,
        assign_case,
        escalate_case,
        transfer_case,
        add_note,
        add_reply,
        set_status,
        resolve_case,
        close_case,
        add_callback,
        complete_callback,
        link_case,
        merge_case,
        upload_attachment,
        download_attachment,
        list_queues,
        create_queue,
        add_queue_member,
        take_next,
        worklist,
    ),
    components(
        schemas(
            CaseBody,
            AssignBody,
            EscalateBody,
            TransferBody,
            NoteBody,
            ReplyBody,
            StatusBody,
            ResolveBody,
            CallbackBody,
            LinkBody,
            MergeBody,
            QueueBody,
            MemberBody,
            CasePage,
            Worklist,
            CaseView,
            CaseRow,
            EntryRow,
            CallbackRow,
            AttachmentRow,
            QueueRow,
            store::LinkRow,
            Priority,
            CaseStatus,
        ),
    ),
    tags((name = "cases", description = "Cases, queues, callbacks and SLA clocks")),
)]
pub struct CasesApi;

pub fn routes() -> Routes {
    use Permission as P;
    let work = Access::Signed(P::CasesWork);
    Routes::new()
        .get("/api/v1/cases", work, list_cases)
        .post("/api/v1/cases", work, create_case)
        .get("/api/v1/cases/{case_id}", work, get_case)
        .post("/api/v1/cases/{case_id}/assign", work, assign_case)
        .post("/api/v1/cases/{case_id}/escalate", work, escalate_case)
        .post("/api/v1/cases/{case_id}/transfer", work, transfer_case)
        .post("/api/v1/cases/{case_id}/notes", work, add_note)
        .post("/api/v1/cases/{case_id}/replies", work, add_reply)
        .post("/api/v1/cases/{case_id}/status", work, set_status)
        .post("/api/v1/cases/{case_id}/resolve", work, resolve_case)
        .post("/api/v1/cases/{case_id}/close", work, close_case)
        .post("/api/v1/cases/{case_id}/callbacks", work, add_callback)
        .post("/api/v1/callbacks/{callback_id}/done", work, complete_callback)
        .post("/api/v1/cases/{case_id}/links", work, link_case)
        .post("/api/v1/cases/{case_id}/merge", work, merge_case)
        .post("/api/v1/cases/{case_id}/attachments", work, upload_attachment)
        .get("/api/v1/cases/{case_id}/attachments/{attachment_id}", work, download_attachment)
        .get("/api/v1/queues", work, list_queues)
        .post("/api/v1/queues", Access::Signed(P::CasesManage), create_queue)
        .post("/api/v1/queues/{queue_id}/members", Access::Signed(P::CasesManage), add_queue_member)
        .post("/api/v1/queues/{queue_id}/take-next", work, take_next)
        .get("/api/v1/me/worklist", work, worklist)
}

macro_rules! write_op {
    ($state:expr, |$tx:ident, $now:ident| $body:expr) => {{
        let $now = $state.clock.now();
        let mut tx = $state.db.begin().await?;
        let $tx = &mut tx;
        let value = $body.await?;
        tx.commit().await?;
        value
    }};
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({
    "customer_id": 1, "subject": "Bill higher than usual", "category": "billing", "priority": "normal"
}))]
pub struct CaseBody {
    pub customer_id: Option<i64>,
    pub account_id: Option<i64>,
    pub subject: String,
    /// billing, payment, service, outage, order, claim, complaint or other
    pub category: String,
    /// low, normal (default), high or urgent
    pub priority: Option<String>,
    /// Defaults to the first tier-1 queue.
    pub queue_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub description: Option<String>,
    /// The contact during which the case was opened (for first-contact resolution).
    pub contact_id: Option<i64>,
}

impl CaseBody {
    pub fn parse(&self) -> Result<NewCase, CaseError> {
        Ok(NewCase {
            customer_id: self.customer_id,
            account_id: self.account_id,
            subject: model::required_text(&self.subject, "subject", 200)?,
            category: model::one_of(&self.category, &model::CATEGORIES, "category")?,
            priority: self.priority.as_deref().map(Priority::parse).transpose()?,
            queue_id: self.queue_id,
            assignee_id: self.assignee_id,
            description: self.description.clone(),
            opened_in_contact_id: self.contact_id,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct CaseQuery {
    pub q: Option<String>,
    pub status: Option<String>,
    pub queue_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseRow>,
    pub next_cursor: Option<String>,
}

/// Cases: by text (`q`), by customer, or the live cases of a queue (paged).
#[utoipa::path(
    get,
    path = "/api/v1/cases",
    tag = "cases",
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(
        ("q" = Option<String>, Query, description = "words from the number, subject or thread"),
        ("customer_id" = Option<i64>, Query),
        ("queue_id" = Option<i64>, Query),
        ("limit" = Option<u32>, Query),
        ("cursor" = Option<String>, Query),
    ),
    responses((status = 200, body = CasePage)),
)]
async fn list_cases(
    State(state): State<AppState>,
    Query(q): Query<CaseQuery>,
) -> Result<axum::Json<CasePage>, ApiError> {
    let page = kernel::PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut tx = state.db.read().await?;
    let limit = i64::from(page.limit);
    let items = if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
        let terms: Vec<String> =
            text.split_whitespace().map(str::to_lowercase).filter(|t| t.chars().count() >= 3).take(6).collect();
        store::search(&mut tx, &terms, limit).await?
    } else if let Some(customer_id) = q.customer_id {
        store::cases_of_customer(&mut tx, customer_id, limit).await?
    } else if let Some(queue_id) = q.queue_id {
        let rows = store::cases_in_queue(&mut tx, queue_id, page.after_key().max(0), page.fetch_limit()).await?;
        let rows = kernel::Page::from_rows(rows, &page, |c| c.case_id);
        return Ok(axum::Json(CasePage { items: rows.items, next_cursor: rows.next_cursor }));
    } else {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "filter_required",
            "q",
            "give q, customer_id or queue_id",
        ));
    };
    let items = match q.status.as_deref() {
        Some(status) => items.into_iter().filter(|c| c.status == status).collect(),
        None => items,
    };
    Ok(axum::Json(CasePage { items, next_cursor: None }))
}

/// Open a case. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post,
    path = "/api/v1/cases",
    tag = "cases",
    request_body = CaseBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CaseRow), (status = 422, body = web::ProblemDocument)),
)]
async fn create_case(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<CaseBody>,
) -> Result<Response, ApiError> {
    let new = body.parse()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, "POST /api/v1/cases", &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let case = ops::open_case(&mut tx, &user.actor(), new, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &case).await?;
    tx.commit().await?;
    Ok(response)
}

/// A case with its thread, links, callbacks, attachments and SLA clock.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{case_id}",
    tag = "cases",
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = web::ProblemDocument)),
)]
async fn get_case(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<CaseView>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::view(&mut tx, id, state.clock.now()).await?))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"assignee_id": 3}))]
pub struct AssignBody {
    /// Null unassigns.
    pub assignee_id: Option<i64>,
}

/// Assign (or unassign) a case.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/assign",
    tag = "cases",
    request_body = AssignBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 200, body = CaseRow), (status = 404, body = web::ProblemDocument)),
)]
async fn assign_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<AssignBody>,
) -> Result<axum::Json<CaseRow>, ApiError> {
    Ok(axum::Json(write_op!(state, |tx, now| ops::assign(tx, &user.actor(), id, body.assignee_id, now))))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"reason": "Needs a rate review"}))]
pub struct EscalateBody {
    pub reason: String,
}

/// Escalate a tier-1 case to tier 2, with a reason.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/escalate",
    tag = "cases",
    request_body = EscalateBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 200, body = CaseRow), (status = 409, body = web::ProblemDocument)),
)]
async fn escalate_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<EscalateBody>,
) -> Result<axum::Json<CaseRow>, ApiError> {
    Ok(axum::Json(write_op!(state, |tx, now| ops::escalate(tx, &user.actor(), id, &body.reason, now))))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"queue_id": 2, "note": "Billing question after all"}))]
pub struct TransferBody {
    pub queue_id: i64,
    pub note: Option<String>,
}

/// Transfer a case to another queue (unassigned there).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/transfer",
    tag = "cases",
    request_body = TransferBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 200, body = CaseRow), (status = 409, body = web::ProblemDocument)),
)]
async fn transfer_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<TransferBody>,
) -> Result<axum::Json<CaseRow>, ApiError> {
    Ok(axum::Json(write_op!(state, |tx, now| ops::transfer(
        tx,
        &user.actor(),
        id,
        body.queue_id,
        body.note.as_deref(),
        now
    ))))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"body": "Crew notified"}))]
#[schema(as = CaseNoteBody)]
pub struct NoteBody {
    pub body: String,
}

/// Add an internal note to the thread.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/notes",
    tag = "cases",
    request_body = NoteBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 201, body = EntryRow), (status = 422, body = web::ProblemDocument)),
)]
async fn add_note(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<NoteBody>,
) -> Result<(StatusCode, axum::Json<EntryRow>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(write_op!(state, |tx, now| ops::add_note(tx, &user.actor(), id, &body.body, now))),
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"body": "Could you send a photo of the meter?", "await_customer": true}))]
pub struct ReplyBody {
    pub body: String,
    /// outbound (default): our reply to the customer; inbound: the customer's reply, which
    /// reopens a case waiting on them or recently resolved.
    pub direction: Option<String>,
    /// For outbound replies: then wait on the customer (the SLA clock pauses).
    #[serde(default)]
    pub await_customer: bool,
}

/// Add a customer-visible reply (ours or the customer's) to the thread.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/replies",
    tag = "cases",
    request_body = ReplyBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 201, body = EntryRow), (status = 409, body = web::ProblemDocument)),
)]
async fn add_reply(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<ReplyBody>,
) -> Result<(StatusCode, axum::Json<EntryRow>), ApiError> {
    let inbound = match body.direction.as_deref().unwrap_or("outbound") {
        "outbound" => false,
        "inbound" => true,
        _ => return Err(CaseError::ValueUnknown { field: "direction" }.into()),
    };
    let entry = if inbound {
        write_op!(state, |tx, now| ops::customer_reply(tx, &user.actor(), id, &body.body, now))
    } else {
        write_op!(state, |tx, now| ops::reply(tx, &user.actor(), id, &body.body, body.await_customer, now))
    };
    Ok((StatusCode::CREATED, axum::Json(entry)))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"status": "pending_internal"}))]
pub struct StatusBody {
    /// open, pending_customer or pending_internal
    pub status: String,
}

/// Move a case between open and the waiting states (resolve and close have their own routes).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/status",
    tag = "cases",
    request_body = StatusBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 200, body = CaseRow), (status = 409, body = web::ProblemDocument)),
)]
async fn set_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<StatusBody>,
) -> Result<axum::Json<CaseRow>, ApiError> {
    let next = CaseStatus::parse(&body.status)?;
    Ok(axum::Json(write_op!(state, |tx, now| ops::change_status(tx, &user.actor(), id, next, now))))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"resolution_code": "credit_issued"}))]
pub struct ResolveBody {
    /// answered, fixed, credit_issued, duplicate, no_response, referred or wont_fix
    pub resolution_code: String,
    /// The contact in progress, if any: resolving during the opening contact is first-contact resolution.
    pub contact_id: Option<i64>,
}

/// Resolve a case with a resolution code.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/resolve",
    tag = "cases",
    request_body = ResolveBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 200, body = CaseRow), (status = 422, body = web::ProblemDocument)),
)]
async fn resolve_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<ResolveBody>,
) -> Result<axum::Json<CaseRow>, ApiError> {
    Ok(axum::Json(write_op!(state, |tx, now| ops::resolve(
        tx,
        &user.actor(),
        id,
        &body.resolution_code,
        body.contact_id,
        now
    ))))
}

/// Close a resolved case (final).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/close",
    tag = "cases",
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 200, body = CaseRow), (status = 409, body = web::ProblemDocument)),
)]
async fn close_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<axum::Json<CaseRow>, ApiError> {
    Ok(axum::Json(write_op!(state, |tx, now| ops::close(tx, &user.actor(), id, now))))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"due_at": "2026-11-26T15:00:00Z", "note": "Confirm the refund"}))]
pub struct CallbackBody {
    /// RFC 3339, e.g. 2026-11-26T15:00:00Z; must be in the future.
    pub due_at: String,
    pub note: String,
    /// Defaults to the caller.
    pub assignee_id: Option<i64>,
}

/// Schedule a callback; it appears in the assignee's worklist when due.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/callbacks",
    tag = "cases",
    request_body = CallbackBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 201, body = CallbackRow), (status = 422, body = web::ProblemDocument)),
)]
async fn add_callback(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<CallbackBody>,
) -> Result<(StatusCode, axum::Json<CallbackRow>), ApiError> {
    let due = parse_instant(&body.due_at, "due_at")?;
    let assignee = body.assignee_id.unwrap_or(user.user_id.get());
    let callback =
        write_op!(state, |tx, now| ops::schedule_callback(tx, &user.actor(), id, assignee, due, &body.note, now));
    Ok((StatusCode::CREATED, axum::Json(callback)))
}

pub fn parse_instant(text: &str, field: &'static str) -> Result<Timestamp, CaseError> {
    let parsed = time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| CaseError::ValueUnknown { field })?;
    Ok(Timestamp::from_micros(
        i64::try_from(parsed.unix_timestamp_nanos() / 1_000).map_err(|_| CaseError::ValueUnknown { field })?,
    ))
}

/// Mark a callback made.
#[utoipa::path(
    post,
    path = "/api/v1/callbacks/{callback_id}/done",
    tag = "cases",
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("callback_id" = i64, Path)),
    responses((status = 204), (status = 404, body = web::ProblemDocument)),
)]
async fn complete_callback(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    write_op!(state, |tx, now| ops::complete_callback(tx, &user.actor(), id, now));
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"other_case_id": 12, "kind": "related"}))]
pub struct LinkBody {
    pub other_case_id: i64,
    /// related (both ways) or parent (the other case becomes this one's parent)
    pub kind: String,
}

/// Link two cases, or set a parent.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/links",
    tag = "cases",
    request_body = LinkBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 204), (status = 422, body = web::ProblemDocument)),
)]
async fn link_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<LinkBody>,
) -> Result<StatusCode, ApiError> {
    write_op!(state, |tx, now| ops::link(tx, &user.actor(), id, body.other_case_id, &body.kind, now));
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"into_case_id": 12}))]
#[schema(as = CaseMergeBody)]
pub struct MergeBody {
    pub into_case_id: i64,
}

/// Merge this (duplicate) case into another; its thread moves and it is closed.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/merge",
    tag = "cases",
    request_body = MergeBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path)),
    responses((status = 200, body = CaseRow), (status = 409, body = web::ProblemDocument)),
)]
async fn merge_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<MergeBody>,
) -> Result<axum::Json<CaseRow>, ApiError> {
    Ok(axum::Json(write_op!(state, |tx, now| ops::merge(tx, &user.actor(), id, body.into_case_id, now))))
}

#[derive(Debug, Deserialize)]
pub struct FileQuery {
    pub file_name: String,
}

/// Attach a file (the raw bytes as the body; at most 5 MiB; PDF, PNG, JPEG or plain text).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case_id}/attachments",
    tag = "cases",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path), ("file_name" = String, Query)),
    responses(
        (status = 201, body = AttachmentRow),
        (status = 413, body = web::ProblemDocument),
        (status = 415, body = web::ProblemDocument),
    ),
)]
async fn upload_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FileQuery>,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<AttachmentRow>), ApiError> {
    let attachment = write_op!(state, |tx, now| ops::attach(tx, &user.actor(), id, &q.file_name, &body, now));
    Ok((StatusCode::CREATED, axum::Json(attachment)))
}

/// Download an attachment (always as a download, never rendered inline).
#[utoipa::path(
    get,
    path = "/api/v1/cases/{case_id}/attachments/{attachment_id}",
    tag = "cases",
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("case_id" = i64, Path), ("attachment_id" = i64, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = web::ProblemDocument)),
)]
async fn download_attachment(
    State(state): State<AppState>,
    Path((id, attachment_id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let mut tx = state.db.read().await?;
    let (name, content_type, bytes) =
        store::attachment_content(&mut tx, id, attachment_id).await?.ok_or(CaseError::AttachmentNotFound)?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let disposition = format!("attachment; filename=\"{}\"", name.replace('"', ""));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(response)
}

/// Every queue.
#[utoipa::path(
    get,
    path = "/api/v1/queues",
    tag = "cases",
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    responses((status = 200, body = Vec<QueueRow>)),
)]
async fn list_queues(State(state): State<AppState>) -> Result<axum::Json<Vec<QueueRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(store::queues(&mut tx).await?))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"name": "Outages", "tier": 1, "description": "Storm nights"}))]
pub struct QueueBody {
    pub name: String,
    /// 1 or 2
    pub tier: i32,
    pub description: Option<String>,
}

/// Add a queue.
#[utoipa::path(
    post,
    path = "/api/v1/queues",
    tag = "cases",
    request_body = QueueBody,
    security(("bearer" = ["cases.manage"]), ("session" = ["cases.manage"])),
    responses((status = 201, body = QueueRow), (status = 409, body = web::ProblemDocument)),
)]
async fn create_queue(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<QueueBody>,
) -> Result<(StatusCode, axum::Json<QueueRow>), ApiError> {
    let name = model::required_text(&body.name, "name", 80)?;
    let tier = model::parse_tier(body.tier)?;
    let description = body.description.clone().unwrap_or_default();
    let queue = write_op!(state, |tx, now| ops::create_queue(tx, &user.actor(), &name, tier, &description, now));
    Ok((StatusCode::CREATED, axum::Json(queue)))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct MemberBody {
    pub user_id: i64,
}

/// Add a staff member to a queue.
#[utoipa::path(
    post,
    path = "/api/v1/queues/{queue_id}/members",
    tag = "cases",
    request_body = MemberBody,
    security(("bearer" = ["cases.manage"]), ("session" = ["cases.manage"])),
    params(("queue_id" = i64, Path)),
    responses((status = 204), (status = 404, body = web::ProblemDocument)),
)]
async fn add_queue_member(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<MemberBody>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.db.begin().await?;
    store::find_queue(&mut tx, id).await?.ok_or(CaseError::QueueNotFound)?;
    if !store::user_exists(&mut tx, body.user_id).await? {
        return Err(CaseError::UserNotFound.into());
    }
    store::add_member(&mut tx, id, body.user_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take the next unassigned case of a queue (most urgent, then oldest); 204 when none waits.
#[utoipa::path(
    post,
    path = "/api/v1/queues/{queue_id}/take-next",
    tag = "cases",
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("queue_id" = i64, Path)),
    responses((status = 200, body = CaseRow), (status = 204, description = "the queue is empty")),
)]
async fn take_next(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let taken = write_op!(state, |tx, now| ops::take_next(tx, &user.actor(), id, now));
    Ok(match taken {
        Some(case) => axum::Json(case).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Worklist {
    pub my_cases: Vec<CaseRow>,
    pub callbacks_due: Vec<CallbackRow>,
}

/// The caller's open cases (soonest due first) and callbacks due now.
#[utoipa::path(
    get,
    path = "/api/v1/me/worklist",
    tag = "cases",
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    responses((status = 200, body = Worklist)),
)]
async fn worklist(State(state): State<AppState>, user: CurrentUser) -> Result<axum::Json<Worklist>, ApiError> {
    let mut tx = state.db.read().await?;
    let my_cases = store::cases_of_assignee(&mut tx, user.user_id.get(), 200).await?;
    let callbacks_due = store::callbacks_due(&mut tx, user.user_id.get(), state.clock.now()).await?;
    Ok(axum::Json(Worklist { my_cases, callbacks_due }))
}
