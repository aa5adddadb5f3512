//! Store tests for the db crate: they run on SQLite always and on PostgreSQL as well when
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `TEST_DATABASE_URL` is set (CI runs the suite both ways).

use crate::audit::{self, AuditEvent, AuditFilter};
use crate::jobs::{self, JobStatus, Registry};
use crate::{Db, Tx, scratch};
use kernel::{Actor, PageRequest, Timestamp};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn t(seconds: i64) -> Timestamp {
    Timestamp::from_micros(1_700_000_000_000_000).plus_seconds(seconds)
}

fn migration_names(backend: &str) -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn migration_trees_stay_in_step() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres must hold the same file names");
    for name in &sqlite {
        let valid = name.ends_with(".sql")
            && name.split('_').next().is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()));
        assert!(valid, "{name} should be NNNN_description.sql");
    }
}

#[tokio::test]
async fn migrating_twice_is_harmless() -> TestResult {
    let s = scratch::open().await?;
    s.db.migrate().await?;
    s.db.ping().await?;
    Ok(())
}

async fn enqueue_one(db: &Db, kind: &str, at: Timestamp) -> Result<kernel::ids::JobId, crate::Error> {
    let mut tx = db.begin().await?;
    let id = jobs::enqueue(&mut tx, kind, &serde_json::json!({"n": 1}), at).await?;
    tx.commit().await?;
    Ok(id)
}

#[tokio::test]
async fn a_job_enqueued_in_a_rolled_back_transaction_never_exists() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    jobs::enqueue(&mut tx, "test.echo", &serde_json::json!({}), t(0)).await?;
    tx.rollback().await?;
    assert!(jobs::claim(&s.db, "w1", t(10), 60).await?.is_none());
    Ok(())
}

#[tokio::test]
async fn a_job_is_claimed_once_and_not_before_it_is_due() -> TestResult {
    let s = scratch::open().await?;
    enqueue_one(&s.db, "test.echo", t(100)).await?;
    assert!(jobs::claim(&s.db, "w1", t(99), 60).await?.is_none(), "not yet due");
    let job = jobs::claim(&s.db, "w1", t(100), 60).await?;
    assert!(job.is_some());
    assert!(jobs::claim(&s.db, "w2", t(101), 60).await?.is_none(), "leased to w1");
    Ok(())
}

#[tokio::test]
async fn concurrent_workers_never_share_a_job() -> TestResult {
    let s = scratch::open().await?;
    for _ in 0..20 {
        enqueue_one(&s.db, "test.echo", t(0)).await?;
    }
    let mut handles = Vec::new();
    for w in 0..8 {
        let db = s.db.clone();
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Ok(Some(job)) = jobs::claim(&db, &format!("w{w}"), t(1), 60).await {
                mine.push(job.job_id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.await?);
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, 20, "every job claimed");
    assert_eq!(all.len(), 20, "no job claimed twice");
    Ok(())
}

#[tokio::test]
async fn a_job_whose_worker_died_is_resumed_after_its_lease() -> TestResult {
    let s = scratch::open().await?;
    enqueue_one(&s.db, "test.echo", t(0)).await?;
    let first = jobs::claim(&s.db, "crashed", t(0), 60).await?.ok_or("no job")?;
    assert!(jobs::claim(&s.db, "w2", t(59), 60).await?.is_none());
    let second = jobs::claim(&s.db, "w2", t(61), 60).await?.ok_or("not resumed")?;
    assert_eq!(first.job_id, second.job_id);
    assert_eq!(second.attempts, 2);
    assert!(!jobs::complete(&s.db, &first, t(62)).await?, "the stale worker lost its lease");
    assert!(jobs::complete(&s.db, &second, t(62)).await?);
    Ok(())
}

#[tokio::test]
async fn a_failing_job_backs_off_then_dies() -> TestResult {
    let s = scratch::open().await?;
    enqueue_one(&s.db, "test.fail", t(0)).await?;
    let mut registry = Registry::new();
    registry.register("test.fail", |_db, _job| async { Err("boom".to_string()) });
    let mut now = t(0);
    for attempt in 1..=jobs::DEFAULT_MAX_ATTEMPTS {
        assert!(registry.run_one(&s.db, "w", now, 60).await?, "attempt {attempt} ran");
        assert!(!registry.run_one(&s.db, "w", now, 60).await?, "backing off");
        now = now.plus_seconds(jobs::backoff_seconds(attempt));
    }
    let mut tx = s.db.read().await?;
    let rows = jobs::recent(&mut tx, 10).await?;
    assert_eq!(rows.first().map(|r| r.status.as_str()), Some(JobStatus::Dead.code()));
    assert_eq!(rows.first().and_then(|r| r.last_error.clone()).as_deref(), Some("boom"));
    Ok(())
}

#[tokio::test]
async fn registry_runs_each_job_exactly_once() -> TestResult {
    let s = scratch::open().await?;
    let ran = Arc::new(AtomicUsize::new(0));
    let mut registry = Registry::new();
    let counter = ran.clone();
    registry.register("test.count", move |_db, _job| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    });
    for _ in 0..5 {
        enqueue_one(&s.db, "test.count", t(0)).await?;
    }
    while registry.run_one(&s.db, "w", t(1), 60).await? {}
    assert_eq!(ran.load(Ordering::SeqCst), 5);
    Ok(())
}

