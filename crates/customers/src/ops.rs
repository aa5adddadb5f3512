//! The customer operations, called alike by HTTP handlers, the CLI, the demo loader and tests.
//! Each writes its audit record and refreshes the customer's search document in the caller's
//! transaction, so nothing is half-written and search is never stale.

use crate::model::{AccountNumber, AgreementStatus, CustomerName, EmailAddress, PhoneNumber, PostalAddress};
use crate::store::{
    self, AccountFields, AccountRow, AddressRow, AgreementFields, AgreementRow, AlertRow, CustomerFields, CustomerRow,
    EmailRow, MeterRow, NoteRow, PhoneRow, PremiseRow,
};
use crate::{CustomerError, search};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Currency, Timestamp};
use serde::Serialize;
use serde_json::json;

/// Contact preferences shared by create and update.
#[derive(Debug, Clone)]
pub struct Preferences {
    pub language: String,
    pub channel: String,
    pub do_not_call: bool,
    pub do_not_email: bool,
    pub do_not_mail: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            language: "en".into(),
            channel: "phone".into(),
            do_not_call: false,
            do_not_email: false,
            do_not_mail: false,
        }
    }
}

/// A new customer, fully parsed.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub name: CustomerName,
    pub phones: Vec<(String, PhoneNumber)>,
    pub emails: Vec<(String, EmailAddress)>,
    pub addresses: Vec<(String, PostalAddress)>,
    pub preferences: Preferences,
}

fn fields<'a>(name: &'a CustomerName, display: &'a str, p: &'a Preferences) -> CustomerFields<'a> {
    CustomerFields {
        kind: name.kind.code(),
        display_name: display,
        first_name: name.first_name.as_deref(),
        last_name: name.last_name.as_deref(),
        business_name: name.business_name.as_deref(),
        contact_person: name.contact_person.as_deref(),
        preferred_language: &p.language,
        preferred_channel: &p.channel,
        do_not_call: p.do_not_call,
        do_not_email: p.do_not_email,
        do_not_mail: p.do_not_mail,
    }
}

async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: i64,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<(), CustomerError> {
    audit::append(tx, actor, AuditEvent { action, entity, entity_id: id.to_string(), detail }, now).await?;
    Ok(())
}

pub async fn create_customer(
    tx: &mut Tx,
    actor: &Actor,
    new: NewCustomer,
    now: Timestamp,
) -> Result<CustomerView, CustomerError> {
    let display = new.name.display();
    let id = store::insert_customer(tx, &fields(&new.name, &display, &new.preferences), now).await?;
    for (i, (label, phone)) in new.phones.iter().enumerate() {
        store::insert_phone(tx, id, label, phone.e164(), i == 0).await?;
    }
    for (i, (label, email)) in new.emails.iter().enumerate() {
        store::insert_email(tx, id, label, email.as_str(), i == 0).await?;
    }
    for (label, address) in &new.addresses {
        store::insert_address(tx, id, label, address).await?;
    }
    let detail = json!({
        "display_name": display,
        "phones": new.phones.iter().map(|(_, p)| p.e164()).collect::<Vec<_>>(),
        "emails": new.emails.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>(),
    });
    record(tx, actor, "customer.created", "customer", id, detail, now).await?;
    search::reindex(tx, id).await?;
    view(tx, id).await
}

/// Changes the name and preferences of a customer.
pub async fn update_customer(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    name: CustomerName,
    preferences: Preferences,
    now: Timestamp,
) -> Result<CustomerView, CustomerError> {
    let before = live_customer(tx, id).await?;
    let display = name.display();
    store::update_customer(tx, id, &fields(&name, &display, &preferences), now).await?;
    let detail = json!({
        "before": { "display_name": before.display_name, "language": before.preferred_language,
                    "channel": before.preferred_channel, "do_not_call": before.do_not_call },
        "after": { "display_name": display, "language": preferences.language,
                   "channel": preferences.channel, "do_not_call": preferences.do_not_call },
    });
    record(tx, actor, "customer.updated", "customer", id, detail, now).await?;
    search::reindex(tx, id).await?;
    view(tx, id).await
}

