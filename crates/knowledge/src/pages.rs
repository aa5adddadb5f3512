//! HTML handlers: the knowledge browser and search, an article with its versions, the new and
//! edit forms, call scripts step by step, and the canned answers list.

use crate::KnowledgeError;
use crate::api::ArticleBody;
use crate::model::{self, ArticleStatus, Audience, Tags};
use crate::ops::{self, ScriptView};
use crate::search::{self, ArticleHit};
use crate::store::{self, AnswerRow, ArticleRow, ScriptRow, StepRow};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kernel::{Permission, Timestamp};
use serde::Deserialize;
use web::extract::{HtmxPartial, Path, Query};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

/// The most articles the browse page lists, and the most hits a search shows.
const BROWSE_LIMIT: i64 = 500;
const SEARCH_LIMIT: i64 = 50;

pub fn routes() -> Routes {
    use Permission as P;
    let read = Access::Signed(P::KnowledgeRead);
    let manage = Access::Signed(P::KnowledgeManage);
    Routes::new()
        .get("/knowledge", read, list_page)
        .post("/knowledge", manage, create)
        .get("/knowledge/new", manage, new_page)
        .get("/knowledge/scripts", read, scripts_page)
        .get("/knowledge/scripts/{script_id}", read, script_page)
        .get("/knowledge/answers", read, answers_page)
        .post("/knowledge/answers", manage, create_answer_post)
        .post("/knowledge/scripts", manage, create_script_post)
        .get("/knowledge/answers/picker", read, answer_picker)
        .get("/cases/{case_id}/articles", read, case_articles)
        .post("/cases/{case_id}/articles", Access::Signed(Permission::CasesWork), link_case_post)
        .get("/knowledge/{article_id}", read, show_page)
        .get("/knowledge/{article_id}/edit", manage, edit_page)
        .post("/knowledge/{article_id}/edit", manage, edit)
        .post("/knowledge/{article_id}/publish", manage, publish)
        .post("/knowledge/{article_id}/archive", manage, archive)
}

fn can_manage(user: &CurrentUser) -> bool {
    user.role.permits(Permission::KnowledgeManage)
}

struct ArticleLine {
    article_id: i64,
    title: String,
    status: String,
    audience: String,
    summary: String,
}

struct CategoryGroup {
    name: String,
    articles: Vec<ArticleLine>,
}

#[derive(Template)]
#[template(path = "knowledge/list.html")]
struct ListPage {
    chrome: Chrome,
    query: String,
    hits: Vec<ArticleHit>,
    groups: Vec<CategoryGroup>,
    can_manage: bool,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
}

fn group_by_category(rows: Vec<ArticleRow>) -> Vec<CategoryGroup> {
    let mut groups: Vec<CategoryGroup> = Vec::new();
    for row in rows {
        let line = ArticleLine {
            summary: model::summary(&row.body, model::SUMMARY_CHARS),
            article_id: row.article_id,
            title: row.title,
            status: row.status,
            audience: row.audience,
        };
        match groups.last_mut() {
            Some(group) if group.name == row.category => group.articles.push(line),
            _ => groups.push(CategoryGroup { name: row.category, articles: vec![line] }),
        }
    }
    groups
}

async fn list_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let (hits, groups) = if q.q.trim().is_empty() {
        let rows = store::articles_by_category(&mut tx, !can_manage(&user), BROWSE_LIMIT).await?;
        (Vec::new(), group_by_category(rows))
    } else {
        (search::find(&mut tx, &q.q, true, SEARCH_LIMIT).await?, Vec::new())
    };
    tx.rollback().await?;
    let page = ListPage {
        chrome: Chrome::new("Knowledge", Some(&user), "/knowledge", partial),
        query: q.q,
        hits,
        groups,
        can_manage: can_manage(&user),
    };
    render(&page)
}

#[derive(Deserialize, Default, Clone)]
struct ArticleForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    audience: String,
    /// The version the edit started from, so a concurrent edit is not silently overwritten.
    #[serde(default)]
    expected_version: String,
}