#[test]
fn backoff_grows_and_is_capped() {
    assert_eq!(jobs::backoff_seconds(1), 5);
    assert_eq!(jobs::backoff_seconds(2), 10);
    assert_eq!(jobs::backoff_seconds(3), 20);
    assert_eq!(jobs::backoff_seconds(30), 3_600);
}

async fn append(db: &Db, n: usize) -> TestResult {
    let actor = Actor::system("test");
    for i in 0..n {
        let mut tx = db.begin().await?;
        let event = AuditEvent {
            action: "thing.changed",
            entity: "thing",
            entity_id: i.to_string(),
            detail: serde_json::json!({ "i": i }),
        };
        audit::append(&mut tx, &actor, event, t(i as i64)).await?;
        tx.commit().await?;
    }
    Ok(())
}

async fn tamper(db: &Db, sql_sqlite: &'static str, sql_pg: &'static str) -> TestResult {
    let mut tx = db.begin().await?;
    match &mut tx {
        Tx::Sqlite(_) => {
            crate::execute!(&mut tx, "drop trigger audit_refuse_update")?;
            crate::execute!(&mut tx, "drop trigger audit_refuse_delete")?;
            crate::execute!(&mut tx, sql_sqlite)?;
        }
        Tx::Pg(_) => {
            crate::execute!(&mut tx, "alter table audit disable trigger audit_refuse_update")?;
            crate::execute!(&mut tx, sql_pg)?;
        }
    }
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn an_intact_chain_verifies() -> TestResult {
    let s = scratch::open().await?;
    append(&s.db, 25).await?;
    let report = audit::verify(&s.db).await?;
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records_checked, 25);
    let mut tx = s.db.read().await?;
    let page = audit::list(&mut tx, &AuditFilter::default(), &PageRequest::parse(Some(10), None)?).await?;
    assert_eq!(page.items.first().map(|r| r.seq), Some(25));
    assert!(page.next_cursor.is_some());
    Ok(())
}

#[tokio::test]
async fn the_database_refuses_to_edit_or_delete_audit_records() -> TestResult {
    let s = scratch::open().await?;
    append(&s.db, 2).await?;
    let mut tx = s.db.begin().await?;
    assert!(crate::execute!(&mut tx, "update audit set actor_name = 'mallory'").is_err());
    tx.rollback().await?;
    let mut tx = s.db.begin().await?;
    assert!(crate::execute!(&mut tx, "delete from audit").is_err());
    tx.rollback().await?;
    Ok(())
}

