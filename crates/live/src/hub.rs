//! The in-memory switchboard of one node: which visitor, agent console and screen-pop listener is
//! connected here, the chat queue, and the writer that persists chat messages before they are
//! delivered. The database holds the truth (sessions, messages, calls); the hub only holds live
//! connections, so a node restart loses no transcript — clients reconnect and are re-sent it.

use crate::model::Queue;
use crate::relay::{NodeStatus, Presence, Relay, Signal, Woke, write_signal};
use crate::store;
use kernel::Timestamp;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{OnceCell, mpsc};

/// Frames a slow connection may have pending before it is dropped (its client reconnects and
/// is re-sent the transcript, so nothing is lost).
const CONNECTION_BUFFER: usize = 512;
/// How often queue positions are re-sent to waiting visitors when the queue moved.
const POSITION_TICK: Duration = Duration::from_millis(300);
/// The most messages one commit carries.
const WRITE_BATCH: usize = 512;
/// Waiting visitors listed to agents; the total is always sent.
const QUEUE_LISTED: usize = 50;
/// The least time between two typing signals of one side of one chat sent to other nodes.
const TYPING_SIGNAL_GAP: Duration = Duration::from_secs(1);

/// One open connection's outbound side.
#[derive(Clone)]
pub struct Conn {
    pub id: u64,
    pub tx: mpsc::Sender<String>,
}

/// A chat message on its way to the database and then to both sides.
pub struct Outgoing {
    pub session_id: i64,
    /// visitor, agent, system, or note (between agents only, never shown to the visitor)
    pub sender: &'static str,
    pub sender_user_id: Option<i64>,
    pub sender_name: String,
    pub body: String,
    pub at: Timestamp,
}

#[derive(Default)]
struct State {
    visitors: HashMap<i64, Conn>,
    agents: HashMap<i64, Vec<Conn>>,
    listeners: HashMap<i64, Vec<Conn>>,
    queue: Queue,
    /// Waiting sessions' names and start times, for the agents' queue list.
    waiting_info: HashMap<i64, (String, i64)>,
    sent_position: HashMap<i64, usize>,
    queue_dirty: bool,
    /// Active sessions on this node and the agent working each.
    owner: HashMap<i64, i64>,
    chats_by_ip: HashMap<String, (i64, u32)>,
    /// When each side of a chat last had its typing sent to other nodes (session, by visitor).
    typing_signalled: HashMap<(i64, bool), Instant>,
    next_conn: u64,
}

/// Shared by every handler of one app (one per router).
#[derive(Clone, Default)]
pub struct Hub {
    state: Arc<Mutex<State>>,
    started: Arc<OnceCell<mpsc::Sender<Outgoing>>>,
    presence: Arc<Presence>,
}

/// The hub as its background tasks hold it: they stop once the app that owns it is gone.
struct WeakHub {
    state: Weak<Mutex<State>>,
    started: Weak<OnceCell<mpsc::Sender<Outgoing>>>,
    presence: Weak<Presence>,
}

impl WeakHub {
    fn upgrade(&self) -> Option<Hub> {
        Some(Hub { state: self.state.upgrade()?, started: self.started.upgrade()?, presence: self.presence.upgrade()? })
    }
}

