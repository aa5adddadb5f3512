//! JSON handlers for customers, accounts, premises and service agreements. Thin: parse the body
//! into domain types, call one op inside one transaction, answer.

use crate::CustomerError;
use crate::model::{
    self, AgreementStatus, CustomerName, EmailAddress, PhoneNumber, PostalAddress, optional_text, parse_date,
};
use crate::ops::{self, CustomerView, Duplicate, NewAccount, NewAgreement, NewCustomer, Preferences};
use crate::search::{self, CustomerHit};
use crate::store::{self, AccountRow, AgreementRow, AlertRow, MeterRow, NoteRow, PremiseRow};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use kernel::{Currency, Permission};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use web::extract::{Json, Path, Query};
use web::idempotency::{self, Reservation};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

#[derive(OpenApi)]
#[openapi(
    paths(
        list_customers, create_customer, get_customer, update_customer, add_contact_point, add_alert, clear_alert,
        add_note, list_duplicates, merge_customer, open_account, get_account, find_account, add_premise,
        get_premise, add_meter, start_agreement, transition_agreement
    ),
    components(
        schemas(
            CustomerBody,
            PhoneBody,
            EmailBody,
            AddressBody,
            CustomerView,
            CustomerPage,
            CustomerHit,
            ContactPointBody,
            AlertBody,
            NoteBody,
            MergeBody,
            AccountBody,
            PremiseBody,
            MeterBody,
            AgreementBody,
            TransitionBody,
            Duplicate,
            AccountRow,
            AgreementRow,
            AlertRow,
            MeterRow,
            NoteRow,
            PremiseRow,
            PremiseView,
            store::CustomerRow,
            store::PhoneRow,
            store::EmailRow,
            store::AddressRow,
            PostalAddress,
            AgreementStatus,
        ),
    ),
    tags((name = "customers", description = "Customers, accounts, premises, meters and service agreements")),
)]
pub struct CustomersApi;

