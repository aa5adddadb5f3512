//! HTML handlers for the cashier console (built for speed: keyboard only, Enter posts, the form
//! resets with focus in the account box; the account is found by number, or picked from a short
//! list found by customer name, phone or address) and the printable receipt.

use crate::PaymentError;
use crate::api::PaymentBody;
use crate::model::{PayChannel, Tender};
use crate::ops;
use crate::store::{self, AccountFacts, DrawerRow, PaymentRow};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use db::Tx;
use http::{HeaderValue, header};
use kernel::{Currency, Money, Permission};
use serde::Deserialize;
use web::extract::{HtmxPartial, Path, Query};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

/// The console's script (CSP forbids inline scripts, so it is served from here).
const CASHIER_JS: &str = include_str!("../assets/cashier.js");

pub fn routes() -> Routes {
    let take = Access::Signed(Permission::PaymentsTake);
    Routes::new()
        .get("/cashier", take, console)
        .get("/cashier/account", take, account_panel)
        .post("/cashier/payments", take, post_payment)
        .get("/cashier/cashier.js", take, script)
        .get("/payments/{payment_id}/receipt", Access::Signed(Permission::BillingRead), receipt)
}

async fn script() -> Response {
    let mut response = CASHIER_JS.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    response
}

pub(crate) fn money(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::new(minor, c).to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

/// What the console shows about the account typed in.
struct AccountView {
    account_number: String,
    customer_name: String,
    balance: String,
    in_credit: bool,
    cash_only: bool,
    open_items: Vec<(String, String, String)>,
}

async fn account_view(tx: &mut Tx, facts: &AccountFacts) -> Result<AccountView, PaymentError> {
    let currency = Currency::parse(&facts.currency).map_err(|_| PaymentError::CurrencyMismatch)?;
    let balance = ledger::ops::receivable_balance(tx, facts.account_id, currency).await?;
    let items = ledger::ops::open_items(tx, facts.account_id, 20).await?;
    Ok(AccountView {
        account_number: facts.account_number.clone(),
        customer_name: facts.customer_name.clone(),
        balance: balance.to_string(),
        in_credit: balance.amount_minor < 0,
        cash_only: facts.cash_only,
        open_items: items
            .into_iter()
            .filter(|i| i.open_minor > 0)
            .map(|i| (i.source_ref, i.due_date, money(i.open_minor, &i.currency)))
            .collect(),
    })
}

/// The account a payment is posted to: by its number (with the check digit) only, so a payment
/// never lands on a guess.
async fn find_account(tx: &mut Tx, text: &str) -> Result<AccountFacts, PaymentError> {
    let number = customers::model::AccountNumber::parse(text).map_err(|_| PaymentError::AccountUnknown)?;
    store::account_facts_by_number(tx, number.as_str()).await?.ok_or(PaymentError::AccountUnknown)
}

/// The most customers searched, and accounts offered, for one lookup by name, phone or address.
const PICK_CUSTOMERS: i64 = 8;
const PICK_ACCOUNTS: usize = 10;

/// One account offered in the pick list.
pub(crate) struct Choice {
    account_number: String,
    customer_name: String,
    phone: String,
    address: String,
    status: String,
}

/// What the account box found: an account by its number, or the accounts of the customers whose
/// name, phone or address matches (customers' search), to pick from.
enum Lookup {
    Account(AccountFacts),
    Choices(Vec<Choice>),
}

async fn lookup(tx: &mut Tx, text: &str) -> Result<Lookup, PaymentError> {
    match find_account(tx, text).await {
        Ok(facts) => return Ok(Lookup::Account(facts)),
        Err(PaymentError::Db(e)) => return Err(PaymentError::Db(e)),
        Err(_) => {}
    }
    let mut choices = Vec::new();
    'hits: for hit in customers::search::find(tx, text, PICK_CUSTOMERS).await? {
        for account in customers::store::accounts_of(tx, hit.customer_id).await? {
            if choices.len() == PICK_ACCOUNTS {
                break 'hits;
            }
            choices.push(Choice {
                account_number: account.account_number,
                customer_name: hit.display_name.clone(),
                phone: hit.phone.clone().unwrap_or_default(),
                address: hit.address.clone().unwrap_or_default(),
                status: account.status,
            });
        }
    }
    if choices.is_empty() {
        return Err(PaymentError::AccountUnknown);
    }
    Ok(Lookup::Choices(choices))
}

#[derive(Template)]
#[template(path = "payments/account_panel.html")]
struct AccountPanel {
    account: Option<AccountView>,
    choices: Vec<Choice>,
    error: Option<String>,
}

impl AccountPanel {
    fn empty() -> AccountPanel {
        AccountPanel { account: None, choices: Vec::new(), error: None }
    }

    /// The panel for what was typed: the account, the pick list, or what is wrong.
    async fn of(tx: &mut Tx, text: Option<String>) -> Result<AccountPanel, PaymentError> {
        let Some(text) = text else { return Ok(AccountPanel::empty()) };
        Ok(match lookup(tx, &text).await {
            Ok(Lookup::Account(facts)) => {
                AccountPanel { account: Some(account_view(tx, &facts).await?), ..Self::empty() }
            }
            Ok(Lookup::Choices(choices)) => AccountPanel { choices, ..Self::empty() },
            Err(PaymentError::Db(e)) => return Err(PaymentError::Db(e)),
            Err(e) => AccountPanel { error: Some(web::field_message(&e)), ..Self::empty() },
        })
    }
}

