//! JSON handlers for templates, letters and the outbound email queue. Thin: parse the body into
//! domain types, call one op inside one transaction, answer.

use crate::CorrespondenceError;
use crate::merge::MergeValues;
use crate::model::{Attachment, Channel, EmailAddress, EmailStatus, NewTemplateVersion, OutboundEmail, QueuedEmail};
use crate::model::{ExtraHeader, parse_body, parse_message_id, parse_subject};
use crate::ops::{self, MergeSubject, Preview, SendRequest, Sent};
use crate::store::EmailRow;
use crate::store::letters::{LetterRow, PrintBatchRow};
use crate::store::templates::TemplateRow;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use kernel::Permission;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use web::extract::{Json, Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(list_templates, template_versions, save_template, preview_template, list_letters, create_letter,
        letter_pdf, print_batch, list_print_batches, print_batch_pdf, list_emails, get_email, create_email,
        retry_email),
    components(schemas(TemplateRow, TemplateBody, PreviewBody, Preview, LetterRow, LetterBody, Sent, QueuedEmail,
        PrintBatchRow,
        EmailRow, EmailBody, AttachmentBody, HeaderBody, Channel, EmailStatus)),
    tags((
        name = "correspondence",
        description = "Email and letter templates, letters and the print queue, outbound email"
    )),
)]
pub struct CorrespondenceApi;

pub fn routes() -> Routes {
    use Permission as P;
    let work = Access::Signed(P::ContactsLog);
    let manage = Access::Signed(P::CorrespondenceManage);
    Routes::new()
        .get("/api/v1/templates", work, list_templates)
        .post("/api/v1/templates", manage, save_template)
        .get("/api/v1/templates/{template_key}", work, template_versions)
        .post("/api/v1/templates/{template_id}/preview", work, preview_template)
        .get("/api/v1/letters", work, list_letters)
        .post("/api/v1/letters", work, create_letter)
        .get("/api/v1/letters/{letter_id}/pdf", work, letter_pdf)
        .post("/api/v1/letters/print-batch", manage, print_batch)
        .get("/api/v1/letters/print-batches", manage, list_print_batches)
        .get("/api/v1/letters/print-batches/{print_batch_id}/pdf", manage, print_batch_pdf)
        .get("/api/v1/emails", work, list_emails)
        .post("/api/v1/emails", work, create_email)
        .get("/api/v1/emails/{email_id}", work, get_email)
        .post("/api/v1/emails/{email_id}/retry", manage, retry_email)
}

fn positive(id: Option<i64>, field: &'static str) -> Result<Option<i64>, CorrespondenceError> {
    match id {
        Some(id) if id <= 0 => Err(CorrespondenceError::IdInvalid { field }),
        other => Ok(other),
    }
}

/// The latest version of every template in every language.
#[utoipa::path(get, path = "/api/v1/templates", tag = "correspondence",
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    responses((status = 200, body = Vec<TemplateRow>)))]
async fn list_templates(State(state): State<AppState>) -> Result<axum::Json<Vec<TemplateRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::templates(&mut tx).await?))
}

/// Every version of one template key, all languages, newest first.
#[utoipa::path(get, path = "/api/v1/templates/{template_key}", tag = "correspondence",
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    params(("template_key" = String, Path)),
    responses((status = 200, body = Vec<TemplateRow>), (status = 404, body = web::ProblemDocument)))]
async fn template_versions(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<axum::Json<Vec<TemplateRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::template_versions(&mut tx, key.trim()).await?))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({
    "template_key": "payment_reminder", "language": "en", "kind": "email", "name": "Payment reminder",
    "subject": "Payment reminder for account {{account.number}}",
    "body": "Dear {{customer.name}},\n\nA balance of {{account.balance}} is due on {{account.due_date}}."
}))]
pub struct TemplateBody {
    pub template_key: String,
    /// Two letters: en, es, fr, ...
    pub language: String,
    /// email or letter
    pub kind: String,
    pub name: String,
    pub subject: String,
    /// Merge fields: customer.name, customer.number, account.number, account.balance, account.due_date,
    /// case.number, case.subject, bill.number, bill.amount, bill.due_date, agent.name, today, extra.<name>.
    pub body: String,
}

