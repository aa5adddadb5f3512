//! Contacts: every interaction with a customer, logged. (Being built; see DESIGN.md.)

pub mod api {
    //! JSON handlers for contacts.
    use utoipa::OpenApi;

    #[derive(OpenApi)]
    #[openapi()]
    pub struct ContactsApi;
}

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    web::Routes::new()
}
