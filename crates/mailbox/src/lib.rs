//! Mailbox: inbound email turned into case threads. Every message is stored raw before anything
//! else, then parsed, threaded and written to the case, the customer's timeline and its own row.
//! See `DESIGN.md`.
//!
//! A tour: [`model`] parses raw bytes and holds the rules (automatic-mail signs, the case number
//! in a subject); [`sanitize`] makes HTML safe to show; [`ops`] stores, threads and retries;
//! [`ack`] acknowledges new cases; [`imap`] polls a mailbox over plain, TLS or STARTTLS
//! connections; [`store`] all of the SQL.

pub mod ack;
pub mod api;
mod error;
pub mod imap;
pub mod model;
pub mod ops;
pub mod pages;
pub mod sanitize;
pub mod store;

pub use error::MailboxError;

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes())
}

#[cfg(test)]
mod tests;
