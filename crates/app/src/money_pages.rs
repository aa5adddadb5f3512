//! The screens that gather several money modules at once: an account's financial view (balance,
//! bills, payments, fees, adjustments, deposits, arrangements, ledger lines), its summary on the
//! customer screen, and the supervisor's one approval queue (refunds, adjustments and deposit
//! refunds above the limit, drawers awaiting sign-off), and the payout list of refunds approved
//! but not yet paid (overpayment refunds and refunded deposits). The app hosts them because it
//! is the one crate that sees every module; each list comes from its own module's ops.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use kernel::{Currency, Money, PageRequest, Permission, Timestamp};
use web::extract::{HtmxPartial, Path, Query};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .get("/approvals", Access::Signed(Permission::MoneyApprove), approvals_page)
        .get("/payouts", Access::Signed(Permission::PaymentsManage), payouts_page)
        .get("/accounts/{account_id}", Access::Signed(Permission::BillingRead), account_page)
        .get("/accounts/{account_id}/summary", Access::Signed(Permission::BillingRead), account_summary)
}

/// `12.30 USD`; an unknown stored currency is shown as its code after the bare number.
pub fn amount(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::new(minor, c).to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

fn when(micros: i64) -> String {
    Timestamp::from_micros(micros).to_display()
}

/// One row of a list on these screens, already formatted.
pub struct Row {
    pub cells: Vec<String>,
    pub link: Option<String>,
    pub id: i64,
    /// Asked for by the signed-in user (so not theirs to approve).
    pub mine: bool,
}

impl Row {
    fn new(id: i64, link: Option<String>, cells: Vec<String>) -> Row {
        Row { cells, link, id, mine: false }
    }

    /// The cell at `index`, or nothing.
    pub fn cell(&self, index: usize) -> &str {
        self.cells.get(index).map(String::as_str).unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "money/approvals.html")]
struct ApprovalsPage {
    chrome: Chrome,
    refunds: Vec<Row>,
    adjustments: Vec<Row>,
    deposit_refunds: Vec<Row>,
    drawers: Vec<Row>,
}

/// What a decision form sends back here: `done=1`, or the refusal's message in `error`.
#[derive(serde::Deserialize, Default)]
struct Outcome {
    done: Option<String>,
    error: Option<String>,
}

async fn approvals_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(outcome): Query<Outcome>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let pending = payments::ops_money::pending_approvals(&mut tx).await.map_err(payments::to_api_error)?;
    let adjustments = charges::ops::pending_adjustments(&mut tx).await?;
    let deposit_refunds = charges::ops::pending_deposit_refunds(&mut tx).await?;
    tx.rollback().await?;
    let refunds = pending
        .refunds
        .into_iter()
        .map(|r| Row {
            mine: r.requested_by_user_id == user.user_id.get(),
            ..Row::new(
                r.refund_id,
                Some(format!("/accounts/{}", r.account_id)),
                vec![
                    r.account_number,
                    r.customer_name,
                    amount(r.amount_minor, &r.currency),
                    r.reason,
                    r.requested_by,
                    when(r.requested_at),
                ],
            )
        })
        .collect();
    let adjustments = adjustments
        .into_iter()
        .map(|a| Row {
            mine: a.requested_by_user_id == Some(user.user_id.get()),
            ..Row::new(
                a.adjustment_id,
                Some(format!("/accounts/{}", a.account_id)),
                vec![
                    a.account_number,
                    a.direction,
                    amount(a.amount_minor, &a.currency),
                    a.reason_label,
                    a.note,
                    a.requested_by,
                    when(a.created_at),
                ],
            )
        })
        .collect();
    let deposit_refunds = deposit_refunds
        .into_iter()
        .map(|d| Row {
            mine: d.refund_requested_by_user_id == Some(user.user_id.get()),
            ..Row::new(
                d.deposit_id,
                Some(format!("/accounts/{}/charges", d.account_id)),
                vec![
                    d.account_number,
                    amount(d.amount_minor, &d.currency),
                    d.refund_note.unwrap_or_default(),
                    d.refund_requested_by.unwrap_or_default(),
                    d.refund_requested_at.map(when).unwrap_or_default(),
                ],
            )
        })
        .collect();
    let drawers = pending
        .drawers
        .into_iter()
        .map(|d| {
            Row::new(
                d.drawer_id,
                Some(format!("/drawers/{}", d.drawer_id)),
                vec![
                    d.cashier_name,
                    d.closed_at.map(when).unwrap_or_default(),
                    d.over_short_minor.map(|m| amount(m, &d.currency)).unwrap_or_default(),
                ],
            )
        })
        .collect();
    let chrome = with_outcome(Chrome::new("Approvals", Some(&user), "/approvals", partial), outcome);
    let view = ApprovalsPage { chrome, refunds, adjustments, deposit_refunds, drawers };
    render(&view)
}

