//! HTML handlers for cash drawers (open, close with the count), bank deposits, payment file
//! upload with its error list, and the form endpoints the lead's `/approvals` page posts to
//! (refund approve/reject, drawer sign-off), which redirect back there.

use crate::PaymentError;
use crate::file::LineError;
use crate::model::{RefundAction, drawer_number};
use crate::ops;
use crate::ops_money;
use crate::pages::money;
use crate::store::{DrawerRow, PaymentRow};
use crate::store_more::{self, BankDepositRow, PaymentFileRow};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kernel::{Currency, Money, Permission};
use serde::Deserialize;
use web::extract::{HtmxPartial, Path};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    let manage = Access::Signed(P::PaymentsManage);
    let approve = Access::Signed(P::MoneyApprove);
    Routes::new()
        .get("/drawers", manage, drawers_page)
        .post("/drawers", manage, open_drawer)
        .get("/drawers/{drawer_id}", manage, drawer_page)
        .post("/drawers/{drawer_id}/close", manage, close_drawer)
        .post("/drawers/{drawer_id}/sign-off", approve, sign_off)
        .post("/refunds/{refund_id}/approve", approve, approve_refund)
        .post("/refunds/{refund_id}/reject", approve, reject_refund)
        .post("/refunds/{refund_id}/issue", manage, issue_refund)
        .get("/bank-deposits", manage, deposits_page)
        .post("/bank-deposits", manage, make_deposit)
        .get("/payment-files", manage, files_page)
        .post("/payment-files", manage, upload_file)
}

struct DrawerLine {
    drawer_id: i64,
    number: String,
    cashier: String,
    status: String,
    float: String,
    over_short: String,
}

fn line(d: &DrawerRow) -> DrawerLine {
    DrawerLine {
        drawer_id: d.drawer_id,
        number: drawer_number(d.drawer_id),
        cashier: d.cashier_name.clone(),
        status: d.status.replace('_', " "),
        float: money(d.float_minor, &d.currency),
        over_short: d.over_short_minor.map(|m| money(m, &d.currency)).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "payments/drawers.html")]
struct DrawersPage {
    chrome: Chrome,
    drawers: Vec<DrawerLine>,
    mine: Option<i64>,
    error: Option<String>,
}

async fn drawers_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    show_drawers(&state, &user, partial, None).await
}

async fn show_drawers(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let drawers = ops::drawers(&mut tx, None, 100).await?;
    let mine = ops::my_open_drawer(&mut tx, &user.actor()).await?.map(|d| d.drawer_id);
    tx.rollback().await?;
    let chrome = Chrome::new("Cash drawers", Some(user), "/drawers", partial);
    render(&DrawersPage { chrome, drawers: drawers.iter().map(line).collect(), mine, error })
}

#[derive(Deserialize)]
struct OpenForm {
    #[serde(default)]
    float: String,
}

fn amount(text: &str, field: &'static str) -> Result<Money, PaymentError> {
    match text.trim() {
        "" => Ok(Money::zero(Currency::USD)),
        text => Money::parse(text, Currency::USD)
            .ok()
            .filter(|m| m.amount_minor >= 0)
            .ok_or(PaymentError::AmountInvalid { field }),
    }
}

