//! HTML handlers: the customer list and finder, the new-customer form, and the customer 360
//! screen with its note, alert and account actions.

use crate::api::{AccountBody, AddressBody, CustomerBody, EmailBody, PhoneBody};
use crate::ops::{self, CustomerView, Duplicate};
use crate::search::{self, CustomerHit};
use crate::{CustomerError, model, store};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use db::audit::{self, AuditFilter};
use kernel::{PageRequest, Permission, Timestamp};
use serde::Deserialize;
use web::extract::{HtmxPartial, Path, Query};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    let write = Access::Signed(P::CustomersWrite);
    Routes::new()
        .get("/customers", Access::Signed(P::CustomersRead), list_page)
        .get("/customers/new", write, new_page)
        .post("/customers", write, create)
        .get("/customers/{customer_id}", Access::Signed(P::CustomersRead), show_page)
        .post("/customers/{customer_id}/notes", write, add_note)
        .post("/customers/{customer_id}/alerts", write, add_alert)
        .post("/customers/{customer_id}/alerts/{alert_id}/clear", write, clear_alert)
        .post("/customers/{customer_id}/accounts", write, open_account)
        .post("/customers/{customer_id}/contact-points", write, add_contact_points)
        .post("/customers/{customer_id}/edit", write, edit_customer)
        .post("/customers/{customer_id}/service", write, start_service)
        .post("/customers/{customer_id}/agreements/{agreement_id}", write, transition_agreement)
        .post("/customers/{customer_id}/merge", Access::Signed(P::CustomersMerge), merge_into)
}

#[derive(Template)]
#[template(path = "customers/list.html")]
struct ListPage {
    chrome: Chrome,
    query: String,
    customers: Vec<CustomerHit>,
    next_cursor: Option<String>,
    can_write: bool,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    cursor: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let page = PageRequest::parse(Some(50), q.cursor.as_deref())?;
    let mut tx = state.db.read().await?;
    let (customers, next_cursor) = if q.q.trim().is_empty() {
        let rows = store::list_customers(&mut tx, page.after_key().max(0), page.fetch_limit()).await?;
        let rows = kernel::Page::from_rows(rows, &page, |r| r.customer_id);
        let mut hits = Vec::new();
        for row in rows.items {
            hits.extend(search::find_by_id(&mut tx, row.customer_id).await?);
        }
        (hits, rows.next_cursor)
    } else {
        (search::find(&mut tx, &q.q, 50).await?, None)
    };
    tx.rollback().await?;
    let view = ListPage {
        chrome: Chrome::new("Customers", Some(&user), "/customers", partial),
        query: q.q,
        customers,
        next_cursor,
        can_write: user.role.permits(Permission::CustomersWrite),
    };
    render(&view)
}

#[derive(Deserialize, Default, Clone)]
struct NewForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    business_name: String,
    #[serde(default)]
    contact_person: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    line1: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    preferred_language: String,
    #[serde(default)]
    preferred_channel: String,
    #[serde(default)]
    open_account: Option<String>,
}

#[derive(Template)]
#[template(path = "customers/new.html")]
struct NewPage {
    chrome: Chrome,
    form: NewForm,
    channels: &'static [&'static str],
    error: Option<String>,
}

async fn new_page(user: CurrentUser, HtmxPartial(partial): HtmxPartial) -> Result<Html<String>, PageError> {
    let form = NewForm { preferred_language: "en".into(), preferred_channel: "phone".into(), ..Default::default() };
    let page = NewPage {
        chrome: Chrome::new("New customer", Some(&user), "/customers", partial),
        form,
        channels: &model::CHANNELS,
        error: None,
    };
    render(&page)
}

