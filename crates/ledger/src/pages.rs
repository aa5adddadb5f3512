//! HTML handlers for the ledger: trial balance, aging, the chart of accounts.

use web::Routes;

pub fn routes() -> Routes {
    Routes::new()
}