#[tokio::test]
async fn an_edited_record_is_named_by_verify() -> TestResult {
    let s = scratch::open().await?;
    append(&s.db, 5).await?;
    tamper(
        &s.db,
        "update audit set detail = '{\"i\":99}' where seq = 3",
        "update audit set detail = '{\"i\":99}' where seq = 3",
    )
    .await?;
    let report = audit::verify(&s.db).await?;
    assert!(!report.is_intact());
    assert!(
        report.problems.iter().any(|p| p.contains("audit record 3 ") && p.contains("altered")),
        "{:?}",
        report.problems
    );
    Ok(())
}

#[tokio::test]
async fn a_removed_record_is_named_by_verify() -> TestResult {
    let s = scratch::open().await?;
    append(&s.db, 5).await?;
    tamper(&s.db, "delete from audit where seq = 2", "delete from audit where seq = 2").await?;
    let report = audit::verify(&s.db).await?;
    assert!(report.problems.iter().any(|p| p.contains("records 2 to 2 are missing")), "{:?}", report.problems);
    Ok(())
}

#[tokio::test]
async fn concurrent_appenders_form_one_chain() -> TestResult {
    let s = scratch::open().await?;
    let mut handles = Vec::new();
    for _ in 0..4 {
        let db = s.db.clone();
        handles.push(tokio::spawn(async move { append(&db, 10).await.map_err(|e| e.to_string()) }));
    }
    for handle in handles {
        handle.await??;
    }
    let report = audit::verify(&s.db).await?;
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records_checked, 40);
    Ok(())
}

#[tokio::test]
async fn appends_after_a_rollback_or_on_another_database_keep_each_chain_whole() -> TestResult {
    let first = scratch::open().await?;
    let second = scratch::open().await?;
    append(&first.db, 2).await?;
    // A rolled-back append leaves the head this process remembers ahead of the database's.
    let mut tx = first.db.begin().await?;
    let event = AuditEvent {
        action: "thing.changed",
        entity: "thing",
        entity_id: "rolled back".into(),
        detail: serde_json::json!({}),
    };
    let seq = audit::append(&mut tx, &Actor::system("test"), event, t(9)).await?;
    assert_eq!(seq.0, 3);
    tx.rollback().await?;
    // Two databases taking turns: each append finds the other database's head remembered.
    for _ in 0..3 {
        append(&first.db, 1).await?;
        append(&second.db, 1).await?;
    }
    for (db, records) in [(&first.db, 5), (&second.db, 3)] {
        let report = audit::verify(db).await?;
        assert!(report.is_intact(), "{:?}", report.problems);
        assert_eq!(report.records_checked, records);
    }
    Ok(())
}

