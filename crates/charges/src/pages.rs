//! HTML handlers: the account's charges page (`/accounts/{account_id}/charges`) with forms for a
//! fee, an adjustment, a deposit and an arrangement and the lists of each, and the form
//! endpoints a supervisor's approval queue (`/approvals`) posts to approve or reject an
//! adjustment or a deposit refund above the approval limit, and the payout list (`/payouts`)
//! posts to pay a refunded deposit out.

use crate::ChargeError;
use crate::model::Decision;
use crate::ops::{self, NewAdjustment, NewArrangement, NewDeposit, NewFee};
use crate::store::{AdjustmentRow, ArrangementRow, DepositRow, FeeRow, FeeTypeRow, ReasonRow};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use db::Tx;
use kernel::{Actor, Currency, Money, Permission, Timestamp};
use serde::Deserialize;
use web::extract::{HtmxPartial, Path};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    let manage = Access::Signed(P::BillingManage);
    let approve = Access::Signed(P::MoneyApprove);
    Routes::new()
        .get("/accounts/{account_id}/charges", manage, charges_page)
        .post("/accounts/{account_id}/charges/fees", manage, post_fee)
        .post("/accounts/{account_id}/charges/adjustments", manage, post_adjustment)
        .post("/accounts/{account_id}/charges/deposits", manage, post_deposit)
        .post("/accounts/{account_id}/charges/arrangements", manage, post_arrangement)
        .post("/accounts/{account_id}/charges/deposits/{deposit_id}/apply", manage, apply_deposit)
        .post("/accounts/{account_id}/charges/deposits/{deposit_id}/refund", manage, refund_deposit)
        .post("/accounts/{account_id}/charges/arrangements/{arrangement_id}/cancel", manage, cancel_arrangement)
        .post("/adjustments/{adjustment_id}/approve", approve, approve_adjustment)
        .post("/adjustments/{adjustment_id}/reject", approve, reject_adjustment)
        .post("/deposits/{deposit_id}/refund/approve", approve, approve_deposit_refund)
        .post("/deposits/{deposit_id}/refund/reject", approve, reject_deposit_refund)
        .post("/deposits/{deposit_id}/refund/issue", Access::Signed(P::PaymentsManage), issue_deposit_refund)
}

/// An amount in minor units of a currency code, for display.
pub fn show_money(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => format!("{} {currency}", Money::new(minor, c)),
        Err(_) => format!("{minor} {currency}"),
    }
}

#[derive(Template)]
#[template(path = "charges/page.html")]
struct ChargesPage {
    chrome: Chrome,
    account_id: i64,
    account_number: String,
    credit_rating: String,
    currency: String,
    balance: String,
    fee_types: Vec<FeeTypeRow>,
    reasons: Vec<ReasonRow>,
    fees: Vec<FeeRow>,
    adjustments: Vec<AdjustmentRow>,
    deposits: Vec<DepositRow>,
    arrangements: Vec<ArrangementRow>,
    error: Option<String>,
}

impl ChargesPage {
    /// Askama hands fields over by value or by reference; either reads the same.
    fn money(&self, minor: impl std::borrow::Borrow<i64>, currency: &str) -> String {
        show_money(*minor.borrow(), currency)
    }
}

async fn build_page(
    tx: &mut Tx,
    user: &CurrentUser,
    account_id: i64,
    partial: bool,
    error: Option<String>,
) -> Result<ChargesPage, PageError> {
    let facts = ops::require_account(tx, account_id).await?;
    let currency = Currency::parse(&facts.currency).map_err(|_| db::Error::Malformed("currency".into()))?;
    let balance = ledger::ops::receivable_balance(tx, account_id, currency).await.map_err(ChargeError::from)?;
    let path = format!("/accounts/{account_id}/charges");
    Ok(ChargesPage {
        chrome: Chrome::new(&format!("Charges · {}", facts.account_number), Some(user), &path, partial),
        account_id,
        account_number: facts.account_number,
        credit_rating: facts.credit_rating,
        currency: currency.code().to_string(),
        balance: format!("{balance} {}", currency.code()),
        fee_types: ops::fee_types(tx).await?.into_iter().filter(|t| t.active).collect(),
        reasons: ops::reasons(tx).await?.into_iter().filter(|r| r.active).collect(),
        fees: ops::fees_of(tx, account_id).await?,
        adjustments: ops::adjustments_of(tx, account_id).await?,
        deposits: ops::deposits_of(tx, account_id).await?,
        arrangements: ops::arrangements_of(tx, account_id).await?,
        error,
    })
}

async fn charges_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(account_id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let page = build_page(&mut tx, &user, account_id, partial, None).await?;
    tx.rollback().await?;
    render(&page)
}

/// Runs one form's op in a transaction: on success back to the page (303); on refused input
/// the page again with the message and the status, nothing written.
async fn act<T, F>(state: &AppState, user: &CurrentUser, account_id: i64, op: F) -> Result<Response, PageError>
where
    F: for<'a> FnOnce(&'a mut Tx, Actor, Timestamp) -> crate::api::OpFuture<'a, T>,
{
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    match op(&mut tx, user.actor(), now).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/accounts/{account_id}/charges")).into_response())
        }
        Err(e) => {
            tx.rollback().await?;
            let (status, message) = web::form_message(e)?;
            let mut tx = state.db.read().await?;
            let page = build_page(&mut tx, user, account_id, false, Some(message)).await?;
            tx.rollback().await?;
            Ok((status, render(&page)?).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
struct FeeForm {
    #[serde(default)]
    fee_type: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    memo: String,
}

async fn post_fee(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(account_id): Path<i64>,
    Form(form): Form<FeeForm>,
) -> Result<Response, PageError> {
    act(&state, &user, account_id, move |tx, actor, now| {
        Box::pin(async move {
            let new = NewFee::parse(account_id, &form.fee_type, Some(&form.amount), &form.memo, None)?;
            ops::charge_fee(tx, &actor, new, now).await
        })
    })
    .await
}

#[derive(Deserialize, Default)]
struct AdjustmentForm {
    #[serde(default)]
    direction: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason_code: String,
    #[serde(default)]
    note: String,
}

async fn post_adjustment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(account_id): Path<i64>,
    Form(form): Form<AdjustmentForm>,
) -> Result<Response, PageError> {
    act(&state, &user, account_id, move |tx, actor, now| {
        Box::pin(async move {
            let new = NewAdjustment::parse(account_id, &form.direction, &form.amount, &form.reason_code, &form.note)?;
            ops::request_adjustment(tx, &actor, new, now).await
        })
    })
    .await
}

#[derive(Deserialize, Default)]
struct DepositForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    due_date: String,
}

