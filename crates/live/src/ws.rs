//! The two WebSockets: the visitor's (`/chat/ws`, public, opened by the widget) and the agent's
//! (`/chat/agent/ws`, the chat console). Frames are JSON objects with a `type`; DESIGN.md lists
//! them. Each socket runs one loop that forwards what the hub sends and handles what arrives.

use crate::hub::{Hub, Outgoing};
use crate::model::{ChatStatus, MessageBody, Visitor, origin_allowed};
use crate::relay::Signal;
use crate::store::{MessageRow, SessionRow};
use crate::{LiveError, ops};
use axum::Extension;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use futures_util::SinkExt;
use http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::mpsc;
use web::{ApiError, AppState, CurrentUser, Problem};

/// How long a new visitor socket may stay silent before saying who it is.
const HELLO_SECONDS: u64 = 60;
/// How long a waiting visitor may be gone (a network blip, a page reload) before the chat is
/// treated as abandoned.
const ABANDON_AFTER_SECONDS: u64 = 120;
/// The largest frame either side may send.
const MAX_FRAME_BYTES: usize = 16 * 1024;

/// What the socket loops need.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub state: AppState,
    pub hub: Hub,
    pub writer: mpsc::Sender<Outgoing>,
}

pub fn error_frame(error: &LiveError, session_id: Option<i64>) -> Value {
    let message =
        if error.status().is_server_error() { "something went wrong; try again".into() } else { error.to_string() };
    json!({
        "type": "error",
        "code": error.code(),
        "field": error.field(),
        "message": message,
        "chat_session_id": session_id,
    })
}

pub(crate) fn message_frames(session_id: i64, messages: &[MessageRow], visitor_name: &str) -> Value {
    let items: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "chat_message_id": m.chat_message_id,
                "sender": m.sender,
                "sender_name": if m.sender == "visitor" { visitor_name } else { "" },
                "body": m.body,
                "sent_at": m.sent_at,
            })
        })
        .collect();
    json!({ "type": "history", "chat_session_id": session_id, "messages": items })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `GET /chat/ws`: the visitor's socket. The origin allow-list and the per-address limit are
