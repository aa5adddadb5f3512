//! HTML handlers: the contact panel and timeline fragments the customer page loads with htmx,
//! the full timeline page, and the admin page for reason codes and dispositions.

use crate::ContactError;
use crate::api::ContactBody;
use crate::model::{Channel, Code, format_duration, parse_label};
use crate::ops::{self, NewReasonCode};
use crate::store::{ContactRow, DispositionRow, ReasonCodeRow};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use db::Tx;
use http::HeaderValue;
use kernel::{PageRequest, Permission, Timestamp};
use serde::Deserialize;
use web::extract::{HtmxPartial, Path, Query};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

/// How many contacts one page of the timeline shows.
const TIMELINE_PAGE_SIZE: u32 = 20;

pub fn routes() -> Routes {
    use Permission as P;
    let manage = Access::Signed(P::ContactsManage);
    Routes::new()
        .get("/customers/{customer_id}/contact-panel", Access::Signed(P::ContactsLog), panel)
        .post("/customers/{customer_id}/contacts", Access::Signed(P::ContactsLog), log_contact)
        .get("/customers/{customer_id}/timeline", Access::Signed(P::CustomersRead), timeline_page)
        .get("/admin/reason-codes", manage, admin_page)
        .post("/admin/reason-codes", manage, admin_action)
}

/// One `<option>` of a picker.
struct Choice {
    value: String,
    label: String,
    is_sub: bool,
    selected: bool,
}

#[derive(Template)]
#[template(path = "contacts/panel.html")]
struct Panel {
    customer_id: i64,
    csrf: String,
    started_at: String,
    channels: Vec<Choice>,
    direction: String,
    reasons: Vec<Choice>,
    dispositions: Vec<Choice>,
    accounts: Vec<Choice>,
    summary: String,
    error: Option<String>,
    /// Sent beside the timeline after a contact is logged, to replace the panel out of band.
    oob: bool,
}

/// What the panel's form posts.
#[derive(Deserialize, Default, Clone)]
struct ContactForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    direction: String,
    /// `reason` or `reason:sub_reason`.
    #[serde(default)]
    reason: String,
    #[serde(default)]
    disposition_code: String,
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    started_at: String,
}