/// Save a new version of a template (the first version when the key or language is new).
#[utoipa::path(post, path = "/api/v1/templates", tag = "correspondence", request_body = TemplateBody,
    security(("bearer" = ["correspondence.manage"]), ("session" = ["correspondence.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = TemplateRow), (status = 422, body = web::ProblemDocument)))]
async fn save_template(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<TemplateBody>,
) -> Result<Response, ApiError> {
    let new = NewTemplateVersion::parse(
        &body.template_key,
        &body.language,
        &body.kind,
        &body.name,
        &body.subject,
        &body.body,
    )?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, "POST /api/v1/templates", &body, now).await?
    {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let saved = ops::save_template(&mut tx, &user.actor(), new, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &saved).await?;
    tx.commit().await?;
    Ok(response)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({ "customer_id": 42, "account_id": 7, "case_id": 3, "extra": { "reply": "Thanks." } }))]
pub struct PreviewBody {
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub case_id: Option<i64>,
    /// Values for `{{extra.<name>}}` fields.
    #[serde(default)]
    pub extra: MergeValues,
}

impl PreviewBody {
    fn parse(&self) -> Result<MergeSubject, CorrespondenceError> {
        Ok(MergeSubject {
            customer_id: positive(Some(self.customer_id), "customer_id")?.unwrap_or(0),
            account_id: positive(self.account_id, "account_id")?,
            case_id: positive(self.case_id, "case_id")?,
            extra: self.extra.clone(),
            agent_user_id: None,
        })
    }
}

/// A template version merged with a real customer's (account's, case's) data.
#[utoipa::path(post, path = "/api/v1/templates/{template_id}/preview", tag = "correspondence",
    request_body = PreviewBody, params(("template_id" = i64, Path)),
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    responses((status = 200, body = Preview), (status = 404, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument)))]
async fn preview_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(template_id): Path<i64>,
    Json(body): Json<PreviewBody>,
) -> Result<axum::Json<Preview>, ApiError> {
    let subject = body.parse()?;
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::preview(&mut tx, &user.actor(), template_id, &subject, state.clock.now()).await?))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    /// The last id of the previous page.
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

/// Letters, newest first (status `queued` is the print queue).
#[utoipa::path(get, path = "/api/v1/letters", tag = "correspondence",
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    params(("status" = Option<String>, Query, description = "queued or printed"),
        ("before" = Option<i64>, Query), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, body = Vec<LetterRow>)))]
async fn list_letters(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<LetterRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    let status = q.status.unwrap_or_default();
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(axum::Json(ops::list_letters(&mut tx, status.trim(), q.before, limit).await?))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({ "template_key": "final_notice", "customer_id": 42, "account_id": 7 }))]
pub struct LetterBody {
    pub template_key: String,
    /// Absent: the customer's preferred language, else en.
    pub language: Option<String>,
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub case_id: Option<i64>,
    #[serde(default)]
    pub extra: MergeValues,
    /// The contact's reason code; default `notice`.
    pub reason_code: Option<String>,
}

/// Write a letter from a template; it waits in the print queue and is logged as a contact.
#[utoipa::path(post, path = "/api/v1/letters", tag = "correspondence", request_body = LetterBody,
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Sent), (status = 404, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument)))]
async fn create_letter(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<LetterBody>,
) -> Result<Response, ApiError> {
    let request = SendRequest {
        template_key: body.template_key.clone(),
        language: body.language.clone(),
        customer_id: positive(Some(body.customer_id), "customer_id")?.unwrap_or(0),
        account_id: positive(body.account_id, "account_id")?,
        case_id: positive(body.case_id, "case_id")?,
        extra: body.extra.clone(),
        channel: Some(Channel::Letter),
        reason_code: body.reason_code.clone(),
        ..SendRequest::default()
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, "POST /api/v1/letters", &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let sent = ops::send(&mut tx, &user.actor(), request, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &sent).await?;
    tx.commit().await?;
    Ok(response)
}

pub(crate) fn pdf_response(bytes: Vec<u8>, file_name: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// One letter as PDF.
#[utoipa::path(get, path = "/api/v1/letters/{letter_id}/pdf", tag = "correspondence",
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    params(("letter_id" = i64, Path)),
    responses((status = 200, content_type = "application/pdf", description = "The letter"),
        (status = 404, body = web::ProblemDocument)))]
