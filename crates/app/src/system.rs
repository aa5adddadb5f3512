//! The routes that belong to no business module: health and readiness, metrics, the OpenAPI
//! document and its docs page, static assets, the home and search screens, the job queue and
//! the audit trail API.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use db::audit::{self, AuditFilter, AuditRecord};
use db::{Db, jobs};
use http::{HeaderValue, StatusCode, header};
use kernel::{PageRequest, Permission, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::extract::{HtmxPartial, Query};
use web::layout::render;
use web::{Access, ApiError, AppState, Chrome, CurrentUser, PageError, Routes};

pub const PURGE_SESSIONS_JOB: &str = "sessions.purge";
const PURGE_EVERY_SECONDS: i64 = 3_600;
const DAILY_SECONDS: i64 = 86_400;
const SEARCH_LIMIT_PER_GROUP: i64 = 10;

pub fn routes() -> Routes {
    use Permission as P;
    Routes::new()
        .get("/healthz", Access::Public, healthz)
        .get("/readyz", Access::Public, readyz)
        .get("/metrics", Access::Public, metrics)
        .get("/api/v1/openapi.json", Access::Public, openapi_json)
        .get("/api/docs", Access::Public, web::assets::api_docs)
        .get("/assets/{name}", Access::Public, web::assets::serve)
        .get("/", Access::Signed(P::Profile), home)
        .get("/search", Access::Signed(P::Search), search_page)
        .get("/api/v1/search", Access::Signed(P::Search), search_api)
        .get("/admin/jobs", Access::Signed(P::JobsRead), jobs_page)
        .get("/api/v1/jobs", Access::Signed(P::JobsRead), jobs_api)
        .get("/api/v1/audit", Access::Signed(P::AuditRead), audit_api)
}

/// Schedules the recurring jobs once across all nodes (a dedupe key guards each); the IMAP poll
/// only when `[imap]` names a host.
pub async fn schedule_recurring(db: &Db, imap: &mailbox::imap::ImapSettings, now: Timestamp) -> db::Result<()> {
    let mut tx = db.begin().await?;
    let none = serde_json::json!({});
    jobs::enqueue_unique(&mut tx, PURGE_SESSIONS_JOB, PURGE_SESSIONS_JOB, &none, now.plus_seconds(PURGE_EVERY_SECONDS))
        .await?;
    let next_scan = now.plus_seconds(cases::SLA_SCAN_EVERY_SECONDS);
    jobs::enqueue_unique(&mut tx, cases::SLA_SCAN_JOB, cases::SLA_SCAN_JOB, &none, next_scan).await?;
    // Late fees by policy and the review of payment arrangements, once a day.
    let tomorrow = now.plus_seconds(DAILY_SECONDS);
    jobs::enqueue_unique(&mut tx, charges::ops::LATE_FEES_JOB, charges::ops::LATE_FEES_JOB, &none, tomorrow).await?;
    let review = charges::ops::REVIEW_ARRANGEMENTS_JOB;
    jobs::enqueue_unique(&mut tx, review, review, &none, tomorrow).await?;
    mailbox::imap::schedule_poll(&mut tx, imap, now).await?;
    tx.commit().await
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics() -> Response {
    let body = crate::server::metrics_handle().map(|h| h.render()).unwrap_or_default();
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    response
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "system",
    responses((status = 200, description = "This document")),
)]
pub(crate) async fn openapi_json() -> Response {
    axum::Json(crate::openapi::document()).into_response()
}

#[derive(Template)]
#[template(path = "app/home.html")]
struct HomePage {
    chrome: Chrome,
    greeting: String,
    can_manage_users: bool,
    staff_count: i64,
    jobs_queued: i64,
    jobs_dead: i64,
    show_jobs: bool,
    show_work: bool,
    my_cases: Vec<cases::store::CaseRow>,
    callbacks_due: usize,
    queues: Vec<(i64, String, i64, i64)>,
}

async fn home(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let staff_count = staff::store::count(&mut tx).await?;
    let counts = jobs::counts(&mut tx).await?;
    let show_work = user.role.permits(Permission::CasesWork);
    let (my_cases, callbacks_due, queues) = if show_work {
        let mine = cases::store::cases_of_assignee(&mut tx, user.user_id.get(), 10).await?;
        let due = cases::store::callbacks_due(&mut tx, user.user_id.get(), state.clock.now()).await?.len();
        let counts = cases::store::queue_counts(&mut tx).await?;
        let queues = cases::store::queues(&mut tx)
            .await?
            .into_iter()
            .filter(|q| q.active)
            .map(|q| {
                let (_, waiting, _, breached) = counts.iter().find(|c| c.0 == q.queue_id).copied().unwrap_or_default();
                (q.queue_id, q.name, waiting, breached)
            })
            .collect();
        (mine, due, queues)
    } else {
        (Vec::new(), 0, Vec::new())
    };
    tx.rollback().await?;
    let count_of = |status: &str| counts.iter().find(|(s, _)| s == status).map(|(_, n)| *n).unwrap_or(0);
    let first_name = user.display_name.split_whitespace().next().unwrap_or(&user.display_name).to_string();
    let page = HomePage {
        chrome: Chrome::new("Home", Some(&user), "/", partial),
        greeting: first_name,
        can_manage_users: user.role.permits(Permission::UsersRead),
        staff_count,
        jobs_queued: count_of("queued"),
        jobs_dead: count_of("dead"),
        show_jobs: user.role.permits(Permission::JobsRead),
        show_work,
        my_cases,
        callbacks_due,
        queues,
    };
    render(&page)
}

#[derive(Deserialize, Default)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// One hit of the global search, whatever its type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    pub id: String,
    pub title: String,
    pub subtitle: String,
    /// The page that opens it.
    pub url: String,
}

