//! HTML handlers: the agent's worklist, the new-case form, the case page with its thread and
//! actions, queue pages with "take next" and the lead's bulk reassignment, and the admin page
//! for SLA policies, business hours, holidays and reopening.

use crate::CaseError;
use crate::api::CaseBody;
use crate::model::{self, Priority};
use crate::ops::{self, CaseView};
use crate::store::{self, CaseRow, PolicyRow, QueueRow};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::StatusCode;
use kernel::{Permission, Timestamp};
use serde::Deserialize;
use web::extract::{HtmxPartial, Path, Query};
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    let work = Access::Signed(P::CasesWork);
    let manage = Access::Signed(P::CasesManage);
    Routes::new()
        .get("/cases", work, worklist_page)
        .get("/cases/new", work, new_page)
        .post("/cases", work, create)
        .get("/cases/{case_id}", work, show_page)
        .post("/cases/{case_id}/thread", work, thread_post)
        .post("/cases/{case_id}/resolve", work, resolve_post)
        .post("/cases/{case_id}/close", work, close_post)
        .post("/cases/{case_id}/escalate", work, escalate_post)
        .post("/cases/{case_id}/transfer", work, transfer_post)
        .post("/cases/{case_id}/callbacks", work, callback_post)
        .post("/cases/{case_id}/links", work, link_post)
        .get("/customers/{customer_id}/cases", work, customer_cases)
        .get("/queues", manage, queues_page)
        .post("/queues", manage, create_queue_post)
        .get("/queues/{queue_id}", work, queue_page)
        .post("/queues/{queue_id}/take-next", work, take_next_post)
        .post("/queues/{queue_id}/reassign", manage, reassign_post)
        .post("/queues/{queue_id}/members", manage, member_post)
        .get("/admin/sla", manage, sla_page)
        .post("/admin/sla/policies", manage, policy_post)
        .post("/admin/sla/calendar", manage, calendar_post)
        .post("/admin/sla/holidays", manage, holiday_post)
        .post("/admin/sla/reopen", manage, reopen_post)
}

pub struct QueueLine {
    pub queue_id: i64,
    pub name: String,
    pub tier: i32,
    pub waiting: i64,
    pub assigned: i64,
    pub breached: i64,
}

async fn queue_lines(tx: &mut db::Tx) -> Result<Vec<QueueLine>, CaseError> {
    let counts = store::queue_counts(tx).await?;
    Ok(store::queues(tx)
        .await?
        .into_iter()
        .filter(|q| q.active)
        .map(|q| {
            let (_, waiting, assigned, breached) =
                counts.iter().find(|c| c.0 == q.queue_id).copied().unwrap_or_default();
            QueueLine { queue_id: q.queue_id, name: q.name, tier: q.tier, waiting, assigned, breached }
        })
        .collect())
}

struct CallbackLine {
    case_id: i64,
    when: String,
    note: String,
}

#[derive(Template)]
#[template(path = "cases/worklist.html")]
struct WorklistPage {
    chrome: Chrome,
    cases: Vec<CaseRow>,
    callbacks: Vec<CallbackLine>,
    queues: Vec<QueueLine>,
}

async fn worklist_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let cases = store::cases_of_assignee(&mut tx, user.user_id.get(), 200).await?;
    let callbacks = store::callbacks_due(&mut tx, user.user_id.get(), state.clock.now()).await?;
    let queues = queue_lines(&mut tx).await?;
    tx.rollback().await?;
    let page = WorklistPage {
        chrome: Chrome::new("My work", Some(&user), "/cases", partial),
        cases,
        callbacks: callbacks
            .into_iter()
            .map(|c| CallbackLine { case_id: c.case_id, when: Timestamp(c.due_at).to_display(), note: c.note })
            .collect(),
        queues,
    };
    render(&page)
}

#[derive(Deserialize, Default, Clone)]
struct NewForm {
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    contact_id: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    queue_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    assign_to_me: Option<String>,
}

#[derive(Template)]
#[template(path = "cases/new.html")]
struct NewPage {
    chrome: Chrome,
    form: NewForm,
    customer_name: String,
    categories: &'static [&'static str],
    priorities: Vec<&'static str>,
    queues: Vec<QueueRow>,
    error: Option<String>,
}