pub async fn add_phone(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    label: &str,
    phone: &PhoneNumber,
    now: Timestamp,
) -> Result<(), CustomerError> {
    live_customer(tx, id).await?;
    let first = store::phones_of(tx, id).await?.is_empty();
    store::insert_phone(tx, id, label, phone.e164(), first).await?;
    record(tx, actor, "customer.phone_added", "customer", id, json!({ "phone": phone.e164() }), now).await?;
    search::reindex(tx, id).await?;
    Ok(())
}

pub async fn add_email(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    label: &str,
    email: &EmailAddress,
    now: Timestamp,
) -> Result<(), CustomerError> {
    live_customer(tx, id).await?;
    let first = store::emails_of(tx, id).await?.is_empty();
    store::insert_email(tx, id, label, email.as_str(), first).await?;
    record(tx, actor, "customer.email_added", "customer", id, json!({ "email": email.as_str() }), now).await?;
    search::reindex(tx, id).await?;
    Ok(())
}

async fn live_customer(tx: &mut Tx, id: i64) -> Result<CustomerRow, CustomerError> {
    let customer = store::find_customer(tx, id).await?.ok_or(CustomerError::CustomerNotFound)?;
    if customer.merged_into.is_some() {
        return Err(CustomerError::CustomerWasMerged);
    }
    Ok(customer)
}

/// The billing relationship, as a clerk opens it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub customer_id: i64,
    pub bill_cycle: i32,
    pub collection_class: String,
    pub credit_rating: String,
    pub cash_only: bool,
    pub paperless: bool,
    pub currency: Currency,
    pub mailing_address_id: Option<i64>,
}

pub async fn open_account(
    tx: &mut Tx,
    actor: &Actor,
    new: NewAccount,
    now: Timestamp,
) -> Result<AccountRow, CustomerError> {
    live_customer(tx, new.customer_id).await?;
    if let Some(address_id) = new.mailing_address_id {
        let owned = store::addresses_of(tx, new.customer_id).await?.iter().any(|a| a.address_id == address_id);
        if !owned {
            return Err(CustomerError::ValueUnknown { field: "mailing_address_id" });
        }
    }
    let row = AccountFields {
        customer_id: new.customer_id,
        status: "active",
        bill_cycle: new.bill_cycle,
        collection_class: &new.collection_class,
        credit_rating: &new.credit_rating,
        cash_only: new.cash_only,
        paperless: new.paperless,
        currency: new.currency.code(),
        mailing_address_id: new.mailing_address_id,
    };
    let account_id = store::insert_account(tx, &row, now).await?;
    let account = store::find_account(tx, account_id).await?.ok_or(CustomerError::AccountNotFound)?;
    let detail = json!({ "account_number": account.account_number, "customer_id": new.customer_id });
    record(tx, actor, "account.opened", "account", account_id, detail, now).await?;
    search::reindex(tx, new.customer_id).await?;
    Ok(account)
}

/// Finds an account by its number, refusing a mistyped number before any look-up.
pub async fn account_by_number(tx: &mut Tx, text: &str) -> Result<AccountRow, CustomerError> {
    let number = AccountNumber::parse(text)?;
    store::find_account_by_number(tx, number.as_str()).await?.ok_or(CustomerError::AccountNotFound)
}

pub async fn add_premise(
    tx: &mut Tx,
    actor: &Actor,
    kind: &str,
    address: &PostalAddress,
    now: Timestamp,
) -> Result<PremiseRow, CustomerError> {
    let id = store::insert_premise(tx, kind, address, now).await?;
    record(tx, actor, "premise.added", "premise", id, json!({ "address": address.one_line() }), now).await?;
    store::find_premise(tx, id).await?.ok_or(CustomerError::PremiseNotFound)
}

