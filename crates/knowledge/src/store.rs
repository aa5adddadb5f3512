//! All of the knowledge module's SQL (the search index has its own file, `search.rs`).

use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

/// An article as it stands: the latest version's text plus its state.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ArticleRow {
    pub article_id: i64,
    pub title: String,
    /// Markdown of the latest version.
    pub body: String,
    pub category: String,
    /// Tags separated by single spaces.
    pub tags: String,
    /// internal or public
    pub audience: String,
    /// draft, published or archived
    pub status: String,
    pub version: i32,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub published_at: Option<i64>,
}

macro_rules! select_articles {
    ($tail:literal) => {
        concat!(
            "select article_id, title, body, category, tags, audience, status, version, created_at, ",
            "created_by, updated_at, published_at from article ",
            $tail
        )
    };
}

/// One stored version of an article.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct VersionRow {
    pub article_id: i64,
    pub version: i32,
    pub title: String,
    pub body: String,
    pub author: String,
    pub created_at: i64,
}

/// A case an article helped resolve.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CaseLinkRow {
    pub article_id: i64,
    pub case_id: i64,
    pub linked_at: i64,
    pub linked_by: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ScriptRow {
    pub script_id: i64,
    pub name: String,
    pub description: String,
    pub version: i32,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StepRow {
    /// 1 for the first step.
    pub position: i32,
    pub prompt: String,
    pub expected_answer: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AnswerRow {
    pub canned_answer_id: i64,
    pub name: String,
    pub category: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

/// The text of an article version as written.
pub struct ArticleFields<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub category: &'a str,
    pub tags: &'a str,
    pub audience: &'a str,
}

pub async fn insert_article(tx: &mut Tx, a: &ArticleFields<'_>, author: &str, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into article (title, body, category, tags, audience, status, version, created_at, created_by,
                              updated_at)
         values ($1, $2, $3, $4, $5, 'draft', 1, $6, $7, $6)
         returning article_id",
        a.title,
        a.body,
        a.category,
        a.tags,
        a.audience,
        now.micros(),
        author
    )
}

/// Writes a new latest version onto the article row.
pub async fn update_article(tx: &mut Tx, id: i64, a: &ArticleFields<'_>, version: i32, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update article set title = $1, body = $2, category = $3, tags = $4, audience = $5, version = $6,
                updated_at = $7
         where article_id = $8",
        a.title,
        a.body,
        a.category,
        a.tags,
        a.audience,
        version,
        now.micros(),
        id
    )?;
    Ok(())
}

pub async fn insert_version(
    tx: &mut Tx,
    id: i64,
    version: i32,
    a: &ArticleFields<'_>,
    author: &str,
    now: Timestamp,
) -> Result<()> {
    db::execute!(
        tx,
        "insert into article_version (article_id, version, title, body, author, created_at)
         values ($1, $2, $3, $4, $5, $6)",
        id,
        version,
        a.title,
        a.body,
        author,
        now.micros()
    )?;
    Ok(())
}

pub async fn set_article_status(tx: &mut Tx, id: i64, status: &str, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update article set status = $1, updated_at = $2,
                published_at = case when $1 = 'published' then $2 else published_at end
         where article_id = $3",
        status,
        now.micros(),
        id
    )?;
    Ok(())
}

pub async fn find_article(tx: &mut Tx, id: i64) -> Result<Option<ArticleRow>> {
    db::fetch_optional!(tx, ArticleRow, select_articles!("where article_id = $1"), id)
}

/// Filters for an article list; an empty text means "any".
pub struct ArticleFilter<'a> {
    pub category: &'a str,
    /// A parsed tag (letters, digits, hyphens), so it holds no LIKE wildcard.
    pub tag: &'a str,
    pub status: &'a str,
}

/// Articles after `after` in key order, filtered.
pub async fn list_articles(tx: &mut Tx, filter: &ArticleFilter<'_>, after: i64, limit: i64) -> Result<Vec<ArticleRow>> {
    db::fetch_all!(
        tx,
        ArticleRow,
        select_articles!(
            "where article_id > $1 and ($2 = '' or category = $2) and ($3 = '' or status = $3)
               and ($4 = '' or (' ' || tags || ' ') like $5)
             order by article_id limit $6"
        ),
        after,
        filter.category,
        filter.status,
        filter.tag,
        format!("% {} %", filter.tag),
        limit
    )
}

/// Articles for the browse page, by category then title; drafts and archived ones only for
/// those who manage knowledge.
pub async fn articles_by_category(tx: &mut Tx, published_only: bool, limit: i64) -> Result<Vec<ArticleRow>> {
    db::fetch_all!(
        tx,
        ArticleRow,
        select_articles!("where ($1 = false or status = 'published') order by category, title, article_id limit $2"),
        published_only,
        limit
    )
}

pub async fn versions_of(tx: &mut Tx, id: i64) -> Result<Vec<VersionRow>> {
    db::fetch_all!(
        tx,
        VersionRow,
        "select article_id, version, title, body, author, created_at from article_version
          where article_id = $1 order by version desc",
        id
    )
}

pub async fn find_version(tx: &mut Tx, id: i64, version: i32) -> Result<Option<VersionRow>> {
    db::fetch_optional!(
        tx,
        VersionRow,
        "select article_id, version, title, body, author, created_at from article_version
          where article_id = $1 and version = $2",
        id,
        version
    )
}

