//! The one shape of a form that acts and goes back to a list: run the op in a write
//! transaction, commit, and redirect to `back_to?done=1`; a refused action rolls back (nothing
//! written) and redirects to `back_to?error=<message>`, so the list says why. A server-side
//! failure stays an error page. The approval queue and the payout list both answer this way.

use crate::{ApiError, AppState, PageError, Problem};
use axum::response::{IntoResponse, Redirect, Response};
use std::future::Future;
use std::pin::Pin;

/// What [`form_action`] runs: the op's future, borrowing the write transaction.
pub type FormFuture<'a, E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'a>>;

/// Runs `op` with the write transaction and the request's time, and redirects back to `back_to`
/// (a path without a query) with the outcome.
pub async fn form_action<E, F>(state: &AppState, back_to: &str, op: F) -> Result<Response, PageError>
where
    E: Problem,
    ApiError: From<E>,
    F: for<'a> FnOnce(&'a mut db::Tx, kernel::Timestamp) -> FormFuture<'a, E>,
{
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    match op(&mut tx, now).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("{back_to}?done=1")).into_response())
        }
        Err(error) => {
            tx.rollback().await?;
            let (_, message) = crate::form_message(error)?;
            Ok(Redirect::to(&format!("{back_to}?error={}", crate::auth::urlencode(&message))).into_response())
        }
    }
}