async fn letter_pdf(State(state): State<AppState>, Path(letter_id): Path<i64>) -> Result<Response, ApiError> {
    let mut tx = state.db.read().await?;
    let bytes = ops::letter_pdf(&mut tx, letter_id).await?;
    Ok(pdf_response(bytes, &format!("letter-{letter_id}.pdf")))
}

#[derive(Debug, Deserialize)]
pub struct BatchQuery {
    /// YYYY-MM-DD: only letters queued on or before that (UTC) day.
    pub date: Option<String>,
}

/// Print batch: every queued letter (or those queued by the end of `date`) into ONE PDF for
/// mailing; the letters become printed.
#[utoipa::path(post, path = "/api/v1/letters/print-batch", tag = "correspondence",
    security(("bearer" = ["correspondence.manage"]), ("session" = ["correspondence.manage"])),
    params(("date" = Option<String>, Query, description = "YYYY-MM-DD: letters queued by the end of that day")),
    responses((status = 200, content_type = "application/pdf", description = "All the batch's letters"),
        (status = 409, body = web::ProblemDocument), (status = 422, body = web::ProblemDocument)))]
async fn print_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BatchQuery>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let through = match q.date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(date) => ops::end_of_day(date)?,
        None => now,
    };
    let mut tx = state.db.begin().await?;
    let batch = ops::print_batch(&mut tx, &user.actor(), through, now).await?;
    tx.commit().await?;
    let mut response = pdf_response(batch.pdf, &format!("print-batch-{}.pdf", batch.print_batch_id));
    if let Ok(count) = HeaderValue::from_str(&batch.letter_count.to_string()) {
        response.headers_mut().insert("x-letter-count", count);
    }
    Ok(response)
}

/// Past print batches, newest first.
#[utoipa::path(get, path = "/api/v1/letters/print-batches", tag = "correspondence",
    security(("bearer" = ["correspondence.manage"]), ("session" = ["correspondence.manage"])),
    params(("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, body = Vec<PrintBatchRow>)))]
async fn list_print_batches(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<PrintBatchRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::print_batches(&mut tx, q.limit.unwrap_or(50)).await?))
}

/// An earlier print batch's PDF again (made from its letters, the same pages).
#[utoipa::path(get, path = "/api/v1/letters/print-batches/{print_batch_id}/pdf", tag = "correspondence",
    security(("bearer" = ["correspondence.manage"]), ("session" = ["correspondence.manage"])),
    params(("print_batch_id" = i64, Path)),
    responses((status = 200, content_type = "application/pdf", description = "The batch's letters"),
        (status = 404, body = web::ProblemDocument)))]
async fn print_batch_pdf(State(state): State<AppState>, Path(batch_id): Path<i64>) -> Result<Response, ApiError> {
    let mut tx = state.db.read().await?;
    let bytes = ops::batch_pdf(&mut tx, batch_id).await?;
    Ok(pdf_response(bytes, &format!("print-batch-{batch_id}.pdf")))
}

/// The outbound email queue, newest first, with status, attempts and the last error.
#[utoipa::path(get, path = "/api/v1/emails", tag = "correspondence",
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    params(("status" = Option<String>, Query, description = "queued, sending, sent, failed or uncertain"),
        ("before" = Option<i64>, Query), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, body = Vec<EmailRow>), (status = 422, body = web::ProblemDocument)))]
async fn list_emails(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<EmailRow>>, ApiError> {
    let status = q.status.as_deref().filter(|s| !s.trim().is_empty()).map(EmailStatus::parse).transpose()?;
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::list_emails(&mut tx, status, q.before, q.limit.unwrap_or(50)).await?))
}

