//! Knowledge: articles, call scripts and canned answers. (Being built; see DESIGN.md.)

pub mod api {
    //! JSON handlers for knowledge.
    use utoipa::OpenApi;

    #[derive(OpenApi)]
    #[openapi()]
    pub struct KnowledgeApi;
}

pub mod search {
    //! Article search for the global search box.
    use db::{Result, Tx};

    /// An article found by the search.
    #[derive(Debug, Clone, serde::Serialize)]
    pub struct ArticleHit {
        pub article_id: i64,
        pub title: String,
        pub summary: String,
    }

    /// Articles matching the query, best first, that a reader with `internal` access may see.
    pub async fn find(_tx: &mut Tx, _query: &str, _include_internal: bool, _limit: i64) -> Result<Vec<ArticleHit>> {
        Ok(Vec::new())
    }
}

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    web::Routes::new()
}
