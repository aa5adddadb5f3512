//! Delivery across nodes. Several Caredesk processes may share one database, and a visitor's
//! socket may sit on another node than the agent's. Every chat message is a row of
//! `chat_message` whose ids become visible in order, so each node follows the table with an id
//! cursor and delivers the rows other nodes wrote to the connections it holds. What is shown
//! live but is no transcript line (typing, "visitor reconnected", a telephone screen-pop) travels
//! the same way as a row of `live_signal`.
//!
//! A node alone on its database has nothing to relay, so it does not read: every node registers
//! a row in `live_node` when its hub starts and refreshes it now and then, and a node follows the
//! tables only while another node's row is fresh. Its cursor does not move while it is alone, so
//! when a node appears the first read picks up everything the newcomer wrote before it was
//! noticed. While relaying, a `NOTIFY` after each commit wakes the other nodes at once on
//! PostgreSQL (with a slow poll in case a notification is lost while the listener reconnects); on
//! SQLite, where several processes may share one file, a cheap poll of the newest rows runs every
//! few milliseconds.
//!
//! State changes travel as messages too: taking, transferring and ending a chat each write a
//! system line, and the receiving node reads the session's state alongside the row (who holds
//! it now, whether it ended) and tells its own connections.

use crate::hub::{Hub, message_frame};
use crate::store::{self, RelayedRow, SignalRow};
use kernel::{Clock, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// How often a relaying node looks for other nodes' messages in a shared SQLite file.
const SQLITE_POLL: Duration = Duration::from_millis(40);
/// How often a relaying PostgreSQL node looks without being woken (a lost notification, a
/// reconnect).
const PG_FALLBACK_POLL: Duration = Duration::from_secs(1);
/// The most rows one read takes; a node behind by more reads again at once.
const RELAY_BATCH: i64 = 1_000;
/// How often a node counts the other nodes: the longest a newcomer waits to be relayed to.
pub(crate) const PRESENCE_CHECK: Duration = Duration::from_secs(1);
/// How often a node refreshes its own row.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// A node whose row was not refreshed for this long has stopped (three missed refreshes).
const NODE_ALIVE_SECONDS: i64 = 45;
/// Rows of nodes stopped this long ago, and signals this old, are removed.
const FORGET_SECONDS: i64 = 3_600;
/// Ids a lone node remembers having written before it reads past them once (its memory stays
/// bounded however long it runs alone).
const OWN_BACKLOG: usize = 4_096;

/// What a node knows about the other nodes and its relay; shared by the writer task (which
/// keeps it) and the handlers (which read it).
#[derive(Default)]
pub(crate) struct Presence {
    node: OnceLock<String>,
    /// The PostgreSQL notification channel; none on SQLite.
    channel: OnceLock<Option<String>>,
    other_nodes: AtomicI64,
    relay_queries: AtomicU64,
    presence_checks: AtomicU64,
    signals_written: AtomicU64,
}

/// How this node stands with the others, for the API and the settings page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeStatus {
    /// This node's random name; empty until its chat hub starts (at the first chat, console,
    /// event stream or telephony event it serves).
    pub node: String,
    pub started: bool,
    /// Other nodes on this database whose row is fresh.
    pub other_nodes: i64,
    /// Whether this node follows the other nodes' messages and signals (only while there are any).
    pub relaying: bool,
    /// Reads of other nodes' messages and signals (one read transaction each) and queue
    /// comparisons since the hub started.
    pub relay_queries: u64,
    /// Counts of the other nodes since the hub started.
    pub presence_checks: u64,
    /// Signals (typing, visitor reconnected, screen-pop) this node wrote for the others.
    pub signals_written: u64,
}

impl Presence {
    pub(crate) fn relaying(&self) -> bool {
        self.other_nodes.load(Ordering::Relaxed) > 0
    }

    pub(crate) fn node(&self) -> Option<&str> {
        self.node.get().map(String::as_str)
    }

    fn channel(&self) -> Option<&str> {
        self.channel.get().and_then(|c| c.as_deref())
    }

    /// Counts one read made only because other nodes exist.
    pub(crate) fn counted_query(&self) {
        self.relay_queries.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("live_relay_queries_total").increment(1);
    }

    fn set_other_nodes(&self, count: i64) {
        self.other_nodes.store(count, Ordering::Relaxed);
        metrics::gauge!("live_other_nodes").set(count as f64);
    }

    pub(crate) fn status(&self) -> NodeStatus {
        let node = self.node().unwrap_or_default().to_string();
        NodeStatus {
            started: !node.is_empty(),
            node,
            other_nodes: self.other_nodes.load(Ordering::Relaxed),
            relaying: self.relaying(),
            relay_queries: self.relay_queries.load(Ordering::Relaxed),
            presence_checks: self.presence_checks.load(Ordering::Relaxed),
            signals_written: self.signals_written.load(Ordering::Relaxed),
        }
    }
}

