//! Telephone calls: the phone system's events move a call through its states; ringing (and a
//! transfer, which rings the next extension) pops the caller on the agent's screen; the end of
//! an answered call from a known customer logs a phone contact with the call's real duration.
//! Also the staff extensions that tie a phone to a user, and the webhook secret check.

use crate::LiveError;
use crate::model::{CallEvent, CallState, CallStep, Extension, call_step, normalise_number};
use crate::ops::{SETTING_SECRET, record};
use crate::store::{self, CallRow, StaffRow};
use contacts::model::{Channel, Code, ContactTimes, Direction, Summary};
use db::Tx;
use kernel::ids::UserId;
use kernel::{Actor, Role, Timestamp};
use serde_json::{Value, json};

/// Checks the secret the phone system presents against the stored hash.
pub async fn check_secret(tx: &mut Tx, presented: Option<&str>) -> Result<(), LiveError> {
    let stored = store::setting(tx, SETTING_SECRET).await?.filter(|s| !s.is_empty());
    let Some(stored) = stored else {
        return Err(LiveError::TelephonyNotConfigured);
    };
    let presented = presented.map(str::trim).filter(|p| !p.is_empty()).ok_or(LiveError::TelephonySecretInvalid)?;
    if web::auth::constant_time_eq(db::sha256_hex(presented).as_bytes(), stored.as_bytes()) {
        Ok(())
    } else {
        Err(LiveError::TelephonySecretInvalid)
    }
}

/// What one event did: the call as it now stands and the screen-pop to push, if any.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub call: CallRow,
    /// The user whose screen shows the caller, and the event to show.
    pub pop: Option<(i64, Value)>,
    /// The event repeated the call's state; nothing changed.
    pub repeated: bool,
}

/// Applies one call event.
pub async fn call_event(tx: &mut Tx, event: CallEvent, now: Timestamp) -> Result<CallOutcome, LiveError> {
    let existing = store::find_call(tx, &event.call_id).await?;
    let current = existing.as_ref().map(|c| CallState::parse(&c.state)).transpose()?;
    let step = call_step(current, event.state)?;
    let mut call = match (step, existing) {
        (CallStep::Repeat, Some(call)) => return Ok(CallOutcome { call, pop: None, repeated: true }),
        (_, Some(call)) => call,
        (_, None) => new_call(tx, &event).await?,
    };
    let agent = match &event.extension {
        Some(extension) => store::staff_by_extension(tx, extension.as_str()).await?,
        None => None,
    };
    if let Some(extension) = &event.extension {
        call.extension = extension.as_str().to_string();
        call.agent_user_id = agent.as_ref().map(|a| a.user_id).or(call.agent_user_id);
    }
    if !event.recording_url.is_empty() {
        call.recording_url.clone_from(&event.recording_url);
    }
    call.state = event.state.code().to_string();
    match event.state {
        CallState::Answered => call.answered_at = call.answered_at.or(Some(event.at.micros())),
        CallState::Ended => call.ended_at = Some(event.at.micros()),
        CallState::Ringing | CallState::Transferred => {}
    }
    if event.state == CallState::Ended {
        call.contact_id = log_call_contact(tx, &call, now).await?;
    }
    if call.phone_call_id == 0 {
        call.phone_call_id = store::insert_call(tx, &call, now).await?;
    } else {
        store::update_call(tx, &call, now).await?;
    }
    let detail = json!({ "extension": call.extension, "customer_id": call.customer_id, "contact_id": call.contact_id });
    let action = format!("call.{}", event.state.code());
    record(tx, &Actor::system("telephony"), &action, "phone_call", call.phone_call_id.to_string(), detail, now).await?;
    let pops = matches!(event.state, CallState::Ringing | CallState::Transferred);
    let pop = call.agent_user_id.filter(|_| pops).map(|user| (user, pop_frame(&call, tx_name(&agent))));
    Ok(CallOutcome { call, pop, repeated: false })
}

fn tx_name(agent: &Option<StaffRow>) -> Option<String> {
    agent.as_ref().map(|a| a.display_name.clone())
}