pub async fn add_meter(
    tx: &mut Tx,
    actor: &Actor,
    premise_id: i64,
    number: &str,
    service: &str,
    installed_on: &str,
    now: Timestamp,
) -> Result<MeterRow, CustomerError> {
    store::find_premise(tx, premise_id).await?.ok_or(CustomerError::PremiseNotFound)?;
    // Checked first: on PostgreSQL a violated constraint would abort the caller's transaction.
    if store::meter_number_taken(tx, number).await? {
        return Err(CustomerError::NumberTaken { field: "meter_number" });
    }
    let meter_id = match store::insert_meter(tx, premise_id, number, service, installed_on).await {
        Ok(id) => id,
        Err(e) if e.is_unique_violation() => return Err(CustomerError::NumberTaken { field: "meter_number" }),
        Err(e) => return Err(e.into()),
    };
    record(tx, actor, "meter.installed", "premise", premise_id, json!({ "meter_number": number }), now).await?;
    let meters = store::meters_of(tx, premise_id).await?;
    meters.into_iter().find(|m| m.meter_id == meter_id).ok_or(CustomerError::PremiseNotFound)
}

/// A service at a premise on an account, starting as `pending_start`.
#[derive(Debug, Clone)]
pub struct NewAgreement {
    pub account_id: i64,
    pub premise_id: i64,
    pub service_type: String,
    pub rate_code: String,
    pub start_date: String,
    pub end_date: Option<String>,
}

pub async fn start_agreement(
    tx: &mut Tx,
    actor: &Actor,
    new: NewAgreement,
    now: Timestamp,
) -> Result<AgreementRow, CustomerError> {
    let account = store::find_account(tx, new.account_id).await?.ok_or(CustomerError::AccountNotFound)?;
    store::find_premise(tx, new.premise_id).await?.ok_or(CustomerError::PremiseNotFound)?;
    if new.end_date.as_deref().is_some_and(|end| end < new.start_date.as_str()) {
        return Err(CustomerError::EndBeforeStart);
    }
    let fields = AgreementFields {
        account_id: new.account_id,
        premise_id: new.premise_id,
        service_type: &new.service_type,
        rate_code: &new.rate_code,
        start_date: &new.start_date,
        end_date: new.end_date.as_deref(),
    };
    let id = store::insert_agreement(tx, &fields, now).await?;
    let detail = json!({ "account_id": new.account_id, "premise_id": new.premise_id, "service": new.service_type });
    record(tx, actor, "agreement.requested", "service_agreement", id, detail, now).await?;
    search::reindex(tx, account.customer_id).await?;
    store::find_agreement(tx, id).await?.ok_or(CustomerError::AgreementNotFound)
}

/// Moves an agreement through its state machine; a stop records its end date.
pub async fn transition_agreement(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    next: AgreementStatus,
    end_date: Option<&str>,
    now: Timestamp,
) -> Result<AgreementRow, CustomerError> {
    let agreement = store::find_agreement(tx, id).await?.ok_or(CustomerError::AgreementNotFound)?;
    let current = AgreementStatus::parse(&agreement.status).unwrap_or(AgreementStatus::Stopped);
    current.transition(next)?;
    if end_date.is_some_and(|end| end < agreement.start_date.as_str()) {
        return Err(CustomerError::EndBeforeStart);
    }
    store::set_agreement_status(tx, id, next.code(), end_date, now).await?;
    let detail = json!({ "from": current.code(), "to": next.code(), "end_date": end_date });
    record(tx, actor, "agreement.status_changed", "service_agreement", id, detail, now).await?;
    store::find_agreement(tx, id).await?.ok_or(CustomerError::AgreementNotFound)
}

pub async fn add_alert(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    kind: &str,
    message: &str,
    now: Timestamp,
) -> Result<AlertRow, CustomerError> {
    live_customer(tx, id).await?;
    let alert_id = store::insert_alert(tx, id, kind, message, &actor.name(), now).await?;
    record(tx, actor, "customer.alert_added", "customer", id, json!({ "kind": kind, "message": message }), now).await?;
    let alerts = store::active_alerts(tx, id).await?;
    alerts.into_iter().find(|a| a.alert_id == alert_id).ok_or(CustomerError::AlertNotFound)
}

pub async fn clear_alert(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    alert_id: i64,
    now: Timestamp,
) -> Result<(), CustomerError> {
    if store::clear_alert(tx, id, alert_id, now).await? == 0 {
        return Err(CustomerError::AlertNotFound);
    }
    record(tx, actor, "customer.alert_cleared", "customer", id, json!({ "alert_id": alert_id }), now).await
}