/// What is shown live on another node's connections but is no transcript line.
pub(crate) enum Signal {
    /// Someone types in a chat: the visitor (to the agent) or the agent (to the visitor).
    Typing { chat_session_id: i64, from_visitor: bool },
    /// A visitor came back to an active chat; the agent working it is told.
    VisitorBack { chat_session_id: i64, agent_user_id: i64 },
    /// A call rings at a user's extension; their open pages show the caller.
    CallPop { user_id: i64, frame: Value },
}

impl Signal {
    fn row(&self, node: &str) -> SignalRow {
        let (kind, chat_session_id, sender, user_id, payload) = match self {
            Signal::Typing { chat_session_id, from_visitor } => {
                let sender = if *from_visitor { "visitor" } else { "agent" };
                ("typing", Some(*chat_session_id), sender, None, String::new())
            }
            Signal::VisitorBack { chat_session_id, agent_user_id } => {
                ("visitor_back", Some(*chat_session_id), "", Some(*agent_user_id), String::new())
            }
            Signal::CallPop { user_id, frame } => ("call_pop", None, "", Some(*user_id), frame.to_string()),
        };
        SignalRow {
            live_signal_id: 0,
            node: node.to_string(),
            kind: kind.to_string(),
            chat_session_id,
            sender: sender.to_string(),
            user_id,
            payload,
        }
    }
}