fn some(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

impl NewForm {
    fn body(&self) -> CustomerBody {
        let has_address = [&self.line1, &self.city, &self.postal_code].iter().any(|t| !t.trim().is_empty());
        CustomerBody {
            kind: if self.kind.is_empty() { "person".into() } else { self.kind.clone() },
            first_name: some(&self.first_name),
            last_name: some(&self.last_name),
            business_name: some(&self.business_name),
            contact_person: some(&self.contact_person),
            phones: some(&self.phone).map(|number| PhoneBody { label: None, number }).into_iter().collect(),
            emails: some(&self.email).map(|address| EmailBody { label: None, address }).into_iter().collect(),
            addresses: has_address
                .then(|| AddressBody {
                    label: None,
                    line1: self.line1.clone(),
                    line2: None,
                    city: self.city.clone(),
                    region: some(&self.region),
                    postal_code: self.postal_code.clone(),
                    country: None,
                })
                .into_iter()
                .collect(),
            preferred_language: some(&self.preferred_language),
            preferred_channel: some(&self.preferred_channel),
            ..Default::default()
        }
    }
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<NewForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let outcome = match form.body().parse() {
        Ok(new) => {
            let mut tx = state.db.begin().await?;
            let created = ops::create_customer(&mut tx, &user.actor(), new, now).await;
            match created {
                Ok(view) => {
                    if form.open_account.is_some() {
                        let account = AccountBody {
                            customer_id: view.customer.customer_id,
                            bill_cycle: None,
                            collection_class: Some(
                                if form.kind == "business" { "commercial" } else { "residential" }.into(),
                            ),
                            credit_rating: None,
                            cash_only: false,
                            paperless: false,
                            currency: None,
                            mailing_address_id: view.addresses.first().map(|a| a.address_id),
                        };
                        ops::open_account(&mut tx, &user.actor(), account.parse()?, now).await?;
                    }
                    tx.commit().await?;
                    Ok(view.customer.customer_id)
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/customers/{id}")).into_response()),
        Err(e) => {
            let (status, text) = web::form_message(e)?;
            let page = NewPage {
                chrome: Chrome::new("New customer", Some(&user), "/customers", false),
                form,
                channels: &model::CHANNELS,
                error: Some(text),
            };
            Ok((status, render(&page)?).into_response())
        }
    }
}

struct NoteLine {
    when: String,
    author: String,
    body: String,
}

#[derive(Template)]
#[template(path = "customers/show.html")]
struct ShowPage {
    chrome: Chrome,
    view: CustomerView,
    notes: Vec<NoteLine>,
    duplicates: Vec<Duplicate>,
    history: Vec<(String, String, String)>,
    alert_kinds: &'static [&'static str],
    can_write: bool,
    can_merge: bool,
    channels: &'static [&'static str],
    service_types: &'static [&'static str],
}

async fn show_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let view = ops::view(&mut tx, id).await?;
    let duplicates = if view.customer.merged_into.is_none() { ops::duplicates(&mut tx, id).await? } else { Vec::new() };
    let filter = AuditFilter { entity: Some("customer".into()), entity_id: Some(id.to_string()), actor_name: None };
    let history = audit::list(&mut tx, &filter, &PageRequest::parse(Some(20), None)?).await?;
    tx.rollback().await?;
    let page = ShowPage {
        chrome: Chrome::new(&view.customer.display_name, Some(&user), "/customers", partial),
        notes: view
            .notes
            .iter()
            .map(|n| NoteLine {
                when: Timestamp(n.created_at).to_display(),
                author: n.author.clone(),
                body: n.body.clone(),
            })
            .collect(),
        history: history.items.into_iter().map(|r| (Timestamp(r.at).to_display(), r.actor_name, r.action)).collect(),
        view,
        duplicates,
        alert_kinds: &model::ALERT_KINDS,
        can_write: user.role.permits(Permission::CustomersWrite),
        can_merge: user.role.permits(Permission::CustomersMerge),
        channels: &model::CHANNELS,
        service_types: &model::SERVICE_TYPES,
    };
    render(&page)
}

#[derive(Deserialize, Default)]
struct ActionForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    message: String,
}

async fn back_to(id: i64) -> Response {
    Redirect::to(&format!("/customers/{id}")).into_response()
}

async fn add_note(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    let mut tx = state.db.begin().await?;
    ops::add_note(&mut tx, &user.actor(), id, &form.body, state.clock.now()).await?;
    tx.commit().await?;
    Ok(back_to(id).await)
}

async fn add_alert(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    let kind = model::one_of(&form.kind, &model::ALERT_KINDS, "kind")?;
    let message =
        model::optional_text(Some(&form.message), "message")?.ok_or(CustomerError::TextInvalid { field: "message" })?;
    let mut tx = state.db.begin().await?;
    ops::add_alert(&mut tx, &user.actor(), id, &kind, &message, state.clock.now()).await?;
    tx.commit().await?;
    Ok(back_to(id).await)
}

async fn clear_alert(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, alert_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let mut tx = state.db.begin().await?;
    ops::clear_alert(&mut tx, &user.actor(), id, alert_id, state.clock.now()).await?;
    tx.commit().await?;
    Ok(back_to(id).await)
}

async fn open_account(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let body = AccountBody {
        customer_id: id,
        bill_cycle: None,
        collection_class: None,
        credit_rating: None,
        cash_only: false,
        paperless: false,
        currency: None,
        mailing_address_id: None,
    };
    let mut tx = state.db.begin().await?;
    ops::open_account(&mut tx, &user.actor(), body.parse()?, state.clock.now()).await?;
    tx.commit().await?;
    Ok(back_to(id).await)
}

#[derive(Deserialize, Default)]
struct ContactPointForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    phone_label: String,
    #[serde(default)]
    email: String,
}

async fn add_contact_points(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ContactPointForm>,
) -> Result<Response, PageError> {
    let phone = some(&form.phone).map(|p| model::PhoneNumber::parse(&p)).transpose()?;
    let email = some(&form.email).map(|e| model::EmailAddress::parse(&e)).transpose()?;
    let label = some(&form.phone_label).unwrap_or_else(|| "phone".into()).to_lowercase();
    let label = model::optional_text(Some(&label), "phone_label")?.unwrap_or_else(|| "phone".into());
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if let Some(phone) = &phone {
        ops::add_phone(&mut tx, &user.actor(), id, &label, phone, now).await?;
    }
    if let Some(email) = &email {
        ops::add_email(&mut tx, &user.actor(), id, "email", email, now).await?;
    }
    tx.commit().await?;
    Ok(back_to(id).await)
}

