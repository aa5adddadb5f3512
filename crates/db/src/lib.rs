//! Storage for every Caredesk module: one [`Db`] over an embedded SQLite file or a PostgreSQL
//! server, the same SQL text for both (`$1` placeholders), forward-only migrations in two trees
//! kept in step, a job queue that lives in the same database as the business data, and the
//! hash-chained audit trail.
//!
//! A tour:
//! - [`Db::begin`] opens a write transaction, [`Db::read`] a read transaction; both give a [`Tx`].
//! - The macros [`execute!`], [`fetch_all!`], [`fetch_optional!`], [`fetch_one!`], [`scalar!`]
//!   and [`scalar_optional!`] run one query text on whichever backend the `Tx` belongs to.
//! - [`jobs`] enqueues work inside the business transaction and claims it with leases.
//! - [`audit`] appends hash-chained records and verifies the chain.

pub mod audit;
pub mod bulk;
mod error;
mod group;
pub mod jobs;
mod pool;
mod query;
pub mod scratch;

pub use error::Error;
pub use pool::{Backend, Db, SQLITE_FILE_NAME, Tx, random_token, sha256_hex, sha256_hex_bytes};
pub use sqlx;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests;
