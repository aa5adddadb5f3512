//! Correspondence: what Caredesk writes to customers. Outbound email goes through a queue in the
//! database ([`ops::queue_email`]) that a background job drains over SMTP ([`outbox`]); every
//! other module that writes to a customer goes through [`ops::send`]. See `DESIGN.md`.

pub mod api;
mod error;
pub mod merge;
pub mod model;
pub mod ops;
pub mod outbox;
mod pages;
mod pages_letters;
pub mod settings;
pub mod store;

pub use error::CorrespondenceError;
pub use settings::{SmtpSecurity, SmtpSettings};

/// Every route this module serves.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes()).merge(pages_letters::routes())
}

#[cfg(test)]
mod tests;