async fn render_new(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    form: NewForm,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut tx = state.db.read().await?;
    let queues = store::queues(&mut tx).await?.into_iter().filter(|q| q.active).collect();
    let customer_name = match form.customer_id.parse::<i64>() {
        Ok(id) => customers::store::find_customer(&mut tx, id).await?.map(|c| c.display_name).unwrap_or_default(),
        Err(_) => String::new(),
    };
    tx.rollback().await?;
    let page = NewPage {
        chrome: Chrome::new("New case", Some(user), "/cases", partial),
        form,
        customer_name,
        categories: &model::CATEGORIES,
        priorities: Priority::ALL.iter().map(|p| p.code()).collect(),
        queues,
        error,
    };
    Ok((status, render(&page)?).into_response())
}

async fn new_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Query(form): Query<NewForm>,
) -> Result<Response, PageError> {
    let form =
        NewForm { priority: if form.priority.is_empty() { "normal".into() } else { form.priority.clone() }, ..form };
    render_new(&state, &user, partial, form, None, StatusCode::OK).await
}

fn id_or_none(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<NewForm>,
) -> Result<Response, PageError> {
    let body = CaseBody {
        customer_id: id_or_none(&form.customer_id),
        account_id: None,
        subject: form.subject.clone(),
        category: form.category.clone(),
        priority: Some(form.priority.clone()).filter(|p| !p.is_empty()),
        queue_id: id_or_none(&form.queue_id),
        assignee_id: form.assign_to_me.as_ref().map(|_| user.user_id.get()),
        description: Some(form.description.clone()),
        contact_id: id_or_none(&form.contact_id),
    };
    let now = state.clock.now();
    let outcome = match body.parse() {
        Ok(new) => {
            let mut tx = state.db.begin().await?;
            match ops::open_case(&mut tx, &user.actor(), new, now).await {
                Ok(case) => {
                    tx.commit().await?;
                    Ok(case)
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(case) => Ok(Redirect::to(&format!("/cases/{}", case.case_id)).into_response()),
        Err(e) => {
            let (status, text) = web::form_message(e)?;
            render_new(&state, &user, false, form, Some(text), status).await
        }
    }
}

#[derive(Template)]
#[template(path = "cases/show.html")]
struct ShowPage {
    chrome: Chrome,
    view: CaseView,
    /// The customer's alerts, shown on every screen about them.
    alerts: Vec<customers::store::AlertRow>,
    live: bool,
    sla_text: String,
    queues: Vec<QueueRow>,
    resolution_codes: &'static [&'static str],
    error: Option<String>,
}

fn describe_seconds(seconds: i64) -> String {
    let minutes = seconds.abs() / 60;
    let text = if minutes >= 60 { format!("{}h {:02}m", minutes / 60, minutes % 60) } else { format!("{minutes}m") };
    if seconds < 0 { format!("{text} past due (business time)") } else { format!("{text} left (business time)") }
}

async fn render_case(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    partial: bool,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut tx = state.db.read().await?;
    let view = ops::view(&mut tx, id, state.clock.now()).await?;
    let queues = store::queues(&mut tx).await?.into_iter().filter(|q| q.active).collect();
    let alerts = match view.case.customer_id {
        Some(customer_id) => customers::store::active_alerts(&mut tx, customer_id).await?,
        None => Vec::new(),
    };
    tx.rollback().await?;
    let page = ShowPage {
        chrome: Chrome::new(&view.case.case_number, Some(user), "/cases", partial),
        live: model::CaseStatus::parse(&view.case.status).map(|s| s.is_live()).unwrap_or(false),
        sla_text: view.sla_remaining_seconds.map(describe_seconds).unwrap_or_else(|| "no target".into()),
        view,
        alerts,
        queues,
        resolution_codes: &model::RESOLUTION_CODES,
        error,
    };
    Ok((status, render(&page)?).into_response())
}

async fn show_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    render_case(&state, &user, id, partial, None, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
struct ActionForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    resolution_code: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    queue_id: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    other: String,
    #[serde(default)]
    kind: String,
}

/// Runs one case action in a transaction; on a refusal the case page is shown again with the
/// reason, on success the case page is reloaded.
async fn act<F>(state: &AppState, user: &CurrentUser, id: i64, action: F) -> Result<Response, PageError>
where
    F: for<'a> FnOnce(
        &'a mut db::Tx,
        kernel::Actor,
        Timestamp,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), CaseError>> + Send + 'a>>,
{
    let mut tx = state.db.begin().await?;
    match action(&mut tx, user.actor(), state.clock.now()).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/cases/{id}")).into_response())
        }
        Err(e) => {
            tx.rollback().await?;
            let (status, text) = web::form_message(e)?;
            render_case(state, user, id, false, Some(text), status).await
        }
    }
}

