//! HTML handlers for the ledger: trial balance, aging, the journal and an entry, and the chart of
//! accounts. They share the API's parsing and operations; forms post back and re-render with
//! the refused field named.

use crate::api::{self, AsOfQuery, EntryDetail, EntryPage, EntryQuery};
use crate::manage::{self, ManualLine};
use crate::model::LedgerKind;
use crate::reports::{self, AgingReport, TrialBalance};
use crate::store::LedgerAccountRow;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kernel::Permission;
use serde::Deserialize;
use web::extract::{HtmxPartial, Path, Query};
use web::layout::render;
use web::{Access, ApiError, AppState, Chrome, CurrentUser, PageError, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    let read = Access::Signed(P::LedgerRead);
    let manage = Access::Signed(P::LedgerManage);
    Routes::new()
        .get("/ledger/trial-balance", read, trial_balance_page)
        .get("/ledger/aging", read, aging_page)
        .get("/ledger/journal", read, journal_page)
        .post("/ledger/journal", manage, post_manual_entry)
        .get("/ledger/entries/{entry_id}", read, entry_page)
        .post("/ledger/entries/{entry_id}/reverse", manage, reverse_entry)
        .get("/admin/ledger-accounts", read, chart_page)
        .post("/admin/ledger-accounts", manage, chart_action)
}

/// Amounts as the tables show them.
fn amount(minor: &i64, currency: &str) -> String {
    reports::decimal(*minor, currency)
}

/// The sentence a form shows for a refused input (server failures stay errors).
fn refusal(error: ApiError) -> Result<(http::StatusCode, String), PageError> {
    if error.status.is_server_error() {
        return Err(PageError(error));
    }
    Ok((error.status, error.detail))
}

#[derive(Template)]
#[template(path = "ledger/trial_balance.html")]
struct TrialBalancePage {
    chrome: Chrome,
    tb: TrialBalance,
    export_from: String,
}

async fn trial_balance_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<AsOfQuery>,
) -> Result<Html<String>, PageError> {
    let as_of = api::date_or(q.as_of.as_deref(), "as_of", api::today(state.clock.now()))?;
    let mut tx = state.db.read().await?;
    let tb = reports::trial_balance(&mut tx, as_of).await?;
    tx.rollback().await?;
    let export_from = as_of.plus_days(-30).to_string();
    render(&TrialBalancePage {
        chrome: Chrome::new("Trial balance", Some(&user), "/ledger/trial-balance", partial),
        tb,
        export_from,
    })
}

#[derive(Template)]
#[template(path = "ledger/aging.html")]
struct AgingPage {
    chrome: Chrome,
    report: AgingReport,
}

async fn aging_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<AsOfQuery>,
) -> Result<Html<String>, PageError> {
    let report = api::aging_report(&state, &q).await?;
    render(&AgingPage { chrome: Chrome::new("Aging", Some(&user), "/ledger/aging", partial), report })
}

#[derive(Template)]
#[template(path = "ledger/journal.html")]
struct JournalPage {
    chrome: Chrome,
    page: EntryPage,
    from: String,
    to: String,
    source_kind: String,
    can_manage: bool,
    accounts: Vec<LedgerAccountRow>,
    error: Option<String>,
}

async fn journal_view(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    q: &EntryQuery,
    error: Option<String>,
) -> Result<JournalPage, PageError> {
    let page = api::entry_page(state, q).await?;
    let mut tx = state.db.read().await?;
    let accounts = manage::chart(&mut tx).await?.into_iter().filter(|a| a.active).collect();
    tx.rollback().await?;
    Ok(JournalPage {
        chrome: Chrome::new("Journal", Some(user), "/ledger/journal", partial),
        page,
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        source_kind: q.source_kind.clone().unwrap_or_default(),
        can_manage: user.role.permits(Permission::LedgerManage),
        accounts,
        error,
    })
}

async fn journal_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<EntryQuery>,
) -> Result<Html<String>, PageError> {
    render(&journal_view(&state, &user, partial, &q, None).await?)
}

/// The journal page's two-line manual entry: debit one ledger account, credit another.
#[derive(Deserialize, Default)]
struct ManualForm {
    #[serde(default)]
    entry_date: String,
    #[serde(default)]
    memo: String,
    #[serde(default)]
    debit_code: String,
    #[serde(default)]
    credit_code: String,
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    amount: String,
}

async fn post_manual_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ManualForm>,
) -> Result<Response, PageError> {
    match manual_from_form(&state, &user, &form).await {
        Ok(entry_id) => Ok(Redirect::to(&format!("/ledger/entries/{entry_id}")).into_response()),
        Err(error) => {
            let (status, message) = refusal(error)?;
            let page = journal_view(&state, &user, false, &EntryQuery::default(), Some(message)).await?;
            Ok((status, render(&page)?).into_response())
        }
    }
}