async fn open_drawer(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<OpenForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let outcome = async {
        let float = amount(&form.float, "float")?;
        let mut tx = state.db.begin().await?;
        let drawer = ops::open_drawer(&mut tx, &user.actor(), float, now).await?;
        tx.commit().await?;
        Ok::<_, PaymentError>(drawer)
    }
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to("/cashier").into_response()),
        Err(error) => {
            let (status, message) = web::form_message(error)?;
            Ok((status, show_drawers(&state, &user, false, Some(message)).await?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "payments/drawer.html")]
struct DrawerPage {
    chrome: Chrome,
    drawer: DrawerLine,
    is_open: bool,
    expected_cash: String,
    expected_checks: String,
    counted: Option<(String, String)>,
    payments: Vec<(PaymentRow, String)>,
    error: Option<String>,
}

async fn show_drawer(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let drawer = ops::get_drawer(&mut tx, id).await?;
    let (cash, checks) = ops::expected_in_drawer(&mut tx, &drawer).await?;
    let payments = crate::store::drawer_payments(&mut tx, id).await?;
    tx.rollback().await?;
    let c = drawer.currency.clone();
    let counted = match (drawer.counted_cash_minor, drawer.counted_check_minor) {
        (Some(a), Some(b)) => Some((money(a, &c), money(b, &c))),
        _ => None,
    };
    let chrome = Chrome::new(&format!("Drawer {}", drawer_number(id)), Some(user), "/drawers", false);
    render(&DrawerPage {
        chrome,
        is_open: drawer.status == "open",
        expected_cash: money(drawer.expected_cash_minor.unwrap_or(cash), &c),
        expected_checks: money(drawer.expected_check_minor.unwrap_or(checks), &c),
        counted,
        payments: payments.into_iter().map(|p| (money(p.amount_minor, &p.currency), p)).map(|(m, p)| (p, m)).collect(),
        drawer: line(&drawer),
        error,
    })
}

async fn drawer_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    show_drawer(&state, &user, id, None).await
}

#[derive(Deserialize)]
struct CloseForm {
    #[serde(default)]
    counted_cash: String,
    #[serde(default)]
    counted_checks: String,
}

async fn close_drawer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CloseForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let outcome = async {
        let cash = amount(&form.counted_cash, "counted_cash")?;
        let checks = amount(&form.counted_checks, "counted_checks")?;
        let mut tx = state.db.begin().await?;
        ops::close_drawer(&mut tx, &user.actor(), id, cash, checks, now).await?;
        tx.commit().await?;
        Ok::<_, PaymentError>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/drawers/{id}")).into_response()),
        Err(error) => {
            let (status, message) = web::form_message(error)?;
            Ok((status, show_drawer(&state, &user, id, Some(message)).await?).into_response())
        }
    }
}

async fn sign_off(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let actor = user.actor();
    web::form_action(&state, "/approvals", move |tx, now| {
        Box::pin(async move { ops::sign_off_drawer(tx, &actor, id, now).await.map(|_| ()) })
    })
    .await
}

#[derive(Deserialize, Default)]
struct DecisionForm {
    #[serde(default)]
    note: String,
}

async fn decide(
    state: AppState,
    user: CurrentUser,
    id: i64,
    note: String,
    action: RefundAction,
) -> Result<Response, PageError> {
    let actor = user.actor();
    web::form_action(&state, "/approvals", move |tx, now| {
        Box::pin(async move {
            let note = crate::model::parse_short(Some(&note), 500, "note")?.unwrap_or_default();
            ops_money::decide_refund(tx, &actor, id, action, &note, now).await.map(|_| ())
        })
    })
    .await
}

async fn approve_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, user, id, form.note, RefundAction::Approve).await
}

async fn reject_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, user, id, form.note, RefundAction::Reject).await
}

#[derive(Template)]
#[template(path = "payments/bank_deposits.html")]
struct DepositsPage {
    chrome: Chrome,
    deposits: Vec<(BankDepositRow, String, String)>,
    flash: Option<String>,
    error: Option<String>,
}

async fn show_deposits(
    state: &AppState,
    user: &CurrentUser,
    flash: Option<String>,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let deposits = ops_money::deposits(&mut tx, 50).await?;
    tx.rollback().await?;
    let chrome = Chrome::new("Bank deposits", Some(user), "/bank-deposits", false);
    let deposits = deposits
        .into_iter()
        .map(|d| {
            let total = money(d.total_minor, &d.currency);
            (crate::model::deposit_number(d.bank_deposit_id), total, d)
        })
        .map(|(n, t, d)| (d, n, t))
        .collect();
    render(&DepositsPage { chrome, deposits, flash, error })
}

