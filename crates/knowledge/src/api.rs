//! JSON handlers for articles, call scripts and canned answers. Thin: parse the body into domain
//! types, call one op inside one transaction, answer.

use crate::model::{AnswerDraft, ArticleDraft, ArticleStatus, ScriptDraft, ScriptStep, Tags};
use crate::ops::{self, ArticleView, ScriptView};
use crate::search::{self, ArticleHit};
use crate::store::{self, AnswerRow, ArticleFilter, ArticleRow, CaseLinkRow, ScriptRow, StepRow, VersionRow};
use crate::{KnowledgeError, model};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use kernel::{Page, PageRequest, Permission};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use web::extract::{Json, Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(
        list_articles,
        create_article,
        get_article,
        update_article,
        publish_article,
        archive_article,
        list_versions,
        get_version,
        link_case,
        list_cases,
        list_scripts,
        create_script,
        get_script,
        update_script,
        list_answers,
        create_answer,
        get_answer,
        update_answer,
    ),
    components(
        schemas(
            ArticleBody,
            ArticleUpdateBody,
            ArticleRow,
            ArticleView,
            ArticlePage,
            ArticleHit,
            VersionRow,
            CaseLinkBody,
            CaseLinkRow,
            ScriptBody,
            StepBody,
            ScriptRow,
            StepRow,
            ScriptView,
            ScriptPage,
            AnswerBody,
            AnswerRow,
            model::Audience,
            model::ArticleStatus,
        ),
    ),
    tags((name = "knowledge", description = "Articles with version history, call scripts and canned answers")),
)]
pub struct KnowledgeApi;

pub fn routes() -> Routes {
    use Permission as P;
    let read = Access::Signed(P::KnowledgeRead);
    let manage = Access::Signed(P::KnowledgeManage);
    Routes::new()
        .get("/api/v1/articles", read, list_articles)
        .post("/api/v1/articles", manage, create_article)
        .get("/api/v1/articles/{article_id}", read, get_article)
        .put("/api/v1/articles/{article_id}", manage, update_article)
        .post("/api/v1/articles/{article_id}/publish", manage, publish_article)
        .post("/api/v1/articles/{article_id}/archive", manage, archive_article)
        .get("/api/v1/articles/{article_id}/versions", read, list_versions)
        .get("/api/v1/articles/{article_id}/versions/{version}", read, get_version)
        .post("/api/v1/articles/{article_id}/cases", Access::Signed(P::CasesWork), link_case)
        .get("/api/v1/articles/{article_id}/cases", read, list_cases)
        .get("/api/v1/call-scripts", read, list_scripts)
        .post("/api/v1/call-scripts", manage, create_script)
        .get("/api/v1/call-scripts/{script_id}", read, get_script)
        .put("/api/v1/call-scripts/{script_id}", manage, update_script)
        .get("/api/v1/canned-answers", read, list_answers)
        .post("/api/v1/canned-answers", manage, create_answer)
        .get("/api/v1/canned-answers/{canned_answer_id}", read, get_answer)
        .put("/api/v1/canned-answers/{canned_answer_id}", manage, update_answer)
}

fn can_manage(user: &CurrentUser) -> bool {
    user.role.permits(Permission::KnowledgeManage)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(
    example = json!({
        "title": "Reading a water meter",
        "body": "1. Lift the lid.\n2. Read the **black** digits left to right.",
        "category": "Meters",
        "tags": ["water", "meter-read"],
        "audience": "public"
    }),
)]
#[schema(example = json!(
    {"title": "Reading a smart meter", "body": "Press the **display** button twice.", "category": "meters",
     "tags": ["meter", "reading"], "audience": "public"}
))]
pub struct ArticleBody {
    pub title: String,
    /// Markdown.
    pub body: String,
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// internal or public; defaults to internal.
    pub audience: Option<String>,
}

