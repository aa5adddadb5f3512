//! The knowledge operations, called alike by HTTP handlers, the CLI, the demo loader and tests.
//! Each writes its audit record and refreshes the article search index in the caller's
//! transaction, so nothing is half-written and search is never stale.

use crate::model::{self, AnswerDraft, ArticleDraft, ArticleStatus, ScriptDraft};
use crate::store::{self, AnswerRow, ArticleFields, ArticleRow, CaseLinkRow, ScriptRow, StepRow, VersionRow};
use crate::{KnowledgeError, search};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Timestamp};
use serde::Serialize;
use serde_json::json;

async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: i64,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<(), KnowledgeError> {
    audit::append(tx, actor, AuditEvent { action, entity, entity_id: id.to_string(), detail }, now).await?;
    Ok(())
}

fn fields<'a>(draft: &'a ArticleDraft, tags: &'a str) -> ArticleFields<'a> {
    ArticleFields {
        title: &draft.title,
        body: &draft.body,
        category: &draft.category,
        tags,
        audience: draft.audience.code(),
    }
}

/// Writes a new article as a draft, with its first version.
pub async fn create_article(
    tx: &mut Tx,
    actor: &Actor,
    draft: &ArticleDraft,
    now: Timestamp,
) -> Result<ArticleRow, KnowledgeError> {
    let tags = draft.tags.joined();
    let fields = fields(draft, &tags);
    let id = store::insert_article(tx, &fields, &actor.name(), now).await?;
    store::insert_version(tx, id, 1, &fields, &actor.name(), now).await?;
    let detail = json!({ "title": draft.title, "category": draft.category, "audience": draft.audience.code() });
    record(tx, actor, "article.created", "article", id, detail, now).await?;
    search::reindex(tx, id).await?;
    load(tx, id).await
}

/// Stores an edit as the next version; the article shows it at once. With `expected_version`,
/// an edit made on top of a version that is no longer the latest is refused.
pub async fn revise_article(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    draft: &ArticleDraft,
    expected_version: Option<i32>,
    now: Timestamp,
) -> Result<ArticleRow, KnowledgeError> {
    let before = load(tx, id).await?;
    if !status_of(&before).is_editable() {
        return Err(KnowledgeError::ArchivedArticleCannotChange);
    }
    if let Some(expected) = expected_version.filter(|v| *v != before.version) {
        return Err(KnowledgeError::VersionConflict { expected, actual: before.version });
    }
    let version = before.version + 1;
    let tags = draft.tags.joined();
    let fields = fields(draft, &tags);
    store::update_article(tx, id, &fields, version, now).await?;
    store::insert_version(tx, id, version, &fields, &actor.name(), now).await?;
    let detail = json!({
        "version": version,
        "before": { "title": before.title, "category": before.category, "audience": before.audience },
        "after": { "title": draft.title, "category": draft.category, "audience": draft.audience.code() },
    });
    record(tx, actor, "article.revised", "article", id, detail, now).await?;
    search::reindex(tx, id).await?;
    load(tx, id).await
}

/// Moves an article through its state machine (publish, archive).
pub async fn set_status(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    next: ArticleStatus,
    now: Timestamp,
) -> Result<ArticleRow, KnowledgeError> {
    let article = load(tx, id).await?;
    let current = status_of(&article);
    current.transition(next)?;
    store::set_article_status(tx, id, next.code(), now).await?;
    let action = match next {
        ArticleStatus::Published => "article.published",
        ArticleStatus::Archived => "article.archived",
        ArticleStatus::Draft => "article.drafted",
    };
    let detail = json!({ "from": current.code(), "to": next.code(), "version": article.version });
    record(tx, actor, action, "article", id, detail, now).await?;
    search::reindex(tx, id).await?;
    load(tx, id).await
}

/// Records that an article helped resolve a case; linking the same case again changes nothing.
pub async fn link_case(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    case_id: i64,
    now: Timestamp,
) -> Result<CaseLinkRow, KnowledgeError> {
    if case_id <= 0 {
        return Err(KnowledgeError::CaseIdInvalid);
    }
    load(tx, id).await?;
    if store::link_case(tx, id, case_id, &actor.name(), now).await? {
        record(tx, actor, "article.case_linked", "article", id, json!({ "case_id": case_id }), now).await?;
    }
    let links = store::cases_of(tx, id).await?;
    links.into_iter().find(|l| l.case_id == case_id).ok_or(KnowledgeError::ArticleNotFound)
}

/// The article's state, read defensively: an unknown stored value is treated as archived.
pub fn status_of(article: &ArticleRow) -> ArticleStatus {
    ArticleStatus::parse(&article.status).unwrap_or(ArticleStatus::Archived)
}

async fn load(tx: &mut Tx, id: i64) -> Result<ArticleRow, KnowledgeError> {
    store::find_article(tx, id).await?.ok_or(KnowledgeError::ArticleNotFound)
}