pub fn routes() -> Routes {
    use Permission as P;
    let read = Access::Signed(P::CustomersRead);
    let write = Access::Signed(P::CustomersWrite);
    Routes::new()
        .get("/api/v1/customers", read, list_customers)
        .post("/api/v1/customers", write, create_customer)
        .get("/api/v1/customers/{customer_id}", read, get_customer)
        .patch("/api/v1/customers/{customer_id}", write, update_customer)
        .post("/api/v1/customers/{customer_id}/contact-points", write, add_contact_point)
        .post("/api/v1/customers/{customer_id}/alerts", write, add_alert)
        .post("/api/v1/customers/{customer_id}/alerts/{alert_id}/clear", write, clear_alert)
        .post("/api/v1/customers/{customer_id}/notes", write, add_note)
        .get("/api/v1/customers/{customer_id}/duplicates", read, list_duplicates)
        .post("/api/v1/customers/{customer_id}/merge", Access::Signed(P::CustomersMerge), merge_customer)
        .post("/api/v1/accounts", write, open_account)
        .get("/api/v1/accounts", read, find_account)
        .get("/api/v1/accounts/{account_id}", read, get_account)
        .post("/api/v1/premises", write, add_premise)
        .get("/api/v1/premises/{premise_id}", read, get_premise)
        .post("/api/v1/premises/{premise_id}/meters", write, add_meter)
        .post("/api/v1/service-agreements", write, start_agreement)
        .post("/api/v1/service-agreements/{agreement_id}/transition", write, transition_agreement)
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct PhoneBody {
    /// home, mobile, work, ...; defaults to "phone".
    pub label: Option<String>,
    pub number: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct EmailBody {
    pub label: Option<String>,
    pub address: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct AddressBody {
    /// mailing, home, billing, ...; defaults to "mailing".
    pub label: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166 alpha-2; defaults to US.
    pub country: Option<String>,
}

impl AddressBody {
    pub fn parse(&self) -> Result<(String, PostalAddress), CustomerError> {
        let address = PostalAddress::parse(
            &self.line1,
            self.line2.as_deref(),
            &self.city,
            self.region.as_deref(),
            &self.postal_code,
            self.country.as_deref(),
        )?;
        Ok((label(self.label.as_deref(), "mailing")?, address))
    }
}

fn label(text: Option<&str>, default: &str) -> Result<String, CustomerError> {
    Ok(optional_text(text, "label")?.unwrap_or_else(|| default.to_string()).to_lowercase())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(
    example = json!({
        "kind": "person",
        "first_name": "Maria",
        "last_name": "Lopez",
        "phones": [{"label": "mobile", "number": "(555) 201-4477"}],
        "emails": [{"address": "maria.lopez@example.org"}],
        "addresses": [{"line1": "12 Elm St", "city": "Springfield", "region": "IL", "postal_code": "62701"}],
        "preferred_language": "es",
        "preferred_channel": "phone"
    }),
)]
pub struct CustomerBody {
    /// person or business
    pub kind: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub business_name: Option<String>,
    pub contact_person: Option<String>,
    #[serde(default)]
    pub phones: Vec<PhoneBody>,
    #[serde(default)]
    pub emails: Vec<EmailBody>,
    #[serde(default)]
    pub addresses: Vec<AddressBody>,
    pub preferred_language: Option<String>,
    /// phone, email, chat, letter, in_person or portal
    pub preferred_channel: Option<String>,
    #[serde(default)]
    pub do_not_call: bool,
    #[serde(default)]
    pub do_not_email: bool,
    #[serde(default)]
    pub do_not_mail: bool,
}

impl CustomerBody {
    pub fn name(&self) -> Result<CustomerName, CustomerError> {
        CustomerName::parse(
            &self.kind,
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.business_name.as_deref(),
            self.contact_person.as_deref(),
        )
    }

    pub fn preferences(&self) -> Result<Preferences, CustomerError> {
        Ok(Preferences {
            language: model::parse_language(self.preferred_language.as_deref().unwrap_or("en"))?,
            channel: model::parse_channel(self.preferred_channel.as_deref().unwrap_or("phone"))?,
            do_not_call: self.do_not_call,
            do_not_email: self.do_not_email,
            do_not_mail: self.do_not_mail,
        })
    }

    /// Parses every field; the first at fault is named.
    pub fn parse(&self) -> Result<NewCustomer, CustomerError> {
        Ok(NewCustomer {
            name: self.name()?,
            phones: self
                .phones
                .iter()
                .map(|p| Ok((label(p.label.as_deref(), "phone")?, PhoneNumber::parse(&p.number)?)))
                .collect::<Result<_, CustomerError>>()?,
            emails: self
                .emails
                .iter()
                .map(|e| Ok((label(e.label.as_deref(), "email")?, EmailAddress::parse(&e.address)?)))
                .collect::<Result<_, CustomerError>>()?,
            addresses: self.addresses.iter().map(AddressBody::parse).collect::<Result<_, _>>()?,
            preferences: self.preferences()?,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub items: Vec<CustomerHit>,
    pub next_cursor: Option<String>,
}

/// Customers: with `q`, the best matches for a name, phone fragment, email, account number or
/// address; without, all live customers a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/customers",
    tag = "customers",
    security(("bearer" = ["customers.read"]), ("session" = ["customers.read"])),
    params(
        ("q" = Option<String>, Query, description = "search text; each word must match"),
        ("limit" = Option<u32>, Query, description = "1 to 200, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page (lists without q)"),
    ),
    responses((status = 200, body = CustomerPage)),
)]
async fn list_customers(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<CustomerPage>, ApiError> {
    let page = kernel::PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut tx = state.db.read().await?;
    if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
        let items = search::find(&mut tx, text, i64::from(page.limit)).await?;
        return Ok(axum::Json(CustomerPage { items, next_cursor: None }));
    }
    let rows = store::list_customers(&mut tx, page.after_key().max(0), page.fetch_limit()).await?;
    let rows = kernel::Page::from_rows(rows, &page, |r| r.customer_id);
    let items = rows
        .items
        .into_iter()
        .map(|c| CustomerHit {
            customer_id: c.customer_id,
            customer_number: c.customer_number,
            display_name: c.display_name,
            kind: c.kind,
            phone: None,
            address: None,
        })
        .collect();
    Ok(axum::Json(CustomerPage { items, next_cursor: rows.next_cursor }))
}

/// Add a customer with phones, emails and addresses. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post,
    path = "/api/v1/customers",
    tag = "customers",
    request_body = CustomerBody,
    security(("bearer" = ["customers.write"]), ("session" = ["customers.write"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CustomerView), (status = 422, body = web::ProblemDocument)),
)]
async fn create_customer(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<CustomerBody>,
) -> Result<Response, ApiError> {
    let new = body.parse()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, "POST /api/v1/customers", &body, now).await?
    {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let created = ops::create_customer(&mut tx, &user.actor(), new, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &created).await?;
    tx.commit().await?;
    Ok(response)
}

/// Everything about one customer: contact points, accounts, agreements, alerts, notes.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{customer_id}",
    tag = "customers",
    security(("bearer" = ["customers.read"]), ("session" = ["customers.read"])),
    params(("customer_id" = i64, Path)),
    responses((status = 200, body = CustomerView), (status = 404, body = web::ProblemDocument)),
)]
async fn get_customer(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<axum::Json<CustomerView>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::view(&mut tx, id).await?))
}