fn some(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

impl ContactForm {
    fn body(&self, customer_id: i64) -> Result<ContactBody, ContactError> {
        let (reason, sub_reason) = match self.reason.split_once(':') {
            Some((reason, sub)) => (reason.to_string(), some(sub)),
            None => (self.reason.clone(), None),
        };
        let account_id = match some(&self.account_id) {
            Some(text) => Some(text.parse::<i64>().map_err(|_| ContactError::IdInvalid { field: "account_id" })?),
            None => None,
        };
        Ok(ContactBody {
            customer_id,
            account_id,
            channel: if self.channel.is_empty() { "phone".into() } else { self.channel.clone() },
            direction: some(&self.direction),
            reason_code: reason,
            sub_reason_code: sub_reason,
            disposition_code: some(&self.disposition_code),
            summary: self.summary.clone(),
            started_at: some(&self.started_at),
            ..Default::default()
        })
    }
}

/// Builds the panel for a customer, keeping what the agent already chose when re-shown.
async fn build_panel(
    tx: &mut Tx,
    user: &CurrentUser,
    customer_id: i64,
    form: &ContactForm,
    now: Timestamp,
) -> Result<Panel, PageError> {
    let reasons = ops::reason_codes(tx).await?;
    let dispositions = ops::dispositions(tx).await?;
    let accounts = customers::store::accounts_of(tx, customer_id).await?;
    let chosen_channel = if form.channel.is_empty() { "phone" } else { form.channel.as_str() };
    let chosen_disposition =
        if form.disposition_code.is_empty() { "information_given" } else { form.disposition_code.as_str() };
    Ok(Panel {
        customer_id,
        csrf: user.csrf_token().to_string(),
        started_at: some(&form.started_at).unwrap_or_else(|| now.to_rfc3339()),
        channels: Channel::ALL
            .into_iter()
            .filter(|c| c.is_worked())
            .map(|c| Choice {
                value: c.code().into(),
                label: c.label().into(),
                is_sub: false,
                selected: c.code() == chosen_channel,
            })
            .collect(),
        direction: if form.direction == "outbound" { "outbound".into() } else { "inbound".into() },
        reasons: reason_choices(&reasons, &form.reason),
        dispositions: dispositions
            .into_iter()
            .filter(|d| d.active)
            .map(|d| Choice { selected: d.code == chosen_disposition, value: d.code, label: d.label, is_sub: false })
            .collect(),
        accounts: accounts
            .into_iter()
            .map(|a| Choice {
                selected: a.account_id.to_string() == form.account_id,
                value: a.account_id.to_string(),
                label: a.account_number,
                is_sub: false,
            })
            .collect(),
        summary: form.summary.clone(),
        error: None,
        oob: false,
    })
}

/// Active reasons, each followed by its active sub-reasons (`reason:sub` values).
fn reason_choices(rows: &[ReasonCodeRow], chosen: &str) -> Vec<Choice> {
    let mut choices = Vec::new();
    for reason in rows.iter().filter(|r| r.active && r.parent_code.is_none()) {
        choices.push(Choice {
            value: reason.code.clone(),
            label: reason.label.clone(),
            is_sub: false,
            selected: reason.code == chosen,
        });
        for sub in rows.iter().filter(|s| s.active && s.parent_code.as_deref() == Some(reason.code.as_str())) {
            let value = format!("{}:{}", reason.code, sub.code);
            choices.push(Choice { selected: value == chosen, value, label: sub.label.clone(), is_sub: true });
        }
    }
    choices
}

async fn panel(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(customer_id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    if customers::store::find_customer(&mut tx, customer_id).await?.is_none() {
        return Err(ContactError::CustomerNotFound.into());
    }
    let panel = build_panel(&mut tx, &user, customer_id, &ContactForm::default(), state.clock.now()).await?;
    tx.rollback().await?;
    render(&panel)
}

struct TimelineLine {
    contact_id: i64,
    when: String,
    channel: String,
    direction: String,
    reason: String,
    disposition: String,
    duration: String,
    agent: String,
    summary: String,
}

impl From<ContactRow> for TimelineLine {
    fn from(c: ContactRow) -> TimelineLine {
        let label = |label: Option<String>, code: &str| label.unwrap_or_else(|| code.to_string());
        let mut reason = label(c.reason_label, &c.reason_code);
        if let Some(sub) = c.sub_reason_code.as_deref() {
            reason = format!("{reason} › {}", label(c.sub_reason_label, sub));
        }
        TimelineLine {
            contact_id: c.contact_id,
            when: Timestamp(c.started_at).to_display(),
            channel: Channel::parse(&c.channel).map(|ch| ch.label().to_string()).unwrap_or(c.channel),
            direction: c.direction,
            reason,
            disposition: c.disposition_code.map(|code| label(c.disposition_label, &code)).unwrap_or_default(),
            duration: format_duration(c.duration_seconds),
            agent: c.agent_name,
            summary: c.summary,
        }
    }
}

#[derive(Template)]
#[template(path = "contacts/timeline.html")]
struct Timeline {
    customer_id: i64,
    items: Vec<TimelineLine>,
    next_cursor: Option<String>,
}

async fn build_timeline(tx: &mut Tx, customer_id: i64, cursor: Option<&str>) -> Result<Timeline, PageError> {
    let page = PageRequest::parse(Some(TIMELINE_PAGE_SIZE), cursor)?;
    let rows = ops::timeline(tx, customer_id, &page).await?;
    Ok(Timeline {
        customer_id,
        items: rows.items.into_iter().map(TimelineLine::from).collect(),
        next_cursor: rows.next_cursor,
    })
}

#[derive(Template)]
#[template(path = "contacts/timeline_page.html")]
struct TimelinePage {
    chrome: Chrome,
    customer_id: i64,
    customer_name: String,
    panel_html: Option<String>,
    timeline_html: String,
}

#[derive(Deserialize, Default)]
struct CursorQuery {
    cursor: Option<String>,
}

async fn full_page(
    tx: &mut Tx,
    user: &CurrentUser,
    customer_id: i64,
    panel: Option<Panel>,
    cursor: Option<&str>,
) -> Result<TimelinePage, PageError> {
    let customer = customers::store::find_customer(tx, customer_id).await?.ok_or(ContactError::CustomerNotFound)?;
    let timeline = build_timeline(tx, customer_id, cursor).await?;
    let rendered = |t: &dyn askama::DynTemplate| t.dyn_render().map_err(|e| PageError(web::ApiError::internal(e)));
    Ok(TimelinePage {
        chrome: Chrome::new(&format!("Contacts · {}", customer.display_name), Some(user), "/customers", false),
        customer_id,
        customer_name: customer.display_name,
        panel_html: panel.map(|p| rendered(&p)).transpose()?,
        timeline_html: rendered(&timeline)?,
    })
}

/// The timeline: the fragment for htmx (paging swaps it in place), the full page otherwise.
async fn timeline_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(customer_id): Path<i64>,
    Query(q): Query<CursorQuery>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    if partial {
        let timeline = build_timeline(&mut tx, customer_id, q.cursor.as_deref()).await?;
        tx.rollback().await?;
        return render(&timeline);
    }
    let panel = if user.role.permits(Permission::ContactsLog) {
        Some(build_panel(&mut tx, &user, customer_id, &ContactForm::default(), state.clock.now()).await?)
    } else {
        None
    };
    let page = full_page(&mut tx, &user, customer_id, panel, q.cursor.as_deref()).await?;
    tx.rollback().await?;
    render(&page)
}

/// Logs the panel's contact. For htmx: the refreshed timeline, plus a fresh panel out of band
/// (its timer restarts); on bad input, the panel again with the error, swapped over itself.
/// Without htmx: back to the customer page, or the timeline page with the error.
async fn log_contact(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(customer_id): Path<i64>,
    Form(form): Form<ContactForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let outcome = match form.body(customer_id).and_then(|body| body.parse(now)) {
        Ok(new) => {
            let mut tx = state.db.begin().await?;
            match ops::log_contact(&mut tx, &user.actor(), new, now).await {
                Ok(_) => {
                    tx.commit().await?;
                    Ok(())
                }
                Err(e) => {
                    tx.rollback().await?;
                    Err(e)
                }
            }
        }
        Err(e) => Err(e),
    };
    let error = match outcome {
        Ok(()) if !partial => return Ok(Redirect::to(&format!("/customers/{customer_id}")).into_response()),
        Ok(()) => None,
        Err(e) if web::Problem::status(&e).is_server_error() => return Err(e.into()),
        Err(ContactError::CustomerUnknown) => return Err(ContactError::CustomerNotFound.into()),
        Err(e) => Some(e),
    };
    let mut tx = state.db.read().await?;
    let response = match (error, partial) {
        (None, _) => {
            let timeline = build_timeline(&mut tx, customer_id, None).await?;
            let mut fresh = build_panel(&mut tx, &user, customer_id, &ContactForm::default(), now).await?;
            fresh.oob = true;
            let body = format!("{}\n{}", render(&timeline)?.0, render(&fresh)?.0);
            Html(body).into_response()
        }
        (Some(e), true) => {
            let mut panel = build_panel(&mut tx, &user, customer_id, &form, now).await?;
            panel.error = Some(web::field_message(&e));
            let mut response = render(&panel)?.into_response();
            let headers = response.headers_mut();
            headers.insert("hx-retarget", HeaderValue::from_static("#contact-panel"));
            headers.insert("hx-reswap", HeaderValue::from_static("outerHTML"));
            response
        }
        (Some(e), false) => {
            let mut panel = build_panel(&mut tx, &user, customer_id, &form, now).await?;
            panel.error = Some(web::field_message(&e));
            let page = full_page(&mut tx, &user, customer_id, Some(panel), None).await?;
            (web::Problem::status(&e), render(&page)?).into_response()
        }
    };
    tx.rollback().await?;
    Ok(response)
}

#[derive(Template)]
#[template(path = "contacts/admin.html")]
struct AdminPage {
    chrome: Chrome,
    reasons: Vec<ReasonCodeRow>,
    parents: Vec<ReasonCodeRow>,
    dispositions: Vec<DispositionRow>,
    error: Option<String>,
}

async fn admin_view(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    error: Option<String>,
) -> Result<AdminPage, PageError> {
    let mut tx = state.db.read().await?;
    let reasons = ops::reason_codes(&mut tx).await?;
    let dispositions = ops::dispositions(&mut tx).await?;
    tx.rollback().await?;
    Ok(AdminPage {
        chrome: Chrome::new("Reason codes", Some(user), "/admin/reason-codes", partial),
        parents: reasons.iter().filter(|r| r.active && r.parent_code.is_none()).cloned().collect(),
        reasons,
        dispositions,
        error,
    })
}

async fn admin_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    render(&admin_view(&state, &user, partial, None).await?)
}

