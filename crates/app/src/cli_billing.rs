//! The billing commands: `caredesk bill-run --cycle C --period YYYY-MM` (a cycle, or `all` of
//! them, with a progress bar; resumable: run it again after a crash) and
//! `caredesk billing import-reads FILE` (meter reads from CSV, all or nothing).

use billing::model::Period;
use clap::{Args, Subcommand};
use db::Db;
use kernel::{Actor, Clock};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct BillRunArgs {
    /// The bill cycle (1–28), or `all` for every cycle in turn.
    #[arg(long)]
    pub cycle: String,
    /// The billing period, YYYY-MM.
    #[arg(long)]
    pub period: String,
    /// No progress bar (for scripts); prints one summary line per cycle.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum BillingCommand {
    /// Imports meter reads from a CSV file (meter number, read date, reading[, kind]); any bad
    /// line refuses the whole file and lists every error.
    ImportReads {
        /// The CSV file.
        file: PathBuf,
    },
}

fn cycles(text: &str) -> Result<Vec<i64>, String> {
    match text.trim() {
        "all" => Ok((1..=28).collect()),
        n => n
            .parse::<i64>()
            .ok()
            .filter(|c| (1..=28).contains(c))
            .map(|c| vec![c])
            .ok_or_else(|| "--cycle must be a bill cycle from 1 to 28, or all".to_string()),
    }
}

/// Every cycle asked for is billed in one pass over the accounts (`billing::run::bill_runs`),
/// with one progress bar over all of them; each cycle's run is then summed up on its own line.
pub async fn bill_run(args: BillRunArgs, db: &Db, clock: &dyn Clock) -> Result<ExitCode, String> {
    let actor = Actor::system("billing");
    let started = std::time::Instant::now();
    let mut periods = Vec::new();
    for cycle in cycles(&args.cycle)? {
        periods.push(Period::parse(cycle, &args.period).map_err(|e| format!("--period {e}"))?);
    }
    let bar = indicatif::ProgressBar::new(0);
    if args.quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template("cycles {msg} [{bar:30}] {pos}/{len} accounts, {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(args.cycle.clone());
    let seen = std::sync::Mutex::new(std::collections::HashMap::new());
    let progress = |row: &billing::store::RunRow| {
        if let Ok(mut seen) = seen.lock() {
            seen.insert(row.bill_run_id, (row.accounts_total.max(0) as u64, row.accounts_done.max(0) as u64));
            bar.set_length(seen.values().map(|(total, _)| total).sum());
            bar.set_position(seen.values().map(|(_, done)| done).sum());
        }
    };
    let runs = billing::run::bill_runs(db, &actor, &periods, clock, &progress).await.map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let mut bills = 0;
    for run in runs {
        bills += run.bills_written;
        println!(
            "bill run {} cycle {} period {}: {} {} bills, {} accounts skipped, total {}",
            run.bill_run_id,
            run.bill_cycle,
            run.period,
            run.status,
            run.bills_written,
            run.accounts_skipped,
            run.total_minor
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("{bills} bills in {seconds:.2} s");
    Ok(ExitCode::SUCCESS)
}

pub async fn run(command: BillingCommand, db: &Db, clock: &dyn Clock) -> Result<ExitCode, String> {
    match command {
        BillingCommand::ImportReads { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let actor = Actor::system("billing-import");
            let mut tx = db.begin().await.map_err(|e| e.to_string())?;
            match billing::ops::import_reads(&mut tx, &actor, &text, clock.now()).await {
                Ok(outcome) => {
                    tx.commit().await.map_err(|e| e.to_string())?;
                    println!("imported {} meter reads", outcome.imported);
                    Ok(ExitCode::SUCCESS)
                }
                Err(billing::BillingError::ImportRejected { errors }) => {
                    tx.rollback().await.map_err(|e| e.to_string())?;
                    for error in &errors {
                        eprintln!("{error}");
                    }
                    eprintln!("nothing imported: {} bad lines", errors.len());
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(e.to_string()),
            }
        }
    }
}