pub fn parse_note(body: &str) -> Result<String, CustomerError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 4_000 {
        return Err(CustomerError::NoteInvalid);
    }
    Ok(body.to_string())
}

pub async fn add_note(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    body: &str,
    now: Timestamp,
) -> Result<NoteRow, CustomerError> {
    live_customer(tx, id).await?;
    let body = parse_note(body)?;
    let note_id = store::insert_note(tx, id, &body, &actor.name(), now).await?;
    record(tx, actor, "customer.note_added", "customer", id, json!({ "note_id": note_id }), now).await?;
    let notes = store::notes_of(tx, id, 1).await?;
    notes.into_iter().find(|n| n.note_id == note_id).ok_or(CustomerError::CustomerNotFound)
}

/// A possible duplicate and why it was flagged.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Duplicate {
    pub customer_id: i64,
    pub customer_number: String,
    pub display_name: String,
    /// `phone`, `email` or `name_and_address`.
    pub reasons: Vec<String>,
}

impl Duplicate {
    pub fn reason_text(&self) -> String {
        self.reasons.join(", ").replace('_', " ")
    }
}

pub async fn duplicates(tx: &mut Tx, id: i64) -> Result<Vec<Duplicate>, CustomerError> {
    live_customer(tx, id).await?;
    let mut found: Vec<Duplicate> = Vec::new();
    for (other, reason) in store::duplicates_of(tx, id).await? {
        match found.iter_mut().find(|d| d.customer_id == other) {
            Some(d) => d.reasons.push(reason),
            None => {
                let Some(c) = store::find_customer(tx, other).await? else { continue };
                found.push(Duplicate {
                    customer_id: other,
                    customer_number: c.customer_number,
                    display_name: c.display_name,
                    reasons: vec![reason],
                });
            }
        }
    }
    Ok(found)
}

/// Merges `absorbed` into `survivor`: accounts, phones, emails, addresses, alerts, notes, contacts
/// and cases move;
/// the absorbed customer's number keeps leading to the survivor.
pub async fn merge(
    tx: &mut Tx,
    actor: &Actor,
    absorbed: i64,
    survivor: i64,
    now: Timestamp,
) -> Result<CustomerView, CustomerError> {
    if absorbed == survivor {
        return Err(CustomerError::MergeIntoSelf);
    }
    let from = live_customer(tx, absorbed).await?;
    live_customer(tx, survivor).await?;
    store::merge(tx, &from, survivor, now).await?;
    let detail = json!({ "absorbed": from.customer_number, "survivor_id": survivor });
    record(tx, actor, "customer.merged", "customer", absorbed, detail.clone(), now).await?;
    record(tx, actor, "customer.absorbed", "customer", survivor, detail, now).await?;
    search::reindex(tx, absorbed).await?;
    search::reindex(tx, survivor).await?;
    view(tx, survivor).await
}

/// Everything about a customer that the 360 screen and the API show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerView {
    pub customer: CustomerRow,
    pub phones: Vec<PhoneRow>,
    pub emails: Vec<EmailRow>,
    pub addresses: Vec<AddressRow>,
    pub accounts: Vec<AccountRow>,
    pub agreements: Vec<AgreementRow>,
    pub alerts: Vec<AlertRow>,
    pub notes: Vec<NoteRow>,
    pub former_numbers: Vec<String>,
}

pub async fn view(tx: &mut Tx, id: i64) -> Result<CustomerView, CustomerError> {
    let customer = store::find_customer(tx, id).await?.ok_or(CustomerError::CustomerNotFound)?;
    Ok(CustomerView {
        phones: store::phones_of(tx, id).await?,
        emails: store::emails_of(tx, id).await?,
        addresses: store::addresses_of(tx, id).await?,
        accounts: store::accounts_of(tx, id).await?,
        agreements: store::agreements_of_customer(tx, id).await?,
        alerts: store::active_alerts(tx, id).await?,
        notes: store::notes_of(tx, id, 50).await?,
        former_numbers: store::former_numbers_of(tx, id).await?,
        customer,
    })
}