impl ArticleBody {
    /// Parses every field; the first at fault is named.
    pub fn parse(&self) -> Result<ArticleDraft, KnowledgeError> {
        let tags = Tags::from_list(&self.tags)?;
        ArticleDraft::parse(
            &self.title,
            &self.body,
            &self.category,
            &tags,
            self.audience.as_deref().unwrap_or("internal"),
        )
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ArticleUpdateBody {
    #[serde(flatten)]
    pub article: ArticleBody,
    /// The version the edit was made on; if the article has moved on since, the edit is refused.
    pub expected_version: Option<i32>,
}

#[derive(Debug, Deserialize)]
pub struct ArticleListQuery {
    pub q: Option<String>,
    pub category: Option<String>,
    pub tag: Option<String>,
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticlePage {
    pub items: Vec<ArticleHit>,
    pub next_cursor: Option<String>,
}

/// Articles: with `q`, the best published matches for the words (title, tags and text); without,
/// every article in key order a page at a time. Readers see published articles only.
#[utoipa::path(
    get,
    path = "/api/v1/articles",
    tag = "knowledge",
    security(("bearer" = ["knowledge.read"]), ("session" = ["knowledge.read"])),
    params(
        ("q" = Option<String>, Query, description = "search words; each must match, the last as a prefix"),
        ("category" = Option<String>, Query, description = "only this category"),
        ("tag" = Option<String>, Query, description = "only articles with this tag"),
        ("status" = Option<String>, Query, description = "draft, published or archived (managers only)"),
        ("limit" = Option<u32>, Query, description = "1 to 200, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page (lists without q)"),
    ),
    responses((status = 200, body = ArticlePage), (status = 422, body = web::ProblemDocument)),
)]
async fn list_articles(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ArticleListQuery>,
) -> Result<axum::Json<ArticlePage>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let category = q.category.as_deref().map(str::trim).unwrap_or_default();
    let tag = match q.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => Tags::parse(text)?.as_slice().first().cloned().unwrap_or_default(),
        None => String::new(),
    };
    let requested = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => Some(ArticleStatus::parse(text).ok_or(KnowledgeError::StatusUnknown)?),
        None => None,
    };
    // Readers see published articles only; managers see every status unless they ask for one.
    let status = match (can_manage(&user), requested) {
        (true, Some(s)) => s.code(),
        (true, None) => "",
        (false, Some(s)) if s != ArticleStatus::Published => {
            return Ok(axum::Json(ArticlePage { items: Vec::new(), next_cursor: None }));
        }
        (false, _) => ArticleStatus::Published.code(),
    };
    let mut tx = state.db.read().await?;
    if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
        let mut items = Vec::new();
        for id in search::find_ids(&mut tx, text, true, i64::from(page.limit)).await? {
            let Some(article) = store::find_article(&mut tx, id).await? else { continue };
            let tag_ok = tag.is_empty() || model::split_tags(&article.tags).contains(&tag);
            if (category.is_empty() || article.category == category) && tag_ok {
                items.push(search::hit(&article));
            }
        }
        return Ok(axum::Json(ArticlePage { items, next_cursor: None }));
    }
    let filter = ArticleFilter { category, tag: &tag, status };
    let rows = store::list_articles(&mut tx, &filter, page.after_key().max(0), page.fetch_limit()).await?;
    let rows = Page::from_rows(rows, &page, |r| r.article_id);
    let items = rows.items.iter().map(search::hit).collect();
    Ok(axum::Json(ArticlePage { items, next_cursor: rows.next_cursor }))
}

/// Write a new article; it starts as a draft at version 1. Send an `Idempotency-Key` to retry
/// safely.
#[utoipa::path(
    post,
    path = "/api/v1/articles",
    tag = "knowledge",
    request_body = ArticleBody,
    security(("bearer" = ["knowledge.manage"]), ("session" = ["knowledge.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ArticleRow), (status = 422, body = web::ProblemDocument)),
)]
async fn create_article(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<ArticleBody>,
) -> Result<Response, ApiError> {
    let draft = body.parse()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, "POST /api/v1/articles", &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let article = ops::create_article(&mut tx, &user.actor(), &draft, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &article).await?;
    tx.commit().await?;
    Ok(response)
}

/// One article: its latest version, tags, rendered HTML and the cases it resolved.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{article_id}",
    tag = "knowledge",
    security(("bearer" = ["knowledge.read"]), ("session" = ["knowledge.read"])),
    params(("article_id" = i64, Path)),
    responses((status = 200, body = ArticleView), (status = 404, body = web::ProblemDocument)),
)]
async fn get_article(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<axum::Json<ArticleView>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::article_view(&mut tx, id, can_manage(&user)).await?))
}

