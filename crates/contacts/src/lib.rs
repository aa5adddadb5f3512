//! Contacts: every interaction with a customer — phone, email, chat, letter, in person, portal or
//! system — logged with its channel, direction, reason and sub-reason, disposition, times, agent
//! and the account, case, order or payment it was about. Other modules log system contacts for
//! business events through [`ops::log_system_contact`], so a customer's timeline is complete.
//! Every contact writes its audit record in the same transaction. See `DESIGN.md`.
//!
//! A tour: [`model`] parses input into domain types; [`ops`] holds the operations HTTP, CLI, jobs
//! and tests share; [`store`] all of the SQL; [`api`] the JSON handlers; [`pages`] the contact
//! panel and timeline fragments, the timeline page and the admin page for codes.

pub mod api;
mod error;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;

pub use error::ContactError;

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes())
}

#[cfg(test)]
mod tests;
