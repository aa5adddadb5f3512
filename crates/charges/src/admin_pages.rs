//! The admin page of the charges lists (`/admin/charges`): the fee schedule, the adjustment
//! reason codes and the charges settings (approval limit, late-fee policy, deposit per credit
//! rating). Each form calls the same op as the JSON API, so every change is audited the same way.

use crate::ChargeError;
use crate::model::Code;
use crate::ops;
use crate::store::{FeeTypeRow, ReasonRow, SettingRow};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kernel::Permission;
use serde::Deserialize;
use web::extract::HtmxPartial;
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

const PATH: &str = "/admin/charges";

pub fn routes() -> Routes {
    let admin = Access::Signed(Permission::LedgerManage);
    Routes::new().get(PATH, admin, admin_page).post(PATH, admin, admin_action)
}

/// A setting as the page shows it: its value and what it means.
pub struct SettingView {
    pub key: String,
    pub value: i64,
    pub meaning: String,
}

/// What a setting key means, for the person changing it.
pub fn meaning(key: &str) -> String {
    match key {
        ops::APPROVAL_LIMIT_KEY => {
            "Adjustments and deposit refunds above this amount (minor units) wait for a second supervisor.".into()
        }
        "late_fee_percent_basis_points" => {
            "Late fee as a share of the overdue amount, in basis points (150 = 1.5 %).".into()
        }
        "late_fee_minimum_minor" => "The smallest late fee, in minor units (with 0 basis points: a flat fee).".into(),
        "late_fee_grace_period_days" => "Days past the due date before an item is late.".into(),
        other => match (other.strip_prefix("deposit_minor."), other.strip_prefix(ops::NOTICE_SETTING_PREFIX)) {
            (Some(rating), _) => format!("Deposit required for credit rating {rating}, in minor units (0: none)."),
            (_, Some(notice)) => {
                format!("1: send the customer the {notice} notice (template {notice} at /admin/templates); 0: do not.")
            }
            _ => String::new(),
        },
    }
}

#[derive(Template)]
#[template(path = "charges/admin.html")]
struct AdminPage {
    chrome: Chrome,
    fee_types: Vec<FeeTypeRow>,
    reasons: Vec<ReasonRow>,
    settings: Vec<SettingView>,
    error: Option<String>,
}

async fn view(
    state: &AppState,
    user: &CurrentUser,
    partial: bool,
    error: Option<String>,
) -> Result<AdminPage, PageError> {
    let mut tx = state.db.read().await?;
    let fee_types = ops::fee_types(&mut tx).await?;
    let reasons = ops::reasons(&mut tx).await?;
    let settings = ops::settings(&mut tx).await?;
    tx.rollback().await?;
    Ok(AdminPage {
        chrome: Chrome::new("Fees and charges", Some(user), PATH, partial),
        fee_types,
        reasons,
        settings: settings
            .into_iter()
            .map(|SettingRow { setting_key, value }| SettingView {
                meaning: meaning(&setting_key),
                key: setting_key,
                value,
            })
            .collect(),
        error,
    })
}

async fn admin_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    render(&view(&state, &user, partial, None).await?)
}

/// What the page's forms post; `action` says which form.
#[derive(Deserialize, Default)]
struct AdminForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    default_amount_minor: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
}

fn whole(text: &str, invalid: ChargeError) -> Result<i64, ChargeError> {
    text.trim().parse::<i64>().map_err(|_| invalid)
}

/// Saves a fee type, adds or (de)activates a reason, or changes a setting; then back to the page,
/// or the page again with the refusal's message and status, nothing written.
async fn admin_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<AdminForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let actor = user.actor();
    let mut tx = state.db.begin().await?;
    let outcome: Result<(), ChargeError> = async {
        match form.action.as_str() {
            "save_fee_type" => {
                let code = Code::parse(&form.code, "code")?;
                let amount = whole(&form.default_amount_minor, ChargeError::AmountInvalid { field: "default_amount" })?;
                ops::save_fee_type(&mut tx, &actor, &code, &form.label, amount, form.active.is_some(), now).await?;
            }
            "add_reason" => {
                let code = Code::parse(&form.code, "code")?;
                ops::add_reason(&mut tx, &actor, &code, &form.label, now).await?;
            }
            "deactivate_reason" | "activate_reason" => {
                let active = form.action == "activate_reason";
                ops::set_reason_active(&mut tx, &actor, form.code.trim(), active, now).await?;
            }
            "set_setting" => {
                let value = whole(&form.value, ChargeError::SettingValueInvalid)?;
                ops::set_setting(&mut tx, &actor, form.key.trim(), value, now).await?;
            }
            _ => return Err(ChargeError::SettingUnknown),
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to(PATH).into_response())
        }
        Err(e) => {
            tx.rollback().await?;
            let (status, message) = web::form_message(e)?;
            let page = view(&state, &user, false, Some(message)).await?;
            Ok((status, render(&page)?).into_response())
        }
    }
}