/// Edit an article: the edit is stored as the next version and shown at once.
#[utoipa::path(
    put,
    path = "/api/v1/articles/{article_id}",
    tag = "knowledge",
    request_body = ArticleUpdateBody,
    security(("bearer" = ["knowledge.manage"]), ("session" = ["knowledge.manage"])),
    params(("article_id" = i64, Path)),
    responses(
        (status = 200, body = ArticleRow),
        (status = 404, body = web::ProblemDocument),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn update_article(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<ArticleUpdateBody>,
) -> Result<axum::Json<ArticleRow>, ApiError> {
    let draft = body.article.parse()?;
    let mut tx = state.db.begin().await?;
    let article =
        ops::revise_article(&mut tx, &user.actor(), id, &draft, body.expected_version, state.clock.now()).await?;
    tx.commit().await?;
    Ok(axum::Json(article))
}

async fn move_article(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    next: ArticleStatus,
) -> Result<ArticleRow, ApiError> {
    let mut tx = state.db.begin().await?;
    let article = ops::set_status(&mut tx, &user.actor(), id, next, state.clock.now()).await?;
    tx.commit().await?;
    Ok(article)
}

/// Publish an article (from draft or archived): readers see it and search finds it at once.
#[utoipa::path(
    post,
    path = "/api/v1/articles/{article_id}/publish",
    tag = "knowledge",
    security(("bearer" = ["knowledge.manage"]), ("session" = ["knowledge.manage"])),
    params(("article_id" = i64, Path)),
    responses((status = 200, body = ArticleRow), (status = 409, body = web::ProblemDocument)),
)]
async fn publish_article(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<axum::Json<ArticleRow>, ApiError> {
    Ok(axum::Json(move_article(&state, &user, id, ArticleStatus::Published).await?))
}

/// Archive an article: it leaves the search and the readers' lists, its history stays.
#[utoipa::path(
    post,
    path = "/api/v1/articles/{article_id}/archive",
    tag = "knowledge",
    security(("bearer" = ["knowledge.manage"]), ("session" = ["knowledge.manage"])),
    params(("article_id" = i64, Path)),
    responses((status = 200, body = ArticleRow), (status = 409, body = web::ProblemDocument)),
)]
async fn archive_article(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<axum::Json<ArticleRow>, ApiError> {
    Ok(axum::Json(move_article(&state, &user, id, ArticleStatus::Archived).await?))
}

/// Every version of an article, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{article_id}/versions",
    tag = "knowledge",
    security(("bearer" = ["knowledge.read"]), ("session" = ["knowledge.read"])),
    params(("article_id" = i64, Path)),
    responses((status = 200, body = Vec<VersionRow>), (status = 404, body = web::ProblemDocument)),
)]
async fn list_versions(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<axum::Json<Vec<VersionRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::versions(&mut tx, id, can_manage(&user)).await?))
}

/// One version of an article.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{article_id}/versions/{version}",
    tag = "knowledge",
    security(("bearer" = ["knowledge.read"]), ("session" = ["knowledge.read"])),
    params(("article_id" = i64, Path), ("version" = i32, Path)),
    responses((status = 200, body = VersionRow), (status = 404, body = web::ProblemDocument)),
)]
async fn get_version(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, version)): Path<(i64, i32)>,
) -> Result<axum::Json<VersionRow>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::version(&mut tx, id, version, can_manage(&user)).await?))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CaseLinkBody {
    pub case_id: i64,
}