async fn thread_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    act(&state, &user, id, move |tx, actor, now| {
        Box::pin(async move {
            match form.action.as_str() {
                "reply" => ops::reply(tx, &actor, id, &form.body, false, now).await.map(|_| ()),
                "reply_wait" => ops::reply(tx, &actor, id, &form.body, true, now).await.map(|_| ()),
                _ => ops::add_note(tx, &actor, id, &form.body, now).await.map(|_| ()),
            }
        })
    })
    .await
}

async fn resolve_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    act(&state, &user, id, move |tx, actor, now| {
        Box::pin(async move { ops::resolve(tx, &actor, id, &form.resolution_code, None, now).await.map(|_| ()) })
    })
    .await
}

async fn close_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    act(&state, &user, id, move |tx, actor, now| {
        Box::pin(async move { ops::close(tx, &actor, id, now).await.map(|_| ()) })
    })
    .await
}

async fn escalate_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    act(&state, &user, id, move |tx, actor, now| {
        Box::pin(async move { ops::escalate(tx, &actor, id, &form.reason, now).await.map(|_| ()) })
    })
    .await
}

async fn transfer_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    act(&state, &user, id, move |tx, actor, now| {
        Box::pin(async move {
            let queue_id = id_or_none(&form.queue_id).ok_or(CaseError::QueueNotFound)?;
            ops::transfer(tx, &actor, id, queue_id, None, now).await.map(|_| ())
        })
    })
    .await
}

async fn callback_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    let assignee = user.user_id.get();
    act(&state, &user, id, move |tx, actor, now| {
        Box::pin(async move {
            let hours: i64 = form.hours.trim().parse().map_err(|_| CaseError::ValueUnknown { field: "hours" })?;
            if !(1..=720).contains(&hours) {
                return Err(CaseError::ValueUnknown { field: "hours" });
            }
            ops::schedule_callback(tx, &actor, id, assignee, now.plus_seconds(hours * 3_600), &form.note, now)
                .await
                .map(|_| ())
        })
    })
    .await
}

#[derive(Template)]
#[template(path = "cases/customer_cases.html")]
struct CustomerCases {
    customer_id: i64,
    contact_id: Option<i64>,
    cases: Vec<CaseRow>,
}

#[derive(Deserialize, Default)]
struct ContactQuery {
    contact_id: Option<i64>,
}

/// The customer's cases as a fragment for the customer screen (loaded by htmx).
async fn customer_cases(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<ContactQuery>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let cases = store::cases_of_customer(&mut tx, id, 50).await?;
    tx.rollback().await?;
    render(&CustomerCases { customer_id: id, contact_id: q.contact_id, cases })
}

async fn link_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    act(&state, &user, id, move |tx, actor, now| {
        Box::pin(async move {
            let number = form.other.trim().to_uppercase();
            let other = store::find_case_by_number(tx, &number).await?.ok_or(CaseError::CaseNotFound)?;
            match form.kind.as_str() {
                "merge" => ops::merge(tx, &actor, id, other.case_id, now).await.map(|_| ()),
                kind => ops::link(tx, &actor, id, other.case_id, kind, now).await,
            }
        })
    })
    .await
}

#[derive(Template)]
#[template(path = "cases/queues.html")]
struct QueuesPage {
    chrome: Chrome,
    title: String,
    show_overview: bool,
    queues: Vec<QueueLine>,
    queue_id: Option<i64>,
    cases: Vec<CaseRow>,
    staff: Vec<(i64, String)>,
    members: Vec<(i64, String)>,
    can_manage: bool,
    error: Option<String>,
}