async fn manual_from_form(state: &AppState, user: &CurrentUser, form: &ManualForm) -> Result<i64, ApiError> {
    let now = state.clock.now();
    let entry_date = api::date_or(Some(&form.entry_date), "entry_date", api::today(now))?;
    let memo = manage::parse_name(&form.memo, "memo")?;
    let account_id = match form.account_id.trim() {
        "" => None,
        text => Some(text.parse::<i64>().map_err(|_| crate::LedgerError::AccountUnknown { field: "account_id" })?),
    };
    // The customer account goes on whichever side is a customer ledger (receivable, deposits).
    let customer_side = |code: &str| {
        [crate::LedgerCode::RECEIVABLE, crate::LedgerCode::DEPOSITS_HELD]
            .contains(&code.trim())
            .then_some(account_id)
            .flatten()
    };
    let line = |code: &str, debit: bool| ManualLine {
        ledger_code: code.to_string(),
        account_id: customer_side(code),
        currency: form.currency.clone(),
        debit: debit.then(|| form.amount.clone()),
        credit: (!debit).then(|| form.amount.clone()),
    };
    let lines = manage::parse_lines(&[line(&form.debit_code, true), line(&form.credit_code, false)])?;
    let mut tx = state.db.begin().await?;
    let posted = manage::post_manual(&mut tx, &user.actor(), entry_date, &memo, lines, now).await?;
    tx.commit().await?;
    Ok(posted.entry_id)
}

#[derive(Template)]
#[template(path = "ledger/entry.html")]
struct EntryPageView {
    chrome: Chrome,
    detail: EntryDetail,
    can_manage: bool,
    error: Option<String>,
}

async fn entry_view(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    id: i64,
    error: Option<String>,
) -> Result<EntryPageView, PageError> {
    let mut tx = state.db.read().await?;
    let detail = api::entry_detail(&mut tx, id).await?;
    tx.rollback().await?;
    Ok(EntryPageView {
        chrome: Chrome::new(&format!("Entry {}", detail.entry.source_ref), Some(user), "/ledger/journal", partial),
        detail,
        can_manage: user.role.permits(Permission::LedgerManage),
        error,
    })
}

async fn entry_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    render(&entry_view(&state, &user, partial, id, None).await?)
}

#[derive(Deserialize, Default)]
struct ReverseForm {
    #[serde(default)]
    entry_date: String,
}

async fn reverse_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ReverseForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let outcome: Result<i64, ApiError> = async {
        let entry_date = api::date_or(Some(&form.entry_date), "entry_date", api::today(now))?;
        let mut tx = state.db.begin().await?;
        let posted = manage::reverse(&mut tx, &user.actor(), id, entry_date, now).await?;
        tx.commit().await?;
        Ok(posted.entry_id)
    }
    .await;
    match outcome {
        Ok(reversal) => Ok(Redirect::to(&format!("/ledger/entries/{reversal}")).into_response()),
        Err(error) => {
            let (status, message) = refusal(error)?;
            Ok((status, render(&entry_view(&state, &user, false, id, Some(message)).await?)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "ledger/chart.html")]
struct ChartPage {
    chrome: Chrome,
    accounts: Vec<LedgerAccountRow>,
    kinds: Vec<&'static str>,
    can_manage: bool,
    error: Option<String>,
}

async fn chart_view(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    error: Option<String>,
) -> Result<ChartPage, PageError> {
    let mut tx = state.db.read().await?;
    let accounts = manage::chart(&mut tx).await?;
    tx.rollback().await?;
    Ok(ChartPage {
        chrome: Chrome::new("Chart of accounts", Some(user), "/admin/ledger-accounts", partial),
        accounts,
        kinds: LedgerKind::ALL.iter().map(|k| k.code()).collect(),
        can_manage: user.role.permits(Permission::LedgerManage),
        error,
    })
}

async fn chart_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    render(&chart_view(&state, &user, partial, None).await?)
}

#[derive(Deserialize, Default)]
struct ChartForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
}

/// Adds, renames, deactivates or reactivates a ledger account.
async fn chart_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ChartForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let actor = user.actor();
    let outcome: Result<(), ApiError> = async {
        let mut tx = state.db.begin().await?;
        match form.action.as_str() {
            "add" => {
                let code = manage::parse_code(&form.code)?;
                let name = manage::parse_name(&form.name, "name")?;
                let kind = LedgerKind::parse(&form.kind)?;
                manage::add_account(&mut tx, &actor, &code, &name, kind, now).await?;
            }
            "rename" => {
                let name = manage::parse_name(&form.name, "name")?;
                manage::change_account(&mut tx, &actor, form.code.trim(), Some(&name), None, now).await?;
            }
            "deactivate" | "activate" => {
                let active = Some(form.action == "activate");
                manage::change_account(&mut tx, &actor, form.code.trim(), None, active, now).await?;
            }
            _ => return Err(crate::LedgerError::LedgerAccountUnknown { field: "action" }.into()),
        }
        tx.commit().await?;
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(Redirect::to("/admin/ledger-accounts").into_response()),
        Err(error) => {
            let (status, message) = refusal(error)?;
            Ok((status, render(&chart_view(&state, &user, false, Some(message)).await?)?).into_response())
        }
    }
}
