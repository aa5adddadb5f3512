//! The SQL of templates: versions are inserted, never updated; "the template" is the highest
//! version of a key in a language.

use db::{Result, Tx};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct TemplateRow {
    pub template_id: i64,
    pub template_key: String,
    pub language: String,
    pub version: i32,
    /// email or letter: what it is written for
    pub kind: String,
    pub name: String,
    pub subject: String,
    pub body: String,
    pub created_by: String,
    pub created_at: i64,
}

const COLUMNS: &str = "template_id, template_key, language, version, kind, name, subject, body, created_by, created_at";

/// The latest version of every key in every language.
pub async fn latest_all(tx: &mut Tx) -> Result<Vec<TemplateRow>> {
    let sql = format!(
        "select {COLUMNS} from correspondence_template t
         where version = (select max(version) from correspondence_template x
                          where x.template_key = t.template_key and x.language = t.language)
         order by template_key, language"
    );
    db::fetch_all!(tx, TemplateRow, db::sqlx::AssertSqlSafe(sql))
}

pub async fn latest(tx: &mut Tx, key: &str, language: &str) -> Result<Option<TemplateRow>> {
    let sql = format!(
        "select {COLUMNS} from correspondence_template where template_key = $1 and language = $2
         order by version desc limit 1"
    );
    db::fetch_optional!(tx, TemplateRow, db::sqlx::AssertSqlSafe(sql), key, language)
}

pub async fn by_id(tx: &mut Tx, template_id: i64) -> Result<Option<TemplateRow>> {
    let sql = format!("select {COLUMNS} from correspondence_template where template_id = $1");
    db::fetch_optional!(tx, TemplateRow, db::sqlx::AssertSqlSafe(sql), template_id)
}

/// Every version of a key, every language, newest first.
pub async fn versions(tx: &mut Tx, key: &str) -> Result<Vec<TemplateRow>> {
    let sql = format!(
        "select {COLUMNS} from correspondence_template where template_key = $1 order by language, version desc"
    );
    db::fetch_all!(tx, TemplateRow, db::sqlx::AssertSqlSafe(sql), key)
}

pub async fn kind_of(tx: &mut Tx, key: &str) -> Result<Option<String>> {
    db::scalar_optional!(tx, String, "select kind from correspondence_template where template_key = $1 limit 1", key)
}

pub struct NewTemplateRow<'a> {
    pub key: &'a str,
    pub language: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub created_by: &'a str,
    pub now: i64,
}

/// Inserts the next version; the unique key (key, language, version) turns a race into an error.
pub async fn insert_version(tx: &mut Tx, row: &NewTemplateRow<'_>) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into correspondence_template
             (template_key, language, version, kind, name, subject, body, created_by, created_at)
         values ($1, $2, (select coalesce(max(version), 0) + 1 from correspondence_template
                          where template_key = $1 and language = $2), $3, $4, $5, $6, $7, $8)
         returning template_id",
        row.key,
        row.language,
        row.kind,
        row.name,
        row.subject,
        row.body,
        row.created_by,
        row.now
    )
}
