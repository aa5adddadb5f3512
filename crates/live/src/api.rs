//! JSON handlers: chat sessions and transcripts, the telephony webhook, staff extensions and the
//! module's settings. Thin: parse, call one op inside one transaction, answer.

use crate::hub::Hub;
use crate::model::{CallEvent, CallEventInput, Extension};
use crate::ops::{self, EndedChat, LiveSettings, SettingsChange, Transfer, Transferred};
use crate::relay::NodeStatus;
use crate::store::{self, CallRow, ExtensionRow, MessageRow, SessionRow};
use crate::{LiveError, telephony};
use axum::Extension as Ext;
use axum::extract::State;
use http::HeaderMap;
use kernel::{Page, PageRequest, Permission};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use web::extract::{Json, Path, Query};
use web::{Access, ApiError, AppState, CurrentUser, Routes};

/// The header a phone system presents its shared secret in (`Authorization: Bearer` works too).
pub const SECRET_HEADER: &str = "x-telephony-secret";

#[derive(OpenApi)]
#[openapi(
    paths(list_chats, get_chat, transfer_chat, telephony_event, list_extensions, set_extension, get_settings,
        put_settings, get_node),
    components(schemas(SessionRow, MessageRow, ChatPage, Transcript, CallEventBody, CallEventAnswer, CallRow,
        ExtensionRow, ExtensionBody, LiveSettings, SettingsBody, EndedChat, TransferBody, Transferred,
        NodeStatus)),
    tags((name = "live", description = "Live chat sessions and transcripts, the telephony webhook, staff \
        extensions. The chat widget is served at /chat/widget.js: embed it with \
        <script src=\"https://desk.example.org/chat/widget.js\" data-caredesk async></script>; it talks to \
        /chat/ws over WebSocket.")),
)]
pub struct LiveApi;

pub fn routes() -> Routes {
    use Permission as P;
    let work = Access::Signed(P::ChatWork);
    let manage = Access::Signed(P::ChatManage);
    Routes::new()
        .get("/api/v1/chats", work, list_chats)
        .get("/api/v1/chats/{chat_session_id}", work, get_chat)
        .post("/api/v1/chats/{chat_session_id}/transfer", work, transfer_chat)
        .post("/api/v1/telephony/events", Access::PublicApi, telephony_event)
        .get("/api/v1/telephony/extensions", manage, list_extensions)
        .put("/api/v1/telephony/extensions/{user_id}", manage, set_extension)
        .get("/api/v1/live/settings", manage, get_settings)
        .put("/api/v1/live/settings", manage, put_settings)
        .get("/api/v1/live/node", manage, get_node)
}

/// How this node stands with the other nodes sharing its database: whether it relays, and how
/// much database work the relay has done (none while the node is alone).
#[utoipa::path(
    get,
    path = "/api/v1/live/node",
    tag = "live",
    security(("bearer" = ["chat.manage"]), ("session" = ["chat.manage"])),
    responses((status = 200, body = NodeStatus)),
)]
async fn get_node(Ext(hub): Ext<Hub>) -> axum::Json<NodeStatus> {
    axum::Json(hub.node_status())
}

#[derive(Debug, Deserialize)]
struct ChatQuery {
    status: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatPage {
    pub items: Vec<SessionRow>,
    pub next_cursor: Option<String>,
}

/// Chat sessions, newest first, optionally of one status (waiting, active or ended).
#[utoipa::path(
    get,
    path = "/api/v1/chats",
    tag = "live",
    security(("bearer" = ["chat.work"]), ("session" = ["chat.work"])),
    params(
        ("status" = Option<String>, Query, description = "waiting, active or ended"),
        ("limit" = Option<u32>, Query, description = "1 to 200, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, body = ChatPage), (status = 422, body = web::ProblemDocument)),
)]
async fn list_chats(
    State(state): State<AppState>,
    Query(q): Query<ChatQuery>,
) -> Result<axum::Json<ChatPage>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => crate::model::ChatStatus::parse(text).ok_or(LiveError::TextInvalid { field: "status" })?.code(),
        None => "",
    };
    let before = page.after.map(|c| c.after_key).unwrap_or(i64::MAX);
    let mut tx = state.db.read().await?;
    let rows = store::list_sessions(&mut tx, status, before, page.fetch_limit()).await?;
    let rows = Page::from_rows(rows, &page, |r| r.chat_session_id);
    Ok(axum::Json(ChatPage { items: rows.items, next_cursor: rows.next_cursor }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Transcript {
    pub session: SessionRow,
    pub messages: Vec<MessageRow>,
}

/// One chat with its whole transcript.
#[utoipa::path(
    get,
    path = "/api/v1/chats/{chat_session_id}",
    tag = "live",
    security(("bearer" = ["chat.work"]), ("session" = ["chat.work"])),
    params(("chat_session_id" = i64, Path)),
    responses((status = 200, body = Transcript), (status = 404, body = web::ProblemDocument)),
)]
async fn get_chat(State(state): State<AppState>, Path(id): Path<i64>) -> Result<axum::Json<Transcript>, ApiError> {
    let mut tx = state.db.read().await?;
    let session = store::find_session(&mut tx, id).await?.ok_or(LiveError::ChatNotFound)?;
    let messages = store::messages(&mut tx, id).await?;
    Ok(axum::Json(Transcript { session, messages }))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({ "to_user_id": 7, "note": "Wants a payment plan; account checked." }))]
