//! The job queue: background work (SLA timers, dunning runs, email sending, clean-ups) stored in
//! the business database. A job is enqueued inside the same transaction as the write that calls
//! for it, so it exists exactly when that write committed. Workers on any node claim a job with
//! a lease; a job whose worker died is claimable again once its lease runs out; a failed job is
//! retried with exponential back-off until it has used its attempts, then it is dead.

use crate::{Db, Result, Tx};
use kernel::Timestamp;
use kernel::ids::JobId;
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;
const BACKOFF_BASE_SECONDS: i64 = 5;
const BACKOFF_CAP_SECONDS: i64 = 3_600;

/// Seconds to wait before the next try, after `attempts` tries have failed.
pub fn backoff_seconds(attempts: i32) -> i64 {
    let exponent = attempts.clamp(1, 20) - 1;
    BACKOFF_BASE_SECONDS.saturating_mul(1_i64 << exponent).min(BACKOFF_CAP_SECONDS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub fn code(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }
}

/// A job a worker holds the lease on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub job_id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_token: String,
}

impl ClaimedJob {
    pub fn id(&self) -> JobId {
        JobId(self.job_id)
    }
}

/// A row of the queue as the admin screen shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobRow {
    pub job_id: i64,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// Adds a job, to run at `run_at` or later.
pub async fn enqueue(tx: &mut Tx, kind: &str, payload: &serde_json::Value, run_at: Timestamp) -> Result<JobId> {
    let id = crate::scalar!(
        tx,
        i64,
        "insert into job (kind, payload, status, max_attempts, run_at, created_at)
         values ($1, $2, 'queued', $3, $4, $4) returning job_id",
        kind,
        payload.to_string(),
        DEFAULT_MAX_ATTEMPTS,
        run_at.micros()
    )?;
    Ok(JobId(id))
}

/// Adds a job unless one with the same `dedupe_key` is already queued or running; used for
/// recurring work so that several nodes schedule it once. Returns the new job's id, if any.
pub async fn enqueue_unique(
    tx: &mut Tx,
    kind: &str,
    dedupe_key: &str,
    payload: &serde_json::Value,
    run_at: Timestamp,
) -> Result<Option<JobId>> {
    let id = crate::scalar_optional!(
        tx,
        i64,
        "insert into job (kind, payload, status, max_attempts, run_at, created_at, dedupe_key)
         values ($1, $2, 'queued', $3, $4, $4, $5)
         on conflict do nothing returning job_id",
        kind,
        payload.to_string(),
        DEFAULT_MAX_ATTEMPTS,
        run_at.micros(),
        dedupe_key
    )?;
    Ok(id.map(JobId))
}

/// Claims the next due job (or one whose lease expired) for `lease_seconds`. At most one
/// worker across all nodes gets any given job.
pub async fn claim(db: &Db, worker: &str, now: Timestamp, lease_seconds: i64) -> Result<Option<ClaimedJob>> {
    let lease_token = crate::random_token(16);
    let lease_until = now.plus_seconds(lease_seconds).micros();
    let mut tx = db.begin().await?;
    let job = match &mut tx {
        Tx::Sqlite(_) => crate::fetch_optional!(
            &mut tx,
            ClaimedJob,
            "update job set status = 'running', attempts = attempts + 1, lease_until = $1,
                    lease_token = $2, leased_by = $3
             where job_id = (select job_id from job
                             where (status = 'queued' and run_at <= $4)
                                or (status = 'running' and lease_until < $4)
                             order by run_at, job_id limit 1)
             returning job_id, kind, payload, attempts, max_attempts, lease_token",
            lease_until,
            &lease_token,
            worker,
            now.micros()
        )?,
        Tx::Pg(_) => crate::fetch_optional!(
            &mut tx,
            ClaimedJob,
            "update job set status = 'running', attempts = attempts + 1, lease_until = $1,
                    lease_token = $2, leased_by = $3
             where job_id = (select job_id from job
                             where (status = 'queued' and run_at <= $4)
                                or (status = 'running' and lease_until < $4)
                             order by run_at, job_id limit 1
                             for update skip locked)
             returning job_id, kind, payload, attempts, max_attempts, lease_token",
            lease_until,
            &lease_token,
            worker,
            now.micros()
        )?,
    };
    tx.commit().await?;
    Ok(job)
}

