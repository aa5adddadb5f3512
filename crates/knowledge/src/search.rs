//! Article search: one index entry per published article (title, body and tags), kept in step
//! inside every writing transaction, so an article is found the moment it is published and
//! never once archived. SQLite matches with FTS5 (porter stemming, BM25 rank); PostgreSQL with a
//! weighted tsvector and a GIN index, ranked with `ts_rank`. Every word of the query must match,
//! the last one as a prefix so results come as the user types.

use crate::model::{self, ArticleStatus};
use crate::store;
use db::{Backend, Result, Tx};
use serde::Serialize;

/// An article found by the search.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleHit {
    pub article_id: i64,
    pub title: String,
    /// The start of the article's text, plain.
    pub summary: String,
    pub category: String,
    pub audience: String,
}

/// Rebuilds the index entry of one article: present while published, absent otherwise.
pub async fn reindex(tx: &mut Tx, article_id: i64) -> Result<()> {
    match tx.backend() {
        Backend::Sqlite => db::execute!(tx, "delete from article_search where rowid = $1", article_id)?,
        Backend::Postgres => db::execute!(tx, "delete from article_search where article_id = $1", article_id)?,
    };
    let Some(article) = store::find_article(tx, article_id).await? else {
        return Ok(());
    };
    if ArticleStatus::parse(&article.status) != Some(ArticleStatus::Published) {
        return Ok(());
    }
    match tx.backend() {
        Backend::Sqlite => db::execute!(
            tx,
            "insert into article_search (rowid, title, body, tags) values ($1, $2, $3, $4)",
            article_id,
            &article.title,
            &article.body,
            &article.tags
        )?,
        Backend::Postgres => db::execute!(
            tx,
            "insert into article_search (article_id, doc)
             values ($1, setweight(to_tsvector('english', $2), 'A') || setweight(to_tsvector('english', $4), 'B')
                         || setweight(to_tsvector('english', $3), 'C'))",
            article_id,
            &article.title,
            &article.body,
            &article.tags
        )?,
    };
    Ok(())
}

/// The FTS5 expression: every term quoted (so nothing is read as syntax), the last a prefix.
fn fts5_expression(terms: &[String]) -> String {
    let count = terms.len();
    terms
        .iter()
        .enumerate()
        .map(|(i, t)| if i + 1 == count { format!("\"{t}\"*") } else { format!("\"{t}\"") })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The `to_tsquery` text: terms are letters and digits only, joined with `&`, the last a prefix.
fn tsquery_text(terms: &[String]) -> String {
    let count = terms.len();
    terms
        .iter()
        .enumerate()
        .map(|(i, t)| if i + 1 == count { format!("{t}:*") } else { t.clone() })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// Article ids matching every term, best first.
pub async fn find_ids(tx: &mut Tx, query: &str, include_internal: bool, limit: i64) -> Result<Vec<i64>> {
    let terms = model::search_terms(query);
    if terms.is_empty() || limit <= 0 {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64,)> = match tx {
        Tx::Sqlite(_) => db::fetch_all!(
            tx,
            (i64,),
            "select article_search.rowid from article_search join article a on a.article_id = article_search.rowid
              where article_search match $1 and a.status = 'published' and ($2 or a.audience = 'public')
              order by bm25(article_search, 10.0, 1.0, 5.0), article_search.rowid limit $3",
            fts5_expression(&terms),
            include_internal,
            limit
        )?,
        Tx::Pg(t) => sqlx::query_as::<_, (i64,)>(
            "select s.article_id from article_search s join article a on a.article_id = s.article_id,
                    to_tsquery('english', $1) q
              where s.doc @@ q and a.status = 'published' and ($2 or a.audience = 'public')
              order by ts_rank(s.doc, q) desc, s.article_id limit $3",
        )
        .bind(tsquery_text(&terms))
        .bind(include_internal)
        .bind(limit)
        .fetch_all(&mut **t)
        .await
        .map_err(db::Error::from)?,
    };
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Published articles matching the query, best first, that a reader with `internal` access may
/// see (public ones only when `include_internal` is false).
pub async fn find(tx: &mut Tx, query: &str, include_internal: bool, limit: i64) -> Result<Vec<ArticleHit>> {
    let mut hits = Vec::new();
    for id in find_ids(tx, query, include_internal, limit).await? {
        if let Some(article) = store::find_article(tx, id).await? {
            hits.push(hit(&article));
        }
    }
    Ok(hits)
}

/// The hit line for one article (lists use it too).
pub fn hit(article: &store::ArticleRow) -> ArticleHit {
    ArticleHit {
        article_id: article.article_id,
        title: article.title.clone(),
        summary: model::summary(&article.body, model::SUMMARY_CHARS),
        category: article.category.clone(),
        audience: article.audience.clone(),
    }
}
