//! Group commit for the single SQLite writer. Every commit with `synchronous=FULL` waits for the
//! disk, which caps one writer at a few thousand commits a second; many small writes arriving at
//! once (contacts logged by a busy desk) are therefore run together: each in its own savepoint
//! inside one transaction, so each succeeds or fails alone, and the batch is committed — and
//! made durable — once. A caller hears back only after that commit. PostgreSQL has no single
//! writer, so there each write simply runs in its own transaction.

use crate::{Db, Error, Tx};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// The most writes committed together.
const MAX_GROUP: usize = 128;
/// Writes waiting for the writer before callers are made to wait for room.
const QUEUE_DEPTH: usize = 4_096;

type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn for<'a> FnOnce(&'a mut Tx) -> Pin<Box<dyn Future<Output = (bool, Finish)> + Send + 'a>> + Send>;

/// The handle to a database's group-commit writer.
#[derive(Clone, Debug)]
pub struct Grouper {
    jobs: mpsc::Sender<Job>,
}

impl Grouper {
    pub(crate) fn start(db: Db) -> Grouper {
        let (jobs, receiver) = mpsc::channel::<Job>(QUEUE_DEPTH);
        tokio::spawn(run(db, receiver));
        Grouper { jobs }
    }
}

async fn run(db: Db, mut receiver: mpsc::Receiver<Job>) {
    while let Some(first) = receiver.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut finishes = Vec::with_capacity(group.len());
        let outcome = run_group(&db, group, &mut finishes).await;
        let result = outcome.map_err(|e| e.to_string());
        for finish in finishes {
            finish(result.clone());
        }
    }
}

async fn run_group(db: &Db, group: Vec<Job>, finishes: &mut Vec<Finish>) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    // Each statement is a hand-off to the writer's thread, so the end of one write and the
    // start of the next go together; the last write needs no release: commit ends it.
    let mut previous_kept = None;
    for job in group {
        let open = match previous_kept {
            None => "savepoint grouped_write",
            Some(true) => "release savepoint grouped_write; savepoint grouped_write",
            Some(false) => {
                "rollback to savepoint grouped_write; release savepoint grouped_write; savepoint grouped_write"
            }
        };
        crate::execute!(&mut tx, open)?;
        let (keep, finish) = job(&mut tx).await;
        finishes.push(finish);
        previous_kept = Some(keep);
    }
    if previous_kept == Some(false) {
        crate::execute!(&mut tx, "rollback to savepoint grouped_write")?;
    }
    tx.commit().await
}

impl Db {
    /// Runs `write` in a transaction that may be shared with other concurrent writes (SQLite),
    /// its own effects undone if it fails, and answers once the transaction has committed.
    pub async fn write_grouped<T, E, F>(&self, write: F) -> Result<T, E>
    where
        F: for<'a> FnOnce(&'a mut Tx) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'a>> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let Some(grouper) = self.grouper() else {
            let mut tx = self.begin().await?;
            let value = write(&mut tx).await?;
            tx.commit().await?;
            return Ok(value);
        };
        let (sender, answer) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |tx| {
            Box::pin(async move {
                let result = write(tx).await;
                let keep = result.is_ok();
                let finish: Finish = Box::new(move |committed| {
                    let delivered = match committed {
                        Ok(()) => result,
                        Err(message) => Err(E::from(Error::Malformed(format!("grouped commit failed: {message}")))),
                    };
                    let _ = sender.send(delivered);
                });
                (keep, finish)
            })
        });
        if grouper.jobs.send(job).await.is_err() {
            return Err(E::from(Error::Malformed("the group-commit writer has stopped".into())));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(E::from(Error::Malformed("the group-commit writer dropped a write".into()))))
    }
}
