//! The audit trail: one append-only record per sign-in, user change, customer-data change and
//! money event. Each record's hash covers its own fields and the previous record's hash, so
//! editing or removing any record breaks the chain from that point on, and [`verify`] names it.
//! The database itself refuses UPDATE and DELETE on the table.

use crate::{Db, Result, Tx};
use kernel::ids::AuditSeq;
use kernel::{Actor, PageRequest, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Mutex;

/// What happened, to which entity.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// A dotted verb such as `user.created` or `signin.failed`.
    pub action: &'a str,
    /// The kind of thing acted on: `staff_user`, `customer`, `payment`, ...
    pub entity: &'a str,
    pub entity_id: String,
    /// Before/after values or other facts, as JSON.
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

fn record_hash(record: &AuditRecord) -> String {
    let mut hasher = Sha256::new();
    for part in [
        record.seq.to_string(),
        record.at.to_string(),
        record.actor_user_id.map(|id| id.to_string()).unwrap_or_default(),
        record.actor_name.clone(),
        record.action.clone(),
        record.entity.clone(),
        record.entity_id.clone(),
        record.detail.clone(),
        record.prev_hash.clone(),
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The chain head this process last wrote (SQLite): (sequence number, hash). A guess only: an
/// append built on it is written only where the database's head still says exactly this, so a
/// head moved by another process, another database or a rolled-back transaction costs one
/// failed statement and the ordinary path, never a broken chain.
static LAST_HEAD: Mutex<Option<(i64, String)>> = Mutex::new(None);

fn last_head() -> Option<(i64, String)> {
    LAST_HEAD.lock().map(|head| head.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone())
}

fn remember_head(seq: i64, hash: &str) {
    let mut head = LAST_HEAD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    *head = Some((seq, hash.to_string()));
}

/// Appends one record inside the caller's transaction. The head row is updated first, which
/// locks it until commit, so concurrent appenders on any node form one unbroken chain.
pub async fn append(tx: &mut Tx, actor: &Actor, event: AuditEvent<'_>, at: Timestamp) -> Result<AuditSeq> {
    let mut record = AuditRecord {
        seq: 0,
        at: at.micros(),
        actor_user_id: actor.user_id().map(|id| id.get()),
        actor_name: actor.name(),
        action: event.action.to_string(),
        entity: event.entity.to_string(),
        entity_id: event.entity_id,
        detail: event.detail.to_string(),
        prev_hash: String::new(),
        hash: String::new(),
    };
    // SQLite has one writer, so the head this process wrote last is usually still the head:
    // the record then goes in with one statement instead of a head read and a write.
    if tx.backend() == crate::Backend::Sqlite
        && let Some((last_seq, last_hash)) = last_head()
    {
        record.seq = last_seq + 1;
        record.prev_hash = last_hash;
        record.hash = record_hash(&record);
        if append_on_head(tx, &record).await? {
            remember_head(record.seq, &record.hash);
            return Ok(AuditSeq(record.seq));
        }
    }
    let (seq, prev_hash) = crate::fetch_one!(
        tx,
        (i64, String),
        "update audit_head set last_seq = last_seq + 1 where head_id = 1
         returning last_seq, last_hash"
    )?;
    record.seq = seq;
    record.prev_hash = prev_hash;
    record.hash = record_hash(&record);
    // The record and the head's new hash go in one statement: on a busy desk every payment
    // appends a record, and each statement is a round trip to the database.
    let sql = match tx.backend() {
        crate::Backend::Sqlite => {
            "insert into audit (seq, at, actor_user_id, actor_name, action, entity, entity_id, detail,
                                prev_hash, hash)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);
             update audit_head set last_hash = $10 where head_id = 1"
        }
        crate::Backend::Postgres => {
            "with head as (update audit_head set last_hash = $10 where head_id = 1)
             insert into audit (seq, at, actor_user_id, actor_name, action, entity, entity_id, detail,
                                prev_hash, hash)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        }
    };
    let written = crate::execute!(
        tx,
        sql,
        record.seq,
        record.at,
        record.actor_user_id,
        &record.actor_name,
        &record.action,
        &record.entity,
        &record.entity_id,
        &record.detail,
        &record.prev_hash,
        &record.hash
    )?;
    if written == 0 {
        return Err(crate::Error::Malformed("the audit record was not written".into()));
    }
    if tx.backend() == crate::Backend::Sqlite {
        remember_head(record.seq, &record.hash);
    }
    Ok(AuditSeq(seq))
}

/// SQLite: writes `record` and moves the head to it only if the head is the record before it
/// (`seq - 1` with hash `prev_hash`); answers whether it was written. Both statements test the
/// same condition on the head, which the first does not change, so both or neither write.
async fn append_on_head(tx: &mut Tx, record: &AuditRecord) -> Result<bool> {
    let written = crate::execute!(
        tx,
        "insert into audit (seq, at, actor_user_id, actor_name, action, entity, entity_id, detail, prev_hash, hash)
         select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
         where exists (select 1 from audit_head where head_id = 1 and last_seq = $1 - 1 and last_hash = $9);
         update audit_head set last_seq = $1, last_hash = $10
         where head_id = 1 and last_seq = $1 - 1 and last_hash = $9",
        record.seq,
        record.at,
        record.actor_user_id,
        &record.actor_name,
        &record.action,
        &record.entity,
        &record.entity_id,
        &record.detail,
        &record.prev_hash,
        &record.hash
    )?;
    match written {
        2 => Ok(true),
        0 => Ok(false),
        _ => Err(crate::Error::Malformed("the audit record and the head were not written together".into())),
    }
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChainReport {
    pub records_checked: u64,
    pub problems: Vec<String>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

const VERIFY_BATCH: i64 = 5_000;

/// Recomputes every hash in order and checks each link, the numbering and the head row.
pub async fn verify(db: &Db) -> Result<ChainReport> {
    let mut report = ChainReport::default();
    let mut tx = db.read().await?;
    let mut expected_prev = "0".repeat(64);
    let mut expected_seq = 1_i64;
    loop {
        let batch = crate::fetch_all!(
            &mut tx,
            AuditRecord,
            "select seq, at, actor_user_id, actor_name, action, entity, entity_id, detail,
                    prev_hash, hash
             from audit where seq >= $1 order by seq limit $2",
            expected_seq,
            VERIFY_BATCH
        )?;
        let Some(last) = batch.last() else { break };
        let next_seq = last.seq + 1;
        for record in &batch {
            check_record(record, expected_seq, &expected_prev, &mut report);
            expected_prev = record.hash.clone();
            expected_seq = record.seq + 1;
            report.records_checked += 1;
        }
        expected_seq = expected_seq.max(next_seq);
    }
    let (head_seq, head_hash) =
        crate::fetch_one!(&mut tx, (i64, String), "select last_seq, last_hash from audit_head where head_id = 1")?;
    if head_seq != expected_seq - 1 || head_hash != expected_prev {
        report.problems.push(format!(
            "audit head says record {head_seq} is last, but the chain ends at record {}",
            expected_seq - 1
        ));
    }
    tx.rollback().await?;
    Ok(report)
}

fn check_record(record: &AuditRecord, expected_seq: i64, expected_prev: &str, report: &mut ChainReport) {
    if record.seq != expected_seq {
        report.problems.push(format!("audit records {expected_seq} to {} are missing", record.seq - 1));
    }
    if record.prev_hash != expected_prev {
        report.problems.push(format!("audit record {} does not link to the record before it", record.seq));
    }
    if record_hash(record) != record.hash {
        report.problems.push(format!(
            "audit record {} ({} on {} {}) was altered after it was written",
            record.seq, record.action, record.entity, record.entity_id
        ));
    }
}

/// Filters for the audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_name: Option<String>,
}

/// Newest first, paged by sequence number.
pub async fn list(tx: &mut Tx, filter: &AuditFilter, page: &PageRequest) -> Result<kernel::Page<AuditRecord>> {
    let before = page.after.map(|c| c.after_key).unwrap_or(i64::MAX);
    let rows = crate::fetch_all!(
        tx,
        AuditRecord,
        "select seq, at, actor_user_id, actor_name, action, entity, entity_id, detail,
                prev_hash, hash
         from audit
         where seq < $1
           and ($2 = '' or entity = $2)
           and ($3 = '' or entity_id = $3)
           and ($4 = '' or actor_name = $4)
         order by seq desc limit $5",
        before,
        filter.entity.clone().unwrap_or_default(),
        filter.entity_id.clone().unwrap_or_default(),
        filter.actor_name.clone().unwrap_or_default(),
        page.fetch_limit()
    )?;
    Ok(kernel::Page::from_rows(rows, page, |r| r.seq))
}
