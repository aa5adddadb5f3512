//! JSON handlers for contacts, the customer timeline, reason codes and dispositions. Thin: parse
//! the body into domain types, call one op inside one transaction, answer.

use crate::ContactError;
use crate::model::{Channel, Code, ContactTimes, Direction, Summary, parse_label, parse_link, parse_time};
use crate::ops::{self, NewContact, NewReasonCode};
use crate::store::{ContactRow, DispositionRow, ReasonCodeRow};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use kernel::{PageRequest, Permission, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use web::extract::{Json, Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(
        log_contact,
        get_contact,
        customer_timeline,
        list_reason_codes,
        add_reason_code,
        list_dispositions,
        add_disposition,
    ),
    components(schemas(ContactBody, ContactRow, ContactPage, ReasonCodeBody, ReasonCodeRow, DispositionBody,
        DispositionRow, Channel, Direction)),
    tags((name = "contacts", description = "Contacts (every interaction with a customer), timelines and their codes")),
)]
pub struct ContactsApi;

pub fn routes() -> Routes {
    use Permission as P;
    let log = Access::Signed(P::ContactsLog);
    let read = Access::Signed(P::CustomersRead);
    let manage = Access::Signed(P::ContactsManage);
    Routes::new()
        .post("/api/v1/contacts", log, log_contact)
        .get("/api/v1/contacts/{contact_id}", read, get_contact)
        .get("/api/v1/customers/{customer_id}/contacts", read, customer_timeline)
        .get("/api/v1/reason-codes", log, list_reason_codes)
        .post("/api/v1/reason-codes", manage, add_reason_code)
        .get("/api/v1/dispositions", log, list_dispositions)
        .post("/api/v1/dispositions", manage, add_disposition)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(
    example = json!({
        "customer_id": 42,
        "account_id": 7,
        "channel": "phone",
        "direction": "inbound",
        "reason_code": "billing_question",
        "sub_reason_code": "high_bill",
        "disposition_code": "information_given",
        "summary": "Explained the estimated read; actual read due next cycle.",
        "started_at": "2026-11-25T09:52:00Z",
        "ended_at": "2026-11-25T09:55:30Z"
    }),
)]
#[schema(example = json!(
    {"customer_id": 1, "channel": "phone", "direction": "inbound", "reason_code": "billing_question",
     "sub_reason_code": "high_bill", "disposition_code": "information_given", "summary": "Explained the tiered rate"}
))]
pub struct ContactBody {
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub case_id: Option<i64>,
    pub order_id: Option<i64>,
    pub payment_id: Option<i64>,
    /// phone, email, chat, letter, in_person, portal or system
    pub channel: String,
    /// inbound or outbound; defaults to inbound.
    pub direction: Option<String>,
    pub reason_code: String,
    pub sub_reason_code: Option<String>,
    /// How it ended; optional (system contacts have none).
    pub disposition_code: Option<String>,
    /// At most 4000 characters.
    #[serde(default)]
    pub summary: String,
    /// RFC 3339; defaults to ended_at (a contact of no duration).
    pub started_at: Option<String>,
    /// RFC 3339; defaults to now.
    pub ended_at: Option<String>,
}

impl ContactBody {
    /// Parses every field against `now`; the first at fault is named.
    pub fn parse(&self, now: Timestamp) -> Result<NewContact, ContactError> {
        let started_at = parse_time(self.started_at.as_deref(), "started_at")?;
        let ended_at = parse_time(self.ended_at.as_deref(), "ended_at")?;
        Ok(NewContact {
            customer_id: parse_link(Some(self.customer_id), "customer_id")?.unwrap_or_default(),
            account_id: parse_link(self.account_id, "account_id")?,
            case_id: parse_link(self.case_id, "case_id")?,
            order_id: parse_link(self.order_id, "order_id")?,
            payment_id: parse_link(self.payment_id, "payment_id")?,
            channel: Channel::parse(&self.channel)?,
            direction: Direction::parse(self.direction.as_deref().unwrap_or("inbound"))?,
            reason_code: match self.reason_code.trim() {
                "" => return Err(ContactError::ReasonMissing),
                code => Code::parse(code, "reason_code")?,
            },
            sub_reason_code: Code::parse_optional(self.sub_reason_code.as_deref(), "sub_reason_code")?,
            disposition_code: Code::parse_optional(self.disposition_code.as_deref(), "disposition_code")?,
            summary: Summary::parse(&self.summary)?,
            times: ContactTimes::parse(started_at, ended_at, now)?,
        })
    }
}