impl Hub {
    fn downgrade(&self) -> WeakHub {
        WeakHub {
            state: Arc::downgrade(&self.state),
            started: Arc::downgrade(&self.started),
            presence: Arc::downgrade(&self.presence),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than losing live chat, so a poisoned lock is taken over.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts the writer and the position ticker, registers this node and reloads the waiting
    /// queue from the database, once, on first use (a restarted node picks its queue back up).
    pub async fn start(&self, state: &web::AppState) -> Result<mpsc::Sender<Outgoing>, db::Error> {
        let db = &state.db;
        let sender = self
            .started
            .get_or_try_init(|| async {
                let mut tx = db.read().await?;
                let waiting = store::waiting_sessions(&mut tx).await?;
                tx.rollback().await?;
                {
                    let mut state = self.lock();
                    for s in waiting {
                        state.queue.insert_in_order(s.chat_session_id);
                        state.waiting_info.insert(s.chat_session_id, (s.visitor_name, s.created_at));
                    }
                    state.queue_dirty = true;
                }
                let relay = Relay::start(db, self.presence.clone(), state.clock.clone()).await?;
                let (sender, receiver) = mpsc::channel(8_192);
                tokio::spawn(write_messages(self.downgrade(), db.clone(), receiver, relay));
                tokio::spawn(tick_positions(self.downgrade(), db.clone()));
                Ok::<_, db::Error>(sender)
            })
            .await?;
        Ok(sender.clone())
    }

    /// How this node stands with the other nodes on its database.
    pub fn node_status(&self) -> NodeStatus {
        self.presence.status()
    }

    /// Whether other nodes share the database (and so this node relays to and from them).
    pub(crate) fn relaying(&self) -> bool {
        self.presence.relaying()
    }

    /// Sends a signal to the other nodes in the background, when there are any; typing at most
    /// once a second per side of a chat.
    pub(crate) fn signal_others(&self, db: &db::Db, signal: Signal, now: Timestamp) {
        if !self.relaying() {
            return;
        }
        if let Signal::Typing { chat_session_id, from_visitor } = &signal {
            let mut state = self.lock();
            if state.typing_signalled.len() > 10_000 {
                state.typing_signalled.retain(|_, at| at.elapsed() < TYPING_SIGNAL_GAP);
            }
            let key = (*chat_session_id, *from_visitor);
            if state.typing_signalled.get(&key).is_some_and(|at| at.elapsed() < TYPING_SIGNAL_GAP) {
                return;
            }
            state.typing_signalled.insert(key, Instant::now());
        }
        let (db, presence) = (db.clone(), self.presence.clone());
        tokio::spawn(async move {
            if let Err(error) = write_signal(&db, &presence, &signal, now).await {
                tracing::warn!(%error, "could not signal the other chat nodes");
            }
        });
    }

    /// Sends a screen-pop to the user's pages on the other nodes, waiting for it to be stored.
    /// Written when other nodes are known, and also when no page here took it: a node that
    /// started in the last moment is not counted yet, and a lost pop is a missed call.
    pub(crate) async fn pop_elsewhere(
        &self,
        db: &db::Db,
        user_id: i64,
        frame: Value,
        popped_here: bool,
        now: Timestamp,
    ) -> bool {
        if popped_here && !self.relaying() {
            return false;
        }
        match write_signal(db, &self.presence, &Signal::CallPop { user_id, frame }, now).await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "could not send a screen-pop to the other nodes");
                false
            }
        }
    }

    pub fn new_conn(&self) -> (Conn, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(CONNECTION_BUFFER);
        let mut state = self.lock();
        state.next_conn += 1;
        (Conn { id: state.next_conn, tx }, rx)
    }

    /// Counts one new chat from `ip`; false once it exceeds `per_minute`.
    pub fn allow_chat(&self, ip: &str, now: Timestamp, per_minute: u32) -> bool {
        let minute = now.unix_seconds() / 60;
        let mut state = self.lock();
        if state.chats_by_ip.len() > 100_000 {
            state.chats_by_ip.retain(|_, (m, _)| *m == minute);
        }
        let entry = state.chats_by_ip.entry(ip.to_string()).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        entry.1 <= per_minute
    }

    /// A visitor (re)connected to a session; a previous connection of the same session is
    /// replaced (the newest tab wins).
    pub fn attach_visitor(&self, session_id: i64, conn: Conn) {
        self.lock().visitors.insert(session_id, conn);
    }

    pub fn detach_visitor(&self, session_id: i64, conn_id: u64) {
        let mut state = self.lock();
        if state.visitors.get(&session_id).is_some_and(|c| c.id == conn_id) {
            state.visitors.remove(&session_id);
        }
    }

    pub fn visitor_connected(&self, session_id: i64) -> bool {
        self.lock().visitors.contains_key(&session_id)
    }

    /// Puts a waiting session in the queue; yields its position.
    pub fn enqueue(&self, session_id: i64, name: &str, created_at: i64) -> usize {
        let mut state = self.lock();
        state.queue.insert_in_order(session_id);
        state.waiting_info.insert(session_id, (name.to_string(), created_at));
        state.queue_dirty = true;
        let position = state.queue.position(session_id).unwrap_or(1);
        state.sent_position.insert(session_id, position);
        position
    }

    /// Takes a session off the queue (taken or abandoned).
    pub fn dequeue(&self, session_id: i64) {
        let mut state = self.lock();
        state.queue.remove(session_id);
        state.waiting_info.remove(&session_id);
        state.sent_position.remove(&session_id);
        state.queue_dirty = true;
    }

    pub fn next_waiting(&self) -> Option<i64> {
        self.lock().queue.ids().first().copied()
    }

    pub fn set_owner(&self, session_id: i64, agent_user_id: i64) {
        self.lock().owner.insert(session_id, agent_user_id);
    }

    pub fn owner_of(&self, session_id: i64) -> Option<i64> {
        self.lock().owner.get(&session_id).copied()
    }

    pub fn clear_owner(&self, session_id: i64) {
        self.lock().owner.remove(&session_id);
    }

    pub fn attach_agent(&self, user_id: i64, conn: Conn) {
        self.lock().agents.entry(user_id).or_default().push(conn);
    }

    pub fn detach_agent(&self, user_id: i64, conn_id: u64) {
        let mut state = self.lock();
        if let Some(conns) = state.agents.get_mut(&user_id) {
            conns.retain(|c| c.id != conn_id);
        }
    }

    pub fn attach_listener(&self, user_id: i64, conn: Conn) {
        let mut state = self.lock();
        let conns = state.listeners.entry(user_id).or_default();
        conns.retain(|c| !c.tx.is_closed());
        conns.push(conn);
    }

    /// Sends a frame to a session's visitor, if connected here.
    pub fn to_visitor(&self, session_id: i64, frame: &Value) {
        self.to_visitor_text(session_id, frame.to_string());
    }

    pub fn to_visitor_text(&self, session_id: i64, text: String) {
        let mut state = self.lock();
        if let Some(conn) = state.visitors.get(&session_id)
            && conn.tx.try_send(text).is_err()
        {
            state.visitors.remove(&session_id);
        }
    }

    /// Sends a frame to every console of one agent connected here.
    pub fn to_agent(&self, user_id: i64, frame: &Value) {
        self.to_agent_text(user_id, &frame.to_string());
    }

    pub fn to_agent_text(&self, user_id: i64, text: &str) {
        if let Some(conns) = self.lock().agents.get_mut(&user_id) {
            conns.retain(|c| c.tx.try_send(text.to_string()).is_ok());
        }
    }

    /// Whether a console of this agent is open on this node.
    pub fn agent_here(&self, user_id: i64) -> bool {
        self.lock().agents.get(&user_id).is_some_and(|conns| !conns.is_empty())
    }

    /// Sends a screen-pop event to every open page of one user; false when none listens here.
    pub fn to_listener(&self, user_id: i64, frame: &Value) -> bool {
        let text = frame.to_string();
        let mut state = self.lock();
        let Some(conns) = state.listeners.get_mut(&user_id) else {
            return false;
        };
        conns.retain(|c| c.tx.try_send(text.clone()).is_ok());
        !conns.is_empty()
    }

    /// Delivers a stored message to the visitor (unless it is a note between agents) and the
    /// agent working the session, as far as they are connected here.
    fn deliver(&self, m: &Outgoing, message_id: i64) {
        let frame = message_frame(m.session_id, message_id, m.sender, &m.sender_name, &m.body, m.at.micros());
        let text = frame.to_string();
        if let Some(agent) = self.owner_of(m.session_id) {
            self.to_agent_text(agent, &text);
        }
        if m.sender != "note" {
            self.to_visitor_text(m.session_id, text);
        }
    }

    /// Brings the queue in line with the database when other nodes started, took or ended
    /// chats (the count or the newest waiting id differs from this node's).
    async fn sync_queue(&self, db: &db::Db) -> Result<(), db::Error> {
        let mut tx = db.read().await?;
        let (count, newest) = store::waiting_summary(&mut tx).await?;
        let same = {
            let state = self.lock();
            let ids = state.queue.ids();
            i64::try_from(ids.len()).ok() == Some(count) && ids.last().copied().unwrap_or(0) == newest
        };
        if same {
            return tx.rollback().await;
        }
        let waiting = store::waiting_sessions(&mut tx).await?;
        tx.rollback().await?;
        let mut state = self.lock();
        state.waiting_info =
            waiting.iter().map(|s| (s.chat_session_id, (s.visitor_name.clone(), s.created_at))).collect();
        state.queue.replace(waiting.iter().map(|s| s.chat_session_id).collect());
        let State { sent_position, queue, .. } = &mut *state;
        sent_position.retain(|id, _| queue.ids().binary_search(id).is_ok());
        state.queue_dirty = true;
        Ok(())
    }

    /// The queue as agents see it: the first few waiting visitors and the total.
    pub fn queue_frame(&self) -> Value {
        let state = self.lock();
        let listed: Vec<Value> = state
            .queue
            .ids()
            .iter()
            .take(QUEUE_LISTED)
            .map(|id| {
                let (name, since) = state.waiting_info.get(id).cloned().unwrap_or_default();
                json!({ "chat_session_id": id, "visitor_name": name, "waiting_since": since })
            })
            .collect();
        json!({ "type": "queue", "waiting": listed, "total": state.queue.len() })
    }

    /// Sends changed positions to waiting visitors and the queue to agents, if it moved.
    fn send_positions(&self) {
        let mut state = self.lock();
        if !state.queue_dirty {
            return;
        }
        state.queue_dirty = false;
        let ids: Vec<i64> = state.queue.ids().to_vec();
        for (index, id) in ids.iter().enumerate() {
            let position = index + 1;
            if state.sent_position.get(id) == Some(&position) {
                continue;
            }
            state.sent_position.insert(*id, position);
            if let Some(conn) = state.visitors.get(id) {
                let _ = conn.tx.try_send(json!({ "type": "queue", "position": position }).to_string());
            }
        }
        drop(state);
        let frame = self.queue_frame().to_string();
        let mut state = self.lock();
        for conns in state.agents.values_mut() {
            conns.retain(|c| c.tx.try_send(frame.clone()).is_ok());
        }
    }
}