/// Links an article to a case; linking twice keeps the first link. True if a link was added.
pub async fn link_case(tx: &mut Tx, id: i64, case_id: i64, by: &str, now: Timestamp) -> Result<bool> {
    let added = db::execute!(
        tx,
        "insert into article_case (article_id, case_id, linked_at, linked_by) values ($1, $2, $3, $4)
         on conflict (article_id, case_id) do nothing",
        id,
        case_id,
        now.micros(),
        by
    )?;
    Ok(added > 0)
}

pub async fn cases_of(tx: &mut Tx, id: i64) -> Result<Vec<CaseLinkRow>> {
    db::fetch_all!(
        tx,
        CaseLinkRow,
        "select article_id, case_id, linked_at, linked_by from article_case where article_id = $1
          order by linked_at desc, case_id",
        id
    )
}

/// The articles linked to one case, for the cases module once it lands.
pub async fn articles_for_case(tx: &mut Tx, case_id: i64) -> Result<Vec<ArticleRow>> {
    db::fetch_all!(
        tx,
        ArticleRow,
        "select a.article_id, a.title, a.body, a.category, a.tags, a.audience, a.status, a.version, a.created_at,
                a.created_by, a.updated_at, a.published_at
           from article a join article_case c on c.article_id = a.article_id
          where c.case_id = $1 order by c.linked_at, a.article_id",
        case_id
    )
}

pub async fn insert_script(tx: &mut Tx, name: &str, description: &str, by: &str, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into call_script (name, description, version, created_at, updated_at, updated_by)
         values ($1, $2, 1, $3, $3, $4) returning script_id",
        name,
        description,
        now.micros(),
        by
    )
}

pub async fn update_script(
    tx: &mut Tx,
    id: i64,
    name: &str,
    description: &str,
    by: &str,
    now: Timestamp,
) -> Result<()> {
    db::execute!(
        tx,
        "update call_script set name = $1, description = $2, version = version + 1, updated_at = $3,
                updated_by = $4
         where script_id = $5",
        name,
        description,
        now.micros(),
        by,
        id
    )?;
    Ok(())
}

/// Replaces every step of a script with `steps`, numbered from 1.
pub async fn replace_steps(tx: &mut Tx, id: i64, steps: &[crate::model::ScriptStep]) -> Result<()> {
    db::execute!(tx, "delete from call_script_step where script_id = $1", id)?;
    for (position, step) in (1_i32..).zip(steps) {
        db::execute!(
            tx,
            "insert into call_script_step (script_id, position, prompt, expected_answer, notes)
             values ($1, $2, $3, $4, $5)",
            id,
            position,
            &step.prompt,
            step.expected_answer.as_deref(),
            step.notes.as_deref()
        )?;
    }
    Ok(())
}

pub async fn find_script(tx: &mut Tx, id: i64) -> Result<Option<ScriptRow>> {
    db::fetch_optional!(
        tx,
        ScriptRow,
        "select script_id, name, description, version, created_at, updated_at, updated_by from call_script
          where script_id = $1",
        id
    )
}

pub async fn steps_of(tx: &mut Tx, id: i64) -> Result<Vec<StepRow>> {
    db::fetch_all!(
        tx,
        StepRow,
        "select position, prompt, expected_answer, notes from call_script_step where script_id = $1
          order by position",
        id
    )
}

pub async fn list_scripts(tx: &mut Tx, after: i64, limit: i64) -> Result<Vec<ScriptRow>> {
    db::fetch_all!(
        tx,
        ScriptRow,
        "select script_id, name, description, version, created_at, updated_at, updated_by from call_script
          where script_id > $1 order by script_id limit $2",
        after,
        limit
    )
}

pub async fn insert_answer(
    tx: &mut Tx,
    name: &str,
    category: &str,
    body: &str,
    by: &str,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into canned_answer (name, category, body, created_at, updated_at, updated_by)
         values ($1, $2, $3, $4, $4, $5) returning canned_answer_id",
        name,
        category,
        body,
        now.micros(),
        by
    )
}

pub async fn update_answer(
    tx: &mut Tx,
    id: i64,
    name: &str,
    category: &str,
    body: &str,
    by: &str,
    now: Timestamp,
) -> Result<()> {
    db::execute!(
        tx,
        "update canned_answer set name = $1, category = $2, body = $3, updated_at = $4, updated_by = $5
         where canned_answer_id = $6",
        name,
        category,
        body,
        now.micros(),
        by,
        id
    )?;
    Ok(())
}

pub async fn find_answer(tx: &mut Tx, id: i64) -> Result<Option<AnswerRow>> {
    db::fetch_optional!(
        tx,
        AnswerRow,
        "select canned_answer_id, name, category, body, created_at, updated_at, updated_by from canned_answer
          where canned_answer_id = $1",
        id
    )
}

/// Canned answers whose name, category or text contains `text` (any case), in one category or
/// all, by category and name.
pub async fn search_answers(tx: &mut Tx, text: &str, category: &str, limit: i64) -> Result<Vec<AnswerRow>> {
    let pattern = format!("%{}%", text.to_lowercase().replace(['%', '_', '\\'], ""));
    db::fetch_all!(
        tx,
        AnswerRow,
        "select canned_answer_id, name, category, body, created_at, updated_at, updated_by from canned_answer
          where ($1 = '' or category = $1)
            and (lower(name) like $2 or lower(category) like $2 or lower(body) like $2)
          order by category, name, canned_answer_id limit $3",
        category,
        pattern,
        limit
    )
}