/// The lead's overview of every queue, with the add-queue form (and its error, if any).
async fn render_overview(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut tx = state.db.read().await?;
    let queues = queue_lines(&mut tx).await?;
    tx.rollback().await?;
    let page = QueuesPage {
        chrome: Chrome::new("Queues", Some(user), "/queues", partial),
        title: "Queue overview".into(),
        show_overview: true,
        queues,
        queue_id: None,
        cases: Vec::new(),
        staff: Vec::new(),
        members: Vec::new(),
        can_manage: true,
        error,
    };
    Ok((status, render(&page)?).into_response())
}

async fn queues_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Response, PageError> {
    render_overview(&state, &user, partial, None, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
struct QueueForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    description: String,
}

async fn create_queue_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<QueueForm>,
) -> Result<Response, PageError> {
    let outcome = async {
        let name = model::required_text(&form.name, "name", 80)?;
        let tier = model::parse_tier(form.tier.trim().parse().map_err(|_| CaseError::ValueUnknown { field: "tier" })?)?;
        let mut tx = state.db.begin().await?;
        ops::create_queue(&mut tx, &user.actor(), &name, tier, form.description.trim(), state.clock.now()).await?;
        tx.commit().await?;
        Ok::<(), CaseError>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(Redirect::to("/queues").into_response()),
        Err(e) => {
            let (status, text) = web::form_message(e)?;
            render_overview(&state, &user, false, Some(text), status).await
        }
    }
}

async fn queue_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let queue = store::find_queue(&mut tx, id).await?.ok_or(CaseError::QueueNotFound)?;
    let cases = store::cases_in_queue(&mut tx, id, 0, 500).await?;
    let members = store::members_of(&mut tx, id).await?;
    let staff = db::fetch_all!(
        &mut tx,
        (i64, String),
        "select user_id, display_name from staff_user where disabled = false order by display_name limit 500"
    )?;
    tx.rollback().await?;
    let page = QueuesPage {
        chrome: Chrome::new(&queue.name, Some(&user), "/queues", partial),
        title: format!("{} (tier {})", queue.name, queue.tier),
        show_overview: false,
        queues: Vec::new(),
        queue_id: Some(id),
        cases,
        staff,
        members,
        can_manage: user.role.permits(Permission::CasesManage),
        error: None,
    };
    render(&page)
}

async fn take_next_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let mut tx = state.db.begin().await?;
    let taken = ops::take_next(&mut tx, &user.actor(), id, state.clock.now()).await?;
    tx.commit().await?;
    Ok(match taken {
        Some(case) => Redirect::to(&format!("/cases/{}", case.case_id)).into_response(),
        None => Redirect::to(&format!("/queues/{id}")).into_response(),
    })
}

async fn reassign_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(&body);
    let case_ids: Vec<i64> =
        pairs.iter().filter(|(k, _)| k == "case_ids").filter_map(|(_, v)| v.parse().ok()).collect();
    let assignee = pairs.iter().find(|(k, _)| k == "assignee_id").and_then(|(_, v)| v.parse().ok());
    let mut tx = state.db.begin().await?;
    ops::reassign_many(&mut tx, &user.actor(), &case_ids, assignee, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/queues/{id}")).into_response())
}

#[derive(Deserialize, Default)]
struct MemberForm {
    #[serde(default)]
    user_id: String,
}

async fn member_post(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<MemberForm>,
) -> Result<Response, PageError> {
    let user_id: i64 = form.user_id.trim().parse().map_err(|_| CaseError::UserNotFound)?;
    let mut tx = state.db.begin().await?;
    store::find_queue(&mut tx, id).await?.ok_or(CaseError::QueueNotFound)?;
    if !store::user_exists(&mut tx, user_id).await? {
        return Err(CaseError::UserNotFound.into());
    }
    store::add_member(&mut tx, id, user_id).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/queues/{id}")).into_response())
}

/// Form pairs, repeated keys kept (a checkbox list sends one pair per ticked box).
fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (k.to_string(), v.replace('+', " "))).collect()
}

