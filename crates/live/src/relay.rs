//! Delivery across nodes. Several Caredesk processes may share one database, and a visitor's
//! socket may sit on another node than the agent's. Every chat message is a row of
//! `chat_message` whose ids become visible in order, so each node follows the table with an id
//! cursor and delivers the rows other nodes wrote to the connections it holds. On PostgreSQL a
//! `NOTIFY` after each commit wakes the other nodes at once (with a slow poll in case a
//! notification is lost while the listener reconnects); on SQLite, where several processes may
//! share one file, a cheap poll of the newest rows runs every few milliseconds.
//!
//! State changes travel as messages too: taking, transferring and ending a chat each write a
//! system line, and the receiving node reads the session's state alongside the row (who holds
//! it now, whether it ended) and tells its own connections.

use crate::hub::{Hub, message_frame};
use crate::store::{self, RelayedRow};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// How often a node looks for other nodes' messages in a shared SQLite file.
const SQLITE_POLL: Duration = Duration::from_millis(40);
/// How often a PostgreSQL node looks without being woken (a lost notification, a reconnect).
const PG_FALLBACK_POLL: Duration = Duration::from_secs(1);
/// The most rows one read takes; a node behind by more reads again at once.
const RELAY_BATCH: i64 = 1_000;

/// What wakes the relay.
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

/// One node's follower of the message table, owned by the hub's writer task (so a message this
/// node wrote is never also relayed back to it).
pub(crate) struct Relay {
    /// A random name of this process; its own notifications carry it and are ignored.
    node: String,
    /// The PostgreSQL notification channel; none on SQLite.
    channel: Option<String>,
    cursor: i64,
    /// Ids this node wrote that the cursor has not passed yet.
    own: BTreeSet<i64>,
    wake: Wake,
    _listener: Option<AbortOnDrop>,
}

fn interval(period: Duration) -> tokio::time::Interval {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval
}

impl Relay {
    pub(crate) async fn start(db: &db::Db) -> Result<Relay, db::Error> {
        let node = db::random_token(12);
        let mut tx = db.read().await?;
        let cursor = store::last_message_id(&mut tx).await?;
        let channel = match db {
            db::Db::Pg(_) => Some(format!("caredesk_chat_{}", store::current_schema(&mut tx).await?)),
            db::Db::Sqlite { .. } => None,
        };
        tx.rollback().await?;
        let (wake, listener) = match (db, &channel) {
            (db::Db::Pg(pool), Some(channel)) => {
                let (wake_tx, notified) = mpsc::channel(1);
                let task = tokio::spawn(listen(pool.clone(), channel.clone(), node.clone(), wake_tx));
                let wake = Wake::Listen { notified, fallback: interval(PG_FALLBACK_POLL) };
                (wake, Some(AbortOnDrop(task.abort_handle())))
            }
            _ => (Wake::Poll(interval(SQLITE_POLL)), None),
        };
        Ok(Relay { node, channel, cursor, own: BTreeSet::new(), wake, _listener: listener })
    }

    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    pub(crate) fn channel(&self) -> Option<&str> {
        self.channel.as_deref()
    }

    /// Remembers ids this node has just stored (and delivered itself).
    pub(crate) fn written(&mut self, ids: &[i64]) {
        self.own.extend(ids.iter().copied().filter(|id| *id > self.cursor));
    }

    /// Resolves when another node may have written something.
    pub(crate) async fn woken(&mut self) {
        match &mut self.wake {
            Wake::Poll(interval) => {
                interval.tick().await;
            }
            Wake::Listen { notified, fallback } => {
                tokio::select! {
                    woke = notified.recv() => {
                        if woke.is_none() {
                            // The listener gave up; poll as on SQLite from now on.
                            self.wake = Wake::Poll(interval(SQLITE_POLL));
                        }
                    }
                    _ = fallback.tick() => {}
                }
            }
        }
    }

    /// Reads the rows after the cursor and delivers those other nodes wrote.
    pub(crate) async fn poll(&mut self, hub: &Hub, db: &db::Db) {
        loop {
            let rows = match read_after(db, self.cursor).await {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::warn!(%error, "could not read other nodes' chat messages");
                    return;
                }
            };
            let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= RELAY_BATCH;
            for row in rows {
                self.cursor = self.cursor.max(row.chat_message_id);
                if !self.own.remove(&row.chat_message_id) {
                    relay_row(hub, db, &row).await;
                }
            }
            self.own = self.own.split_off(&(self.cursor + 1));
            if !full {
                return;
            }
        }
    }
}

async fn read_after(db: &db::Db, cursor: i64) -> Result<Vec<RelayedRow>, db::Error> {
    let mut tx = db.read().await?;
    let rows = store::messages_after(&mut tx, cursor, RELAY_BATCH).await?;
    tx.rollback().await?;
    Ok(rows)
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