/// One outbound email.
#[utoipa::path(get, path = "/api/v1/emails/{email_id}", tag = "correspondence",
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    params(("email_id" = i64, Path)),
    responses((status = 200, body = EmailRow), (status = 404, body = web::ProblemDocument)))]
async fn get_email(State(state): State<AppState>, Path(email_id): Path<i64>) -> Result<axum::Json<EmailRow>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::get_email(&mut tx, email_id).await?))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AttachmentBody {
    pub file_name: String,
    pub content_type: String,
    /// The file, base64.
    pub content_base64: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({
    "to": ["ana@example.com"], "subject": "Your meter read",
    "text_body": "Dear Ana,\n\nWe read your meter today.", "customer_id": 42
}))]
#[schema(as = QueueEmailBody)]
pub struct EmailBody {
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub in_reply_to: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
    pub case_id: Option<i64>,
    pub customer_id: Option<i64>,
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
    /// Extra headers from an allow-list: Auto-Submitted (no, auto-generated, auto-replied,
    /// auto-notified), X-Auto-Response-Suppress (All, DR, NDR, RN, NRN, OOF, AutoReply, comma-separated),
    /// Precedence (bulk, list, junk); each at most once.
    #[serde(default)]
    pub headers: Vec<HeaderBody>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(as = QueueEmailHeader, example = json!({"name": "Auto-Submitted", "value": "auto-generated"}))]
pub struct HeaderBody {
    pub name: String,
    pub value: String,
}

impl EmailBody {
    fn parse(&self) -> Result<OutboundEmail, CorrespondenceError> {
        let attachments = self
            .attachments
            .iter()
            .map(|a| {
                let content = base64::engine::general_purpose::STANDARD
                    .decode(a.content_base64.trim())
                    .map_err(|_| CorrespondenceError::AttachmentNotBase64)?;
                Attachment::parse(&a.file_name, &a.content_type, content)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OutboundEmail {
            to: EmailAddress::parse_list(&self.to, "to", true)?,
            cc: EmailAddress::parse_list(&self.cc, "cc", false)?,
            subject: parse_subject(&self.subject)?,
            text_body: parse_body(&self.text_body, "text_body")?,
            html_body: self.html_body.as_deref().map(|h| parse_body(h, "html_body")).transpose()?,
            in_reply_to: self.in_reply_to.as_deref().map(|m| parse_message_id(m, "in_reply_to")).transpose()?,
            references: self.references.iter().map(|m| parse_message_id(m, "references")).collect::<Result<_, _>>()?,
            case_id: positive(self.case_id, "case_id")?,
            customer_id: positive(self.customer_id, "customer_id")?,
            attachments,
            template_id: None,
            message_id: None,
            headers: ExtraHeader::parse_list(
                &self.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect::<Vec<_>>(),
            )?,
        })
    }
}

/// Queue an ad-hoc email.
#[utoipa::path(post, path = "/api/v1/emails", tag = "correspondence", request_body = EmailBody,
    security(("bearer" = ["contacts.log"]), ("session" = ["contacts.log"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = QueuedEmail), (status = 422, body = web::ProblemDocument)))]
async fn create_email(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<EmailBody>,
) -> Result<Response, ApiError> {
    let email = body.parse()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, "POST /api/v1/emails", &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let queued = ops::queue_email(&mut tx, &user.actor(), email, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &queued).await?;
    tx.commit().await?;
    Ok(response)
}

/// Put a failed or uncertain email back in the queue for one more try.
#[utoipa::path(post, path = "/api/v1/emails/{email_id}/retry", tag = "correspondence",
    security(("bearer" = ["correspondence.manage"]), ("session" = ["correspondence.manage"])),
    params(("email_id" = i64, Path)),
    responses((status = 200, body = EmailRow), (status = 404, body = web::ProblemDocument),
        (status = 409, body = web::ProblemDocument)))]
async fn retry_email(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(email_id): Path<i64>,
) -> Result<axum::Json<EmailRow>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let row = ops::retry_email(&mut tx, &user.actor(), email_id, now).await?;
    tx.commit().await?;
    Ok(axum::Json(row))
}