/// Replace the name and contact preferences (phones, emails and addresses are added separately).
#[utoipa::path(
    patch,
    path = "/api/v1/customers/{customer_id}",
    tag = "customers",
    request_body = CustomerBody,
    security(("bearer" = ["customers.write"]), ("session" = ["customers.write"])),
    params(("customer_id" = i64, Path)),
    responses((status = 200, body = CustomerView), (status = 404, body = web::ProblemDocument)),
)]
async fn update_customer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<CustomerBody>,
) -> Result<axum::Json<CustomerView>, ApiError> {
    let (name, preferences) = (body.name()?, body.preferences()?);
    let mut tx = state.db.begin().await?;
    let view = ops::update_customer(&mut tx, &user.actor(), id, name, preferences, state.clock.now()).await?;
    tx.commit().await?;
    Ok(axum::Json(view))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"phone": {"label": "work", "number": "555 777 8899"}}))]
pub struct ContactPointBody {
    pub phone: Option<PhoneBody>,
    pub email: Option<EmailBody>,
}

/// Add a phone and/or an email to a customer.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{customer_id}/contact-points",
    tag = "customers",
    request_body = ContactPointBody,
    security(("bearer" = ["customers.write"]), ("session" = ["customers.write"])),
    params(("customer_id" = i64, Path)),
    responses((status = 200, body = CustomerView), (status = 422, body = web::ProblemDocument)),
)]
async fn add_contact_point(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<ContactPointBody>,
) -> Result<axum::Json<CustomerView>, ApiError> {
    let phone = body
        .phone
        .as_ref()
        .map(|p| Ok::<_, CustomerError>((label(p.label.as_deref(), "phone")?, PhoneNumber::parse(&p.number)?)))
        .transpose()?;
    let email = body
        .email
        .as_ref()
        .map(|e| Ok::<_, CustomerError>((label(e.label.as_deref(), "email")?, EmailAddress::parse(&e.address)?)))
        .transpose()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if let Some((label, phone)) = &phone {
        ops::add_phone(&mut tx, &user.actor(), id, label, phone, now).await?;
    }
    if let Some((label, email)) = &email {
        ops::add_email(&mut tx, &user.actor(), id, label, email, now).await?;
    }
    let view = ops::view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(axum::Json(view))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"kind": "bankruptcy_stay", "message": "Chapter 13 filed; no collection activity"}))]
pub struct AlertBody {
    /// bankruptcy_stay, fraud_watch, hard_of_hearing, medical_need, do_not_disconnect or other
    pub kind: String,
    pub message: String,
}

/// Raise an alert shown on every screen for the customer.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{customer_id}/alerts",
    tag = "customers",
    request_body = AlertBody,
    security(("bearer" = ["customers.write"]), ("session" = ["customers.write"])),
    params(("customer_id" = i64, Path)),
    responses((status = 201, body = AlertRow), (status = 422, body = web::ProblemDocument)),
)]
async fn add_alert(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<AlertBody>,
) -> Result<(StatusCode, axum::Json<AlertRow>), ApiError> {
    let kind = model::one_of(&body.kind, &model::ALERT_KINDS, "kind")?;
    let message =
        optional_text(Some(&body.message), "message")?.ok_or(CustomerError::TextInvalid { field: "message" })?;
    let mut tx = state.db.begin().await?;
    let alert = ops::add_alert(&mut tx, &user.actor(), id, &kind, &message, state.clock.now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(alert)))
}