/// The hits of one type, best first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchGroup {
    /// `account`, `customer` or `staff_user`; cases and articles join as their modules land.
    pub kind: String,
    pub label: String,
    pub hits: Vec<SearchHit>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    pub query: String,
    pub groups: Vec<SearchGroup>,
}

/// The one search operation behind the box and the API: every group the caller may see.
pub async fn search(state: &AppState, user: &CurrentUser, text: &str) -> Result<SearchResults, ApiError> {
    let query: String = text.trim().chars().take(200).collect();
    let mut groups = Vec::new();
    if query.is_empty() {
        return Ok(SearchResults { query, groups });
    }
    let mut tx = state.db.read().await?;
    if user.role.permits(Permission::CustomersRead) {
        if let Ok(number) = customers::model::AccountNumber::parse(&query)
            && let Some(account) = customers::store::find_account_by_number(&mut tx, number.as_str()).await?
        {
            let hit = SearchHit {
                id: account.account_id.to_string(),
                title: account.account_number.clone(),
                subtitle: format!("account · {}", account.status),
                url: format!("/customers/{}", account.customer_id),
            };
            groups.push(SearchGroup { kind: "account".into(), label: "Accounts".into(), hits: vec![hit] });
        }
        let found = customers::search::find(&mut tx, &query, SEARCH_LIMIT_PER_GROUP).await?;
        let hits: Vec<SearchHit> = found
            .into_iter()
            .map(|c| SearchHit {
                id: c.customer_id.to_string(),
                subtitle: [Some(c.customer_number.clone()), c.phone.clone(), c.address.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
                title: c.display_name,
                url: format!("/customers/{}", c.customer_id),
            })
            .collect();
        if !hits.is_empty() {
            groups.push(SearchGroup { kind: "customer".into(), label: "Customers".into(), hits });
        }
    }
    if user.role.permits(Permission::CasesWork) {
        let terms: Vec<String> =
            query.split_whitespace().map(str::to_lowercase).filter(|t| t.chars().count() >= 3).take(6).collect();
        let found = cases::store::search(&mut tx, &terms, SEARCH_LIMIT_PER_GROUP).await?;
        let hits: Vec<SearchHit> = found
            .into_iter()
            .map(|c| SearchHit {
                id: c.case_id.to_string(),
                subtitle: format!("{} · {}", c.case_number, c.status_label()),
                title: c.subject,
                url: format!("/cases/{}", c.case_id),
            })
            .collect();
        if !hits.is_empty() {
            groups.push(SearchGroup { kind: "case".into(), label: "Cases".into(), hits });
        }
    }
    if user.role.permits(Permission::KnowledgeRead) {
        let include_internal = true;
        let found = knowledge::search::find(&mut tx, &query, include_internal, SEARCH_LIMIT_PER_GROUP).await?;
        let hits: Vec<SearchHit> = found
            .into_iter()
            .map(|a| SearchHit {
                id: a.article_id.to_string(),
                title: a.title,
                subtitle: a.summary,
                url: format!("/knowledge/{}", a.article_id),
            })
            .collect();
        if !hits.is_empty() {
            groups.push(SearchGroup { kind: "article".into(), label: "Knowledge".into(), hits });
        }
    }
    if user.role.permits(Permission::UsersRead) {
        let rows = staff::store::search(&mut tx, &query, SEARCH_LIMIT_PER_GROUP).await?;
        let hits: Vec<SearchHit> = rows
            .into_iter()
            .map(|u| SearchHit {
                id: u.user_id.to_string(),
                subtitle: format!("{} · {}", u.username, u.role().label()),
                title: u.display_name,
                url: format!("/admin/users/{}", u.user_id),
            })
            .collect();
        if !hits.is_empty() {
            groups.push(SearchGroup { kind: "staff_user".into(), label: "Staff".into(), hits });
        }
    }
    tx.rollback().await?;
    Ok(SearchResults { query, groups })
}

#[derive(Template)]
#[template(path = "app/search.html")]
struct SearchPage {
    chrome: Chrome,
    results: SearchResults,
}

async fn search_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<SearchQuery>,
) -> Result<Html<String>, PageError> {
    let results = search(&state, &user, &q.q).await?;
    let page = SearchPage { chrome: Chrome::new("Search", Some(&user), "/search", partial), results };
    render(&page)
}

