//! Live channels: the customer chat widget and its WebSocket, the queue and the agents' chat
//! console, and the telephone screen-pop pushed to an agent's open screen. See `DESIGN.md`.

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    web::Routes::new()
}