#[derive(Deserialize, Default)]
struct AdminForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    parent_code: String,
}

/// Adds, deactivates or reactivates a reason code or disposition.
async fn admin_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<AdminForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let actor = user.actor();
    let mut tx = state.db.begin().await?;
    let outcome = match form.action.as_str() {
        "add_reason" => match NewReasonCode::parse(&form.code, &form.label, Some(&form.parent_code)) {
            Ok(new) => ops::add_reason_code(&mut tx, &actor, new, now).await.map(|_| ()),
            Err(e) => Err(e),
        },
        "add_disposition" => match (Code::parse(&form.code, "code"), parse_label(&form.label)) {
            (Ok(code), Ok(label)) => ops::add_disposition(&mut tx, &actor, &code, &label, now).await.map(|_| ()),
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        "deactivate_reason" | "activate_reason" => {
            ops::set_reason_active(&mut tx, &actor, &form.code, form.action == "activate_reason", now).await
        }
        "deactivate_disposition" | "activate_disposition" => {
            ops::set_disposition_active(&mut tx, &actor, &form.code, form.action == "activate_disposition", now).await
        }
        _ => Err(ContactError::CodeNotFound),
    };
    match outcome {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to("/admin/reason-codes").into_response())
        }
        Err(e) => {
            tx.rollback().await?;
            let status = web::Problem::status(&e);
            if status.is_server_error() {
                return Err(e.into());
            }
            let page = admin_view(&state, &user, false, Some(web::field_message(&e))).await?;
            Ok((status, render(&page)?).into_response())
        }
    }
}