/// Record that this article resolved a case (part of working the case, hence `cases.work`).
#[utoipa::path(
    post,
    path = "/api/v1/articles/{article_id}/cases",
    tag = "knowledge",
    request_body = CaseLinkBody,
    security(("bearer" = ["cases.work"]), ("session" = ["cases.work"])),
    params(("article_id" = i64, Path)),
    responses(
        (status = 201, body = CaseLinkRow),
        (status = 404, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn link_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<CaseLinkBody>,
) -> Result<(StatusCode, axum::Json<CaseLinkRow>), ApiError> {
    let mut tx = state.db.begin().await?;
    ops::readable_article(&mut tx, id, can_manage(&user)).await?;
    let link = ops::link_case(&mut tx, &user.actor(), id, body.case_id, state.clock.now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(link)))
}

/// The cases an article resolved, newest link first.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{article_id}/cases",
    tag = "knowledge",
    security(("bearer" = ["knowledge.read"]), ("session" = ["knowledge.read"])),
    params(("article_id" = i64, Path)),
    responses((status = 200, body = Vec<CaseLinkRow>), (status = 404, body = web::ProblemDocument)),
)]
async fn list_cases(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<axum::Json<Vec<CaseLinkRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::article_view(&mut tx, id, can_manage(&user)).await?.cases))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct StepBody {
    /// What the agent says or asks.
    pub prompt: String,
    pub expected_answer: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(
    example = json!({
        "name": "Verify caller identity",
        "steps": [
            {"prompt": "May I have the account number?", "expected_answer": "10 digits"},
            {"prompt": "Please confirm the service address.", "notes": "Must match the premise on file"}
        ]
    }),
)]
pub struct ScriptBody {
    pub name: String,
    pub description: Option<String>,
    /// In the order the agent reads them, 1 to 50.
    pub steps: Vec<StepBody>,
}

impl ScriptBody {
    pub fn parse(&self) -> Result<ScriptDraft, KnowledgeError> {
        let steps = self
            .steps
            .iter()
            .map(|s| ScriptStep::parse(&s.prompt, s.expected_answer.as_deref(), s.notes.as_deref()))
            .collect::<Result<Vec<_>, _>>()?;
        ScriptDraft::parse(&self.name, self.description.as_deref(), steps)
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScriptPage {
    pub items: Vec<ScriptRow>,
    pub next_cursor: Option<String>,
}

/// Call scripts, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/call-scripts",
    tag = "knowledge",
    security(("bearer" = ["knowledge.read"]), ("session" = ["knowledge.read"])),
    params(
        ("limit" = Option<u32>, Query, description = "1 to 200, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, body = ScriptPage)),
)]
async fn list_scripts(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<ScriptPage>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut tx = state.db.read().await?;
    let rows = store::list_scripts(&mut tx, page.after_key().max(0), page.fetch_limit()).await?;
    let rows = Page::from_rows(rows, &page, |r| r.script_id);
    Ok(axum::Json(ScriptPage { items: rows.items, next_cursor: rows.next_cursor }))
}

/// Write a call script. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post,
    path = "/api/v1/call-scripts",
    tag = "knowledge",
    request_body = ScriptBody,
    security(("bearer" = ["knowledge.manage"]), ("session" = ["knowledge.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = ScriptView),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn create_script(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<ScriptBody>,
) -> Result<Response, ApiError> {
    let draft = body.parse()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let route = "POST /api/v1/call-scripts";
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, route, &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let script = ops::create_script(&mut tx, &user.actor(), &draft, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &script).await?;
    tx.commit().await?;
    Ok(response)
}

/// One call script with its steps in order.
#[utoipa::path(
    get,
    path = "/api/v1/call-scripts/{script_id}",
    tag = "knowledge",
    security(("bearer" = ["knowledge.read"]), ("session" = ["knowledge.read"])),
    params(("script_id" = i64, Path)),
    responses((status = 200, body = ScriptView), (status = 404, body = web::ProblemDocument)),
)]
async fn get_script(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<ScriptView>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::script_view(&mut tx, id).await?))
}