#[derive(Template)]
#[template(path = "money/payouts.html")]
struct PayoutsPage {
    chrome: Chrome,
    refunds: Vec<Row>,
    deposit_refunds: Vec<Row>,
}

/// Refunds approved (or refunded deposits) waiting to be paid by check or card refund; each row's
/// form posts to the module's issue endpoint, which comes back here with the outcome.
async fn payouts_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(outcome): Query<Outcome>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let approved = payments::model::RefundStatus::Approved;
    let refunds = payments::ops_money::refunds(&mut tx, Some(approved), 200).await.map_err(payments::to_api_error)?;
    let deposit_refunds = charges::ops::deposit_refunds_to_issue(&mut tx).await?;
    tx.rollback().await?;
    let refunds = refunds
        .into_iter()
        .map(|r| {
            let cells = vec![
                r.account_number,
                r.customer_name,
                amount(r.amount_minor, &r.currency),
                r.reason,
                r.decided_by.unwrap_or_default(),
                r.decided_at.map(when).unwrap_or_default(),
            ];
            Row::new(r.refund_id, Some(format!("/accounts/{}", r.account_id)), cells)
        })
        .collect();
    let deposit_refunds = deposit_refunds
        .into_iter()
        .map(|d| {
            let cells = vec![
                d.account_number,
                amount(d.amount_minor, &d.currency),
                d.refund_note.unwrap_or_default(),
                d.refund_decided_by.or(d.refund_requested_by).unwrap_or_else(|| d.created_by.clone()),
                when(d.updated_at),
            ];
            Row::new(d.deposit_id, Some(format!("/accounts/{}/charges", d.account_id)), cells)
        })
        .collect();
    let chrome = with_outcome(Chrome::new("Refund payouts", Some(&user), "/payouts", partial), outcome);
    render(&PayoutsPage { chrome, refunds, deposit_refunds })
}

/// The flash a list shows after a form came back to it.
fn with_outcome(chrome: Chrome, outcome: Outcome) -> Chrome {
    match (outcome.error, outcome.done) {
        (Some(error), _) => chrome.with_flash(format!("Not done: {error}")),
        (None, Some(_)) => chrome.with_flash("Done."),
        (None, None) => chrome,
    }
}

/// The facts at the top of an account's screens.
struct AccountHead {
    account_id: i64,
    account_number: String,
    customer_id: i64,
    customer_name: String,
    status: String,
    cash_only: bool,
    balances: Vec<(String, String, String)>,
}

async fn account_head(tx: &mut db::Tx, account_id: i64) -> Result<AccountHead, PageError> {
    let account = customers::store::find_account(tx, account_id)
        .await?
        .ok_or_else(|| PageError(web::ApiError::not_found("account")))?;
    let customer = customers::ops::view(tx, account.customer_id).await?;
    let balance = ledger::reports::account_balance(tx, account_id).await?;
    let mut balances: Vec<(String, String, String)> = balance
        .currencies
        .iter()
        .map(|c| {
            (
                amount(c.receivable_minor, &c.currency),
                amount(c.deposit_held_minor, &c.currency),
                amount(c.open_minor, &c.currency),
            )
        })
        .collect();
    if balances.is_empty() {
        let zero = amount(0, &account.currency);
        balances.push((zero.clone(), zero.clone(), zero));
    }
    Ok(AccountHead {
        account_id,
        account_number: account.account_number,
        customer_id: account.customer_id,
        customer_name: customer.customer.display_name,
        status: account.status,
        cash_only: account.cash_only,
        balances,
    })
}

#[derive(Template)]
#[template(path = "money/account.html")]
struct AccountPage {
    chrome: Chrome,
    head: AccountHead,
    bills: Vec<Row>,
    payments: Vec<Row>,
    fees: Vec<Row>,
    adjustments: Vec<Row>,
    deposits: Vec<Row>,
    arrangements: Vec<Row>,
    items: Vec<Row>,
    lines: Vec<Row>,
    can_charge: bool,
    can_take: bool,
}