#[derive(Template)]
#[template(path = "cases/sla.html")]
struct SlaPage {
    chrome: Chrome,
    policies: Vec<PolicyRow>,
    offset_minutes: i32,
    week: String,
    time_zone: String,
    holidays: Vec<(String, String)>,
    reopen_days: i64,
    error: Option<String>,
}

async fn sla_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let policies = store::policies(&mut tx).await?;
    let calendar = db::fetch_one!(
        &mut tx,
        (i32, String, String),
        "select utc_offset_minutes, week, time_zone from business_calendar where calendar_id = 1"
    )?;
    let holidays = store::holidays(&mut tx, 1).await?;
    let reopen_days = store::reopen_days(&mut tx).await?;
    tx.rollback().await?;
    let page = SlaPage {
        chrome: Chrome::new("SLA policies", Some(&user), "/admin/sla", partial),
        policies,
        offset_minutes: calendar.0,
        week: calendar.1,
        time_zone: calendar.2,
        holidays,
        reopen_days,
        error: None,
    };
    render(&page)
}

#[derive(Deserialize, Default)]
struct SlaForm {
    #[serde(default)]
    priority: String,
    #[serde(default)]
    first_response_minutes: String,
    #[serde(default)]
    resolution_minutes: String,
    #[serde(default)]
    utc_offset_minutes: String,
    #[serde(default)]
    week: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    reopen_days: String,
    #[serde(default)]
    time_zone: String,
}

fn number(text: &str, field: &'static str) -> Result<i32, CaseError> {
    text.trim().parse().map_err(|_| CaseError::ValueUnknown { field })
}

async fn policy_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<SlaForm>,
) -> Result<Response, PageError> {
    let priority = Priority::parse(&form.priority)?;
    let first = number(&form.first_response_minutes, "first_response_minutes")?;
    let resolution = number(&form.resolution_minutes, "resolution_minutes")?;
    let mut tx = state.db.begin().await?;
    ops::set_policy(&mut tx, &user.actor(), priority, first, resolution, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/sla").into_response())
}

async fn calendar_post(State(state): State<AppState>, Form(form): Form<SlaForm>) -> Result<Response, PageError> {
    let offset = number(&form.utc_offset_minutes, "utc_offset_minutes")?;
    if !(-14 * 60..=14 * 60).contains(&offset) {
        return Err(CaseError::ValueUnknown { field: "utc_offset_minutes" }.into());
    }
    let zone = form.time_zone.trim().to_string();
    if !zone.is_empty() && jiff::tz::TimeZone::get(&zone).is_err() {
        return Err(CaseError::ValueUnknown { field: "time_zone" }.into());
    }
    let week: Vec<Option<[u32; 2]>> =
        serde_json::from_str(&form.week).map_err(|_| CaseError::ValueUnknown { field: "week" })?;
    let valid = week.len() == 7 && week.iter().flatten().all(|[open, close]| open < close && *close <= 24 * 60);
    if !valid {
        return Err(CaseError::ValueUnknown { field: "week" }.into());
    }
    let mut tx = state.db.begin().await?;
    store::set_calendar(
        &mut tx,
        1,
        offset,
        &zone,
        &serde_json::to_string(&week).map_err(|e| PageError(web::ApiError::internal(e)))?,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/sla").into_response())
}

async fn holiday_post(State(state): State<AppState>, Form(form): Form<SlaForm>) -> Result<Response, PageError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(form.date.trim(), &format).map_err(|_| CaseError::ValueUnknown { field: "date" })?;
    let name = model::required_text(&form.name, "name", 80)?;
    let mut tx = state.db.begin().await?;
    store::add_holiday(&mut tx, 1, form.date.trim(), &name).await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/sla").into_response())
}

async fn reopen_post(State(state): State<AppState>, Form(form): Form<SlaForm>) -> Result<Response, PageError> {
    let days = number(&form.reopen_days, "reopen_days")?;
    if !(0..=365).contains(&days) {
        return Err(CaseError::ValueUnknown { field: "reopen_days" }.into());
    }
    let mut tx = state.db.begin().await?;
    store::set_reopen_days(&mut tx, days).await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/sla").into_response())
}