#[tokio::test]
async fn committed_pages_reach_the_database_file_without_the_writer_checkpointing() -> TestResult {
    let s = scratch::open().await?;
    if s.schema.is_some() {
        return Ok(()); // PostgreSQL has no WAL file of ours to check
    }
    let file = s.data_dir.join(crate::SQLITE_FILE_NAME);
    // Settle what migrating left in the WAL, so the size below is where the file starts.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let before = std::fs::metadata(&file)?.len();
    let mut tx = s.db.begin().await?;
    crate::execute!(&mut tx, "create table filler (id integer primary key, text text not null)")?;
    tx.commit().await?;
    for _ in 0..8 {
        let mut tx = s.db.begin().await?;
        // About 256 KB a transaction: far below the writer's own checkpoint threshold.
        crate::execute!(
            &mut tx,
            "with recursive n(i) as (select 1 union all select i + 1 from n where i < 64)
             insert into filler (text) select hex(randomblob(2000)) from n"
        )?;
        tx.commit().await?;
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let after = std::fs::metadata(&file)?.len();
    assert!(after >= before + 2_000_000, "the database file grew from {before} to only {after} bytes");
    Ok(())
}

#[tokio::test]
async fn grouped_writes_commit_together_and_fail_alone() -> TestResult {
    let s = scratch::open().await?;
    let mut handles = Vec::new();
    for i in 0..60_i64 {
        let db = s.db.clone();
        handles.push(tokio::spawn(async move {
            db.write_grouped(move |tx| {
                Box::pin(async move {
                    jobs::enqueue(tx, &format!("test.group.{i}"), &serde_json::json!({}), t(0)).await?;
                    if i % 3 == 0 { Err(crate::Error::Malformed(format!("refused {i}"))) } else { Ok(i) }
                })
            })
            .await
        }));
    }
    let mut kept = 0;
    for handle in handles {
        match handle.await? {
            Ok(_) => kept += 1,
            Err(e) => assert!(e.to_string().contains("refused"), "{e}"),
        }
    }
    assert_eq!(kept, 40);
    // A group whose last (here: only) write fails commits nothing of it.
    let refused =
        s.db.write_grouped(|tx| {
            Box::pin(async move {
                jobs::enqueue(tx, "test.group.last", &serde_json::json!({}), t(0)).await?;
                Err::<(), _>(crate::Error::Malformed("refused last".into()))
            })
        })
        .await;
    assert!(refused.is_err());
    let mut tx = s.db.read().await?;
    let rows = crate::scalar!(&mut tx, i64, "select count(*) from job where kind like 'test.group.%'")?;
    assert_eq!(rows, 40, "a refused write leaves nothing; the others all committed");
    Ok(())
}

/// Inserts a child row naming parent 999, which does not exist.
async fn insert_orphan(tx: &mut Tx) -> Result<u64, crate::Error> {
    crate::execute!(tx, "insert into orphan_child (parent_id) values (999)")
}

#[tokio::test]
async fn a_bulk_transaction_alone_skips_foreign_key_checks_and_verify_finds_what_it_let_through() -> TestResult {
    let s = scratch::open().await?;
    if s.schema.is_some() {
        // PostgreSQL checks references in every transaction, a bulk one too.
        let mut tx = s.db.begin_bulk().await?;
        crate::execute!(&mut tx, "create table orphan_parent (id bigint primary key)")?;
        crate::execute!(&mut tx, "create table orphan_child (parent_id bigint references orphan_parent (id))")?;
        assert!(insert_orphan(&mut tx).await.is_err_and(|e| e.is_foreign_key_violation()));
        return Ok(());
    }
    let mut tx = s.db.begin().await?;
    crate::execute!(&mut tx, "create table orphan_parent (id integer primary key)")?;
    crate::execute!(&mut tx, "create table orphan_child (parent_id bigint references orphan_parent (id))")?;
    assert!(insert_orphan(&mut tx).await.is_err_and(|e| e.is_foreign_key_violation()), "checked by default");
    tx.commit().await?;
    // Rolled back, then dropped mid-way: each time the next plain transaction checks again.
    let mut tx = s.db.begin_bulk().await?;
    insert_orphan(&mut tx).await?;
    tx.rollback().await?;
    let mut tx = s.db.begin().await?;
    assert!(insert_orphan(&mut tx).await.is_err_and(|e| e.is_foreign_key_violation()), "after a rollback");
    tx.rollback().await?;
    let mut tx = s.db.begin_bulk().await?;
    insert_orphan(&mut tx).await?;
    drop(tx);
    let mut tx = s.db.begin().await?;
    assert!(insert_orphan(&mut tx).await.is_err_and(|e| e.is_foreign_key_violation()), "after a drop");
    tx.rollback().await?;
    // Committed: the orphan stays, and verify names it.
    assert_eq!(s.db.broken_references().await?, Vec::<String>::new());
    let mut tx = s.db.begin_bulk().await?;
    insert_orphan(&mut tx).await?;
    tx.commit().await?;
    let mut tx = s.db.begin().await?;
    assert!(insert_orphan(&mut tx).await.is_err_and(|e| e.is_foreign_key_violation()), "after a commit");
    tx.rollback().await?;
    assert_eq!(s.db.broken_references().await?, vec!["orphan_child row 1: parent_id names no row of orphan_parent"]);
    Ok(())
}