/// Writes a signal for the other nodes and wakes them (on PostgreSQL). Signals are committed in
/// id order like chat messages, so a node's signal cursor misses none.
pub(crate) async fn write_signal(
    db: &db::Db,
    presence: &Presence,
    signal: &Signal,
    now: Timestamp,
) -> Result<(), db::Error> {
    let Some(node) = presence.node() else {
        return Ok(());
    };
    let mut tx = db.begin().await?;
    store::lock_signal_writers(&mut tx).await?;
    store::insert_signal(&mut tx, &signal.row(node), now).await?;
    if let Some(channel) = presence.channel() {
        store::notify_nodes(&mut tx, channel, node).await?;
    }
    tx.commit().await?;
    presence.signals_written.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// What woke the relay.
pub(crate) enum Woke {
    /// Another node may have written something: read it.
    Read,
    /// Time to count the other nodes (and maybe refresh this node's row).
    Presence,
}

/// What wakes the relay's reads (only while it relays).
enum Wake {
    Poll(tokio::time::Interval),
    Listen { notified: mpsc::Receiver<()>, fallback: tokio::time::Interval },
}

/// Stops the listener task when the relay (and so the hub's writer) is gone.
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One node's follower of the message and signal tables, owned by the hub's writer task (so a
/// message this node wrote is never also relayed back to it).
pub(crate) struct Relay {
    presence: Arc<Presence>,
    clock: Arc<dyn Clock>,
    cursor: i64,
    signal_cursor: i64,
    /// Ids this node wrote that the cursor has not passed yet.
    own: BTreeSet<i64>,
    wake: Wake,
    presence_tick: tokio::time::Interval,
    refreshed: Instant,
    _listener: Option<AbortOnDrop>,
}

fn interval(period: Duration) -> tokio::time::Interval {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval
}

fn ago(now: Timestamp, seconds: i64) -> Timestamp {
    now.minus_seconds(seconds)
}

impl Relay {
    /// Registers this node and counts the others at once (a newcomer relays from its start).
    pub(crate) async fn start(db: &db::Db, presence: Arc<Presence>, clock: Arc<dyn Clock>) -> Result<Relay, db::Error> {
        let node = db::random_token(12);
        let now = clock.now();
        let mut tx = db.begin().await?;
        let cursor = store::last_message_id(&mut tx).await?;
        let signal_cursor = store::last_signal_id(&mut tx).await?;
        let channel = match db {
            db::Db::Pg(_) => Some(format!("caredesk_chat_{}", store::current_schema(&mut tx).await?)),
            db::Db::Sqlite { .. } => None,
        };
        store::register_node(&mut tx, &node, now).await?;
        let others = store::other_nodes(&mut tx, &node, ago(now, NODE_ALIVE_SECONDS)).await?;
        if let Some(channel) = &channel {
            // The others learn of this node at once instead of at their next count.
            store::notify_nodes(&mut tx, channel, &node).await?;
        }
        tx.commit().await?;
        let (wake, listener) = match (db, &channel) {
            (db::Db::Pg(pool), Some(channel)) => {
                let (wake_tx, notified) = mpsc::channel(1);
                let task = tokio::spawn(listen(pool.clone(), channel.clone(), node.clone(), wake_tx));
                let wake = Wake::Listen { notified, fallback: interval(PG_FALLBACK_POLL) };
                (wake, Some(AbortOnDrop(task.abort_handle())))
            }
            _ => (Wake::Poll(interval(SQLITE_POLL)), None),
        };
        let _ = presence.node.set(node);
        let _ = presence.channel.set(channel);
        presence.set_other_nodes(others);
        let mut presence_tick = interval(PRESENCE_CHECK);
        presence_tick.reset();
        Ok(Relay {
            presence,
            clock,
            cursor,
            signal_cursor,
            own: BTreeSet::new(),
            wake,
            presence_tick,
            refreshed: Instant::now(),
            _listener: listener,
        })
    }

    pub(crate) fn node(&self) -> &str {
        self.presence.node().unwrap_or_default()
    }

    pub(crate) fn channel(&self) -> Option<&str> {
        self.presence.channel()
    }

    /// Remembers ids this node has just stored (and delivered itself); true when a lone node
    /// has remembered enough of them to read past them once.
    pub(crate) fn written(&mut self, ids: &[i64]) -> bool {
        self.own.extend(ids.iter().copied().filter(|id| *id > self.cursor));
        self.own.len() >= OWN_BACKLOG
    }

    /// Resolves when another node may have written something, or when it is time to count the
    /// other nodes. A node alone only counts.
    pub(crate) async fn woken(&mut self) -> Woke {
        let relaying = self.presence.relaying();
        match &mut self.wake {
            Wake::Poll(poll) => {
                tokio::select! {
                    _ = self.presence_tick.tick() => Woke::Presence,
                    _ = poll.tick(), if relaying => Woke::Read,
                }
            }
            Wake::Listen { notified, fallback } => {
                tokio::select! {
                    _ = self.presence_tick.tick() => Woke::Presence,
                    woke = notified.recv() => match woke {
                        Some(()) => {
                            // Only another node notifies: it exists, whatever the last count said.
                            if !relaying {
                                self.presence.set_other_nodes(1);
                            }
                            Woke::Read
                        }
                        None => {
                            // The listener gave up; poll as on SQLite from now on.
                            self.wake = Wake::Poll(interval(SQLITE_POLL));
                            Woke::Presence
                        }
                    },
                    _ = fallback.tick(), if relaying => Woke::Read,
                }
            }
        }
    }

    /// Refreshes this node's row when due and counts the other nodes. On a change either way it
    /// reads at once: a newcomer's first lines, or a leaver's last ones.
    pub(crate) async fn check_presence(&mut self, hub: &Hub, db: &db::Db) {
        let was = self.presence.relaying();
        match self.count_others(db).await {
            Ok(count) => self.presence.set_other_nodes(count),
            Err(error) => tracing::warn!(%error, "could not count the other chat nodes"),
        }
        if was != self.presence.relaying() {
            self.poll(hub, db).await;
        }
    }

    async fn count_others(&mut self, db: &db::Db) -> Result<i64, db::Error> {
        let now = self.clock.now();
        self.presence.presence_checks.fetch_add(1, Ordering::Relaxed);
        if self.refreshed.elapsed() >= HEARTBEAT {
            let mut tx = db.begin().await?;
            store::refresh_node(&mut tx, self.node(), now, ago(now, FORGET_SECONDS)).await?;
            tx.commit().await?;
            self.refreshed = Instant::now();
        }
        let mut tx = db.read().await?;
        let count = store::other_nodes(&mut tx, self.node(), ago(now, NODE_ALIVE_SECONDS)).await?;
        tx.rollback().await?;
        Ok(count)
    }

    /// Removes this node's row when its hub goes away, so the others stop relaying for it.
    pub(crate) async fn stop(&self, db: &db::Db) {
        let removed = async {
            let mut tx = db.begin().await?;
            store::remove_node(&mut tx, self.node()).await?;
            tx.commit().await
        };
        if let Err(error) = removed.await {
            tracing::warn!(%error, "could not remove this chat node's row");
        }
    }

    /// Reads the messages and signals after the cursors (in one read transaction) and delivers
    /// those other nodes wrote.
    pub(crate) async fn poll(&mut self, hub: &Hub, db: &db::Db) {
        loop {
            self.presence.counted_query();
            let (rows, signals) = match read_after(db, self.cursor, self.signal_cursor).await {
                Ok(read) => read,
                Err(error) => {
                    tracing::warn!(%error, "could not read other nodes' chat messages and signals");
                    return;
                }
            };
            let full = [rows.len(), signals.len()].iter().any(|n| i64::try_from(*n).unwrap_or(i64::MAX) >= RELAY_BATCH);
            for row in rows {
                self.cursor = self.cursor.max(row.chat_message_id);
                if !self.own.remove(&row.chat_message_id) {
                    relay_row(hub, db, &row).await;
                }
            }
            self.own = self.own.split_off(&(self.cursor + 1));
            for signal in signals {
                self.signal_cursor = self.signal_cursor.max(signal.live_signal_id);
                if signal.node != self.node() {
                    relay_signal(hub, &signal);
                }
            }
            if !full {
                return;
            }
        }
    }
}

async fn read_after(
    db: &db::Db,
    cursor: i64,
    signal_cursor: i64,
) -> Result<(Vec<RelayedRow>, Vec<SignalRow>), db::Error> {
    let mut tx = db.read().await?;
    let rows = store::messages_after(&mut tx, cursor, RELAY_BATCH).await?;
    let signals = store::signals_after(&mut tx, signal_cursor, RELAY_BATCH).await?;
    tx.rollback().await?;
    Ok((rows, signals))
}

/// Holds a PostgreSQL connection listening on the channel; wakes the relay on every other
/// node's notification. The writer task aborts it when the hub goes away.
async fn listen(pool: sqlx::PgPool, channel: String, node: String, wake: mpsc::Sender<()>) {
    let mut listener = loop {
        let connected = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(&channel).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match connected.await {
            Ok(listener) => break listener,
            Err(error) => {
                tracing::warn!(%error, "chat relay could not listen; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    };
    loop {
        match listener.recv().await {
            Ok(notification) if notification.payload() != node => {
                // One pending wake-up is enough: the relay reads everything new at once.
                let _ = wake.try_send(());
            }
            Ok(_) => {}
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                tracing::warn!(%error, "chat relay lost its listener; reconnecting");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        if wake.is_closed() {
            return;
        }
    }
}

/// Delivers one row another node wrote, and brings this node's view of the session up to date.
async fn relay_row(hub: &Hub, db: &db::Db, row: &RelayedRow) {
    let id = row.chat_session_id;
    let text =
        message_frame(id, row.chat_message_id, &row.sender, &row.sender_name, &row.body, row.sent_at).to_string();
    if row.sender != "note" {
        hub.to_visitor_text(id, text.clone());
    }
    let owner_here = hub.owner_of(id);
    let system = row.sender == "system";
    match (row.status.as_str(), row.agent_user_id) {
        ("active", Some(agent)) => {
            if let Some(previous) = owner_here.filter(|p| *p != agent) {
                hub.clear_owner(id);
                let frame = json!({ "type": "transferred", "chat_session_id": id, "to_name": row.agent_name });
                hub.to_agent(previous, &frame);
            }
            if owner_here == Some(agent) {
                hub.to_agent_text(agent, &text);
            } else if hub.agent_here(agent) {
                // Taken or handed over on another node by or to an agent whose console is here.
                hub.set_owner(id, agent);
                if let Err(error) = crate::console::send_assigned(hub, db, id, agent).await {
                    tracing::warn!(%error, chat_session_id = id, "could not open a relayed chat");
                }
            }
            if system {
                hub.dequeue(id);
                let frame = json!({ "type": "agent", "chat_session_id": id, "agent_name": row.agent_name });
                hub.to_visitor(id, &frame);
            }
        }
        (status, _) => {
            if let Some(previous) = owner_here {
                hub.clear_owner(id);
                let frame = match status {
                    "ended" => json!({ "type": "ended", "chat_session_id": id }),
                    _ => json!({ "type": "transferred", "chat_session_id": id, "to_name": null }),
                };
                hub.to_agent(previous, &frame);
            }
            if system && status == "ended" {
                hub.to_visitor(id, &json!({ "type": "ended", "chat_session_id": id }));
            }
        }
    }
}

/// Shows one signal another node wrote on the connections it concerns here.
fn relay_signal(hub: &Hub, row: &SignalRow) {
    let session = row.chat_session_id.unwrap_or_default();
    match row.kind.as_str() {
        "typing" if row.sender == "visitor" => {
            if let Some(agent) = hub.owner_of(session) {
                hub.to_agent(agent, &json!({ "type": "typing", "chat_session_id": session }));
            }
        }
        "typing" => hub.to_visitor(session, &json!({ "type": "typing", "chat_session_id": session })),
        "visitor_back" => {
            if let Some(agent) = row.user_id {
                hub.to_agent(agent, &json!({ "type": "visitor_back", "chat_session_id": session }));
            }
        }
        "call_pop" => match (row.user_id, serde_json::from_str::<Value>(&row.payload)) {
            (Some(user), Ok(frame)) => {
                hub.to_listener(user, &frame);
            }
            _ => tracing::warn!(live_signal_id = row.live_signal_id, "a screen-pop signal could not be read"),
        },
        kind => tracing::warn!(kind, live_signal_id = row.live_signal_id, "unknown live signal"),
    }
}