async fn new_call(tx: &mut Tx, event: &CallEvent) -> Result<CallRow, LiveError> {
    let e164 = normalise_number(&event.caller_number).unwrap_or_default();
    let customer = match e164.is_empty() {
        true => None,
        false => store::customer_by_phone(tx, &e164).await?,
    };
    Ok(CallRow {
        phone_call_id: 0,
        external_call_id: event.call_id.clone(),
        state: event.state.code().to_string(),
        caller_number: event.caller_number.clone(),
        caller_e164: e164,
        called_number: event.called_number.clone(),
        extension: String::new(),
        agent_user_id: None,
        customer_id: customer.map(|(id, _)| id),
        contact_id: None,
        recording_url: String::new(),
        ringing_at: event.at.micros(),
        answered_at: None,
        ended_at: None,
    })
}

/// The screen-pop event: the customer's page when the number is known, else a search for it.
pub fn pop_frame(call: &CallRow, agent_name: Option<String>) -> Value {
    let number = if call.caller_e164.is_empty() { call.caller_number.as_str() } else { call.caller_e164.as_str() };
    let url = match call.customer_id {
        Some(id) => format!("/customers/{id}"),
        None => format!("/search?q={}", web::auth::urlencode(number)),
    };
    json!({
        "type": "call",
        "call_id": call.external_call_id,
        "state": call.state,
        "caller_number": number,
        "customer_id": call.customer_id,
        "url": url,
        "agent_name": agent_name,
    })
}

/// Logs the phone contact of an answered call from a known customer, from answer to hang-up.
/// Unanswered calls and unknown callers log nothing here: the call stays in `phone_call`, and an
/// agent who finds the caller logs the contact from the customer's screen.
async fn log_call_contact(tx: &mut Tx, call: &CallRow, now: Timestamp) -> Result<Option<i64>, LiveError> {
    let (Some(customer_id), Some(answered_at), Some(ended_at), Some(agent_id)) =
        (call.customer_id, call.answered_at, call.ended_at, call.agent_user_id)
    else {
        return Ok(None);
    };
    let Some(agent) = store::staff_by_id(tx, agent_id).await? else {
        return Ok(None);
    };
    let role = Role::parse(&agent.role).unwrap_or(Role::Agent1);
    let actor = Actor::User { user_id: UserId(agent.user_id), username: agent.username, role };
    let mut summary = format!("Call from {} to {}", call.caller_number, call.called_number);
    if !call.recording_url.is_empty() {
        summary.push_str(&format!("; recording {}", call.recording_url));
    }
    let times =
        ContactTimes::parse(Some(Timestamp::from_micros(answered_at)), Some(Timestamp::from_micros(ended_at)), now)?;
    let new = contacts::ops::NewContact {
        customer_id,
        account_id: None,
        case_id: None,
        order_id: None,
        payment_id: None,
        channel: Channel::Phone,
        direction: Direction::Inbound,
        reason_code: Code::parse("other", "reason_code")?,
        sub_reason_code: None,
        disposition_code: None,
        summary: Summary::parse(&summary)?,
        times,
    };
    Ok(Some(contacts::ops::log_contact(tx, &actor, new, now).await?.contact_id))
}

/// Sets (or, with `None`, clears) a staff user's telephone extension.
pub async fn set_extension(
    tx: &mut Tx,
    actor: &Actor,
    user_id: i64,
    extension: Option<Extension>,
    now: Timestamp,
) -> Result<(), LiveError> {
    if store::staff_by_id(tx, user_id).await?.is_none() {
        return Err(LiveError::UserNotFound);
    }
    store::clear_extension(tx, user_id).await?;
    if let Some(extension) = &extension {
        match store::insert_extension(tx, user_id, extension.as_str(), now).await {
            Ok(_) => {}
            Err(e) if e.is_unique_violation() => return Err(LiveError::ExtensionTaken),
            Err(e) => return Err(e.into()),
        }
    }
    let detail = json!({ "extension": extension.as_ref().map(Extension::as_str) });
    record(tx, actor, "staff.extension_set", "staff_user", user_id.to_string(), detail, now).await
}