/// Clear an alert.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{customer_id}/alerts/{alert_id}/clear",
    tag = "customers",
    security(("bearer" = ["customers.write"]), ("session" = ["customers.write"])),
    params(("customer_id" = i64, Path), ("alert_id" = i64, Path)),
    responses((status = 204), (status = 404, body = web::ProblemDocument)),
)]
async fn clear_alert(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, alert_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.db.begin().await?;
    ops::clear_alert(&mut tx, &user.actor(), id, alert_id, state.clock.now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"body": "Asked about budget billing"}))]
pub struct NoteBody {
    pub body: String,
}

/// Add a note to the customer.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{customer_id}/notes",
    tag = "customers",
    request_body = NoteBody,
    security(("bearer" = ["customers.write"]), ("session" = ["customers.write"])),
    params(("customer_id" = i64, Path)),
    responses((status = 201, body = NoteRow), (status = 422, body = web::ProblemDocument)),
)]
async fn add_note(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<NoteBody>,
) -> Result<(StatusCode, axum::Json<NoteRow>), ApiError> {
    let mut tx = state.db.begin().await?;
    let note = ops::add_note(&mut tx, &user.actor(), id, &body.body, state.clock.now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(note)))
}

/// Other customers sharing a phone, an email, or name and address with this one.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{customer_id}/duplicates",
    tag = "customers",
    security(("bearer" = ["customers.read"]), ("session" = ["customers.read"])),
    params(("customer_id" = i64, Path)),
    responses((status = 200, body = Vec<Duplicate>)),
)]
async fn list_duplicates(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<axum::Json<Vec<Duplicate>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::duplicates(&mut tx, id).await?))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"survivor_id": 1}))]
pub struct MergeBody {
    /// The customer that remains; this one is absorbed into it.
    pub survivor_id: i64,
}

/// Merge this customer into the survivor (accounts, contact points, alerts and notes move).
#[utoipa::path(
    post,
    path = "/api/v1/customers/{customer_id}/merge",
    tag = "customers",
    request_body = MergeBody,
    security(("bearer" = ["customers.merge"]), ("session" = ["customers.merge"])),
    params(("customer_id" = i64, Path)),
    responses((status = 200, body = CustomerView), (status = 409, body = web::ProblemDocument)),
)]
async fn merge_customer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<MergeBody>,
) -> Result<axum::Json<CustomerView>, ApiError> {
    let mut tx = state.db.begin().await?;
    let view = ops::merge(&mut tx, &user.actor(), id, body.survivor_id, state.clock.now()).await?;
    tx.commit().await?;
    Ok(axum::Json(view))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"customer_id": 1, "bill_cycle": 7, "collection_class": "residential", "paperless": true}))]
pub struct AccountBody {
    pub customer_id: i64,
    /// 1 to 28; defaults to 1.
    pub bill_cycle: Option<i32>,
    /// residential, commercial or government; defaults to residential.
    pub collection_class: Option<String>,
    /// excellent, good, fair or poor; defaults to good.
    pub credit_rating: Option<String>,
    #[serde(default)]
    pub cash_only: bool,
    #[serde(default)]
    pub paperless: bool,
    /// ISO 4217; defaults to USD.
    pub currency: Option<String>,
    pub mailing_address_id: Option<i64>,
}

impl AccountBody {
    pub fn parse(&self) -> Result<NewAccount, CustomerError> {
        let bill_cycle = self.bill_cycle.unwrap_or(1);
        if !(1..=28).contains(&bill_cycle) {
            return Err(CustomerError::BillCycleOutOfRange);
        }
        Ok(NewAccount {
            customer_id: self.customer_id,
            bill_cycle,
            collection_class: model::one_of(
                self.collection_class.as_deref().unwrap_or("residential"),
                &model::COLLECTION_CLASSES,
                "collection_class",
            )?,
            credit_rating: model::one_of(
                self.credit_rating.as_deref().unwrap_or("good"),
                &model::CREDIT_RATINGS,
                "credit_rating",
            )?,
            cash_only: self.cash_only,
            paperless: self.paperless,
            currency: Currency::parse(self.currency.as_deref().unwrap_or("USD"))
                .map_err(|_| CustomerError::ValueUnknown { field: "currency" })?,
            mailing_address_id: self.mailing_address_id,
        })
    }
}

