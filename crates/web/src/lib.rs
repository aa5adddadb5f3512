//! HTTP conventions every Caredesk module shares. A tour:
//! - [`AppState`]: the database, the clock and the settings every handler sees.
//! - [`Routes`]: how a module declares its routes, each with the [`Access`] it needs; the
//!   table of all routes is what the role-walking test walks.
//! - [`auth`]: resolves the session cookie or bearer token, enforces the route's permission and
//!   CSRF, and hands the handler a [`CurrentUser`].
//! - [`ApiError`]: one error shape, `application/problem+json` with a stable `code` and per-field
//!   details; module errors become one through the [`Problem`] trait.
//! - [`idempotency`]: `Idempotency-Key` for POSTs that create records or move money.
//! - [`layout`]: the page chrome (navigation by role, CSRF token, light/dark) and partials for
//!   htmx requests; [`assets`]: htmx, styles and the API docs, embedded in the binary.

pub mod assets;
pub mod auth;
mod error;
pub mod extract;
mod form_action;
pub mod idempotency;
pub mod layout;
pub mod metrics;
pub mod routes;
mod state;
pub mod store;

pub use auth::{CurrentUser, Via};
pub use error::{ApiError, FieldError, PageError, Problem, ProblemDocument, field_message, form_message};
pub use form_action::{FormFuture, form_action};
pub use layout::Chrome;
pub use routes::{Access, RouteInfo, Routes};
pub use state::{AppState, WebSettings};

pub const SESSION_COOKIE: &str = "cd_session";
pub const CSRF_COOKIE: &str = "cd_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

#[cfg(test)]
mod tests;
