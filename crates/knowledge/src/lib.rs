//! Knowledge: what agents read while they answer. Articles in Markdown (rendered safely: raw
//! HTML is shown as text and only http, https, mailto and relative links survive) that move
//! from draft to published to archived, keep every edit as a numbered version, and are linked
//! to the cases they resolved; call scripts read out step by step; canned answers pasted into
//! replies. Published articles are searchable the moment they are published (FTS5 on SQLite,
//! tsvector on PostgreSQL, both kept in the writing transaction). See `DESIGN.md`.
//!
//! A tour: `model` parses input and renders Markdown, `ops` are the operations every caller
//! uses, `store` holds the SQL, `search` the index, `api` and `pages` the thin HTTP edges.

pub mod api;
mod error;
pub mod model;
pub mod ops;
pub mod pages;
pub mod search;
pub mod store;

pub use error::KnowledgeError;

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes())
}

#[cfg(test)]
mod tests;
