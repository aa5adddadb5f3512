//! The agent's side of chat: the console socket's loop. On connect it sends the queue and the
//! chats the agent already works (after a reload or a node restart, with their transcripts);
//! then it takes chats, relays messages and typing, and ends chats into contacts and cases.

use crate::hub::{Hub, Outgoing};
use crate::ops::{self, EndChat, Transfer, Transferred};
use crate::relay::Signal;
use crate::store::{self, SessionRow};
use crate::ws::{Ctx, error_frame, forward, message_frames, next_text, send};
use crate::{LiveError, model::MessageBody};
use axum::extract::ws::WebSocket;
use serde::Deserialize;
use serde_json::{Value, json};
use web::CurrentUser;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AgentFrame {
    /// Take a chat: the one named, or the next in the queue.
    Take {
        #[serde(default)]
        chat_session_id: Option<i64>,
    },
    Message {
        chat_session_id: i64,
        body: String,
    },
    Typing {
        chat_session_id: i64,
    },
    /// Hand the chat to another agent, or back to the queue when `to_user_id` is none.
    Transfer {
        chat_session_id: i64,
        #[serde(default)]
        to_user_id: Option<i64>,
        #[serde(default)]
        note: Option<String>,
    },
    End {
        chat_session_id: i64,
        #[serde(default)]
        reason_code: Option<String>,
        #[serde(default)]
        disposition_code: Option<String>,
        #[serde(default)]
        needs_follow_up: bool,
        #[serde(default)]
        customer_id: Option<i64>,
    },
}

impl AgentFrame {
    fn session_id(&self) -> Option<i64> {
        match self {
            AgentFrame::Take { chat_session_id } => *chat_session_id,
            AgentFrame::Message { chat_session_id, .. }
            | AgentFrame::Typing { chat_session_id }
            | AgentFrame::Transfer { chat_session_id, .. }
            | AgentFrame::End { chat_session_id, .. } => Some(*chat_session_id),
        }
    }
}

fn assigned_frame(session: &SessionRow, messages: &[store::MessageRow]) -> Value {
    let history = message_frames(session.chat_session_id, messages, &session.visitor_name);
    let messages = history.get("messages").cloned().unwrap_or_default();
    json!({ "type": "assigned", "session": session, "messages": messages })
}

pub(crate) async fn run_agent(mut socket: WebSocket, ctx: Ctx, user: CurrentUser) {
    let agent = user.user_id.get();
    let (conn, mut rx) = ctx.hub.new_conn();
    let conn_id = conn.id;
    ctx.hub.attach_agent(agent, conn);
    if let Err(error) = resume_agent(&ctx, &mut socket, agent).await {
        let _ = send(&mut socket, &error_frame(&error, None)).await;
    }
    loop {
        tokio::select! {
            out = rx.recv() => {
                let Some(text) = out else { break };
                if !forward(&mut socket, text, &mut rx, false).await {
                    break;
                }
            }
            incoming = next_text(&mut socket) => {
                let Some(text) = incoming else { break };
                let frame = serde_json::from_str::<AgentFrame>(&text);
                let session_id = frame.as_ref().ok().and_then(AgentFrame::session_id);
                let outcome = match frame {
                    Ok(frame) => agent_frame(&ctx, &user, frame).await,
                    Err(_) => Err(LiveError::TextInvalid { field: "type" }),
                };
                if let Err(error) = outcome
                    && !send(&mut socket, &error_frame(&error, session_id)).await
                {
                    break;
                }
            }
        }
    }
    ctx.hub.detach_agent(agent, conn_id);
}

/// Sends the queue and the agent's open chats with their transcripts.
async fn resume_agent(ctx: &Ctx, socket: &mut WebSocket, agent: i64) -> Result<(), LiveError> {
    send(socket, &ctx.hub.queue_frame()).await;
    let mut tx = ctx.state.db.read().await?;
    let sessions = store::active_sessions_of(&mut tx, agent).await?;
    let mut frames = Vec::with_capacity(sessions.len());
    for session in sessions {
        ctx.hub.set_owner(session.chat_session_id, agent);
        let messages = store::messages(&mut tx, session.chat_session_id).await?;
        frames.push(assigned_frame(&session, &messages));
    }
    tx.rollback().await?;
    for frame in frames {
        send(socket, &frame).await;
    }
    Ok(())
}

async fn agent_frame(ctx: &Ctx, user: &CurrentUser, frame: AgentFrame) -> Result<(), LiveError> {
    let agent = user.user_id.get();
    match frame {
        AgentFrame::Take { chat_session_id } => take(ctx, user, chat_session_id).await,
        AgentFrame::Message { chat_session_id, body } => {
            if ctx.hub.owner_of(chat_session_id) != Some(agent) {
                return Err(LiveError::ChatNotYours);
            }
            let body = MessageBody::parse(&body)?;
            let message = Outgoing {
                session_id: chat_session_id,
                sender: "agent",
                sender_user_id: Some(agent),
                sender_name: user.display_name.clone(),
                body: body.as_str().to_string(),
                at: ctx.state.clock.now(),
            };
            ctx.writer.send(message).await.map_err(|_| LiveError::ChatEnded)
        }
        AgentFrame::Typing { chat_session_id } => {
            if ctx.hub.owner_of(chat_session_id) != Some(agent) {
                return Ok(());
            }
            if ctx.hub.visitor_connected(chat_session_id) {
                ctx.hub.to_visitor(chat_session_id, &json!({ "type": "typing", "chat_session_id": chat_session_id }));
            } else {
                // The visitor's socket is on another node.
                let typing = Signal::Typing { chat_session_id, from_visitor: false };
                ctx.hub.signal_others(&ctx.state.db, typing, ctx.state.clock.now());
            }
            Ok(())
        }
        AgentFrame::Transfer { chat_session_id, to_user_id, note } => {
            let transfer = Transfer::parse(to_user_id, note.as_deref())?;
            transfer_chat(ctx, user, chat_session_id, transfer).await.map(|_| ())
        }
        AgentFrame::End { chat_session_id, reason_code, disposition_code, needs_follow_up, customer_id } => {
            let end =
                EndChat::parse(reason_code.as_deref(), disposition_code.as_deref(), needs_follow_up, customer_id)?;
            end_chat(ctx, user, chat_session_id, end).await
        }
    }
}