/// Open an account (the billing relationship) for a customer; its number carries a check digit.
#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    tag = "customers",
    request_body = AccountBody,
    security(("bearer" = ["customers.write"]), ("session" = ["customers.write"])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = AccountRow), (status = 422, body = web::ProblemDocument))
)]
async fn open_account(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<AccountBody>,
) -> Result<Response, ApiError> {
    let new = body.parse()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let reservation = match idempotency::reserve(&mut tx, &user, &headers, "POST /api/v1/accounts", &body, now).await? {
        Reservation::Replay(replayed) => return Ok(replayed.into_response()),
        fresh_or_none => fresh_or_none,
    };
    let account = ops::open_account(&mut tx, &user.actor(), new, now).await?;
    let response = idempotency::finish(&mut tx, &user, &reservation, StatusCode::CREATED, &account).await?;
    tx.commit().await?;
    Ok(response)
}

/// One account.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}",
    tag = "customers",
    security(("bearer" = ["customers.read"]), ("session" = ["customers.read"])),
    params(("account_id" = i64, Path)),
    responses((status = 200, body = AccountRow), (status = 404, body = web::ProblemDocument)),
)]
async fn get_account(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<AccountRow>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(store::find_account(&mut tx, id).await?.ok_or(CustomerError::AccountNotFound)?))
}

#[derive(Debug, Deserialize)]
pub struct NumberQuery {
    pub number: String,
}

/// Find an account by its number (a mistyped check digit is refused with 422).
#[utoipa::path(
    get,
    path = "/api/v1/accounts",
    tag = "customers",
    security(("bearer" = ["customers.read"]), ("session" = ["customers.read"])),
    params(("number" = String, Query)),
    responses(
        (status = 200, body = AccountRow),
        (status = 404, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn find_account(
    State(state): State<AppState>,
    Query(q): Query<NumberQuery>,
) -> Result<axum::Json<AccountRow>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::account_by_number(&mut tx, &q.number).await?))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"address": {"line1": "12 Elm St", "city": "Springfield", "postal_code": "62701"}}))]
pub struct PremiseBody {
    /// residential, commercial, industrial, ...; defaults to residential.
    pub premise_type: Option<String>,
    pub address: AddressBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PremiseView {
    pub premise: PremiseRow,
    pub meters: Vec<MeterRow>,
}

/// Add a premise (a service address).
#[utoipa::path(
    post,
    path = "/api/v1/premises",
    tag = "customers",
    request_body = PremiseBody,
    security(("bearer" = ["customers.write"]), ("session" = ["customers.write"])),
    responses((status = 201, body = PremiseRow), (status = 422, body = web::ProblemDocument)),
)]
async fn add_premise(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<PremiseBody>,
) -> Result<(StatusCode, axum::Json<PremiseRow>), ApiError> {
    let (_, address) = body.address.parse()?;
    let kind = label(body.premise_type.as_deref(), "residential")?;
    let mut tx = state.db.begin().await?;
    let premise = ops::add_premise(&mut tx, &user.actor(), &kind, &address, state.clock.now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(premise)))
}

/// A premise and its meters.
#[utoipa::path(
    get,
    path = "/api/v1/premises/{premise_id}",
    tag = "customers",
    security(("bearer" = ["customers.read"]), ("session" = ["customers.read"])),
    params(("premise_id" = i64, Path)),
    responses((status = 200, body = PremiseView), (status = 404, body = web::ProblemDocument)),
)]
async fn get_premise(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<PremiseView>, ApiError> {
    let mut tx = state.db.read().await?;
    let premise = store::find_premise(&mut tx, id).await?.ok_or(CustomerError::PremiseNotFound)?;
    let meters = store::meters_of(&mut tx, id).await?;
    Ok(axum::Json(PremiseView { premise, meters }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"meter_number": "E-100200", "service_type": "electric", "installed_on": "2024-05-01"}))]