/// Log a contact. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post,
    path = "/api/v1/contacts",
    tag = "contacts",
    request_body = ContactBody,
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = ContactRow),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn log_contact(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<ContactBody>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let new = body.parse(now)?;
    // A busy desk logs many contacts at once: they share commits (db::Db::write_grouped).
    state
        .db
        .write_grouped(move |tx| {
            Box::pin(async move {
                let route = "POST /api/v1/contacts";
                let reservation = match idempotency::reserve(tx, &user, &headers, route, &body, now).await? {
                    Reservation::Replay(replayed) => return Ok(replayed.into_response()),
                    fresh_or_none => fresh_or_none,
                };
                let contact = ops::log_contact(tx, &user.actor(), new, now).await?;
                idempotency::finish(tx, &user, &reservation, StatusCode::CREATED, &contact).await
            })
        })
        .await
}

/// One contact.
#[utoipa::path(
    get,
    path = "/api/v1/contacts/{contact_id}",
    tag = "contacts",
    security(("bearer" = ["customers.read"]), ("session" = ["customers.read"])),
    params(("contact_id" = i64, Path)),
    responses((status = 200, body = ContactRow), (status = 404, body = web::ProblemDocument)),
)]
async fn get_contact(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<ContactRow>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::get_contact(&mut tx, id).await?))
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactPage {
    /// Newest first.
    pub items: Vec<ContactRow>,
    /// Pass back as `cursor` for older contacts; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A customer's timeline: every contact, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{customer_id}/contacts",
    tag = "contacts",
    security(("bearer" = ["customers.read"]), ("session" = ["customers.read"])),
    params(
        ("customer_id" = i64, Path),
        ("limit" = Option<u32>, Query, description = "1 to 200, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, body = ContactPage), (status = 404, body = web::ProblemDocument)),
)]
async fn customer_timeline(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<ContactPage>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut tx = state.db.read().await?;
    let rows = ops::timeline(&mut tx, id, &page).await?;
    Ok(axum::Json(ContactPage { items: rows.items, next_cursor: rows.next_cursor }))
}

/// Every reason code, active or not; each reason is followed by its sub-reasons.
#[utoipa::path(
    get,
    path = "/api/v1/reason-codes",
    tag = "contacts",
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    responses((status = 200, body = Vec<ReasonCodeRow>)),
)]
async fn list_reason_codes(State(state): State<AppState>) -> Result<axum::Json<Vec<ReasonCodeRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::reason_codes(&mut tx).await?))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"code": "meter_access", "label": "Meter access", "parent_code": "outage"}))]
pub struct ReasonCodeBody {
    /// 2 to 40 lower-case letters, digits or underscores.
    pub code: String,
    pub label: String,
    /// An active reason, to make this a sub-reason of it.
    pub parent_code: Option<String>,
}

/// Define a reason code (or, with parent_code, a sub-reason).
#[utoipa::path(
    post,
    path = "/api/v1/reason-codes",
    tag = "contacts",
    request_body = ReasonCodeBody,
    security(("bearer" = ["contacts.manage"]), ("session" = ["contacts.manage"])),
    responses(
        (status = 201, body = ReasonCodeRow),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn add_reason_code(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<ReasonCodeBody>,
) -> Result<(StatusCode, axum::Json<ReasonCodeRow>), ApiError> {
    let new = NewReasonCode::parse(&body.code, &body.label, body.parent_code.as_deref())?;
    let mut tx = state.db.begin().await?;
    let row = ops::add_reason_code(&mut tx, &user.actor(), new, state.clock.now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(row)))
}

/// Every disposition, active or not.
#[utoipa::path(
    get,
    path = "/api/v1/dispositions",
    tag = "contacts",
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    responses((status = 200, body = Vec<DispositionRow>)),
)]
async fn list_dispositions(State(state): State<AppState>) -> Result<axum::Json<Vec<DispositionRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::dispositions(&mut tx).await?))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"code": "voicemail", "label": "Reached voicemail"}))]
pub struct DispositionBody {
    /// 2 to 40 lower-case letters, digits or underscores.
    pub code: String,
    pub label: String,
}

/// Define a disposition.
#[utoipa::path(
    post,
    path = "/api/v1/dispositions",
    tag = "contacts",
    request_body = DispositionBody,
    security(("bearer" = ["contacts.manage"]), ("session" = ["contacts.manage"])),
    responses(
        (status = 201, body = DispositionRow),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn add_disposition(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<DispositionBody>,
) -> Result<(StatusCode, axum::Json<DispositionRow>), ApiError> {
    let code = Code::parse(&body.code, "code")?;
    let label = parse_label(&body.label)?;
    let mut tx = state.db.begin().await?;
    let row = ops::add_disposition(&mut tx, &user.actor(), &code, &label, state.clock.now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(row)))
}
