//! Live channels: the customer chat widget and its WebSocket, the queue and the agents' chat
//! console, and the telephone screen-pop pushed to an agent's open screen over server-sent
//! events. See `DESIGN.md`.
//!
//! A tour: [`model`] parses input and holds the chat and call state machines and the queue;
//! [`ops`] the chat operations (start, take, end into a contact and a case) and settings;
//! [`telephony`] call events, screen-pops and extensions; [`store`] all of the SQL; [`hub`] the
//! in-memory switchboard of one node's connections and the message writer; [`relay`] delivery
//! across nodes sharing one database; [`ws`] and
//! [`console`] the visitor's and the agent's WebSocket loops; [`api`] the JSON handlers;
//! [`pages`] the console and settings pages, the widget script and the event stream.

pub mod api;
mod console;
mod error;
pub mod hub;
pub mod model;
pub mod ops;
pub mod pages;
mod relay;
pub mod store;
pub mod telephony;
mod ws;

pub use error::LiveError;

/// Every route this module serves, API and pages, sharing one hub of live connections.
pub fn routes() -> web::Routes {
    let routes = api::routes().merge(pages::routes());
    web::Routes { router: routes.router.layer(axum::Extension(hub::Hub::default())), table: routes.table }
}

#[cfg(test)]
mod tests;