/// An article as a reader may see it: drafts and archived articles only for those who manage
/// knowledge; to everyone else they do not exist.
pub async fn readable_article(tx: &mut Tx, id: i64, can_manage: bool) -> Result<ArticleRow, KnowledgeError> {
    let article = load(tx, id).await?;
    if !can_manage && status_of(&article) != ArticleStatus::Published {
        return Err(KnowledgeError::ArticleNotFound);
    }
    Ok(article)
}

/// An article with its tags, its rendered (safe) HTML and the cases it resolved.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleView {
    pub article: ArticleRow,
    pub tags: Vec<String>,
    /// The body rendered to HTML: raw HTML escaped, unsafe link targets dropped.
    pub html: String,
    pub cases: Vec<CaseLinkRow>,
}

pub async fn article_view(tx: &mut Tx, id: i64, can_manage: bool) -> Result<ArticleView, KnowledgeError> {
    let article = readable_article(tx, id, can_manage).await?;
    let cases = store::cases_of(tx, id).await?;
    Ok(ArticleView {
        tags: model::split_tags(&article.tags),
        html: model::render_markdown(&article.body),
        article,
        cases,
    })
}

pub async fn versions(tx: &mut Tx, id: i64, can_manage: bool) -> Result<Vec<VersionRow>, KnowledgeError> {
    readable_article(tx, id, can_manage).await?;
    Ok(store::versions_of(tx, id).await?)
}

pub async fn version(tx: &mut Tx, id: i64, version: i32, can_manage: bool) -> Result<VersionRow, KnowledgeError> {
    readable_article(tx, id, can_manage).await?;
    store::find_version(tx, id, version).await?.ok_or(KnowledgeError::VersionNotFound)
}

/// A call script with its steps in order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScriptView {
    pub script: ScriptRow,
    pub steps: Vec<StepRow>,
}

fn name_taken(error: db::Error) -> KnowledgeError {
    if error.is_unique_violation() { KnowledgeError::NameTaken } else { error.into() }
}

pub async fn create_script(
    tx: &mut Tx,
    actor: &Actor,
    draft: &ScriptDraft,
    now: Timestamp,
) -> Result<ScriptView, KnowledgeError> {
    let id = store::insert_script(tx, &draft.name, &draft.description, &actor.name(), now).await.map_err(name_taken)?;
    store::replace_steps(tx, id, &draft.steps).await?;
    let detail = json!({ "name": draft.name, "steps": draft.steps.len() });
    record(tx, actor, "call_script.created", "call_script", id, detail, now).await?;
    script_view(tx, id).await
}

/// Replaces a script's name, description and steps; the audit record keeps the old steps.
pub async fn revise_script(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    draft: &ScriptDraft,
    now: Timestamp,
) -> Result<ScriptView, KnowledgeError> {
    let before = script_view(tx, id).await?;
    store::update_script(tx, id, &draft.name, &draft.description, &actor.name(), now).await.map_err(name_taken)?;
    store::replace_steps(tx, id, &draft.steps).await?;
    let detail = json!({
        "version": before.script.version + 1,
        "before": { "name": before.script.name, "description": before.script.description, "steps": before.steps },
        "after": { "name": draft.name, "steps": draft.steps.len() },
    });
    record(tx, actor, "call_script.revised", "call_script", id, detail, now).await?;
    script_view(tx, id).await
}

pub async fn script_view(tx: &mut Tx, id: i64) -> Result<ScriptView, KnowledgeError> {
    let script = store::find_script(tx, id).await?.ok_or(KnowledgeError::ScriptNotFound)?;
    let steps = store::steps_of(tx, id).await?;
    Ok(ScriptView { script, steps })
}

pub async fn create_answer(
    tx: &mut Tx,
    actor: &Actor,
    draft: &AnswerDraft,
    now: Timestamp,
) -> Result<AnswerRow, KnowledgeError> {
    let id = store::insert_answer(tx, &draft.name, &draft.category, &draft.body, &actor.name(), now)
        .await
        .map_err(name_taken)?;
    let detail = json!({ "name": draft.name, "category": draft.category });
    record(tx, actor, "canned_answer.created", "canned_answer", id, detail, now).await?;
    store::find_answer(tx, id).await?.ok_or(KnowledgeError::AnswerNotFound)
}

pub async fn revise_answer(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    draft: &AnswerDraft,
    now: Timestamp,
) -> Result<AnswerRow, KnowledgeError> {
    let before = store::find_answer(tx, id).await?.ok_or(KnowledgeError::AnswerNotFound)?;
    store::update_answer(tx, id, &draft.name, &draft.category, &draft.body, &actor.name(), now)
        .await
        .map_err(name_taken)?;
    let detail = json!({
        "before": { "name": before.name, "category": before.category, "body": before.body },
        "after": { "name": draft.name, "category": draft.category },
    });
    record(tx, actor, "canned_answer.revised", "canned_answer", id, detail, now).await?;
    store::find_answer(tx, id).await?.ok_or(KnowledgeError::AnswerNotFound)
}