async fn account_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(account_id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let head = account_head(&mut tx, account_id).await?;
    let bills = bill_rows(&mut tx, account_id, 24).await?;
    let payments = payment_rows(&mut tx, account_id, 24).await?;
    let fees = charges::ops::fees_of(&mut tx, account_id)
        .await?
        .into_iter()
        .map(|f| {
            Row::new(f.fee_id, None, vec![f.fee_date, f.fee_type_label, amount(f.amount_minor, &f.currency), f.memo])
        })
        .collect();
    let adjustments = charges::ops::adjustments_of(&mut tx, account_id)
        .await?
        .into_iter()
        .map(|a| {
            Row::new(
                a.adjustment_id,
                None,
                vec![
                    when(a.created_at),
                    a.direction,
                    amount(a.amount_minor, &a.currency),
                    a.reason_label,
                    a.status.replace('_', " "),
                ],
            )
        })
        .collect();
    let deposits = charges::ops::deposits_of(&mut tx, account_id)
        .await?
        .into_iter()
        .map(|d| {
            Row::new(
                d.deposit_id,
                None,
                vec![when(d.created_at), amount(d.amount_minor, &d.currency), d.credit_rating, d.status],
            )
        })
        .collect();
    let arrangements = charges::ops::arrangements_of(&mut tx, account_id)
        .await?
        .into_iter()
        .map(|a| {
            Row::new(
                a.arrangement_id,
                None,
                vec![
                    a.first_due_date,
                    amount(a.total_minor, &a.currency),
                    format!("{} × {}", a.instalment_count, a.frequency),
                    a.status,
                ],
            )
        })
        .collect();
    let (items, lines) = ledger_rows(&mut tx, account_id).await?;
    tx.rollback().await?;
    let view = AccountPage {
        chrome: Chrome::new(&format!("Account {}", head.account_number), Some(&user), "/customers", partial),
        head,
        bills,
        payments,
        fees,
        adjustments,
        deposits,
        arrangements,
        items,
        lines,
        can_charge: user.role.permits(Permission::BillingManage),
        can_take: user.role.permits(Permission::PaymentsTake),
    };
    render(&view)
}

async fn bill_rows(tx: &mut db::Tx, account_id: i64, limit: i64) -> Result<Vec<Row>, PageError> {
    Ok(billing::ops::bills_for_account(tx, account_id, limit)
        .await?
        .into_iter()
        .map(|b| {
            Row::new(
                b.bill_id,
                Some(format!("/bills/{}", b.bill_id)),
                vec![
                    b.bill_number,
                    b.period,
                    b.bill_date,
                    b.due_date,
                    amount(b.total_minor, &b.currency),
                    if b.estimated { "estimated".into() } else { String::new() },
                ],
            )
        })
        .collect())
}

async fn payment_rows(tx: &mut db::Tx, account_id: i64, limit: i64) -> Result<Vec<Row>, PageError> {
    Ok(payments::ops::payments_for_account(tx, account_id, None, limit)
        .await
        .map_err(payments::to_api_error)?
        .into_iter()
        .map(|p| {
            Row::new(
                p.payment_id,
                Some(format!("/payments/{}/receipt", p.payment_id)),
                vec![
                    p.payment_number,
                    p.received_date,
                    amount(p.amount_minor, &p.currency),
                    p.tender,
                    p.channel,
                    p.status,
                ],
            )
        })
        .collect())
}

async fn ledger_rows(tx: &mut db::Tx, account_id: i64) -> Result<(Vec<Row>, Vec<Row>), PageError> {
    let items = ledger::ops::open_items(tx, account_id, 50)
        .await?
        .into_iter()
        .map(|i| {
            Row::new(
                i.item_id,
                None,
                vec![
                    i.source_ref,
                    i.kind,
                    i.due_date,
                    amount(i.amount_minor, &i.currency),
                    amount(i.open_minor, &i.currency),
                ],
            )
        })
        .collect();
    let page = PageRequest::parse(Some(50), None)?;
    let lines = ledger::reports::account_lines(tx, account_id, &page)
        .await?
        .items
        .into_iter()
        .map(|l| {
            Row::new(
                l.line.line_id,
                Some(format!("/ledger/entries/{}", l.line.entry_id)),
                vec![
                    l.line.entry_date,
                    format!("{} {}", l.line.source_kind, l.line.source_ref),
                    l.line.ledger_code,
                    amount(l.line.amount_minor, &l.line.currency),
                    amount(l.balance_after_minor, &l.line.currency),
                ],
            )
        })
        .collect();
    Ok((items, lines))
}

#[derive(Template)]
#[template(path = "money/summary.html")]
struct SummaryFragment {
    head: AccountHead,
    bills: Vec<Row>,
    payments: Vec<Row>,
}

/// The money in brief on the customer screen, loaded by htmx per account.
async fn account_summary(
    State(state): State<AppState>,
    Path(account_id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let head = account_head(&mut tx, account_id).await?;
    let bills = bill_rows(&mut tx, account_id, 3).await?;
    let payments = payment_rows(&mut tx, account_id, 3).await?;
    tx.rollback().await?;
    render(&SummaryFragment { head, bills, payments })
}
