//! HTML handlers for template administration (`/admin/templates`): the list of templates, a new
//! template, one template's versions and language variants, editing (a save is a new version)
//! and a preview merged with a real customer's, account's and case's data. A refused save is
//! shown next to the field at fault, so an unknown merge field is named beside the subject or body.

use crate::CorrespondenceError;
use crate::merge::FIELDS;
use crate::model::NewTemplateVersion;
use crate::ops::{self, MergeSubject, Preview};
use crate::store::merge::{self as facts, NumberOf};
use crate::store::templates::TemplateRow;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::StatusCode;
use kernel::{Permission, Timestamp};
use serde::Deserialize;
use web::extract::{HtmxPartial, Path, Query};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Problem, Routes};

pub fn routes() -> Routes {
    let manage = Access::Signed(Permission::CorrespondenceManage);
    Routes::new().get("/admin/templates", manage, list_page).post("/admin/templates", manage, save).get(
        "/admin/templates/{template_key}",
        manage,
        key_page,
    )
}

impl TemplateRow {
    pub fn saved(&self) -> String {
        Timestamp(self.created_at).to_display()
    }
}

/// What the template form holds: blank, a version to edit, or what a refused save sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    pub template_key: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub body: String,
}

impl TemplateForm {
    fn of(row: &TemplateRow) -> TemplateForm {
        TemplateForm {
            template_key: row.template_key.clone(),
            language: row.language.clone(),
            kind: row.kind.clone(),
            name: row.name.clone(),
            subject: row.subject.clone(),
            body: row.body.clone(),
        }
    }
}

/// A refused input: the field it is about (empty when about none) and the sentence to show.
#[derive(Debug, Clone, Default)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    fn of(e: &CorrespondenceError) -> FieldProblem {
        FieldProblem { field: e.field().unwrap_or_default().to_string(), message: e.to_string() }
    }
}

/// Shared by both pages: the message for one field, and the message about no field.
pub trait FormProblems {
    fn problem(&self) -> Option<&FieldProblem>;

    fn error_for(&self, field: &str) -> Option<&str> {
        self.problem().filter(|p| p.field == field).map(|p| p.message.as_str())
    }

    /// A refusal the form cannot show beside a field (the template key's kind, say).
    fn general_error(&self) -> Option<&str> {
        const SHOWN: [&str; 6] = ["template_key", "language", "kind", "name", "subject", "body"];
        self.problem().filter(|p| !SHOWN.contains(&p.field.as_str())).map(|p| p.message.as_str())
    }
}

#[derive(Template)]
#[template(path = "correspondence/templates.html")]
struct ListPage {
    chrome: Chrome,
    templates: Vec<TemplateRow>,
    form: TemplateForm,
    problem: Option<FieldProblem>,
    fields: &'static [&'static str],
}

impl FormProblems for ListPage {
    fn problem(&self) -> Option<&FieldProblem> {
        self.problem.as_ref()
    }
}

async fn list_view(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    form: TemplateForm,
    problem: Option<FieldProblem>,
) -> Result<ListPage, PageError> {
    let mut tx = state.db.read().await?;
    let templates = ops::templates(&mut tx).await?;
    tx.rollback().await?;
    Ok(ListPage {
        chrome: Chrome::new("Templates", Some(user), "/admin/templates", partial),
        templates,
        form,
        problem,
        fields: &FIELDS,
    })
}

async fn list_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    let form = TemplateForm { language: "en".into(), kind: "letter".into(), ..TemplateForm::default() };
    render(&list_view(&state, &user, partial, form, None).await?)
}

/// Which language to edit and what to preview, from the key page's query string.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyQuery {
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub template_id: String,
    #[serde(default)]
    pub customer_id: String,
    #[serde(default)]
    pub account_id: String,
    #[serde(default)]
    pub case_id: String,
}

/// The preview: not asked, merged, or refused with its reason.
pub enum PreviewOutcome {
    NotAsked,
    Merged(Preview),
    Refused(FieldProblem),
}

#[derive(Template)]
#[template(path = "correspondence/template.html")]
struct KeyPage {
    chrome: Chrome,
    key: String,
    language: String,
    variants: Vec<TemplateRow>,
    versions: Vec<TemplateRow>,
    form: TemplateForm,
    problem: Option<FieldProblem>,
    query: KeyQuery,
    preview: PreviewOutcome,
    fields: &'static [&'static str],
}

impl FormProblems for KeyPage {
    fn problem(&self) -> Option<&FieldProblem> {
        self.problem.as_ref()
    }
}

/// An id or a number (`C-000123`) typed into the preview form; blank is none.
async fn typed_id(
    tx: &mut db::Tx,
    raw: &str,
    what: NumberOf,
    field: &'static str,
) -> Result<Option<i64>, CorrespondenceError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(id) = raw.parse::<i64>() {
        return if id > 0 { Ok(Some(id)) } else { Err(CorrespondenceError::IdInvalid { field }) };
    }
    match facts::id_by_number(tx, what, raw).await? {
        Some(id) => Ok(Some(id)),
        None => Err(match what {
            NumberOf::Customer => CorrespondenceError::CustomerNotFound,
            NumberOf::Account => CorrespondenceError::AccountUnknown,
            NumberOf::Case => CorrespondenceError::CaseUnknown,
        }),
    }
}