#[schema(as = ChatTransferBody)]
pub struct TransferBody {
    /// The agent to hand the chat to; absent or null puts it back in the queue.
    pub to_user_id: Option<i64>,
    /// For the next agent only (the visitor never sees it); at most 500 characters.
    pub note: Option<String>,
}

/// Hands a chat the caller is working to another agent who answers chats, or back to the
/// queue. The visitor is told who answers now; the transcript records the transfer and the note
/// (the note as a line for agents only).
#[utoipa::path(
    post,
    path = "/api/v1/chats/{chat_session_id}/transfer",
    tag = "live",
    request_body = TransferBody,
    security(("bearer" = ["chat.work"]), ("session" = ["chat.work"])),
    params(("chat_session_id" = i64, Path)),
    responses(
        (status = 200, body = Transferred),
        (status = 403, body = web::ProblemDocument, description = "another agent holds the chat"),
        (status = 404, body = web::ProblemDocument),
        (status = 409, body = web::ProblemDocument, description = "the chat is waiting or has ended"),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn transfer_chat(
    State(state): State<AppState>,
    Ext(hub): Ext<Hub>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<TransferBody>,
) -> Result<axum::Json<Transferred>, ApiError> {
    let transfer = Transfer::parse(body.to_user_id, body.note.as_deref())?;
    let writer = hub.start(&state).await?;
    let ctx = crate::ws::Ctx { state, hub, writer };
    Ok(axum::Json(crate::console::transfer_chat(&ctx, &user, id, transfer).await?))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({
    "call_id": "1732958400.42",
    "event": "ringing",
    "caller_number": "+15555550123",
    "called_number": "+15555550100",
    "extension": "201",
    "recording_url": "",
    "at": "2026-11-30T09:15:00Z"
}))]
pub struct CallEventBody {
    /// The phone system's id of the call; the same for all of its events.
    pub call_id: String,
    /// ringing, answered, transferred or ended
    pub event: String,
    #[serde(default)]
    pub caller_number: String,
    #[serde(default)]
    pub called_number: String,
    /// The agent's extension the call rings (or was transferred to).
    #[serde(default)]
    pub extension: String,
    #[serde(default)]
    pub recording_url: String,
    /// When it happened (RFC 3339); defaults to when it arrives.
    pub at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallEventAnswer {
    pub call: CallRow,
    /// The event repeated the call's last state (a retried delivery); nothing changed.
    pub repeated: bool,
    /// Whether a screen-pop reached an open screen on this node.
    pub popped: bool,
    /// Whether the screen-pop was also sent to the other nodes on this database (the user's
    /// pages may be open there).
    pub relayed: bool,
}

/// The telephony webhook: a phone system reports one call event. Authenticated by the shared
/// secret in `X-Telephony-Secret` (or `Authorization: Bearer <secret>`), set on the chat settings
/// page. Repeating an event is harmless (the call id and state make it idempotent). Ringing and
/// transferred events pop the caller on the screen of the user whose extension rings.
#[utoipa::path(
    post,
    path = "/api/v1/telephony/events",
    tag = "live",
    request_body = CallEventBody,
    params(("X-Telephony-Secret" = Option<String>, Header, description = "the shared secret")),
    responses(
        (status = 200, body = CallEventAnswer),
        (status = 401, body = web::ProblemDocument),
        (status = 403, body = web::ProblemDocument, description = "no secret is set yet"),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn telephony_event(
    State(state): State<AppState>,
    Ext(hub): Ext<Hub>,
    headers: HeaderMap,
    Json(body): Json<CallEventBody>,
) -> Result<axum::Json<CallEventAnswer>, ApiError> {
    let presented = headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok()).or_else(|| {
        let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
        auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer "))
    });
    // Started first, so this node knows the other nodes a screen-pop may have to reach.
    hub.start(&state).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    telephony::check_secret(&mut tx, presented).await?;
    let at = contacts::model::parse_time(body.at.as_deref(), "at").map_err(LiveError::from)?;
    let input = CallEventInput {
        call_id: &body.call_id,
        event: &body.event,
        caller_number: &body.caller_number,
        called_number: &body.called_number,
        extension: &body.extension,
        recording_url: &body.recording_url,
        at,
    };
    let event = CallEvent::parse(&input, now)?;
    let outcome = telephony::call_event(&mut tx, event, now).await?;
    tx.commit().await?;
    let (mut popped, mut relayed) = (false, false);
    if let Some((user, frame)) = outcome.pop {
        popped = hub.to_listener(user, &frame);
        relayed = hub.pop_elsewhere(&state.db, user, frame, popped, now).await;
    }
    Ok(axum::Json(CallEventAnswer { call: outcome.call, repeated: outcome.repeated, popped, relayed }))
}

/// Staff users with their telephone extensions.
#[utoipa::path(
    get,
    path = "/api/v1/telephony/extensions",
    tag = "live",
    security(("bearer" = ["chat.manage"]), ("session" = ["chat.manage"])),
    responses((status = 200, body = Vec<ExtensionRow>)),
)]
async fn list_extensions(State(state): State<AppState>) -> Result<axum::Json<Vec<ExtensionRow>>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(store::extensions(&mut tx).await?))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({ "extension": "201" }))]
pub struct ExtensionBody {
    /// Empty clears the user's extension.
    #[serde(default)]
    pub extension: String,
}