pub struct MeterBody {
    pub meter_number: String,
    /// electric, water, gas, sewer or refuse
    pub service_type: String,
    /// YYYY-MM-DD
    pub installed_on: String,
}

/// Install a meter at a premise.
#[utoipa::path(
    post,
    path = "/api/v1/premises/{premise_id}/meters",
    tag = "customers",
    request_body = MeterBody,
    security(("bearer" = ["customers.write"]), ("session" = ["customers.write"])),
    params(("premise_id" = i64, Path)),
    responses((status = 201, body = MeterRow), (status = 409, body = web::ProblemDocument)),
)]
async fn add_meter(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<MeterBody>,
) -> Result<(StatusCode, axum::Json<MeterRow>), ApiError> {
    let number = optional_text(Some(&body.meter_number), "meter_number")?
        .ok_or(CustomerError::TextInvalid { field: "meter_number" })?;
    let service = model::one_of(&body.service_type, &model::SERVICE_TYPES, "service_type")?;
    let installed_on = parse_date(&body.installed_on, "installed_on")?;
    let mut tx = state.db.begin().await?;
    let meter = ops::add_meter(&mut tx, &user.actor(), id, &number, &service, &installed_on, state.clock.now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(meter)))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!(
    {"account_id": 1, "premise_id": 1, "service_type": "electric", "rate_code": "E-RES-1", "start_date": "2025-01-01"}
))]
pub struct AgreementBody {
    pub account_id: i64,
    pub premise_id: i64,
    pub service_type: String,
    pub rate_code: String,
    /// YYYY-MM-DD
    pub start_date: String,
    pub end_date: Option<String>,
}

/// Request service at a premise on an account (starts as pending_start).
#[utoipa::path(
    post,
    path = "/api/v1/service-agreements",
    tag = "customers",
    request_body = AgreementBody,
    security(("bearer" = ["customers.write"]), ("session" = ["customers.write"])),
    responses((status = 201, body = AgreementRow), (status = 422, body = web::ProblemDocument)),
)]
async fn start_agreement(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<AgreementBody>,
) -> Result<(StatusCode, axum::Json<AgreementRow>), ApiError> {
    let new = NewAgreement {
        account_id: body.account_id,
        premise_id: body.premise_id,
        service_type: model::one_of(&body.service_type, &model::SERVICE_TYPES, "service_type")?,
        rate_code: optional_text(Some(&body.rate_code), "rate_code")?
            .ok_or(CustomerError::TextInvalid { field: "rate_code" })?,
        start_date: parse_date(&body.start_date, "start_date")?,
        end_date: body.end_date.as_deref().map(|d| parse_date(d, "end_date")).transpose()?,
    };
    let mut tx = state.db.begin().await?;
    let agreement = ops::start_agreement(&mut tx, &user.actor(), new, state.clock.now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(agreement)))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"status": "pending_stop", "end_date": "2025-06-30"}))]
pub struct TransitionBody {
    /// active, pending_stop, stopped or cancelled
    pub status: String,
    /// The last day of service, for a stop.
    pub end_date: Option<String>,
}

/// Move a service agreement: pending_start → active → pending_stop → stopped.
#[utoipa::path(
    post,
    path = "/api/v1/service-agreements/{agreement_id}/transition",
    tag = "customers",
    request_body = TransitionBody,
    security(("bearer" = ["customers.write"]), ("session" = ["customers.write"])),
    params(("agreement_id" = i64, Path)),
    responses((status = 200, body = AgreementRow), (status = 409, body = web::ProblemDocument)),
)]
async fn transition_agreement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<TransitionBody>,
) -> Result<axum::Json<AgreementRow>, ApiError> {
    let next = AgreementStatus::parse(&body.status).ok_or(CustomerError::ValueUnknown { field: "status" })?;
    let end_date = body.end_date.as_deref().map(|d| parse_date(d, "end_date")).transpose()?;
    let mut tx = state.db.begin().await?;
    let agreement =
        ops::transition_agreement(&mut tx, &user.actor(), id, next, end_date.as_deref(), state.clock.now()).await?;
    tx.commit().await?;
    Ok(axum::Json(agreement))
}