/// Merges the version chosen, else `latest` (the language's newest), with the chosen customer's
/// data, in the page's read transaction. A refusal is shown, not raised.
async fn run_preview(
    tx: &mut db::Tx,
    user: &CurrentUser,
    q: &KeyQuery,
    latest: Option<i64>,
    now: Timestamp,
) -> Result<PreviewOutcome, PageError> {
    let outcome: Result<Option<Preview>, CorrespondenceError> = async {
        let Some(customer_id) = typed_id(tx, &q.customer_id, NumberOf::Customer, "customer_id").await? else {
            return Ok(None);
        };
        let chosen = q.template_id.trim().parse::<i64>().ok();
        let template_id = chosen.or(latest).ok_or(CorrespondenceError::TemplateNotFound)?;
        let subject = MergeSubject {
            customer_id,
            account_id: typed_id(tx, &q.account_id, NumberOf::Account, "account_id").await?,
            case_id: typed_id(tx, &q.case_id, NumberOf::Case, "case_id").await?,
            ..MergeSubject::default()
        };
        ops::preview(tx, &user.actor(), template_id, &subject, now).await.map(Some)
    }
    .await;
    match outcome {
        Ok(None) => Ok(PreviewOutcome::NotAsked),
        Ok(Some(preview)) => Ok(PreviewOutcome::Merged(preview)),
        Err(e) if e.status().is_server_error() => Err(e.into()),
        Err(e) => Ok(PreviewOutcome::Refused(FieldProblem::of(&e))),
    }
}

async fn key_view(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    key: &str,
    query: KeyQuery,
    edited: Option<(TemplateForm, FieldProblem)>,
) -> Result<KeyPage, PageError> {
    let mut tx = state.db.read().await?;
    let versions = ops::template_versions(&mut tx, key).await?;
    let mut variants: Vec<TemplateRow> = Vec::new();
    for row in &versions {
        if !variants.iter().any(|v| v.language == row.language) {
            variants.push(row.clone());
        }
    }
    let wanted = query.language.trim();
    let current = variants.iter().find(|v| v.language == wanted).or(variants.first());
    let language = current.map(|c| c.language.clone()).unwrap_or_default();
    let latest = current.map(|c| c.template_id);
    let preview = run_preview(&mut tx, user, &query, latest, state.clock.now()).await?;
    tx.rollback().await?;
    let (form, problem) = match edited {
        Some((form, problem)) => (form, Some(problem)),
        None => (current.map(TemplateForm::of).unwrap_or_default(), None),
    };
    Ok(KeyPage {
        chrome: Chrome::new(&format!("Template {key}"), Some(user), "/admin/templates", partial),
        key: key.to_string(),
        language,
        variants,
        versions,
        form,
        problem,
        query,
        preview,
        fields: &FIELDS,
    })
}

async fn key_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(key): Path<String>,
    Query(query): Query<KeyQuery>,
) -> Result<Html<String>, PageError> {
    render(&key_view(&state, &user, partial, key.trim(), query, None).await?)
}

/// Saves a new version; a refusal shows the form again with the message beside the field.
async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<TemplateForm>,
) -> Result<Response, PageError> {
    let parsed = NewTemplateVersion::parse(
        &form.template_key,
        &form.language,
        &form.kind,
        &form.name,
        &form.subject,
        &form.body,
    );
    let mut tx = state.db.begin().await?;
    let saved = match parsed {
        Ok(new) => ops::save_template(&mut tx, &user.actor(), new, state.clock.now()).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(row) => {
            tx.commit().await?;
            let to = format!("/admin/templates/{}?language={}", row.template_key, row.language);
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) if e.status().is_server_error() => Err(e.into()),
        Err(e) => {
            tx.rollback().await?;
            refused_save(&state, &user, form, FieldProblem::of(&e)).await
        }
    }
}

/// The page the form came from, again: the template's own page when the key exists, else the list.
async fn refused_save(
    state: &AppState,
    user: &CurrentUser,
    form: TemplateForm,
    problem: FieldProblem,
) -> Result<Response, PageError> {
    let key = form.template_key.trim().to_string();
    let mut tx = state.db.read().await?;
    let exists = !key.is_empty() && ops::template_versions(&mut tx, &key).await.is_ok();
    tx.rollback().await?;
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    if exists {
        let query = KeyQuery { language: form.language.trim().to_string(), ..KeyQuery::default() };
        let page = key_view(state, user, false, &key, query, Some((form, problem))).await?;
        return Ok((status, render(&page)?).into_response());
    }
    Ok((status, render(&list_view(state, user, false, form, Some(problem)).await?)?).into_response())
}