/// Replace a call script's name, description and steps (the audit trail keeps the old steps).
#[utoipa::path(
    put,
    path = "/api/v1/call-scripts/{script_id}",
    tag = "knowledge",
    request_body = ScriptBody,
    security(("bearer" = ["knowledge.manage"]), ("session" = ["knowledge.manage"])),
    params(("script_id" = i64, Path)),
    responses(
        (status = 200, body = ScriptView),
        (status = 404, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn update_script(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<ScriptBody>,
) -> Result<axum::Json<ScriptView>, ApiError> {
    let draft = body.parse()?;
    let mut tx = state.db.begin().await?;
    let script = ops::revise_script(&mut tx, &user.actor(), id, &draft, state.clock.now()).await?;
    tx.commit().await?;
    Ok(axum::Json(script))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"name": "Payment received", "category": "Billing", "body": "Thank you, we received it."}))]
pub struct AnswerBody {
    pub name: String,
    pub category: String,
    /// The reply text, at most 4000 characters.
    pub body: String,
}

impl AnswerBody {
    pub fn parse(&self) -> Result<AnswerDraft, KnowledgeError> {
        AnswerDraft::parse(&self.name, &self.category, &self.body)
    }
}

#[derive(Debug, Deserialize)]
pub struct AnswerQuery {
    pub q: Option<String>,
    pub category: Option<String>,
    pub limit: Option<u32>,
}

/// Canned answers whose name, category or text contains `q`, by category and name.
#[utoipa::path(
    get,
    path = "/api/v1/canned-answers",
    tag = "knowledge",
    security(("bearer" = ["knowledge.read"]), ("session" = ["knowledge.read"])),
    params(
        ("q" = Option<String>, Query, description = "text the name, category or body contains"),
        ("category" = Option<String>, Query, description = "only this category"),
        ("limit" = Option<u32>, Query, description = "1 to 200, default 50"),
    ),
    responses((status = 200, body = Vec<AnswerRow>)),
)]
async fn list_answers(
    State(state): State<AppState>,
    Query(q): Query<AnswerQuery>,
) -> Result<axum::Json<Vec<AnswerRow>>, ApiError> {
    let page = PageRequest::parse(q.limit, None)?;
    let mut tx = state.db.read().await?;
    let text = q.q.as_deref().map(str::trim).unwrap_or_default();
    let category = q.category.as_deref().map(str::trim).unwrap_or_default();
    Ok(axum::Json(store::search_answers(&mut tx, text, category, i64::from(page.limit)).await?))
}

/// Write a canned answer. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post,
    path = "/api/v1/canned-answers",
    tag = "knowledge",
    request_body = AnswerBody,
    security(("bearer" = ["knowledge.manage"]), ("session" = ["knowledge.manage"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = AnswerRow),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn create_answer(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<AnswerBody>,
) -> Result<Response, ApiError> {
    let draft = body.parse()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let route = "POST /api/v1/canned-answers";
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, route, &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let answer = ops::create_answer(&mut tx, &user.actor(), &draft, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &answer).await?;
    tx.commit().await?;
    Ok(response)
}

/// One canned answer.
#[utoipa::path(
    get,
    path = "/api/v1/canned-answers/{canned_answer_id}",
    tag = "knowledge",
    security(("bearer" = ["knowledge.read"]), ("session" = ["knowledge.read"])),
    params(("canned_answer_id" = i64, Path)),
    responses((status = 200, body = AnswerRow), (status = 404, body = web::ProblemDocument)),
)]
async fn get_answer(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<AnswerRow>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(store::find_answer(&mut tx, id).await?.ok_or(KnowledgeError::AnswerNotFound)?))
}

/// Change a canned answer's name, category or text.
#[utoipa::path(
    put,
    path = "/api/v1/canned-answers/{canned_answer_id}",
    tag = "knowledge",
    request_body = AnswerBody,
    security(("bearer" = ["knowledge.manage"]), ("session" = ["knowledge.manage"])),
    params(("canned_answer_id" = i64, Path)),
    responses(
        (status = 200, body = AnswerRow),
        (status = 404, body = web::ProblemDocument),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn update_answer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<AnswerBody>,
) -> Result<axum::Json<AnswerRow>, ApiError> {
    let draft = body.parse()?;
    let mut tx = state.db.begin().await?;
    let answer = ops::revise_answer(&mut tx, &user.actor(), id, &draft, state.clock.now()).await?;
    tx.commit().await?;
    Ok(axum::Json(answer))
}