async fn tick_positions(hub: WeakHub, db: db::Db) {
    let mut interval = tokio::time::interval(POSITION_TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(hub) = hub.upgrade() else {
            return;
        };
        // Alone on the database, this node's own queue is the whole queue.
        if hub.relaying() {
            hub.presence.counted_query();
            if let Err(error) = hub.sync_queue(&db).await {
                tracing::warn!(%error, "could not compare the chat queue with the database");
            }
        }
        hub.send_positions();
    }
}

/// A chat message as both sides receive it.
pub(crate) fn message_frame(
    session_id: i64,
    message_id: i64,
    sender: &str,
    sender_name: &str,
    body: &str,
    sent_at: i64,
) -> Value {
    json!({
        "type": "message",
        "chat_session_id": session_id,
        "chat_message_id": message_id,
        "sender": sender,
        "sender_name": sender_name,
        "body": body,
        "sent_at": sent_at,
    })
}

/// Persists messages in batches (one commit for all that arrived meanwhile), then delivers each;
/// between batches it relays what other nodes wrote. A message is never shown to anyone before
/// it is stored. When the hub goes away the node's row goes too.
async fn write_messages(hub: WeakHub, db: db::Db, mut receiver: mpsc::Receiver<Outgoing>, mut relay: Relay) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    loop {
        tokio::select! {
            biased;
            received = receiver.recv_many(&mut batch, WRITE_BATCH) => {
                if received == 0 {
                    break;
                }
                let stored = store_batch(&db, &batch, &relay).await;
                let Some(hub) = hub.upgrade() else {
                    break;
                };
                match stored {
                    Ok(ids) => {
                        let catch_up = relay.written(&ids);
                        for (message, id) in batch.iter().zip(ids) {
                            hub.deliver(message, id);
                        }
                        if catch_up {
                            relay.poll(&hub, &db).await;
                        }
                    }
                    Err(error) => refuse_batch(&hub, &batch, &error),
                }
                batch.clear();
            }
            woke = relay.woken() => {
                let Some(hub) = hub.upgrade() else {
                    break;
                };
                match woke {
                    Woke::Read => relay.poll(&hub, &db).await,
                    Woke::Presence => relay.check_presence(&hub, &db).await,
                }
            }
        }
    }
    relay.stop(&db).await;
}

