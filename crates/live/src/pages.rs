//! HTML and script handlers: the chat console page and its script, the embeddable widget
//! script, the settings page (widget origins, telephony secret, staff extensions), and the
//! screen-pop event stream every signed-in page listens to.

use crate::hub::Hub;
use crate::model::Extension;
use crate::ops::{self, LiveSettings, SettingsChange};
use crate::relay::NodeStatus;
use crate::store::{self, ExtensionRow};
use crate::{LiveError, telephony};
use askama::Template;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension as Ext, Form};
use futures_util::stream::{self, Stream, StreamExt};
use http::{HeaderValue, header};
use kernel::Permission;
use serde::Deserialize;
use std::convert::Infallible;
use web::extract::HtmxPartial;
use web::layout::render;
use web::{Access, AppState, Chrome, CurrentUser, PageError, Routes};

const WIDGET_JS: &str = include_str!("../assets/widget.js");
const CONSOLE_JS: &str = include_str!("../assets/console.js");

pub fn routes() -> Routes {
    use Permission as P;
    let manage = Access::Signed(P::ChatManage);
    Routes::new()
        .get("/chat", Access::Signed(P::ChatWork), console_page)
        .get("/chat/console.js", Access::Public, console_js)
        .get("/chat/widget.js", Access::Public, widget_js)
        .get("/chat/ws", Access::Public, crate::ws::visitor_socket)
        .get("/chat/agent/ws", Access::Signed(P::ChatWork), crate::ws::agent_socket)
        .get("/chat/settings", manage, settings_page)
        .post("/chat/settings", manage, settings_action)
        .get("/events", Access::Signed(P::Profile), events)
}

fn script(body: &'static str, cross_origin: bool) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    if cross_origin {
        // Other sites load the widget; the default same-origin policy headers must not stop them.
        headers.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    response
}

/// `GET /chat/widget.js`: the script a customer-facing site embeds with one tag.
async fn widget_js() -> Response {
    script(WIDGET_JS, true)
}

async fn console_js() -> Response {
    script(CONSOLE_JS, false)
}

#[derive(Template)]
#[template(path = "live/console.html")]
struct ConsolePage {
    chrome: Chrome,
    reasons: Vec<contacts::store::ReasonCodeRow>,
    dispositions: Vec<contacts::store::DispositionRow>,
    /// Colleagues a chat can be transferred to.
    agents: Vec<store::StaffRow>,
}

async fn console_page(
    State(state): State<AppState>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    let mut tx = state.db.read().await?;
    let reasons = contacts::ops::reason_codes(&mut tx).await?.into_iter().filter(|r| r.active).collect();
    let dispositions = contacts::ops::dispositions(&mut tx).await?.into_iter().filter(|d| d.active).collect();
    let me = user.user_id.get();
    let agents = store::active_staff(&mut tx)
        .await?
        .into_iter()
        .filter(|s| s.user_id != me)
        .filter(|s| kernel::Role::parse(&s.role).is_some_and(|r| r.permits(Permission::ChatWork)))
        .collect();
    tx.rollback().await?;
    let chrome = Chrome::new("Chat", Some(&user), "/chat", partial);
    render(&ConsolePage { chrome, reasons, dispositions, agents })
}

#[derive(Template)]
#[template(path = "live/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    settings: LiveSettings,
    origins: String,
    extensions: Vec<ExtensionRow>,
    node: NodeStatus,
    error: Option<String>,
}

async fn settings_view(
    state: &AppState,
    hub: &Hub,
    user: &CurrentUser,
    partial: bool,
    error: Option<String>,
) -> Result<SettingsPage, PageError> {
    let mut tx = state.db.read().await?;
    let settings = ops::settings(&mut tx).await?;
    let extensions = store::extensions(&mut tx).await?;
    tx.rollback().await?;
    let origins = settings.widget_origins.join("\n");
    let chrome = Chrome::new("Chat and telephony settings", Some(user), "/chat/settings", partial);
    Ok(SettingsPage { chrome, settings, origins, extensions, node: hub.node_status(), error })
}

async fn settings_page(
    State(state): State<AppState>,
    Ext(hub): Ext<Hub>,
    user: CurrentUser,
    HtmxPartial(partial): HtmxPartial,
) -> Result<Html<String>, PageError> {
    render(&settings_view(&state, &hub, &user, partial, None).await?)
}

#[derive(Deserialize, Default)]
struct SettingsForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    widget_origins: String,
    #[serde(default)]
    visitor_chats_per_minute: String,
    #[serde(default)]
    telephony_secret: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    extension: String,
}

/// Saves the settings, or one user's extension.
async fn settings_action(
    State(state): State<AppState>,
    Ext(hub): Ext<Hub>,
    user: CurrentUser,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let actor = user.actor();
    let mut tx = state.db.begin().await?;
    let outcome = match form.action.as_str() {
        "extension" => {
            let user_id = form.user_id.trim().parse::<i64>().map_err(|_| LiveError::UserNotFound);
            let extension = match form.extension.trim() {
                "" => Ok(None),
                text => Extension::parse(text).map(Some),
            };
            match (user_id, extension) {
                (Ok(id), Ok(ext)) => telephony::set_extension(&mut tx, &actor, id, ext, now).await,
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        _ => {
            let per_minute = form.visitor_chats_per_minute.trim();
            let per_minute = match per_minute {
                "" => Ok(None),
                text => text.parse::<i64>().map(Some).map_err(|_| LiveError::LimitInvalid),
            };
            let change = per_minute
                .and_then(|n| SettingsChange::parse(Some(&form.widget_origins), n, Some(&form.telephony_secret)));
            match change {
                Ok(change) => ops::change_settings(&mut tx, &actor, change, now).await.map(|_| ()),
                Err(e) => Err(e),
            }
        }
    };
    match outcome {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to("/chat/settings").into_response())
        }
        Err(e) => {
            tx.rollback().await?;
            let status = web::Problem::status(&e);
            if status.is_server_error() {
                return Err(e.into());
            }
            let page = settings_view(&state, &hub, &user, false, Some(web::field_message(&e))).await?;
            Ok((status, render(&page)?).into_response())
        }
    }
}

/// `GET /events`: server-sent events for the signed-in user's open pages — today the telephone
/// screen-pop. The first event, `ready`, says the stream is listening. The hub starts first, so
/// screen-pops from a webhook that reached another node are relayed here.
async fn events(
    State(state): State<AppState>,
    Ext(hub): Ext<Hub>,
    user: CurrentUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    if let Err(error) = hub.start(&state).await {
        tracing::warn!(%error, "could not start the live hub; screen-pops from other nodes will not arrive here");
    }
    let (conn, rx) = hub.new_conn();
    hub.attach_listener(user.user_id.get(), conn);
    let ready = stream::once(async { Ok(Event::default().event("ready").data("{}")) });
    let pops = stream::unfold(rx, |mut rx| async move {
        let text = rx.recv().await?;
        Some((Ok(Event::default().event("call").data(text)), rx))
    });
    Sse::new(ready.chain(pops)).keep_alive(KeepAlive::default())
}