impl ArticleForm {
    fn body(&self) -> Result<ArticleBody, KnowledgeError> {
        Ok(ArticleBody {
            title: self.title.clone(),
            body: self.body.clone(),
            category: self.category.clone(),
            tags: Tags::parse(&self.tags)?.as_slice().to_vec(),
            audience: Some(self.audience.clone()).filter(|a| !a.trim().is_empty()),
        })
    }
}

#[derive(Template)]
#[template(path = "knowledge/form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    back: String,
    form: ArticleForm,
    audiences: [Audience; 2],
    error: Option<String>,
}

async fn new_page(user: CurrentUser, HtmxPartial(partial): HtmxPartial) -> Result<Html<String>, PageError> {
    let page = FormPage {
        chrome: Chrome::new("New article", Some(&user), "/knowledge", partial),
        heading: "New article".into(),
        action: "/knowledge".into(),
        back: "/knowledge".into(),
        form: ArticleForm { audience: "internal".into(), ..Default::default() },
        audiences: Audience::ALL,
        error: None,
    };
    render(&page)
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ArticleForm>,
) -> Result<Response, PageError> {
    let outcome = async {
        let draft = form.body()?.parse()?;
        let mut tx = state.db.begin().await?;
        let article = ops::create_article(&mut tx, &user.actor(), &draft, state.clock.now()).await?;
        tx.commit().await?;
        Ok::<i64, KnowledgeError>(article.article_id)
    }
    .await;
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/knowledge/{id}")).into_response()),
        Err(e) => {
            let (status, text) = web::form_message(e)?;
            let page = FormPage {
                chrome: Chrome::new("New article", Some(&user), "/knowledge", false),
                heading: "New article".into(),
                action: "/knowledge".into(),
                back: "/knowledge".into(),
                form,
                audiences: Audience::ALL,
                error: Some(text),
            };
            Ok((status, render(&page)?).into_response())
        }
    }
}

async fn edit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let article = ops::readable_article(&mut tx, id, true).await?;
    tx.rollback().await?;
    let page = FormPage {
        chrome: Chrome::new(&format!("Edit {}", article.title), Some(&user), "/knowledge", partial),
        heading: format!("Edit “{}”", article.title),
        action: format!("/knowledge/{id}/edit"),
        back: format!("/knowledge/{id}"),
        form: ArticleForm {
            tags: model::split_tags(&article.tags).join(", "),
            expected_version: article.version.to_string(),
            title: article.title,
            body: article.body,
            category: article.category,
            audience: article.audience,
        },
        audiences: Audience::ALL,
        error: None,
    };
    render(&page)
}

async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ArticleForm>,
) -> Result<Response, PageError> {
    let outcome = async {
        let draft = form.body()?.parse()?;
        let expected = form.expected_version.trim().parse::<i32>().ok();
        let mut tx = state.db.begin().await?;
        ops::revise_article(&mut tx, &user.actor(), id, &draft, expected, state.clock.now()).await?;
        tx.commit().await?;
        Ok::<(), KnowledgeError>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/knowledge/{id}")).into_response()),
        Err(KnowledgeError::ArticleNotFound) => Err(KnowledgeError::ArticleNotFound.into()),
        Err(e) => {
            let (status, text) = web::form_message(e)?;
            let page = FormPage {
                chrome: Chrome::new("Edit article", Some(&user), "/knowledge", false),
                heading: "Edit article".into(),
                action: format!("/knowledge/{id}/edit"),
                back: format!("/knowledge/{id}"),
                form,
                audiences: Audience::ALL,
                error: Some(text),
            };
            Ok((status, render(&page)?).into_response())
        }
    }
}

struct VersionLine {
    version: i32,
    when: String,
    author: String,
}

#[derive(Template)]
#[template(path = "knowledge/show.html")]
struct ShowPage {
    chrome: Chrome,
    article: ArticleRow,
    /// The version shown: the latest unless an older one was asked for.
    shown_version: i32,
    title: String,
    html: String,
    tags: Vec<String>,
    versions: Vec<VersionLine>,
    cases: Vec<(i64, String, String)>,
    can_manage: bool,
    can_publish: bool,
    can_archive: bool,
    can_edit: bool,
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    version: Option<i32>,
}