/// Search everything the caller may see.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    security(("bearer" = ["search"]), ("session" = ["search"])),
    params(("q" = String, Query, description = "names, numbers, phone fragments, emails or text")),
    responses((status = 200, body = SearchResults)),
)]
pub(crate) async fn search_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SearchQuery>,
) -> Result<axum::Json<SearchResults>, ApiError> {
    Ok(axum::Json(search(&state, &user, &q.q).await?))
}

struct JobLine {
    job_id: i64,
    kind: String,
    status: String,
    attempts: String,
    run_at: String,
    last_error: String,
}

#[derive(Template)]
#[template(path = "app/jobs.html")]
struct JobsPage {
    chrome: Chrome,
    counts: Vec<(String, i64)>,
    jobs: Vec<JobLine>,
}

async fn jobs_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let counts = jobs::counts(&mut tx).await?;
    let rows = jobs::recent(&mut tx, 100).await?;
    tx.rollback().await?;
    let page = JobsPage {
        chrome: Chrome::new("Jobs", Some(&user), "/admin/jobs", partial),
        counts,
        jobs: rows
            .into_iter()
            .map(|j| JobLine {
                job_id: j.job_id,
                kind: j.kind,
                status: j.status,
                attempts: format!("{}/{}", j.attempts, j.max_attempts),
                run_at: Timestamp(j.run_at).to_display(),
                last_error: j.last_error.unwrap_or_default(),
            })
            .collect(),
    };
    render(&page)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobsView {
    /// Jobs per status: queued, running, done, dead.
    pub counts: std::collections::BTreeMap<String, i64>,
    pub recent: Vec<JobView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub job_id: i64,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: String,
    pub last_error: Option<String>,
}

/// The background job queue: counts per status and the latest jobs.
#[utoipa::path(
    get,
    path = "/api/v1/jobs",
    tag = "system",
    security(("bearer" = ["jobs.read"]), ("session" = ["jobs.read"])),
    responses((status = 200, body = JobsView)),
)]
pub(crate) async fn jobs_api(State(state): State<AppState>) -> Result<axum::Json<JobsView>, ApiError> {
    let mut tx = state.db.read().await?;
    let counts = jobs::counts(&mut tx).await?.into_iter().collect();
    let recent = jobs::recent(&mut tx, 100)
        .await?
        .into_iter()
        .map(|j| JobView {
            job_id: j.job_id,
            kind: j.kind,
            status: j.status,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: Timestamp(j.run_at).to_rfc3339(),
            last_error: j.last_error,
        })
        .collect();
    Ok(axum::Json(JobsView { counts, recent }))
}

#[derive(Deserialize, Default)]
pub(crate) struct AuditQuery {
    limit: Option<u32>,
    cursor: Option<String>,
    entity: Option<String>,
    entity_id: Option<String>,
    actor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    pub next_cursor: Option<String>,
}

/// The audit trail, newest first, optionally filtered.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "system",
    security(("bearer" = ["audit.read"]), ("session" = ["audit.read"])),
    params(
        ("limit" = Option<u32>, Query),
        ("cursor" = Option<String>, Query),
        ("entity" = Option<String>, Query),
        ("entity_id" = Option<String>, Query),
        ("actor" = Option<String>, Query),
    ),
    responses((status = 200, body = AuditPage)),
)]
pub(crate) async fn audit_api(
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> Result<axum::Json<AuditPage>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = AuditFilter { entity: q.entity, entity_id: q.entity_id, actor_name: q.actor };
    let mut tx = state.db.read().await?;
    let records = audit::list(&mut tx, &filter, &page).await?;
    Ok(axum::Json(AuditPage { items: records.items, next_cursor: records.next_cursor }))
}