/// checked before the upgrade, so a refused page gets a plain HTTP answer.
pub async fn visitor_socket(
    State(state): State<AppState>,
    Extension(hub): Extension<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let origin = header(&headers, "origin").map(str::to_string);
    let mut tx = state.db.read().await?;
    let settings = ops::settings(&mut tx).await?;
    tx.rollback().await?;
    if !origin_allowed(origin.as_deref(), &settings.widget_origins) {
        return Err(LiveError::OriginRefused.into());
    }
    if !hub.allow_chat(&peer.ip().to_string(), state.clock.now(), settings.visitor_chats_per_minute) {
        return Err(LiveError::TooManyChats.into());
    }
    let writer = hub.start(&state).await?;
    let ctx = Ctx { state, hub, writer };
    let origin = origin.unwrap_or_default();
    Ok(upgrade.max_message_size(MAX_FRAME_BYTES).on_upgrade(move |socket| run_visitor(socket, ctx, origin)))
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum VisitorHello {
    Start {
        #[serde(default)]
        name: String,
        #[serde(default)]
        email: String,
        #[serde(default)]
        account: String,
    },
    Resume {
        token: String,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum VisitorFrame {
    Message { body: String },
    Typing,
    End,
}

pub(crate) async fn next_text(socket: &mut WebSocket) -> Option<String> {
    loop {
        match socket.recv().await? {
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The most frames written out with one flush.
const FRAMES_PER_FLUSH: usize = 64;

/// Writes a frame and the frames already waiting behind it, then flushes once: a busy console
/// gets many frames in one write instead of one system call (and one packet) each. False when
/// the socket failed, or when `stop_on_ended` and an `ended` frame went out.
pub(crate) async fn forward(
    socket: &mut WebSocket,
    first: String,
    rx: &mut mpsc::Receiver<String>,
    stop_on_ended: bool,
) -> bool {
    let mut ended = false;
    let mut next = Some(first);
    let mut written = 0;
    while let Some(text) = next.take() {
        ended |= stop_on_ended && text.contains("\"type\":\"ended\"");
        if socket.feed(Message::Text(text.into())).await.is_err() {
            return false;
        }
        written += 1;
        if written < FRAMES_PER_FLUSH && !ended {
            next = rx.try_recv().ok();
        }
    }
    socket.flush().await.is_ok() && !ended
}

pub(crate) async fn send(socket: &mut WebSocket, frame: &Value) -> bool {
    socket.send(Message::Text(frame.to_string().into())).await.is_ok()
}

async fn run_visitor(mut socket: WebSocket, ctx: Ctx, origin: String) {
    let hello = tokio::time::timeout(Duration::from_secs(HELLO_SECONDS), next_text(&mut socket)).await;
    let Ok(Some(hello)) = hello else {
        return;
    };
    let (conn, mut rx) = ctx.hub.new_conn();
    let conn_id = conn.id;
    let session = match visitor_hello(&ctx, &hello, &origin, conn).await {
        Ok(session) => session,
        Err(error) => {
            let _ = send(&mut socket, &error_frame(&error, None)).await;
            return;
        }
    };
    let session_id = session.chat_session_id;
    loop {
        tokio::select! {
            out = rx.recv() => {
                let Some(text) = out else { break };
                if !forward(&mut socket, text, &mut rx, true).await {
                    break;
                }
            }
            incoming = next_text(&mut socket) => {
                let Some(text) = incoming else { break };
                if let Err(error) = visitor_frame(&ctx, &session, &text).await
                    && !send(&mut socket, &error_frame(&error, Some(session_id))).await
                {
                    break;
                }
            }
        }
    }
    ctx.hub.detach_visitor(session_id, conn_id);
    tokio::spawn(abandon_later(ctx, session_id));
}

/// Starts or resumes the visitor's chat and sends the opening frames through the hub.
async fn visitor_hello(ctx: &Ctx, hello: &str, origin: &str, conn: crate::hub::Conn) -> Result<SessionRow, LiveError> {
    let hello: VisitorHello = serde_json::from_str(hello).map_err(|_| LiveError::ResumeTokenUnknown)?;
    let now = ctx.state.clock.now();
    let (session, token, messages) = match hello {
        VisitorHello::Start { name, email, account } => {
            let visitor = Visitor::parse(&name, &email, &account)?;
            let mut tx = ctx.state.db.begin().await?;
            let (session, token) = ops::start_chat(&mut tx, &visitor, origin, now).await?;
            tx.commit().await?;
            (session, Some(token), Vec::new())
        }
        VisitorHello::Resume { token } => {
            let mut tx = ctx.state.db.read().await?;
            let (session, messages) = ops::resume_chat(&mut tx, &token).await?;
            tx.rollback().await?;
            (session, None, messages)
        }
    };
    let id = session.chat_session_id;
    let tx = conn.tx.clone();
    ctx.hub.attach_visitor(id, conn);
    let welcome = json!({ "type": "welcome", "chat_session_id": id, "token": token, "status": session.status });
    let _ = tx.try_send(welcome.to_string());
    if !messages.is_empty() {
        let _ = tx.try_send(message_frames(id, &messages, &session.visitor_name).to_string());
    }
    match ChatStatus::parse(&session.status) {
        Some(ChatStatus::Waiting) => {
            let position = ctx.hub.enqueue(id, &session.visitor_name, session.created_at);
            let _ = tx.try_send(json!({ "type": "queue", "position": position }).to_string());
        }
        Some(ChatStatus::Active) => {
            let _ = tx.try_send(json!({ "type": "agent", "chat_session_id": id }).to_string());
            if let Some(agent) = session.agent_user_id {
                ctx.hub.to_agent(agent, &json!({ "type": "visitor_back", "chat_session_id": id }));
                if !ctx.hub.agent_here(agent) {
                    let back = Signal::VisitorBack { chat_session_id: id, agent_user_id: agent };
                    ctx.hub.signal_others(&ctx.state.db, back, now);
                }
            }
        }
        _ => {
            let _ = tx.try_send(json!({ "type": "ended", "chat_session_id": id }).to_string());
        }
    }
    Ok(session)
}

async fn visitor_frame(ctx: &Ctx, session: &SessionRow, text: &str) -> Result<(), LiveError> {
    let frame: VisitorFrame = serde_json::from_str(text).map_err(|_| LiveError::TextInvalid { field: "type" })?;
    let id = session.chat_session_id;
    match frame {
        VisitorFrame::Message { body } => {
            let body = MessageBody::parse(&body)?;
            let message = Outgoing {
                session_id: id,
                sender: "visitor",
                sender_user_id: None,
                sender_name: session.visitor_name.clone(),
                body: body.as_str().to_string(),
                at: ctx.state.clock.now(),
            };
            ctx.writer.send(message).await.map_err(|_| LiveError::ChatEnded)?;
        }
        VisitorFrame::Typing => match ctx.hub.owner_of(id) {
            Some(agent) => ctx.hub.to_agent(agent, &json!({ "type": "typing", "chat_session_id": id })),
            // The agent's console is on another node (or none is open yet).
            None => ctx.hub.signal_others(
                &ctx.state.db,
                Signal::Typing { chat_session_id: id, from_visitor: true },
                ctx.state.clock.now(),
            ),
        },
        VisitorFrame::End => visitor_leaves(ctx, id).await?,
    }
    Ok(())
}

/// The visitor closed the chat: a waiting chat is abandoned; an active one tells the agent, who
/// ends it (and so records the contact).
async fn visitor_leaves(ctx: &Ctx, id: i64) -> Result<(), LiveError> {
    let now = ctx.state.clock.now();
    let mut tx = ctx.state.db.begin().await?;
    let abandoned = ops::abandon_chat(&mut tx, id, now).await?;
    tx.commit().await?;
    if abandoned {
        ctx.hub.dequeue(id);
    } else {
        let note = Outgoing {
            session_id: id,
            sender: "system",
            sender_user_id: None,
            sender_name: String::new(),
            body: "The visitor left the chat.".into(),
            at: now,
        };
        let _ = ctx.writer.send(note).await;
    }
    ctx.hub.to_visitor(id, &json!({ "type": "ended", "chat_session_id": id }));
    Ok(())
}

async fn abandon_later(ctx: Ctx, id: i64) {
    tokio::time::sleep(Duration::from_secs(ABANDON_AFTER_SECONDS)).await;
    if ctx.hub.visitor_connected(id) || ctx.hub.owner_of(id).is_some() {
        return;
    }
    let now = ctx.state.clock.now();
    let abandoned = async {
        let mut tx = ctx.state.db.begin().await?;
        let abandoned = ops::abandon_chat(&mut tx, id, now).await?;
        tx.commit().await?;
        Ok::<_, LiveError>(abandoned)
    }
    .await;
    match abandoned {
        Ok(true) => ctx.hub.dequeue(id),
        Ok(false) => {}
        Err(error) => tracing::warn!(%error, chat_session_id = id, "could not close an abandoned chat"),
    }
}

/// Browsers send an Origin on every WebSocket; a page on another site must not drive an agent's
/// console with the agent's cookie (cross-site WebSocket hijacking).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = header(headers, "origin") else {
        return true;
    };
    let host = header(headers, "host").unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or(origin);
    origin_host.eq_ignore_ascii_case(host)
}

/// `GET /chat/agent/ws`: the chat console's socket.
pub async fn agent_socket(
    State(state): State<AppState>,
    Extension(hub): Extension<Hub>,
    user: CurrentUser,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !same_origin(&headers) {
        return Err(LiveError::OriginRefused.into());
    }
    let writer = hub.start(&state).await?;
    let ctx = Ctx { state, hub, writer };
    Ok(upgrade.max_message_size(MAX_FRAME_BYTES).on_upgrade(move |socket| crate::console::run_agent(socket, ctx, user)))
}
