//! Staff and access: the people who sign in to Caredesk. Users with one role each, Argon2id
//! passwords, sign-in with throttling and lockout, an optional TOTP second factor with no code
//! replay, server-side sessions, revocable API tokens, and the admin and profile screens.
//! See `DESIGN.md` for the nouns and the sign-in state rules.

pub mod api;
mod error;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;

pub use error::StaffError;
pub use model::{NewUser, Password, PasswordHash, UserView, Username};

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes())
}

#[cfg(test)]
mod tests;