#[derive(Template)]
#[template(path = "payments/cashier_form.html")]
struct CashierForm {
    csrf: String,
    drawer: Option<DrawerRow>,
    tenders: Vec<(usize, &'static str, &'static str)>,
    form: ConsoleForm,
    error: Option<String>,
    receipt: Option<PaymentRow>,
    panel_html: String,
}

#[derive(Template)]
#[template(path = "payments/cashier.html")]
struct Console {
    chrome: Chrome,
    form_html: String,
}

/// What the console's form posts.
#[derive(Debug, Deserialize, Default, Clone)]
pub(crate) struct ConsoleForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    amount: String,
    /// A key 1 to 5 or a tender code.
    #[serde(default)]
    tender: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    check_number: String,
    #[serde(default)]
    processor_token: String,
    #[serde(default)]
    card_brand: String,
    #[serde(default)]
    last_four: String,
}

fn tender_of(text: &str) -> Result<Tender, PaymentError> {
    match text.trim().parse::<usize>() {
        Ok(key) => Tender::ALL.get(key.wrapping_sub(1)).copied().ok_or(PaymentError::TenderUnknown),
        Err(_) => Tender::parse(text),
    }
}

fn some(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

async fn build_form(
    tx: &mut Tx,
    user: &CurrentUser,
    form: ConsoleForm,
    error: Option<String>,
    receipt: Option<PaymentRow>,
) -> Result<CashierForm, PageError> {
    let drawer = ops::my_open_drawer(tx, &user.actor()).await?;
    let panel = match receipt {
        None => AccountPanel::of(tx, some(&form.account)).await?,
        Some(_) => AccountPanel::empty(),
    };
    Ok(CashierForm {
        csrf: user.csrf_token().to_string(),
        drawer,
        tenders: Tender::ALL.into_iter().map(|t| (t.key(), t.code(), t.label())).collect(),
        form,
        error,
        receipt,
        panel_html: render(&panel)?.0,
    })
}

async fn console(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let form = build_form(&mut tx, &user, ConsoleForm::default(), None, None).await?;
    tx.rollback().await?;
    let chrome = Chrome::new("Cashier", Some(&user), "/cashier", partial);
    render(&Console { chrome, form_html: render(&form)?.0 })
}

#[derive(Deserialize)]
struct AccountQuery {
    #[serde(default)]
    account: String,
}

/// The account panel htmx loads as the cashier types in the account box: the account for a
/// number, or a pick list for a name, phone or service address.
async fn account_panel(
    State(state): State<AppState>,
    Query(q): Query<AccountQuery>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let panel = AccountPanel::of(&mut tx, some(&q.account)).await?;
    tx.rollback().await?;
    render(&panel)
}

async fn take(
    tx: &mut Tx,
    user: &CurrentUser,
    form: &ConsoleForm,
    now: kernel::Timestamp,
) -> Result<PaymentRow, PaymentError> {
    let facts = find_account(tx, &form.account).await?;
    let tender = tender_of(&form.tender)?;
    let has_drawer = ops::my_open_drawer(tx, &user.actor()).await?.is_some();
    let channel = match some(&form.channel) {
        Some(text) => PayChannel::parse(&text)?,
        None if !has_drawer && !tender.is_paper() => PayChannel::Phone,
        None => PayChannel::Counter,
    };
    let body = PaymentBody {
        account_id: facts.account_id,
        amount: form.amount.clone(),
        tender: tender.code().into(),
        channel: Some(channel.code().into()),
        check_number: some(&form.check_number),
        processor_token: some(&form.processor_token),
        card_brand: some(&form.card_brand),
        last_four: some(&form.last_four),
        memo: String::new(),
        log_contact: Some(true),
    };
    let currency = Currency::parse(&facts.currency).map_err(|_| PaymentError::CurrencyMismatch)?;
    let new = body.parse(currency)?;
    Ok(ops::take_payment(tx, &user.actor(), new, now).await?.payment)
}

/// Enter posts: the answer is the console again, reset, with the receipt number on top; a
/// refused payment keeps what was typed and says what is wrong.
async fn post_payment(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ConsoleForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    match take(&mut tx, &user, &form, now).await {
        Ok(payment) => {
            tx.commit().await?;
            let mut read = state.db.read().await?;
            let page = build_form(&mut read, &user, ConsoleForm::default(), None, Some(payment)).await?;
            read.rollback().await?;
            Ok(render(&page)?.into_response())
        }
        Err(error) => {
            tx.rollback().await?;
            let (status, message) = web::form_message(error)?;
            let mut read = state.db.read().await?;
            let page = build_form(&mut read, &user, form, Some(message), None).await?;
            read.rollback().await?;
            // htmx swaps 4xx answers only when told to; the console asks for it (see cashier.js).
            Ok((status, render(&page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "payments/receipt.html")]
struct Receipt {
    chrome: Chrome,
    payment: PaymentRow,
    amount: String,
    tender: String,
    when: String,
}

async fn receipt(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let payment = ops::get_payment(&mut tx, id).await?;
    tx.rollback().await?;
    let chrome = Chrome::new(&format!("Receipt {}", payment.receipt_number), Some(&user), "/cashier", false);
    let tender = Tender::parse(&payment.tender).map(Tender::label).unwrap_or("Other").to_string();
    render(&Receipt {
        chrome,
        amount: money(payment.amount_minor, &payment.currency),
        tender,
        when: kernel::Timestamp::from_micros(payment.created_at).to_display(),
        payment,
    })
}
