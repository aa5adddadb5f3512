//! Cases: a problem tracked until it is resolved. Number (`CASE-000123`), customer and account,
//! subject, category, priority, tier, queue, assignee and status; queues with members and "take
//! next"; escalation from tier 1 to tier 2; transfers; scheduled callbacks; SLA clocks counted in
//! business hours and paused while the customer is awaited, watched by a job; a thread of
//! internal notes and customer-visible replies; attachments; links, merges and parent/child;
//! resolution codes and first-contact resolution. See `DESIGN.md`.

pub mod api;
pub mod calendar;
mod error;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;

pub use error::CaseError;

/// The job kind of the SLA scan.
pub const SLA_SCAN_JOB: &str = "cases.sla_scan";
/// Emails an agent's reply to the customer; handled by the correspondence module (cases does not
/// depend on it: the job queue is the seam).
pub const CASE_REPLY_EMAIL_JOB: &str = "correspondence.case_reply";
/// How often the SLA scan runs.
pub const SLA_SCAN_EVERY_SECONDS: i64 = 60;

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes())
}

#[cfg(test)]
mod tests;