async fn show_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Html<String>, PageError> {
    let manage = can_manage(&user);
    let mut tx = state.db.read().await?;
    let view = ops::article_view(&mut tx, id, manage).await?;
    let versions = store::versions_of(&mut tx, id).await?;
    let (shown_version, title, html) = match q.version.filter(|v| *v != view.article.version) {
        Some(number) => {
            let old = ops::version(&mut tx, id, number, manage).await?;
            (old.version, old.title, model::render_markdown(&old.body))
        }
        None => (view.article.version, view.article.title.clone(), view.html),
    };
    tx.rollback().await?;
    let status = ops::status_of(&view.article);
    let page = ShowPage {
        chrome: Chrome::new(&title, Some(&user), "/knowledge", partial),
        shown_version,
        title,
        html,
        tags: view.tags,
        versions: versions
            .into_iter()
            .map(|v| VersionLine { version: v.version, when: Timestamp(v.created_at).to_display(), author: v.author })
            .collect(),
        cases: view.cases.into_iter().map(|c| (c.case_id, Timestamp(c.linked_at).to_display(), c.linked_by)).collect(),
        can_manage: manage,
        can_publish: manage && status.can_become(ArticleStatus::Published),
        can_archive: manage && status.can_become(ArticleStatus::Archived),
        can_edit: manage && status.is_editable(),
        article: view.article,
    };
    render(&page)
}

async fn move_to(state: &AppState, user: &CurrentUser, id: i64, next: ArticleStatus) -> Result<Response, PageError> {
    let mut tx = state.db.begin().await?;
    ops::set_status(&mut tx, &user.actor(), id, next, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/knowledge/{id}")).into_response())
}

async fn publish(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    move_to(&state, &user, id, ArticleStatus::Published).await
}

async fn archive(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    move_to(&state, &user, id, ArticleStatus::Archived).await
}

#[derive(Template)]
#[template(path = "knowledge/scripts.html")]
struct ScriptsPage {
    chrome: Chrome,
    scripts: Vec<ScriptRow>,
    can_manage: bool,
    error: Option<String>,
}

async fn scripts_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let scripts = store::list_scripts(&mut tx, 0, BROWSE_LIMIT).await?;
    tx.rollback().await?;
    let can_manage = user.role.permits(Permission::KnowledgeManage);
    render(&ScriptsPage {
        chrome: Chrome::new("Call scripts", Some(&user), "/knowledge", partial),
        scripts,
        can_manage,
        error: None,
    })
}

#[derive(Template)]
#[template(path = "knowledge/script.html")]
struct ScriptPage {
    chrome: Chrome,
    view: ScriptView,
    /// The step the agent is on, 1-based, and the one shown large.
    current: Option<StepRow>,
    previous: Option<i32>,
    next: Option<i32>,
}

#[derive(Deserialize, Default)]
struct StepQuery {
    step: Option<i32>,
}

async fn script_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(id): Path<i64>,
    Query(q): Query<StepQuery>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let view = ops::script_view(&mut tx, id).await?;
    tx.rollback().await?;
    let last = view.steps.last().map(|s| s.position).unwrap_or(1);
    let position = q.step.unwrap_or(1).clamp(1, last);
    let current = view.steps.iter().find(|s| s.position == position).cloned();
    let page = ScriptPage {
        chrome: Chrome::new(&view.script.name, Some(&user), "/knowledge", partial),
        previous: (position > 1).then_some(position - 1),
        next: (position < last).then_some(position + 1),
        current,
        view,
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "knowledge/answer_picker.html")]
struct AnswerPicker {
    target: String,
    answers: Vec<AnswerRow>,
}

#[derive(Deserialize, Default)]
struct PickerQuery {
    #[serde(default)]
    target: String,
}

/// A select of canned answers that inserts the chosen text into the textarea named by `target`
/// (app.js does the inserting); loaded by htmx into reply forms such as the case thread.
async fn answer_picker(State(state): State<AppState>, Query(q): Query<PickerQuery>) -> Result<Html<String>, PageError> {
    let target: String =
        q.target.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(64).collect();
    let mut tx = state.db.read().await?;
    let answers = store::search_answers(&mut tx, "", "", BROWSE_LIMIT).await?;
    tx.rollback().await?;
    render(&AnswerPicker { target, answers })
}