async fn take(ctx: &Ctx, user: &CurrentUser, chat_session_id: Option<i64>) -> Result<(), LiveError> {
    let agent = user.user_id.get();
    let id = chat_session_id.or_else(|| ctx.hub.next_waiting()).ok_or(LiveError::QueueEmpty)?;
    let now = ctx.state.clock.now();
    let mut tx = ctx.state.db.begin().await?;
    let taken = ops::take_chat(&mut tx, &user.actor(), id, now).await;
    let session = match taken {
        Ok(session) => session,
        Err(error) => {
            tx.rollback().await?;
            if matches!(error, LiveError::ChatEnded | LiveError::ChatAlreadyTaken) {
                ctx.hub.dequeue(id);
            }
            return Err(error);
        }
    };
    let messages = store::messages(&mut tx, id).await?;
    tx.commit().await?;
    ctx.hub.dequeue(id);
    ctx.hub.set_owner(id, agent);
    ctx.hub.to_agent(agent, &assigned_frame(&session, &messages));
    ctx.hub.to_visitor(id, &json!({ "type": "agent", "chat_session_id": id, "agent_name": user.display_name }));
    // The visitor's socket may be on another node: this line carries the news there too.
    system_line(ctx, id, format!("You are now talking with {}.", user.display_name), now).await;
    Ok(())
}

/// Writes a line the visitor sees and the transcript keeps; other nodes relay it.
async fn system_line(ctx: &Ctx, id: i64, body: String, now: kernel::Timestamp) {
    let line =
        Outgoing { session_id: id, sender: "system", sender_user_id: None, sender_name: String::new(), body, at: now };
    let _ = ctx.writer.send(line).await;
}

/// Opens a chat on an agent's consoles on this node, with its whole transcript (notes included).
pub(crate) async fn send_assigned(hub: &Hub, db: &db::Db, id: i64, agent: i64) -> Result<(), LiveError> {
    let mut tx = db.read().await?;
    let session = store::find_session(&mut tx, id).await?.ok_or(LiveError::ChatNotFound)?;
    let messages = store::messages(&mut tx, id).await?;
    tx.rollback().await?;
    hub.to_agent(agent, &assigned_frame(&session, &messages));
    Ok(())
}

/// Transfers a chat (the console's button and the API): the old agent's tab closes, the new
/// agent's console opens it (here, or on another node through the relay) or it rejoins the
/// queue, the visitor is told who answers now, and the transcript keeps both the visitor's line
/// and the note for agents.
pub(crate) async fn transfer_chat(
    ctx: &Ctx,
    user: &CurrentUser,
    id: i64,
    transfer: Transfer,
) -> Result<Transferred, LiveError> {
    let now = ctx.state.clock.now();
    let mut tx = ctx.state.db.begin().await?;
    let done = match ops::transfer_chat(&mut tx, &user.actor(), id, transfer, now).await {
        Ok(done) => done,
        Err(error) => {
            tx.rollback().await?;
            return Err(error);
        }
    };
    tx.commit().await?;
    ctx.hub.clear_owner(id);
    let frame = json!({ "type": "transferred", "chat_session_id": id, "to_name": done.to_name });
    ctx.hub.to_agent(done.from_user_id, &frame);
    match done.to_user_id {
        Some(to) => {
            let frame = json!({ "type": "agent", "chat_session_id": id, "agent_name": done.to_name });
            ctx.hub.to_visitor(id, &frame);
            if ctx.hub.agent_here(to) {
                ctx.hub.set_owner(id, to);
                send_assigned(&ctx.hub, &ctx.state.db, id, to).await?;
            }
        }
        None => {
            let position = ctx.hub.enqueue(id, &done.session.visitor_name, done.session.created_at);
            ctx.hub.to_visitor(id, &json!({ "type": "queue", "chat_session_id": id, "position": position }));
        }
    }
    system_line(ctx, id, done.visitor_line(), now).await;
    let note = Outgoing {
        session_id: id,
        sender: "note",
        sender_user_id: Some(done.from_user_id),
        sender_name: done.from_name.clone(),
        body: done.note_line(),
        at: now,
    };
    let _ = ctx.writer.send(note).await;
    Ok(done)
}

async fn end_chat(ctx: &Ctx, user: &CurrentUser, id: i64, end: EndChat) -> Result<(), LiveError> {
    let now = ctx.state.clock.now();
    let mut tx = ctx.state.db.begin().await?;
    let ended = match ops::end_chat(&mut tx, &user.actor(), id, end, now).await {
        Ok(ended) => ended,
        Err(error) => {
            tx.rollback().await?;
            return Err(error);
        }
    };
    tx.commit().await?;
    ctx.hub.clear_owner(id);
    let frame = json!({
        "type": "ended",
        "chat_session_id": ended.chat_session_id,
        "customer_id": ended.customer_id,
        "contact_id": ended.contact_id,
        "case_id": ended.case_id,
    });
    ctx.hub.to_agent(user.user_id.get(), &frame);
    ctx.hub.to_visitor(id, &json!({ "type": "ended", "chat_session_id": id }));
    system_line(ctx, id, "The chat has ended.".into(), now).await;
    Ok(())
}