/// Sets or clears a staff user's extension (the phone that rings for them).
#[utoipa::path(
    put,
    path = "/api/v1/telephony/extensions/{user_id}",
    tag = "live",
    request_body = ExtensionBody,
    security(("bearer" = ["chat.manage"]), ("session" = ["chat.manage"])),
    params(("user_id" = i64, Path)),
    responses(
        (status = 200, body = Vec<ExtensionRow>),
        (status = 404, body = web::ProblemDocument),
        (status = 409, body = web::ProblemDocument),
        (status = 422, body = web::ProblemDocument),
    ),
)]
async fn set_extension(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(user_id): Path<i64>,
    Json(body): Json<ExtensionBody>,
) -> Result<axum::Json<Vec<ExtensionRow>>, ApiError> {
    let extension = match body.extension.trim() {
        "" => None,
        text => Some(Extension::parse(text)?),
    };
    let mut tx = state.db.begin().await?;
    telephony::set_extension(&mut tx, &user.actor(), user_id, extension, state.clock.now()).await?;
    let rows = store::extensions(&mut tx).await?;
    tx.commit().await?;
    Ok(axum::Json(rows))
}

/// The chat widget's allowed origins, the per-address chat limit and whether the telephony
/// secret is set.
#[utoipa::path(
    get,
    path = "/api/v1/live/settings",
    tag = "live",
    security(("bearer" = ["chat.manage"]), ("session" = ["chat.manage"])),
    responses((status = 200, body = LiveSettings)),
)]
async fn get_settings(State(state): State<AppState>) -> Result<axum::Json<LiveSettings>, ApiError> {
    let mut tx = state.db.read().await?;
    Ok(axum::Json(ops::settings(&mut tx).await?))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({
    "widget_origins": "https://www.example.org\nhttps://help.example.org",
    "visitor_chats_per_minute": 20,
    "telephony_secret": "a-long-random-shared-secret"
}))]
pub struct SettingsBody {
    /// One origin per line; empty lets any site embed the widget. Absent leaves it unchanged.
    pub widget_origins: Option<String>,
    pub visitor_chats_per_minute: Option<i64>,
    /// At least 16 characters; absent or empty leaves it unchanged. Stored hashed.
    pub telephony_secret: Option<String>,
}

/// Changes the settings; absent fields stay as they are.
#[utoipa::path(
    put,
    path = "/api/v1/live/settings",
    tag = "live",
    request_body = SettingsBody,
    security(("bearer" = ["chat.manage"]), ("session" = ["chat.manage"])),
    responses((status = 200, body = LiveSettings), (status = 422, body = web::ProblemDocument)),
)]
async fn put_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<SettingsBody>,
) -> Result<axum::Json<LiveSettings>, ApiError> {
    let change = SettingsChange::parse(
        body.widget_origins.as_deref(),
        body.visitor_chats_per_minute,
        body.telephony_secret.as_deref(),
    )?;
    let mut tx = state.db.begin().await?;
    let settings = ops::change_settings(&mut tx, &user.actor(), change, state.clock.now()).await?;
    tx.commit().await?;
    Ok(axum::Json(settings))
}