#[derive(Template)]
#[template(path = "knowledge/answers.html")]
struct AnswersPage {
    chrome: Chrome,
    query: String,
    answers: Vec<AnswerRow>,
    can_manage: bool,
    error: Option<String>,
}

async fn answers_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let answers = store::search_answers(&mut tx, q.q.trim(), "", BROWSE_LIMIT).await?;
    tx.rollback().await?;
    let can_manage = user.role.permits(Permission::KnowledgeManage);
    let chrome = Chrome::new("Canned answers", Some(&user), "/knowledge", partial);
    render(&AnswersPage { chrome, query: q.q, answers, can_manage, error: None })
}

#[derive(Deserialize, Default)]
struct AnswerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    body: String,
}

async fn create_answer_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<AnswerForm>,
) -> Result<Response, PageError> {
    let outcome = async {
        let draft = model::AnswerDraft::parse(&form.name, &form.category, &form.body)?;
        let mut tx = state.db.begin().await?;
        ops::create_answer(&mut tx, &user.actor(), &draft, state.clock.now()).await?;
        tx.commit().await?;
        Ok::<(), KnowledgeError>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(Redirect::to("/knowledge/answers").into_response()),
        Err(e) => {
            let (status, text) = web::form_message(e)?;
            let mut tx = state.db.read().await?;
            let answers = store::search_answers(&mut tx, "", "", BROWSE_LIMIT).await?;
            tx.rollback().await?;
            let chrome = Chrome::new("Canned answers", Some(&user), "/knowledge", false);
            let page = AnswersPage { chrome, query: String::new(), answers, can_manage: true, error: Some(text) };
            Ok((status, render(&page)?).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
struct ScriptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    steps: String,
}

async fn create_script_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ScriptForm>,
) -> Result<Response, PageError> {
    let outcome = async {
        let steps = form
            .steps
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let (prompt, expected) = line.split_once('|').map_or((line, None), |(p, e)| (p, Some(e)));
                model::ScriptStep::parse(prompt, expected, None)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let description = Some(form.description.as_str()).filter(|d| !d.trim().is_empty());
        let draft = model::ScriptDraft::parse(&form.name, description, steps)?;
        let mut tx = state.db.begin().await?;
        let view = ops::create_script(&mut tx, &user.actor(), &draft, state.clock.now()).await?;
        tx.commit().await?;
        Ok::<ScriptView, KnowledgeError>(view)
    }
    .await;
    match outcome {
        Ok(view) => Ok(Redirect::to(&format!("/knowledge/scripts/{}", view.script.script_id)).into_response()),
        Err(e) => {
            let (status, text) = web::form_message(e)?;
            let mut tx = state.db.read().await?;
            let scripts = store::list_scripts(&mut tx, 0, BROWSE_LIMIT).await?;
            tx.rollback().await?;
            let chrome = Chrome::new("Call scripts", Some(&user), "/knowledge", false);
            Ok((status, render(&ScriptsPage { chrome, scripts, can_manage: true, error: Some(text) })?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "knowledge/case_articles.html")]
struct CaseArticles {
    case_id: i64,
    csrf: String,
    query: String,
    linked: Vec<crate::store::ArticleRow>,
    hits: Vec<crate::search::ArticleHit>,
}

/// The articles linked to a case and a finder to link more, as a fragment for the case page.
async fn case_articles(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(case_id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let linked = store::articles_for_case(&mut tx, case_id).await?;
    let hits = if q.q.trim().is_empty() { Vec::new() } else { crate::search::find(&mut tx, &q.q, true, 5).await? };
    tx.rollback().await?;
    render(&CaseArticles { case_id, csrf: user.csrf_token().to_string(), query: q.q, linked, hits })
}

#[derive(Deserialize, Default)]
struct LinkForm {
    #[serde(default)]
    article_id: String,
}

async fn link_case_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(case_id): Path<i64>,
    Form(form): Form<LinkForm>,
) -> Result<Response, PageError> {
    let article_id: i64 = form.article_id.trim().parse().map_err(|_| KnowledgeError::ArticleNotFound)?;
    let mut tx = state.db.begin().await?;
    ops::link_case(&mut tx, &user.actor(), article_id, case_id, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/cases/{case_id}")).into_response())
}
