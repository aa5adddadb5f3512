//! JSON handlers for the ledger: chart of accounts, entries, trial balance, account balances.

use utoipa::OpenApi;
use web::Routes;

#[derive(OpenApi)]
#[openapi(tags((name = "ledger", description = "Chart of accounts, journal entries, trial balance, aging")))]
pub struct LedgerApi;

pub fn routes() -> Routes {
    Routes::new()
}