#[derive(Deserialize, Default)]
struct MergeForm {
    #[serde(default)]
    survivor_id: String,
}

/// Merges the customer in the path into the survivor named by the form, then shows the survivor.
async fn merge_into(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<MergeForm>,
) -> Result<Response, PageError> {
    let survivor: i64 =
        form.survivor_id.trim().parse().map_err(|_| CustomerError::ValueUnknown { field: "survivor_id" })?;
    let mut tx = state.db.begin().await?;
    ops::merge(&mut tx, &user.actor(), id, survivor, state.clock.now()).await?;
    tx.commit().await?;
    Ok(back_to(survivor).await)
}

#[derive(Deserialize, Default)]
struct TransitionForm {
    #[serde(default)]
    status: String,
}

async fn transition_agreement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, agreement_id)): Path<(i64, i64)>,
    Form(form): Form<TransitionForm>,
) -> Result<Response, PageError> {
    let next = model::AgreementStatus::parse(&form.status).ok_or(CustomerError::ValueUnknown { field: "status" })?;
    let mut tx = state.db.begin().await?;
    let agreement = store::find_agreement(&mut tx, agreement_id).await?.ok_or(CustomerError::AgreementNotFound)?;
    let owner = store::find_account(&mut tx, agreement.account_id).await?.map(|a| a.customer_id);
    if owner != Some(id) {
        return Err(CustomerError::AgreementNotFound.into());
    }
    let today = state.clock.now().to_offset_date_time().date().to_string();
    let end = matches!(next, model::AgreementStatus::Stopped | model::AgreementStatus::PendingStop).then_some(today);
    ops::transition_agreement(&mut tx, &user.actor(), agreement_id, next, end.as_deref(), state.clock.now()).await?;
    tx.commit().await?;
    Ok(back_to(id).await)
}

#[derive(Deserialize, Default)]
struct EditForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    business_name: String,
    #[serde(default)]
    contact_person: String,
    #[serde(default)]
    preferred_language: String,
    #[serde(default)]
    preferred_channel: String,
    do_not_call: Option<String>,
    do_not_email: Option<String>,
    do_not_mail: Option<String>,
}

async fn edit_customer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<EditForm>,
) -> Result<Response, PageError> {
    let body = CustomerBody {
        kind: form.kind.clone(),
        first_name: some(&form.first_name),
        last_name: some(&form.last_name),
        business_name: some(&form.business_name),
        contact_person: some(&form.contact_person),
        preferred_language: some(&form.preferred_language),
        preferred_channel: some(&form.preferred_channel),
        do_not_call: form.do_not_call.is_some(),
        do_not_email: form.do_not_email.is_some(),
        do_not_mail: form.do_not_mail.is_some(),
        ..Default::default()
    };
    let (name, preferences) = (body.name()?, body.preferences()?);
    let mut tx = state.db.begin().await?;
    ops::update_customer(&mut tx, &user.actor(), id, name, preferences, state.clock.now()).await?;
    tx.commit().await?;
    Ok(back_to(id).await)
}

#[derive(Deserialize, Default)]
struct ServiceForm {
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    line1: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    service_type: String,
    #[serde(default)]
    rate_code: String,
    #[serde(default)]
    meter_number: String,
    #[serde(default)]
    start_date: String,
}

/// Requests service at an address for one of the customer's accounts: the premise (and meter,
/// if given) is added and a pending-start agreement opened, all in one transaction.
async fn start_service(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ServiceForm>,
) -> Result<Response, PageError> {
    let account_id: i64 = form.account_id.trim().parse().map_err(|_| CustomerError::AccountNotFound)?;
    let address = model::PostalAddress::parse(&form.line1, None, &form.city, None, &form.postal_code, None)?;
    let service_type = model::one_of(&form.service_type, &model::SERVICE_TYPES, "service_type")?;
    let rate_code = model::optional_text(Some(&form.rate_code), "rate_code")?
        .ok_or(CustomerError::TextInvalid { field: "rate_code" })?;
    let start_date = model::parse_date(&form.start_date, "start_date")?;
    let meter = model::optional_text(Some(&form.meter_number), "meter_number")?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let owner = store::find_account(&mut tx, account_id).await?.map(|a| a.customer_id);
    if owner != Some(id) {
        return Err(CustomerError::AccountNotFound.into());
    }
    let premise = ops::add_premise(&mut tx, &user.actor(), "residential", &address, now).await?;
    if let Some(meter) = meter {
        ops::add_meter(&mut tx, &user.actor(), premise.premise_id, &meter, &service_type, &start_date, now).await?;
    }
    let new = ops::NewAgreement {
        account_id,
        premise_id: premise.premise_id,
        service_type,
        rate_code,
        start_date,
        end_date: None,
    };
    ops::start_agreement(&mut tx, &user.actor(), new, now).await?;
    tx.commit().await?;
    Ok(back_to(id).await)
}
