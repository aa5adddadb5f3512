//! Template operations: save a new version (fields checked), list and read, and preview a
//! template merged with a real customer's, account's and case's facts.

use crate::CorrespondenceError;
use crate::merge::{self, MergeValues};
use crate::model::{Channel, NewTemplateVersion};
use crate::store::merge as facts;
use crate::store::templates::{self as store, NewTemplateRow, TemplateRow};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Currency, Money, Timestamp};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// Saves a new version of a template (version 1 if the key and language are new). A key is
/// written for one channel: a version for the other channel is refused.
pub async fn save_template(
    tx: &mut Tx,
    actor: &Actor,
    new: NewTemplateVersion,
    now: Timestamp,
) -> Result<TemplateRow, CorrespondenceError> {
    if let Some(kind) = store::kind_of(tx, new.key.as_str()).await?
        && kind != new.kind.code()
    {
        return Err(CorrespondenceError::TemplateKindMismatch { actual: kind });
    }
    let row = NewTemplateRow {
        key: new.key.as_str(),
        language: new.language.as_str(),
        kind: new.kind.code(),
        name: &new.name,
        subject: &new.subject,
        body: &new.body,
        created_by: &actor.name(),
        now: now.micros(),
    };
    let id = store::insert_version(tx, &row).await?;
    let saved = store::by_id(tx, id).await?.ok_or(CorrespondenceError::TemplateNotFound)?;
    let detail = json!({ "key": saved.template_key, "language": saved.language, "version": saved.version });
    let event =
        AuditEvent { action: "template.saved", entity: "correspondence_template", entity_id: id.to_string(), detail };
    audit::append(tx, actor, event, now).await?;
    Ok(saved)
}

pub async fn templates(tx: &mut Tx) -> Result<Vec<TemplateRow>, CorrespondenceError> {
    Ok(store::latest_all(tx).await?)
}

/// Every version of a key, all languages, newest first; not found when there is none.
pub async fn template_versions(tx: &mut Tx, key: &str) -> Result<Vec<TemplateRow>, CorrespondenceError> {
    let versions = store::versions(tx, key).await?;
    if versions.is_empty() { Err(CorrespondenceError::TemplateNotFound) } else { Ok(versions) }
}

pub async fn template(tx: &mut Tx, template_id: i64) -> Result<TemplateRow, CorrespondenceError> {
    store::by_id(tx, template_id).await?.ok_or(CorrespondenceError::TemplateNotFound)
}

/// The latest version in `language`, else in English.
pub async fn latest_template(tx: &mut Tx, key: &str, language: &str) -> Result<TemplateRow, CorrespondenceError> {
    if let Some(found) = store::latest(tx, key, language).await? {
        return Ok(found);
    }
    store::latest(tx, key, "en").await?.ok_or(CorrespondenceError::TemplateNotFound)
}

/// Whose facts to merge.
#[derive(Debug, Clone, Default)]
pub struct MergeSubject {
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub case_id: Option<i64>,
    /// `extra.<name>` values, by `<name>`.
    pub extra: MergeValues,
    /// The agent named in `{{agent.name}}`; else the actor, when a user.
    pub agent_user_id: Option<i64>,
}

/// What the loader learned besides the values: where to send.
#[derive(Debug, Clone)]
pub struct MergeData {
    pub values: MergeValues,
    pub customer: facts::CustomerFacts,
    pub account: Option<facts::AccountFacts>,
    pub case: Option<facts::CaseFacts>,
}

fn money(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(currency) => Money::new(minor, currency).to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

/// Reads the facts the fields need; a field whose fact is absent (no case, never billed) stays
/// without a value, and rendering then names it.
pub async fn load_merge_data(
    tx: &mut Tx,
    actor: &Actor,
    subject: &MergeSubject,
    today: Timestamp,
) -> Result<MergeData, CorrespondenceError> {
    let customer = facts::customer(tx, subject.customer_id).await?.ok_or(CorrespondenceError::CustomerNotFound)?;
    let case = match subject.case_id {
        Some(id) => Some(facts::case(tx, id).await?.ok_or(CorrespondenceError::CaseUnknown)?),
        None => None,
    };
    let account_id = subject.account_id.or(case.as_ref().and_then(|c| c.account_id));
    let account = match account_id {
        Some(id) => {
            Some(facts::account(tx, customer.customer_id, id).await?.ok_or(CorrespondenceError::AccountUnknown)?)
        }
        None => facts::first_account(tx, customer.customer_id).await?,
    };
    let mut values = MergeValues::new();
    let mut put = |k: &str, v: String| values.insert(k.to_string(), v);
    put("customer.name", customer.display_name.clone());
    put("customer.number", customer.customer_number.clone());
    put("today", today.to_offset_date_time().date().to_string());
    let agent = match subject.agent_user_id.or(actor.user_id().map(|u| u.0)) {
        Some(user) => facts::agent_name(tx, user).await?,
        None => None,
    };
    put("agent.name", agent.unwrap_or_else(|| "Customer Service".into()));
    if let Some(case) = &case {
        put("case.number", case.case_number.clone());
        put("case.subject", case.subject.clone());
    }
    if let Some(account) = &account {
        put("account.number", account.account_number.clone());
        let balance = facts::balance_minor(tx, account.account_id, &account.currency).await?;
        put("account.balance", money(balance, &account.currency));
        if let Some(bill) = facts::latest_bill(tx, account.account_id).await? {
            put("account.due_date", bill.due_date.clone());
            put("bill.number", bill.bill_number);
            put("bill.amount", money(bill.total_minor, &bill.currency));
            put("bill.due_date", bill.due_date);
        }
    }
    for (name, value) in &subject.extra {
        values.insert(format!("extra.{name}"), value.clone());
    }
    Ok(MergeData { values, customer, account, case })
}

/// A template merged with real data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Preview {
    pub template_id: i64,
    pub template_key: String,
    pub language: String,
    pub version: i32,
    pub kind: Channel,
    pub subject: String,
    pub body: String,
}

pub async fn preview(
    tx: &mut Tx,
    actor: &Actor,
    template_id: i64,
    subject: &MergeSubject,
    now: Timestamp,
) -> Result<Preview, CorrespondenceError> {
    let template = template(tx, template_id).await?;
    let data = load_merge_data(tx, actor, subject, now).await?;
    Ok(Preview {
        template_id: template.template_id,
        kind: Channel::parse(&template.kind)?,
        subject: merge::merge(&template.subject, "subject", &data.values)?,
        body: merge::merge(&template.body, "body", &data.values)?,
        template_key: template.template_key,
        language: template.language,
        version: template.version,
    })
}