async fn deposits_page(State(state): State<AppState>, user: CurrentUser) -> Result<Html<String>, PageError> {
    show_deposits(&state, &user, None, None).await
}

async fn make_deposit(State(state): State<AppState>, user: CurrentUser) -> Result<Response, PageError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    match ops_money::make_deposit(&mut tx, &user.actor(), Currency::USD, now).await {
        Ok(deposit) => {
            tx.commit().await?;
            let mut flash =
                format!("Deposit {} of {}", deposit.deposit_number, money(deposit.deposit.total_minor, "USD"));
            if !deposit.pulled.is_empty() {
                let count: i64 = deposit.pulled.iter().map(|t| t.count).sum();
                let total: i64 = deposit.pulled.iter().map(|t| t.total_minor).sum();
                flash.push_str(&format!(
                    ". Take out of the drawer bags {count} reversed payment(s) of {}: they are not deposited.",
                    money(total, "USD")
                ));
            }
            Ok(show_deposits(&state, &user, Some(flash), None).await?.into_response())
        }
        Err(error) => {
            tx.rollback().await?;
            let (status, message) = web::form_message(error)?;
            Ok((status, show_deposits(&state, &user, None, Some(message)).await?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "payments/payment_files.html")]
struct FilesPage {
    chrome: Chrome,
    files: Vec<(PaymentFileRow, String)>,
    flash: Option<String>,
    error: Option<String>,
    line_errors: Vec<LineError>,
    text: String,
}

async fn show_files(
    state: &AppState,
    user: &CurrentUser,
    flash: Option<String>,
    error: Option<String>,
    line_errors: Vec<LineError>,
    text: String,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let files = store_more::payment_files(&mut tx, 50).await.map_err(PaymentError::from)?;
    tx.rollback().await?;
    let chrome = Chrome::new("Payment files", Some(user), "/payment-files", false);
    let files = files.into_iter().map(|f| (money(f.total_minor, &f.currency), f)).map(|(m, f)| (f, m)).collect();
    render(&FilesPage { chrome, files, flash, error, line_errors, text })
}

async fn files_page(State(state): State<AppState>, user: CurrentUser) -> Result<Html<String>, PageError> {
    show_files(&state, &user, None, None, Vec::new(), String::new()).await
}

#[derive(Deserialize)]
struct UploadForm {
    #[serde(default)]
    file_name: String,
    #[serde(default)]
    text: String,
}

async fn upload_file(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<UploadForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_bulk().await?;
    let name = if form.file_name.trim().is_empty() { "upload.csv" } else { form.file_name.as_str() };
    match crate::import::import_file(&mut tx, &user.actor(), name, &form.text, Currency::USD, now).await {
        Ok(done) => {
            tx.commit().await?;
            let flash =
                format!("Imported {} payments, {}", done.payment_count, money(done.total_minor, &done.currency));
            Ok(show_files(&state, &user, Some(flash), None, Vec::new(), String::new()).await?.into_response())
        }
        Err(PaymentError::PaymentFileInvalid { count, errors }) => {
            tx.rollback().await?;
            let message = format!("The file has {count} bad lines; nothing was posted.");
            let page = show_files(&state, &user, None, Some(message), errors, form.text).await?;
            Ok((http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => {
            tx.rollback().await?;
            let (status, message) = web::form_message(error)?;
            Ok((status, show_files(&state, &user, None, Some(message), Vec::new(), form.text).await?).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
struct IssueForm {
    #[serde(default)]
    reference: String,
}

/// Pays an approved refund out from the payout list (`/payouts`) and goes back to it.
async fn issue_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<IssueForm>,
) -> Result<Response, PageError> {
    let actor = user.actor();
    web::form_action(&state, "/payouts", move |tx, now| {
        Box::pin(async move { ops_money::issue_refund(tx, &actor, id, &form.reference, now).await.map(|_| ()) })
    })
    .await
}