fn refuse_batch(hub: &Hub, batch: &[Outgoing], error: &db::Error) {
    tracing::error!(%error, count = batch.len(), "chat messages could not be stored");
    let message = "the message was not sent; try again";
    let frame = json!({ "type": "error", "code": "internal_error", "message": message });
    for message in batch {
        hub.to_visitor(message.session_id, &frame);
        if let Some(agent) = hub.owner_of(message.session_id) {
            hub.to_agent(agent, &frame);
        }
    }
}

async fn store_batch(db: &db::Db, batch: &[Outgoing], relay: &Relay) -> Result<Vec<i64>, db::Error> {
    let mut tx = db.begin().await?;
    store::lock_message_writers(&mut tx).await?;
    let ids = match &tx {
        // One statement for the batch: the writers of all nodes wait on the advisory lock, so
        // a round trip per message would soon cap what several nodes can write together.
        db::Tx::Pg(_) => {
            let rows: Vec<store::NewMessage<'_>> = batch
                .iter()
                .map(|m| store::NewMessage {
                    session_id: m.session_id,
                    sender: m.sender,
                    sender_user_id: m.sender_user_id,
                    body: &m.body,
                    at: m.at,
                })
                .collect();
            store::insert_messages_pg(&mut tx, &rows).await?
        }
        db::Tx::Sqlite(_) => {
            let mut ids = Vec::with_capacity(batch.len());
            for m in batch {
                ids.push(
                    store::insert_message(&mut tx, m.session_id, m.sender, m.sender_user_id, &m.body, m.at).await?,
                );
            }
            ids
        }
    };
    if ids.len() != batch.len() {
        return Err(db::Error::Malformed(format!("{} chat messages stored as {} rows", batch.len(), ids.len())));
    }
    if let Some(channel) = relay.channel() {
        store::notify_nodes(&mut tx, channel, relay.node()).await?;
    }
    tx.commit().await?;
    Ok(ids)
}