async fn post_deposit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(account_id): Path<i64>,
    Form(form): Form<DepositForm>,
) -> Result<Response, PageError> {
    act(&state, &user, account_id, move |tx, actor, now| {
        Box::pin(async move {
            let new = NewDeposit::parse(account_id, Some(&form.amount), Some(&form.due_date))?;
            ops::require_deposit(tx, &actor, new, now).await
        })
    })
    .await
}

#[derive(Deserialize, Default)]
struct ArrangementForm {
    #[serde(default)]
    instalment_count: String,
    #[serde(default)]
    frequency: String,
    #[serde(default)]
    first_due_date: String,
}

async fn post_arrangement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(account_id): Path<i64>,
    Form(form): Form<ArrangementForm>,
) -> Result<Response, PageError> {
    act(&state, &user, account_id, move |tx, actor, now| {
        Box::pin(async move {
            let count = form.instalment_count.trim().parse::<i64>().map_err(|_| ChargeError::InstalmentCountInvalid)?;
            let new = NewArrangement::parse(account_id, count, &form.frequency, &form.first_due_date)?;
            ops::make_arrangement(tx, &actor, new, now).await
        })
    })
    .await
}

/// A deposit or arrangement must belong to the account whose page posted the form.
fn belongs(row_account_id: i64, account_id: i64, missing: ChargeError) -> Result<(), ChargeError> {
    if row_account_id == account_id { Ok(()) } else { Err(missing) }
}

async fn apply_deposit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((account_id, deposit_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    act(&state, &user, account_id, move |tx, actor, now| {
        Box::pin(async move {
            let row = ops::get_deposit(tx, deposit_id).await?;
            belongs(row.account_id, account_id, ChargeError::DepositNotFound)?;
            ops::apply_deposit(tx, &actor, deposit_id, now).await
        })
    })
    .await
}

async fn refund_deposit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((account_id, deposit_id)): Path<(i64, i64)>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    act(&state, &user, account_id, move |tx, actor, now| {
        Box::pin(async move {
            let row = ops::get_deposit(tx, deposit_id).await?;
            belongs(row.account_id, account_id, ChargeError::DepositNotFound)?;
            ops::refund_deposit(tx, &actor, deposit_id, &form.note, now).await
        })
    })
    .await
}

async fn cancel_arrangement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((account_id, arrangement_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    act(&state, &user, account_id, move |tx, actor, now| {
        Box::pin(async move {
            let view = ops::get_arrangement(tx, arrangement_id).await?;
            belongs(view.arrangement.account_id, account_id, ChargeError::ArrangementNotFound)?;
            ops::cancel_arrangement(tx, &actor, arrangement_id, now).await
        })
    })
    .await
}

#[derive(Deserialize, Default)]
struct DecisionForm {
    #[serde(default)]
    note: String,
}

/// What a decision form is about.
#[derive(Clone, Copy)]
enum Pending {
    Adjustment,
    DepositRefund,
}

/// Approves or rejects from the approval queue, then back to it (`web::form_action`):
/// `/approvals?done=1`, or `/approvals?error=<message>` when the decision is refused (nothing
/// written). A server-side failure stays an error page.
async fn decide(
    state: AppState,
    user: CurrentUser,
    what: Pending,
    id: i64,
    note: String,
    decision: Decision,
) -> Result<Response, PageError> {
    let actor = user.actor();
    web::form_action(&state, "/approvals", move |tx, now| {
        Box::pin(async move {
            match what {
                Pending::Adjustment => ops::decide_adjustment(tx, &actor, id, decision, &note, now).await.map(|_| ()),
                Pending::DepositRefund => {
                    ops::decide_deposit_refund(tx, &actor, id, decision, &note, now).await.map(|_| ())
                }
            }
        })
    })
    .await
}

async fn approve_adjustment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, user, Pending::Adjustment, id, form.note, Decision::Approve).await
}

async fn reject_adjustment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, user, Pending::Adjustment, id, form.note, Decision::Reject).await
}

async fn approve_deposit_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, user, Pending::DepositRefund, id, form.note, Decision::Approve).await
}

async fn reject_deposit_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, user, Pending::DepositRefund, id, form.note, Decision::Reject).await
}

#[derive(Deserialize, Default)]
struct IssueForm {
    #[serde(default)]
    reference: String,
}

/// Pays a refunded deposit out from the payout list (`/payouts`) and goes back to it.
async fn issue_deposit_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<IssueForm>,
) -> Result<Response, PageError> {
    let actor = user.actor();
    web::form_action(&state, "/payouts", move |tx, now| {
        Box::pin(async move { ops::issue_deposit_refund(tx, &actor, id, &form.reference, now).await.map(|_| ()) })
    })
    .await
}