/// Marks a claimed job done. False when the lease was lost (another worker took it over).
pub async fn complete(db: &Db, job: &ClaimedJob, now: Timestamp) -> Result<bool> {
    let mut tx = db.begin().await?;
    let rows = crate::execute!(
        &mut tx,
        "update job set status = 'done', finished_at = $1, lease_until = null, last_error = null
         where job_id = $2 and lease_token = $3 and status = 'running'",
        now.micros(),
        job.job_id,
        &job.lease_token
    )?;
    tx.commit().await?;
    Ok(rows == 1)
}

/// Records a failed try: queued again after a back-off, or dead once attempts are used up.
pub async fn fail(db: &Db, job: &ClaimedJob, error: &str, now: Timestamp) -> Result<JobStatus> {
    let status = if job.attempts >= job.max_attempts { JobStatus::Dead } else { JobStatus::Queued };
    let run_at = now.plus_seconds(backoff_seconds(job.attempts)).micros();
    let finished_at = (status == JobStatus::Dead).then_some(now.micros());
    let error: String = error.chars().take(2_000).collect();
    let mut tx = db.begin().await?;
    crate::execute!(
        &mut tx,
        "update job set status = $1, run_at = $2, last_error = $3, finished_at = $4,
                lease_until = null
         where job_id = $5 and lease_token = $6 and status = 'running'",
        status.code(),
        run_at,
        error,
        finished_at,
        job.job_id,
        &job.lease_token
    )?;
    tx.commit().await?;
    Ok(status)
}

/// How many jobs are in each status.
pub async fn counts(tx: &mut Tx) -> Result<Vec<(String, i64)>> {
    crate::fetch_all!(tx, (String, i64), "select status, count(*) from job group by status order by status")
}

/// The most recent jobs, newest first.
pub async fn recent(tx: &mut Tx, limit: i64) -> Result<Vec<JobRow>> {
    crate::fetch_all!(
        tx,
        JobRow,
        "select job_id, kind, status, attempts, max_attempts, run_at, last_error, created_at,
                finished_at
         from job order by job_id desc limit $1",
        limit
    )
}

pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
pub type JobHandler = Arc<dyn Fn(Db, ClaimedJob) -> JobFuture + Send + Sync>;

/// The handlers a worker knows, by job kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, JobHandler>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    pub fn register<F, Fut>(&mut self, kind: &str, handler: F)
    where
        F: Fn(Db, ClaimedJob) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let handler: JobHandler = Arc::new(move |db, job| Box::pin(handler(db, job)));
        self.handlers.insert(kind.to_string(), handler);
    }

    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.handlers.keys().cloned().collect();
        kinds.sort();
        kinds
    }

    /// Claims and runs one job if any is due; returns whether one ran.
    pub async fn run_one(&self, db: &Db, worker: &str, now: Timestamp, lease_seconds: i64) -> Result<bool> {
        let Some(job) = claim(db, worker, now, lease_seconds).await? else {
            return Ok(false);
        };
        let outcome = match self.handlers.get(&job.kind) {
            Some(handler) => handler(db.clone(), job.clone()).await,
            None => Err(format!("no handler for job kind {:?}", job.kind)),
        };
        match outcome {
            Ok(()) => {
                complete(db, &job, now).await?;
            }
            Err(error) => {
                let status = fail(db, &job, &error, now).await?;
                tracing::warn!(job_id = job.job_id, kind = %job.kind, %error, status = status.code(), "job failed");
            }
        }
        Ok(true)
    }
}
